/**
 * The panel while an analysis runs: the occupancy chart of what was read so far, redrawn with
 * every update the host relays from the analysis worker, and a word on what comes at the end. A
 * cancelled analysis keeps its chart, marked partial.
 */
import type { HostMessage } from '../src/protocol/messages';
import { OccupancyChart } from './chart';
import { asInt32, asUint32, el } from './dom';
import type { Theme } from './theme';

type PartialMessage = Extract<HostMessage, { type: 'partial' }>;

export class PartialView {
  readonly root = el('section', undefined, 'partial');
  private readonly status = el('p', '', 'partial-status');
  private readonly chart: OccupancyChart;
  private drawn = false;

  constructor(
    theme: Theme,
    /** The first chart with data is on screen, with the rows it shows. */
    private readonly onFirstDraw: (rows: number) => void,
  ) {
    this.root.id = 'partial';
    const title = el('h1');
    title.id = 'title';
    this.status.id = 'partial-status';
    this.status.setAttribute('aria-live', 'polite');
    const box = el('section', undefined, 'chart-section');
    box.id = 'chart-section';
    const canvas = el('canvas', undefined, 'chart');
    canvas.id = 'chart';
    const readout = el('div', undefined, 'readout');
    readout.id = 'readout';
    box.append(canvas, readout);
    const note = el('p', 'The summary, the slot map and the table are available when the analysis completes.', 'muted');
    note.id = 'partial-note';
    this.root.append(title, this.status, box, note);
    // what was read is all there is to show: no windows to ask for, no cursor to follow
    this.chart = new OccupancyChart(canvas, readout, theme, {
      requestData: () => {},
      cursorMoved: () => {},
      rangeSelected: () => {},
      viewChanged: () => {},
      frame: () => {},
    });
  }

  setTheme(theme: Theme): void {
    this.chart.setTheme(theme);
  }

  update(m: PartialMessage): void {
    (this.root.querySelector('#title') as HTMLElement).textContent = m.title;
    this.root.dataset.state = m.state;
    const pct = `${Math.round(m.fraction * 100)}%`;
    const rows = m.rows.toLocaleString('en-US');
    this.status.textContent =
      m.state === 'cancelled'
        ? `Cancelled at ${pct} — partial: the chart shows the ${rows} rows read before the cancel.`
        : `Analysing: ${pct} read, ${rows} rows so far — partial chart, filling in as the analysis goes.`;
    const d = m.data;
    if (!d) return;
    this.chart.setSession({ t0: d.t0, t1: d.t1, nslabs: Math.max(1, m.peak), nareas: 0, hasClock: m.hasClock, peak: m.peak });
    this.chart.mode = 'total';
    this.chart.yScale = 'fit';
    this.chart.setData({
      t0: d.t0,
      t1: d.t1,
      columns: d.columns,
      totalMin: asInt32(d.totalMin),
      totalMax: asInt32(d.totalMax),
      hiwater: asInt32(d.hiwater),
      areaMax: asInt32(d.areaMax),
      failures: asUint32(d.failures),
      events: asUint32(d.events),
    });
    if (!this.drawn) {
      this.drawn = true;
      this.onFirstDraw(m.rows);
    }
  }
}
