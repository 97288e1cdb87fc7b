/**
 * The analysis panel: summary bar, occupancy chart, per-call table, slot map and details, all
 * linked. The host owns the data; this side asks for what is in view (chart columns for its
 * width, table pages as they scroll in, the slot map at the cursor) and keeps its view state
 * (zoom, cursor, filters, selection) in the webview state so hiding or reloading loses nothing.
 */

import { EVENT_KIND_NAMES, EventKind, OUTCOME_NAMES, Outcome } from '../src/analysis/codes';
import { type CellContext, cellText, formatTime, printColumn, type RawRow, type SortColumn } from '../src/analysis/columns';
import { filterExprError } from '../src/analysis/filterExpr';
import type { RangeStats } from '../src/analysis/panelModel';
import type { TableFilter } from '../src/analysis/query';
import { fullDeviceName, type LogEntryView } from '../src/analysis/sessionLog';
import type { TimelineColumns } from '../src/analysis/timeline';
import type { SavedView } from '../src/analysis/viewFile';
import { DMA_DIRECTION_NAMES, IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../src/model/constants';
import { REASON_INFO } from '../src/model/reasons';
import { formatBytes, pctText } from '../src/model/units';
import { type HostMessage, type PanelState, requestKey, type SessionInfo, type WebviewMessage } from '../src/protocol/messages';
import { FAILURE_LABELS, OccupancyChart } from './chart';
import { asFloat64, asInt32, asUint16, asUint32, basename, el } from './dom';
import { causesText, LogLaneAndTable, logCards, logFindings } from './logView';
import { PartialView } from './partial';
import { SlotMapView } from './slotmap';
import { areaLegend, deviceColor, type LegendEntry, SLOT_ZOOM_LABELS, SLOT_ZOOMS, type SlotZoom } from './slotmapLayout';
import { VirtualTable } from './table';
import { readTheme, type Theme } from './theme';
import {
  badge,
  button,
  dataGrid,
  dropdown,
  progressRing,
  setDisabled,
  setDropdownValue,
  setTextFieldValue,
  tabs,
  textField,
} from './toolkit';
import { deltaText, TracksView } from './tracks';

export interface WebviewHost {
  postMessage(m: WebviewMessage): void;
  getState(): PanelState | undefined;
  setState(s: PanelState): void;
}

const ALL = 'all';
const pct = (a: number, b: number) => pctText(a, b);
const num = (n: number) => n.toLocaleString('en-US');

/** Which interaction a selection came from: the chart and slot map do not move the cursor. */
type Origin = 'table' | 'chart' | 'slotmap' | 'restore';

export class PanelApp {
  private info: SessionInfo | null = null;
  private theme: Theme;
  private chart!: OccupancyChart;
  private slotmap!: SlotMapView;
  private table!: VirtualTable;
  private state: PanelState;
  private filter: TableFilter = {};
  private sort: { column: SortColumn; desc: boolean } = { column: 'index', desc: false };
  private queryId = 0;
  private requestId = 0;
  private chartRequest = 0;
  private slotRequest = 0;
  private selected: RawRow | null = null;
  private selectOrigin: Origin = 'table';
  /** The slot map request of a cursor the user placed: its row gets selected. */
  private selectAtCursor = -1;
  private pendingLocate = -1;
  private firstChart = true;
  /** When the current session reached the webview (for the time-to-first-chart figure). */
  private sessionAt = performance.now();
  /** When the first chart of the session asked the host for its columns (ms after the session came). */
  private askedMs = -1;
  private frames: number[] = [];
  private frameTimer = 0;
  private textTimer = 0;
  // elements
  private readonly busy: HTMLElement;
  private readonly busyText: HTMLElement;
  private countBadge!: HTMLElement;
  private rangeBadge!: HTMLElement;
  private details!: HTMLElement;
  private slotHeader!: HTMLElement;
  private slotLegend!: HTMLElement;
  private zoomDd!: HTMLElement;
  private areaLegendBox: HTMLElement = Object.assign(el('div', undefined, 'legend'), { id: 'chart-area-legend', hidden: true });
  /** The log's lane and message table (inputs with a kernel log). */
  private logUi: LogLaneAndTable | null = null;
  private pinned: HTMLElement = el('section', undefined, 'pinned');
  private offer: HTMLElement = el('section', undefined, 'offer');
  private profile: { kernel: string; platform: string } | null = null;
  private rangeBox: HTMLElement = el('section', undefined, 'range-stats');
  private rangeRequest = 0;
  /** The filter expression's problem (message, and the expression with a caret under it). */
  private exprError: HTMLElement = el('div', undefined, 'expr-error');
  private exprTimer = 0;
  /** The problem of the expression as typed (it is not sent until it parses). */
  private typedExprError: { message: string; position: number; length: number } | null = null;
  /** The last query had a search: its hits are on the chart. */
  private searched = false;
  /** Counter tracks, instant lane, slices, histograms and flags (tracks.ts). */
  private tracksView: TracksView | null = null;
  /** The chart of an analysis running (or cancelled), until its session comes. */
  private partialView: PartialView | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: WebviewHost,
  ) {
    this.theme = readTheme();
    this.state = api.getState() ?? { request: null, key: '' };
    this.busy = el('div', undefined, 'busy');
    this.busy.hidden = true;
    this.busyText = el('span');
    this.busy.append(progressRing(), this.busyText);
    // theme switches change body classes: recolour the canvases
    new MutationObserver(() => {
      this.theme = readTheme();
      this.chart?.setTheme(this.theme);
      this.slotmap?.setTheme(this.theme);
      this.tracksView?.setTheme(this.theme);
      this.partialView?.setTheme(this.theme);
      const info = this.info;
      if (info) {
        // the legends' swatches are in the theme's colours too
        this.root.querySelector('#chart-legend')?.replaceWith(chartLegend(this.theme, info));
        this.renderSlotLegend();
        this.renderAreaLegend();
      }
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    this.root.replaceChildren(el('p', 'Waiting for data...', 'muted'), this.busy);
    // next/previous search hit: F3 and Shift+F3 anywhere, n and N outside text fields
    document.addEventListener('keydown', (e) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && /^(INPUT|TEXTAREA|SELECT|VSCODE-TEXT-FIELD|VSCODE-TEXT-AREA|VSCODE-DROPDOWN)$/.test(t.tagName);
      if (e.key === 'F3' || (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && (e.key === 'n' || e.key === 'N'))) {
        if (!this.info || !this.searched) return;
        e.preventDefault();
        this.nextHit(e.shiftKey || e.key === 'N');
      }
    });
  }

  post(m: WebviewMessage): void {
    this.api.postMessage(m);
  }

  private save(patch: Partial<PanelState>): void {
    this.state = { ...this.state, ...patch };
    this.api.setState(this.state);
  }

  onMessage(m: HostMessage): void {
    const info = this.info;
    switch (m.type) {
      case 'session':
        this.openSession(m.info, m.first);
        return;
      case 'empty':
        this.renderEmpty(m.recent);
        return;
      case 'partial':
        if (!this.partialView?.root.isConnected) {
          // a new analysis: the previous session's replies are dropped from here on
          this.info = null;
          this.partialView = new PartialView(this.theme, (rows) => this.post({ type: 'partialDrawn', rows }));
          this.root.replaceChildren(this.partialView.root, this.busy);
        }
        this.busy.hidden = true;
        this.partialView.update(m);
        return;
      case 'busy':
        this.busy.hidden = m.message === null;
        this.busyText.textContent = m.message ?? '';
        return;
      case 'error':
        this.root.prepend(el('p', m.message, 'error'));
        return;
      case 'explanation':
        this.renderPinned(m.explanation);
        return;
      case 'profile':
        this.profile = { kernel: m.kernel, platform: m.platform };
        this.renderOffer();
        return;
      case 'requestView':
        if (info) this.post({ type: 'exportView', session: info.id, view: this.currentView() });
        return;
      case 'applyView':
        this.applyView(m.view);
        return;
      default:
        break;
    }
    if (!info || !('session' in m) || m.session !== info.id) return;
    switch (m.type) {
      case 'trackInfo':
      case 'tracks':
      case 'flagValues':
        this.tracksView?.onMessage(m);
        return;
      case 'timeline':
        if (m.request === this.chartRequest) this.drawColumns(info, m);
        return;
      case 'rangeStats':
        if (m.request === this.rangeRequest) this.renderRangeStats(m.stats);
        return;
      case 'count':
        if (m.query !== this.queryId) return;
        if (m.error) this.showExprError(m.error);
        else if (!this.typedExprError) this.showExprError(null);
        this.table.reset(m.total);
        this.countBadge.textContent = m.total === info.rows ? `${num(m.total)} rows` : `${num(m.total)} of ${num(info.rows)} rows`;
        if (this.pendingLocate >= 0) {
          this.post({ type: 'locate', session: info.id, query: this.queryId, row: this.pendingLocate });
          this.pendingLocate = -1;
        }
        return;
      case 'rows':
        if (m.query !== this.queryId) return;
        this.table.addRows(m.start, m.rows);
        return;
      case 'located':
        if (m.query !== this.queryId) return;
        if (m.position >= 0) this.table.select(m.position, true);
        else if (m.reveal) {
          // asked for from the editor: show it rather than say it is hidden
          this.pendingLocate = m.row;
          this.clearFilters();
        } else this.showDetails(null, `Row ${m.row} is hidden by the filters.`);
        return;
      case 'slotmap':
        if (m.request !== this.slotRequest) return;
        this.slotmap.setData({ row: m.row, time: m.time, owner: asInt32(m.owner), device: asUint16(m.device), since: asFloat64(m.since) });
        this.renderSlotHeader(m.row, m.time, asInt32(m.owner));
        // the legend lists the devices in the map at this moment
        this.renderSlotLegend();
        if (this.selectAtCursor === m.request && m.row >= 0 && this.info) {
          this.selectOrigin = 'chart';
          this.post({ type: 'locate', session: this.info.id, query: this.queryId, row: m.row });
        }
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- layout

  private renderEmpty(recent: readonly { file: string; label: string }[]): void {
    this.info = null;
    const box = el('section', undefined, 'empty');
    box.id = 'empty';
    box.append(
      el('h1', 'SWIOTLB Lens'),
      el(
        'p',
        'Analyse a kernel trace or log, a replay file or a scenario to see how the bounce pool fills, which mappings bounce and why.',
        'muted',
      ),
    );
    const actions = el('div', undefined, 'actions');
    actions.append(
      button('Analyze Trace or Log File...', () => this.post({ type: 'command', command: 'swiotlbLens.analyzeFile' }), 'primary'),
      button('Replay Ops File...', () => this.post({ type: 'command', command: 'swiotlbLens.replayOpsFile' })),
      button('Analyze Scenario...', () => this.post({ type: 'command', command: 'swiotlbLens.analyzeScenario' })),
    );
    box.appendChild(actions);
    // no trace yet: how to get one
    const how = el('section', undefined, 'how');
    how.id = 'how-to-trace';
    how.append(
      el('h2', 'No trace yet?'),
      el(
        'p',
        'Run the capture script as root on the machine to trace (sudo sh swiotlb-capture.sh -d 30, or -- COMMAND): it records the swiotlb events, the swiotlb lines of the kernel log and the command line into a folder and a .tar.gz. Analyse that folder or archive here; a kernel log (dmesg, journalctl -k) alone works too.',
        'muted',
      ),
    );
    const copy = button('Copy Capture Script', () => this.post({ type: 'command', command: 'swiotlbLens.copyCaptureScript' }));
    copy.id = 'copy-capture';
    how.appendChild(copy);
    box.appendChild(how);
    if (recent.length) {
      box.appendChild(el('h2', 'Recent'));
      const list = el('ul', undefined, 'recent');
      for (const r of recent) {
        const li = el('li');
        const a = el('a', r.label);
        a.href = '#';
        a.title = r.file;
        a.addEventListener('click', (e) => {
          e.preventDefault();
          this.post({ type: 'command', command: 'swiotlbLens.analyzeFile', arg: r.file });
        });
        li.appendChild(a);
        list.appendChild(li);
      }
      box.appendChild(list);
    }
    this.root.replaceChildren(box, this.busy);
  }

  /** The host's columns on the chart; the session's first says so (the first-chart figure). */
  private drawColumns(info: SessionInfo, m: TimelineColumns & { readonly hits?: Uint32Array }): void {
    this.chart.setData({
      t0: m.t0,
      t1: m.t1,
      columns: m.columns,
      totalMin: asInt32(m.totalMin),
      totalMax: asInt32(m.totalMax),
      hiwater: asInt32(m.hiwater),
      areaMax: asInt32(m.areaMax),
      failures: asUint32(m.failures),
      events: asUint32(m.events),
      ...(m.hits ? { hits: asUint32(m.hits) } : {}),
    });
    if (this.firstChart) {
      this.firstChart = false;
      this.root.dataset.chart = 'drawn';
      this.post({ type: 'drawn', session: info.id, ms: performance.now() - this.sessionAt, askedMs: this.askedMs });
    }
  }

  private openSession(info: SessionInfo, first?: TimelineColumns): void {
    const key = requestKey(info.request) || `session:${info.id}`;
    const same = key === this.state.key;
    const restore = same ? this.state : undefined;
    this.sessionAt = performance.now();
    this.askedMs = -1;
    this.info = info;
    this.firstChart = true;
    this.selected = null;
    this.filter = restore?.filter ?? {};
    this.sort = restore?.sort ?? { column: 'index', desc: false };
    this.save({
      request: info.request,
      key,
      ...(same ? {} : { view: undefined, cursor: null, selectedRow: undefined, filter: {}, sort: undefined }),
      ...(same ? {} : { pinnedTracks: undefined, flags: undefined }),
    });
    this.layout(info);
    const pool = info.pool;
    this.chart.mode = info.bounces ? 'events' : (this.state.chartMode ?? 'total');
    this.chart.setSession(
      {
        t0: info.t0,
        t1: info.t1,
        nslabs: pool?.nslabs ?? 1,
        nareas: pool?.nareas ?? 0,
        hasClock: info.hasClock,
        peak: info.summary.peakSlots ?? 0,
      },
      restore?.view ? [restore.view[0], restore.view[1]] : undefined,
    );
    if (this.state.yScale) this.chart.yScale = this.state.yScale;
    const scaleDd = this.root.querySelector('#chart-scale') as HTMLElement | null;
    if (scaleDd) setDropdownValue(scaleDd, this.chart.yScale);
    // the whole input's columns came with the session: drawn now, the chart's own request refines them
    if (first && !restore?.view) this.drawColumns(info, first);
    this.slotmap.restoreZoom(this.state.slotZoom ?? 'cells');
    if (pool) this.slotmap.setPool(pool.nslabs, pool.areaNslabs, info.t0, info.t1, info.hasClock);
    this.slotmap.colorBy = this.state.colorBy ?? 'device';
    this.slotmap.timeLabel = (t) => formatTime(t, info.hasClock, info.t1 - info.t0);
    this.slotmap.deviceName = (id) => info.names.devices[id] || '(unknown device)';
    this.renderSlotLegend();
    this.renderAreaLegend();
    if (restore?.filter?.t0 !== undefined && restore.filter.t1 !== undefined) {
      this.showRange([restore.filter.t0, restore.filter.t1]);
      this.requestRangeStats([restore.filter.t0, restore.filter.t1]);
    }
    if (restore?.selectedRow !== undefined) {
      this.pendingLocate = restore.selectedRow;
      this.selectOrigin = 'restore';
    }
    if (restore?.cursor !== undefined && restore.cursor !== null) {
      this.chart.setCursor(restore.cursor, false);
      this.tracksView?.setCursor(restore.cursor);
    }
    if (this.tracksView?.flagTimes.length) this.chart.setFlags(this.tracksView.flagTimes);
    this.runQuery();
    // the slot map starts at the peak: the moment a user asks about
    const start = restore?.cursor ?? (info.summary.peakSlots !== null ? null : info.t0);
    if (pool) {
      if (start !== null && start !== undefined) this.requestSlotsAtTime(start);
      else this.requestSlotsAtRow(peakRow(info));
    }
  }

  /** The panel for a session: header, summary, chart, slot map, the tabs and the details. */
  private layout(info: SessionInfo): void {
    const { header, badges } = this.headerOf(info);
    const chart = this.chartSection(info);
    const slots = this.slotSection(info);
    const log = info.log;
    this.logUi = log
      ? new LogLaneAndTable(
          log,
          {
            selected: (i, e) => this.onLogSelected(i, e),
            activated: (i) => this.post({ type: 'revealLog', session: info.id, entry: i }),
          },
          [info.t0, info.t1],
        )
      : null;
    const lower = el('div', undefined, 'lower');
    const left = el('div', undefined, 'left');
    left.appendChild(this.tabsOf(info));
    const right = el('div', undefined, 'right');
    right.append(this.details);
    lower.append(left, right);
    this.pinned = el('section', undefined, 'pinned');
    this.pinned.id = 'pinned';
    this.pinned.hidden = true;
    this.offer = el('section', undefined, 'offer');
    this.offer.id = 'profile-offer';
    this.offer.hidden = true;
    // a log alone has no occupancy to chart: its messages' lane takes the chart's place
    const logOnly = !!log && info.kind === 'log';
    // the log table carries its explanations inline: in a narrow panel the details go under it
    if (logOnly) lower.classList.add('stacked');
    chart.box.hidden = logOnly;
    slots.box.hidden = logOnly || !info.pool;
    const lane = this.logUi ? [this.logUi.lane] : [];
    this.tracksView = logOnly ? null : this.tracksOf(info);
    this.root.replaceChildren(
      header,
      badges,
      this.offer,
      this.pinned,
      this.summaryBar(info),
      ...(logOnly ? lane : []),
      chart.box,
      ...(logOnly ? [] : lane),
      // the table and its details right under the chart: a selection shows without scrolling
      lower,
      ...(this.tracksView ? [this.tracksView.root] : []),
      slots.box,
      this.busy,
    );
    this.wire(info, chart, slots);
    this.renderOffer();
  }

  /** Title, export and re-analyze buttons; the badges of the input and its pool. */
  private headerOf(info: SessionInfo): { header: HTMLElement; badges: HTMLElement } {
    const header = el('header', undefined, 'header');
    const title = el('h1', info.title);
    title.id = 'title';
    title.title = info.files.join('\n');
    const badges = el('div', undefined, 'badges');
    badges.id = 'badges';
    badges.append(badge(kindLabel(info.kind)));
    const k = info.log?.kernel;
    const kb = badge(
      k?.assumed ? `kernel ${info.kernel} (assumed)` : `kernel ${info.kernel}`,
      k ? `kernel profile from ${k.source}` : undefined,
    );
    kb.id = 'badge-kernel';
    badges.append(kb);
    if (info.platform && info.platform !== 'not given' && info.platform !== 'auto') {
      const pb = badge(`platform ${info.platform}`);
      pb.id = 'badge-platform';
      badges.append(pb);
    }
    if (!info.pool && info.log?.pool) {
      const lp = info.log.pool;
      badges.append(badge(`${num(lp.nslabs)} slots (${formatBytes(lp.bytes)}), from the log`, `pool size from ${lp.source}`));
    }
    if (info.pool) {
      badges.append(
        badge(`${num(info.pool.nslabs)} slots (${formatBytes(info.pool.nslabs * IO_TLB_SIZE)})`, `pool geometry from ${info.pool.source}`),
        badge(`${info.pool.nareas} area${info.pool.nareas === 1 ? '' : 's'}`),
      );
    }
    const actions = el('div', undefined, 'actions');
    actions.append(
      button(
        'Export CSV',
        () => this.post({ type: 'export', session: info.id, format: 'csv' }),
        'secondary',
        'Export the rows shown (filters applied) as CSV',
      ),
      button(
        'Export JSON',
        () => this.post({ type: 'export', session: info.id, format: 'json' }),
        'secondary',
        'Export the rows shown (filters applied) as JSON',
      ),
      button(
        'Export View',
        () => this.post({ type: 'exportView', session: info.id, view: this.currentView() }),
        'secondary',
        'Save the view (time range, filters and expression, selection, columns) as a .swiotlb-view.json file',
      ),
      button(
        'Import View',
        () => this.post({ type: 'command', command: 'swiotlbLens.importView' }),
        'secondary',
        'Open a .swiotlb-view.json file saved for this input',
      ),
      button(
        'Re-analyze',
        () => this.post({ type: 'command', command: 'swiotlbLens.reanalyze' }),
        'secondary',
        'Run the analysis again (after editing the input or the settings)',
      ),
    );
    header.append(title, actions);
    return { header, badges };
  }

  /** The occupancy chart with its toolbar and read-out (the chart itself is made by wire()). */
  private chartSection(info: SessionInfo): { box: HTMLElement; canvas: HTMLCanvasElement; readout: HTMLElement } {
    const chartBox = el('section', undefined, 'chart-section');
    chartBox.id = 'chart-section';
    const chartBar = el('div', undefined, 'toolbar');
    const modeDd = dropdown(
      'Series',
      [
        { value: 'total', label: 'Whole pool (min/max)' },
        { value: 'areas', label: 'Areas stacked' },
      ],
      this.state.chartMode ?? 'total',
      (v) => {
        this.chart.mode = v === 'areas' ? 'areas' : 'total';
        this.save({ chartMode: this.chart.mode });
        this.chart.draw();
        this.renderAreaLegend();
      },
    );
    modeDd.id = 'chart-mode';
    if (!info.pool || info.pool.nareas <= 1 || info.bounces) setDisabled(modeDd, true);
    if (info.bounces) modeDd.hidden = true;
    const scaleDd = dropdown(
      'Scale',
      [
        { value: 'pool', label: 'Y: pool size' },
        { value: 'fit', label: 'Y: fit the peak' },
      ],
      this.state.yScale ?? 'pool',
      (v) => {
        this.chart.yScale = v === 'fit' ? 'fit' : 'pool';
        this.save({ yScale: this.chart.yScale });
        this.chart.draw();
      },
    );
    scaleDd.id = 'chart-scale';
    if (info.bounces) scaleDd.hidden = true;
    this.rangeBadge = el('span', '', 'range');
    this.rangeBadge.id = 'range';
    this.rangeBadge.hidden = true;
    const clearRange = button('Clear range', () => this.setRange(null), 'secondary', 'Show rows of the whole input again');
    clearRange.id = 'clear-range';
    clearRange.hidden = true;
    chartBar.append(
      modeDd,
      scaleDd,
      button('Reset zoom', () => this.chart.resetView(), 'secondary', 'Show the whole input (double-click or 0 on the chart)'),
      this.exportChartButton(info, 'png'),
      this.exportChartButton(info, 'svg'),
      this.rangeBadge,
      clearRange,
      chartLegend(this.theme, info),
      this.areaLegendBox,
    );
    const canvas = el('canvas', undefined, 'chart');
    canvas.id = 'chart';
    const readout = el('div', undefined, 'readout');
    readout.id = 'readout';
    readout.setAttribute('aria-live', 'polite');
    this.rangeBox = el('section', undefined, 'range-stats');
    this.rangeBox.id = 'range-stats';
    this.rangeBox.hidden = true;
    chartBox.append(chartBar, canvas, readout, this.rangeBox);
    return { box: chartBox, canvas, readout };
  }

  /** Calls (the filtered, sorted table), Devices and Notes. */
  private tabsOf(info: SessionInfo): HTMLElement {
    const callsBox = this.callsTab(info);
    const devicesBox = this.devicesTab(info);
    const problemsBox = this.notesTab(info);
    this.countBadge = badge('');
    this.countBadge.id = 'count';
    const problemCount = info.diagnosticCount + info.notes.length;
    const log = info.log;
    const logOnly = !!log && info.kind === 'log';
    const logTab = this.logUi
      ? [{ id: 'log', label: 'Kernel log', content: this.logUi.table, badge: badge(String(log?.entries.length ?? 0)) }]
      : [];
    const deviceCount = logOnly ? (log?.devices.length ?? 0) : info.deviceStats.length;
    const tabBox = tabs(
      [
        ...(logOnly ? logTab : []),
        { id: 'calls', label: logOnly ? 'Rows' : 'Calls', content: callsBox, badge: this.countBadge },
        ...(logOnly ? [] : logTab),
        { id: 'devices', label: 'Devices', content: devicesBox, badge: badge(String(deviceCount)) },
        { id: 'problems', label: 'Notes', content: problemsBox, ...(problemCount ? { badge: badge(String(problemCount)) } : {}) },
      ],
      this.state.tab ?? (logOnly ? 'log' : 'calls'),
      (tab) => this.save({ tab }),
    );
    tabBox.id = 'tabs';
    return tabBox;
  }

  private callsTab(info: SessionInfo): HTMLElement {
    const filters = this.filterBar(info);
    this.table = new VirtualTable({
      needRows: (start, count) =>
        this.post({ type: 'rows', session: info.id, request: ++this.requestId, query: this.queryId, start, count }),
      sortBy: (column) => {
        this.sort = { column, desc: this.sort.column === column ? !this.sort.desc : false };
        this.table.setSort(this.sort);
        this.save({ sort: this.sort });
        this.runQuery();
      },
      selected: (row) => this.onRowSelected(row),
      activated: (row) => this.post({ type: 'reveal', session: info.id, row: row.index }),
      layoutChanged: (columns) => this.save({ columns }),
      copy: (text) => this.post({ type: 'copy', text }),
    });
    this.table.setLayout(this.state.columns);
    this.table.context = {
      names: info.names,
      hasClock: info.hasClock,
      logSeconds: !!info.log && !info.log.aligned && info.log.clock === 'seconds' && !info.hasClock,
    };
    this.table.setSort(this.sort);
    this.table.root.id = 'calls';
    const callsBox = el('div', undefined, 'calls');
    this.exprError = el('div', undefined, 'expr-error');
    this.exprError.id = 'expr-error';
    this.exprError.hidden = true;
    callsBox.append(filters, this.exprError, this.table.root);
    return callsBox;
  }

  private devicesTab(info: SessionInfo): HTMLElement {
    const devicesBox = el('div', undefined, 'devices');
    devicesBox.id = 'devices';
    const log = info.log;
    if (info.bounces) {
      devicesBox.appendChild(
        dataGrid(
          [
            { title: 'Device', value: (d) => d.name, width: '2fr', color: (d) => this.deviceColor(d.id) },
            { title: 'Bounces', value: (d) => num(d.bounces) },
            { title: 'Forced', value: (d) => num(d.forced) },
            { title: 'Bytes', value: (d) => formatBytes(d.bytes) },
            { title: 'Largest', value: (d) => `${num(d.largest)} bytes` },
          ],
          info.bounces.devices,
          (d) => this.filterByDevice(d.id),
        ),
      );
      return devicesBox;
    }
    if (log && info.kind === 'log') {
      devicesBox.appendChild(
        dataGrid(
          [
            { title: 'Device', value: (d) => fullDeviceName(d), width: '2fr' },
            { title: 'Messages', value: (d) => num(d.messages) },
            { title: 'Failures', value: (d) => num(d.failures) },
            { title: 'Causes', value: (d) => causesText(d.byCause) || '–', width: '2fr' },
            { title: 'DMA mask', value: (d) => d.dmaMask ?? '–' },
            { title: 'Bus limit', value: (d) => d.busLimit ?? '–' },
            { title: 'Largest request', value: (d) => (d.largestRequest ? `${num(d.largestRequest)} bytes` : '–') },
          ],
          log.devices,
          (d) => {
            const i = log.entries.findIndex((e) => e.line >= d.firstLine);
            if (i >= 0) this.logUi?.select(i, true);
          },
        ),
      );
      return devicesBox;
    }
    devicesBox.appendChild(
      dataGrid(
        [
          { title: 'Device', value: (d) => d.name, width: '2fr', color: (d) => this.deviceColor(d.id) },
          { title: 'Maps', value: (d) => num(d.maps) },
          { title: 'Bounced', value: (d) => `${num(d.bounced)} (${pct(d.bounced, d.maps)})` },
          { title: 'Failed', value: (d) => num(d.failed) },
          { title: 'Copied', value: (d) => formatBytes(d.bytesCopied) },
          { title: 'Peak slots', value: (d) => num(d.peakSlots) },
        ],
        info.deviceStats,
        (d) => this.filterByDevice(d.id),
      ),
    );
    return devicesBox;
  }

  private notesTab(info: SessionInfo): HTMLElement {
    const problemsBox = el('div', undefined, 'problems');
    problemsBox.id = 'problems';
    if (info.notes.length) {
      const ul = el('ul', undefined, 'notes');
      for (const n of info.notes) ul.appendChild(el('li', n));
      problemsBox.appendChild(ul);
    }
    if (info.diagnostics.length) {
      problemsBox.appendChild(
        dataGrid(
          [
            { title: 'Where', value: (d) => `${basename(d.file)}${d.line ? `:${d.line}` : ''}`, width: '200px' },
            { title: 'Severity', value: (d) => d.severity, width: '90px' },
            { title: 'Message', value: (d) => d.message },
          ],
          info.diagnostics.map((d, index) => ({ ...d, index })),
          (d) => this.post({ type: 'revealDiagnostic', session: info.id, index: d.index }),
        ),
      );
      if (info.diagnosticCount > info.diagnostics.length) {
        problemsBox.appendChild(el('p', `${info.diagnosticCount - info.diagnostics.length} more in the Problems view.`, 'muted'));
      }
    } else if (!info.notes.length) {
      problemsBox.appendChild(el('p', 'Nothing to report: every line of the input was understood.', 'muted'));
    }
    return problemsBox;
  }

  /** The details pane and the slot map with its toolbar and legend (the map itself is made by wire()). */
  private slotSection(info: SessionInfo): {
    box: HTMLElement;
    scroller: HTMLElement;
    spacer: HTMLElement;
    canvas: HTMLCanvasElement;
    tooltip: HTMLElement;
  } {
    this.details = el('section', undefined, 'details');
    this.details.id = 'details';
    this.details.setAttribute('aria-live', 'polite');
    this.showDetails(null);
    const slotBox = el('section', undefined, 'slot-section');
    slotBox.id = 'slot-section';
    const slotBar = el('div', undefined, 'toolbar');
    this.slotHeader = el('span', info.pool ? '' : 'This input has no pool geometry: no slot map.', 'slot-header');
    this.slotHeader.id = 'slot-header';
    const colorDd = dropdown(
      'Colour slots by',
      [
        { value: 'device', label: 'Colour: device' },
        { value: 'age', label: 'Colour: age' },
      ],
      this.state.colorBy ?? 'device',
      (v) => {
        this.slotmap.colorBy = v === 'age' ? 'age' : 'device';
        this.save({ colorBy: this.slotmap.colorBy });
        this.renderSlotLegend();
        this.slotmap.draw();
      },
    );
    colorDd.id = 'slot-color';
    this.zoomDd = dropdown(
      'Slot map zoom (+ and - on the map, or Ctrl+wheel)',
      SLOT_ZOOMS.map((z) => ({ value: z, label: SLOT_ZOOM_LABELS[z] })),
      this.state.slotZoom ?? 'cells',
      (v) => this.slotmap.setZoom(SLOT_ZOOMS.includes(v as SlotZoom) ? (v as SlotZoom) : 'cells'),
    );
    this.zoomDd.id = 'slot-zoom';
    slotBar.append(this.slotHeader, this.zoomDd, colorDd);
    this.slotLegend = el('div', undefined, 'legend');
    this.slotLegend.id = 'slot-legend';
    const scroller = el('div', undefined, 'slotmap');
    scroller.id = 'slotmap';
    scroller.tabIndex = 0;
    scroller.setAttribute('role', 'img');
    scroller.setAttribute('aria-label', `Slot map: one row per ${IO_TLB_SEGSIZE}-slot segment`);
    const spacer = el('div', undefined, 'slotmap-spacer');
    const slotCanvas = el('canvas', undefined, 'slotmap-canvas');
    const tooltip = el('div', undefined, 'tooltip');
    tooltip.hidden = true;
    scroller.append(spacer, slotCanvas, tooltip);
    slotBox.append(slotBar, this.slotLegend, scroller);
    if (!info.pool) scroller.hidden = true;
    return { box: slotBox, scroller, spacer, canvas: slotCanvas, tooltip };
  }

  /** The chart and the slot map on their elements, with what they tell the panel. */
  private wire(
    info: SessionInfo,
    chart: { canvas: HTMLCanvasElement; readout: HTMLElement },
    slots: { scroller: HTMLElement; spacer: HTMLElement; canvas: HTMLCanvasElement; tooltip: HTMLElement },
  ): void {
    this.chart = new OccupancyChart(chart.canvas, chart.readout, this.theme, {
      requestData: (t0, t1, columns, searchOnly) => {
        this.chartRequest = ++this.requestId;
        if (this.firstChart && this.askedMs < 0) this.askedMs = performance.now() - this.sessionAt;
        this.post({ type: 'timeline', session: info.id, request: this.chartRequest, t0, t1, columns });
        // a new search changes the chart's hits, not the tracks
        if (!searchOnly) this.tracksView?.request(t0, t1, columns);
      },
      flagPlaced: (time) => this.tracksView?.addFlag(time),
      cursorMoved: (time) => {
        this.tracksView?.setCursor(time);
        this.save({ cursor: time });
        this.requestSlotsAtTime(time);
        // the row at that moment is selected once the host says which row it is
        this.selectAtCursor = this.slotRequest;
      },
      rangeSelected: (range) => this.setRange(range),
      viewChanged: (view) => {
        this.save({ view });
        this.logUi?.setView(view);
      },
      frame: (ms) => this.recordFrame(ms),
    });
    this.slotmap = new SlotMapView(slots.scroller, slots.spacer, slots.canvas, slots.tooltip, this.theme, (owner) => {
      this.selectOrigin = 'slotmap';
      this.post({ type: 'locate', session: info.id, query: this.queryId, row: owner });
    });
    this.slotmap.onZoom = (z) => {
      this.save({ slotZoom: z });
      setDropdownValue(this.zoomDd, z);
      this.renderSlotLegend();
    };
  }

  /** The tracks under the chart, on its time axis (tracks.ts). */
  private tracksOf(info: SessionInfo): TracksView {
    return new TracksView(
      info,
      this.theme,
      {
        post: (m) => this.post(m),
        nextRequest: () => ++this.requestId,
        locate: (row) => this.post({ type: 'locate', session: info.id, query: this.queryId, row }),
        save: (patch) => this.save(patch),
        flagsChanged: (flags) => this.chart.setFlags(flags),
        deviceColor: (id) => this.deviceColor(id),
      },
      this.state,
    );
  }

  private summaryBar(info: SessionInfo): HTMLElement {
    const s = info.summary;
    const bar = el('section', undefined, 'summary');
    bar.id = 'summary';
    const card = (id: string, label: string, value: string, detail?: string, cls?: string) => {
      const c = el('div', undefined, `card${cls ? ` ${cls}` : ''}`);
      c.id = `sum-${id}`;
      c.append(el('div', label, 'card-label'), el('div', value, 'card-value'));
      if (detail) c.appendChild(el('div', detail, 'card-detail'));
      return c;
    };
    const nslabs = info.pool?.nslabs ?? 0;
    const log = info.log;
    const bo = info.bounces;
    if (bo) {
      bar.append(
        card(
          'bounces',
          'Bounces',
          num(bo.total),
          `${num(bo.forced)} forced · ${num(bo.total - bo.forced)} not forced · ${formatBytes(bo.bytes)}`,
        ),
        card(
          'bounce-devices',
          'Devices',
          num(bo.devices.length),
          bo.devices
            .slice(0, 3)
            .map((d) => `${d.name} ${num(d.bounces)}`)
            .join(', '),
        ),
        card(
          'bounce-sizes',
          'Sizes',
          bo.sizes.length ? sizeLabel(bo.sizes.reduce((a, b) => (b.count > a.count ? b : a)).upTo) : '–',
          bo.sizes.map((x) => `${sizeLabel(x.upTo)} ${num(x.count)}`).join(' · '),
        ),
      );
      if (bo.errorSentinel)
        bar.appendChild(
          card(
            'bounce-errors',
            'dev_addr = DMA_MAPPING_ERROR',
            num(bo.errorSentinel),
            'dev_addr=ffffffffffffffff is the error sentinel: these maps had already failed',
            'bad',
          ),
        );
      const wrapB = el('div', undefined, 'summary-wrap');
      const lead = el(
        'p',
        'This trace has only swiotlb:swiotlb_bounced events: it shows which mappings bounced, when, how big and whether forced. It cannot show where in the pool they went, their unmaps, the occupancy or the failures (the event fires before the slot search). For those, capture the dma:* events (6.12+) or the swiotlb_tbl_map_single probes: the capture script does both.',
        'advice',
      );
      lead.id = 'bounced-only';
      wrapB.append(lead, bar);
      return wrapB;
    }
    if (log && info.kind === 'log') {
      bar.append(...logCards(log, false));
      const wrapLog = el('div', undefined, 'summary-wrap');
      wrapLog.append(bar, logFindings(log, false));
      return wrapLog;
    }
    bar.append(
      card('maps', 'Maps', num(s.maps), `${num(s.direct)} direct · ${num(s.unmaps)} unmaps · ${num(s.syncs)} syncs`),
      card(
        'bounced',
        'Bounced',
        s.maps ? pct(s.bounced, s.maps) : '–',
        `${num(s.bounced)} maps${s.rowsOnly === null ? '' : `; in the first ${num(s.rowsOnly)} rows`}${topReasons(s.bouncesByReason)}`,
      ),
      card('copied', 'Bytes copied', formatBytes(s.bytesCopied), 'by bounce copies'),
    );
    const failures = s.failed + s.hangs;
    const causes = Object.entries(s.failuresByCause)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${num(v)} ${k}`)
      .join(' · ');
    bar.append(card('failures', 'Failures', num(failures), causes || 'none', failures ? 'bad' : undefined));
    if (s.peakSlots !== null) {
      bar.append(
        card('peak', 'Peak occupancy', nslabs ? pct(s.peakSlots, nslabs) : num(s.peakSlots), `${num(s.peakSlots)} of ${num(nslabs)} slots`),
        card(
          'average',
          'Average occupancy',
          nslabs && s.averageSlots !== null ? pct(s.averageSlots, nslabs) : '–',
          s.averageSlots !== null ? `${s.averageSlots.toFixed(1)} slots${info.hasClock ? ', time-weighted' : ''}` : '',
        ),
      );
    }
    if (s.check) {
      const ok = s.check.matched === s.check.compared;
      bar.append(
        card(
          'check',
          'Model check',
          s.check.compared ? pct(s.check.matched, s.check.compared) : '–',
          `${num(s.check.matched)} of ${num(s.check.compared)} placements as the kernel chose (${s.check.profile})`,
          ok ? 'good' : undefined,
        ),
      );
    }
    if (log) bar.append(...logCards(log, true));
    const wrap = el('div', undefined, 'summary-wrap');
    wrap.appendChild(bar);
    if (log) wrap.appendChild(logFindings(log, true));
    if (s.advice) {
      const advice = el('p', s.advice, 'advice');
      advice.id = 'advice';
      wrap.appendChild(advice);
    }
    return wrap;
  }

  private filterBar(info: SessionInfo): HTMLElement {
    const bar = el('div', undefined, 'filters');
    bar.id = 'filters';
    const search = textField('Search device, call, reason, message or 0xaddress', (v) => {
      window.clearTimeout(this.textTimer);
      this.textTimer = window.setTimeout(() => this.updateFilter({ text: v.trim() || undefined }), 200);
    });
    search.id = 'search';
    if (this.filter.text) setTextFieldValue(search, this.filter.text);
    const one = (x: readonly number[] | undefined) => (x?.length === 1 ? String(x[0]) : ALL);
    const device = dropdown(
      'Device',
      [{ value: ALL, label: 'All devices' }, ...info.deviceStats.map((d) => ({ value: String(d.id), label: d.name }))],
      one(this.filter.devices),
      (v) => this.updateFilter({ devices: v === ALL ? undefined : [Number(v)] }),
      'below',
    );
    device.id = 'filter-device';
    const outcomes = Object.entries(OUTCOME_NAMES).filter(([, n]) => n);
    const outcome = dropdown(
      'Outcome',
      [{ value: ALL, label: 'All outcomes' }, ...outcomes.map(([k, n]) => ({ value: k, label: n }))],
      one(this.filter.outcomes),
      (v) => this.updateFilter({ outcomes: v === ALL ? undefined : [Number(v)] }),
      'below',
    );
    outcome.id = 'filter-outcome';
    const kind = dropdown(
      'Event',
      [{ value: ALL, label: 'All events' }, ...Object.entries(EVENT_KIND_NAMES).map(([k, n]) => ({ value: k, label: n }))],
      one(this.filter.kinds),
      (v) => this.updateFilter({ kinds: v === ALL ? undefined : [Number(v)] }),
      'below',
    );
    kind.id = 'filter-kind';
    const dir = dropdown(
      'Direction',
      [
        { value: ALL, label: 'All directions' },
        ...Object.entries(DMA_DIRECTION_NAMES).map(([k, n]) => ({ value: k, label: n.replace(/^DMA_/, '') })),
      ],
      one(this.filter.dirs),
      (v) => this.updateFilter({ dirs: v === ALL ? undefined : [Number(v)] }),
      'below',
    );
    dir.id = 'filter-dir';
    const reason = dropdown(
      'Reason',
      [{ value: ALL, label: 'All reasons' }, ...REASON_INFO.map((r) => ({ value: String(r.bit), label: r.code }))],
      this.filter.reasons ? String(this.filter.reasons) : ALL,
      (v) => this.updateFilter({ reasons: v === ALL ? undefined : Number(v) }),
      'below',
    );
    reason.id = 'filter-reason';
    reason.title = 'Reason to bounce or cause of failure';
    const reset = button('Clear filters', () => this.clearFilters(), 'secondary');
    reset.id = 'clear-filters';
    bar.append(search, device, outcome, kind, dir, reason, reset, ...this.exprBar());
    return bar;
  }

  /** The filter expression, next/previous hit and the table's Columns menu. */
  private exprBar(): HTMLElement[] {
    const expr = textField('Expression: size > 64K && device ~ nvme, reason == force, tlb_addr >= 0x7c000000', (v) => {
      window.clearTimeout(this.exprTimer);
      this.exprTimer = window.setTimeout(() => this.setExpr(v), 300);
    });
    expr.id = 'expr';
    expr.title =
      'Fields: the table columns (size, device, call, kind, outcome, dir, reason, slot, area, cpu, time, orig_addr, tlb_addr, ...); == != < <= > >= on numbers (64K, 1M, 0x7c000000, 10ms), == != ~ (contains) !~ on names; && || ! ( )';
    if (this.filter.expr) setTextFieldValue(expr, this.filter.expr);
    const prev = button('◀ Hit', () => this.nextHit(true), 'secondary', 'Previous search hit (Shift+F3, N)');
    prev.id = 'hit-prev';
    const next = button('Hit ▶', () => this.nextHit(false), 'secondary', 'Next search hit (F3, n)');
    next.id = 'hit-next';
    const cols = button('Columns', () => this.table.openColumnMenuAt(cols), 'secondary', 'Show, hide or reset the table columns');
    cols.id = 'columns-button';
    return [expr, prev, next, cols];
  }

  private setExpr(v: string): void {
    const text = v.trim();
    const err = text ? filterExprError(text) : null;
    this.typedExprError = err ? { message: err.message, position: err.position, length: err.length } : null;
    this.showExprError(this.typedExprError, text);
    // a half-typed expression keeps the rows of the last one that parsed
    if (!err && text !== (this.filter.expr ?? '')) this.updateFilter({ expr: text || undefined });
  }

  /** Shows an expression's problem under the filters, with a caret under where it is. */
  private showExprError(e: { message: string; position: number; length: number } | null, text = this.filter.expr ?? ''): void {
    const box = this.exprError;
    box.replaceChildren();
    box.hidden = !e;
    if (!e) return;
    box.append(
      el('span', `Expression error at column ${e.position + 1}: ${e.message}`),
      el('pre', `${text}\n${' '.repeat(e.position)}${'^'.repeat(Math.max(1, e.length))}`),
    );
  }

  /** Selects the next (previous) row of the search after the selected row or the cursor. */
  private nextHit(backward: boolean): void {
    const info = this.info;
    if (!info) return;
    this.post({
      type: 'nextHit',
      session: info.id,
      query: this.queryId,
      row: this.selected?.index ?? -1,
      time: this.chart.cursorTime,
      backward,
    });
  }

  /** What "Export View" saves: the time window and range, filters, sort, selection, columns. */
  private currentView(): SavedView {
    return {
      view: this.chart.view,
      cursor: this.chart.cursorTime,
      filter: this.filter,
      sort: this.sort,
      ...(this.selected ? { selectedRow: this.selected.index } : {}),
      columns: this.table.layout,
    };
  }

  /** An imported view of this input: its state, shown as a reload would. */
  private applyView(v: SavedView): void {
    const info = this.info;
    if (!info) return;
    this.save({
      view: v.view ? [v.view[0], v.view[1]] : undefined,
      cursor: v.cursor ?? null,
      filter: v.filter ?? {},
      sort: v.sort,
      selectedRow: v.selectedRow,
      columns: v.columns,
      tab: 'calls',
    });
    this.openSession(info);
  }

  // ---------------------------------------------------------------- behaviour

  /** Every filter and the time range back to "all". */
  private clearFilters(): void {
    for (const id of ['filter-device', 'filter-outcome', 'filter-kind', 'filter-dir', 'filter-reason']) {
      const d = this.root.querySelector(`#${id}`) as HTMLElement | null;
      if (d) setDropdownValue(d, ALL);
    }
    const search = this.root.querySelector('#search') as HTMLElement | null;
    if (search) setTextFieldValue(search, '');
    const expr = this.root.querySelector('#expr') as HTMLElement | null;
    if (expr) setTextFieldValue(expr, '');
    this.typedExprError = null;
    this.showExprError(null);
    this.filter = {};
    this.chart.clearSelection();
    this.showRange(null);
    this.requestRangeStats(null);
    this.save({ filter: {} });
    this.runQuery();
  }

  private updateFilter(patch: Partial<Record<keyof TableFilter, unknown>>): void {
    const f: Record<string, unknown> = { ...this.filter, ...patch };
    for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
    this.filter = f as TableFilter;
    this.save({ filter: this.filter });
    this.runQuery();
  }

  private runQuery(): void {
    const info = this.info;
    if (!info) return;
    // keep the selected row selected in the new order when it is still there
    if (this.selected && this.pendingLocate < 0) {
      this.pendingLocate = this.selected.index;
      this.selectOrigin = 'restore';
    }
    this.post({ type: 'query', session: info.id, query: ++this.queryId, filter: this.filter, sort: this.sort });
    // the chart marks the search's hits: new ones, or none any more
    const searched = !!(this.filter.expr || this.filter.text);
    if (searched || this.searched) this.chart?.refresh();
    this.searched = searched;
  }

  private setRange(range: [number, number] | null): void {
    if (!range) this.chart.clearSelection();
    this.showRange(range);
    this.requestRangeStats(range);
    this.updateFilter({ t0: range?.[0], t1: range?.[1] });
  }

  private showRange(range: [number, number] | null): void {
    const info = this.info;
    if (!info) return;
    const clear = this.root.querySelector('#clear-range') as HTMLElement | null;
    this.rangeBadge.hidden = !range;
    if (clear) clear.hidden = !range;
    if (range) {
      const span = range[1] - range[0];
      this.rangeBadge.textContent = `Rows from ${formatTime(range[0], info.hasClock, span)} to ${formatTime(range[1], info.hasClock, span)}`;
    }
  }

  private exportChartButton(info: SessionInfo, format: 'png' | 'svg'): HTMLElement {
    const b = button(
      format === 'png' ? 'PNG' : 'SVG',
      () =>
        this.post({
          type: 'exportChart',
          session: info.id,
          format,
          data: format === 'png' ? this.chart.toPng() : this.chart.toSvg(`SWIOTLB Lens: ${info.title}`),
        }),
      'secondary',
      `Export the chart as ${format.toUpperCase()} (the view shown)`,
    );
    b.id = `export-${format}`;
    return b;
  }

  private requestRangeStats(range: [number, number] | null): void {
    const info = this.info;
    this.rangeBox.hidden = !range;
    if (!info || !range) return;
    this.rangeRequest = ++this.requestId;
    this.post({ type: 'rangeStats', session: info.id, request: this.rangeRequest, t0: range[0], t1: range[1] });
  }

  /** The statistics table of the selected range. */
  private renderRangeStats(r: RangeStats): void {
    const info = this.info;
    if (!info) return;
    const box = this.rangeBox;
    box.replaceChildren();
    box.hidden = false;
    const span = r.t1 - r.t0;
    const delta = deltaText(span, info.hasClock);
    box.appendChild(
      el(
        'h3',
        `Range ${formatTime(r.t0, info.hasClock, span)} – ${formatTime(r.t1, info.hasClock, span)}: Δ ${delta}, ${num(r.rows)} rows`,
      ),
    );
    const dl = el('dl', undefined, 'range-grid');
    const add = (k: string, v: string) => dl.append(el('dt', k), el('dd', v));
    add('Maps', `${num(r.maps)} (${num(r.bounced)} bounced, ${num(r.direct)} direct)`);
    add('Failures', r.failed ? `${num(r.failed)}: ${causesText(r.failuresByCause)}` : '0');
    add('Bytes copied', formatBytes(r.bytesCopied));
    add('Unmaps · syncs', `${num(r.unmaps)} · ${num(r.syncs)}`);
    if (r.peakSlots !== null)
      add('Peak in range', `${num(r.peakSlots)} slots${r.slotsBefore !== null ? ` (${num(r.slotsBefore)} when it began)` : ''}`);
    if (r.logMessages) add('Log messages', num(r.logMessages));
    box.appendChild(dl);
    if (r.devices.length)
      box.appendChild(
        dataGrid(
          [
            { title: 'Device', value: (d) => d.name, width: '2fr', color: (d) => this.deviceColor(d.id) },
            { title: 'Maps', value: (d) => num(d.maps) },
            { title: 'Bounced', value: (d) => num(d.bounced) },
            { title: 'Failed', value: (d) => num(d.failed) },
            { title: 'Copied', value: (d) => formatBytes(d.bytesCopied) },
            { title: 'Peak slots', value: (d) => num(d.peakSlots) },
          ],
          r.devices,
          (d) => this.filterByDevice(d.id),
        ),
      );
  }

  private filterByDevice(id: number): void {
    const dd = this.root.querySelector('#filter-device') as HTMLElement | null;
    if (dd) setDropdownValue(dd, String(id));
    const tabsEl = this.root.querySelector('#tabs') as (HTMLElement & { activeid: string }) | null;
    if (tabsEl) tabsEl.activeid = 'tab-calls';
    this.save({ tab: 'calls' });
    this.updateFilter({ devices: [id] });
  }

  private onRowSelected(row: RawRow | null): void {
    const info = this.info;
    if (!info || !row) return;
    this.selected = row;
    this.save({ selectedRow: row.index });
    this.showDetails(row);
    const origin = this.selectOrigin;
    this.selectOrigin = 'table';
    // a release shows the moment before it, so its slots are still there to see
    const released = row.outcome === Outcome.Released;
    const owner = row.outcome === Outcome.Bounced ? row.index : released ? row.pair : -1;
    this.slotmap.highlight(owner);
    if (origin === 'chart' || origin === 'slotmap') return;
    if (row.kind === EventKind.LogMessage && info.log) {
      const i = this.logUi?.indexOf(info.names.files[row.file] ?? '', row.line) ?? -1;
      if (i >= 0 && this.logUi?.selected !== i) this.logUi?.select(i, false);
      // a log row moves the trace cursor only when both clocks are seconds since boot
      if (!info.log.aligned) return;
    }
    this.chart.setCursor(row.time, false);
    this.tracksView?.setCursor(row.time);
    this.save({ cursor: row.time });
    if (info.pool) this.requestSlotsAtRow(released ? row.index - 1 : row.index, owner);
  }

  private requestSlotsAtRow(row: number, highlight = -1): void {
    const info = this.info;
    if (!info?.pool) return;
    this.slotRequest = ++this.requestId;
    this.post({ type: 'slotmap', session: info.id, request: this.slotRequest, row });
    if (highlight >= 0) this.slotmap.highlight(highlight);
  }

  private requestSlotsAtTime(time: number): void {
    const info = this.info;
    if (!info?.pool) return;
    this.slotRequest = ++this.requestId;
    this.post({ type: 'slotmap', session: info.id, request: this.slotRequest, row: -1, time });
  }

  private renderSlotHeader(row: number, time: number, owner: Int32Array): void {
    const info = this.info;
    if (!info?.pool) return;
    let used = 0;
    let runs = 0;
    let largest = 0;
    let run = 0;
    for (let s = 0; s < owner.length; s++) {
      if ((owner[s] as number) >= 0) {
        used++;
        if (run) {
          runs++;
          largest = Math.max(largest, run);
        }
        run = 0;
      } else if (s % IO_TLB_SEGSIZE === 0 && run) {
        // a free run never crosses a segment for the allocator
        runs++;
        largest = Math.max(largest, run);
        run = 1;
      } else run++;
    }
    if (run) {
      runs++;
      largest = Math.max(largest, run);
    }
    const at = row < 0 ? 'before the first event' : `after row ${num(row)}`;
    this.slotHeader.textContent = `Slots at ${formatTime(time, info.hasClock, info.t1 - info.t0)} (${at}): ${num(used)} of ${num(info.pool.nslabs)} used, ${num(runs)} free runs, largest ${largest} slots`;
  }

  private renderSlotLegend(): void {
    const info = this.info;
    if (!info || !this.slotLegend || !this.slotmap) return;
    renderLegend(this.slotLegend, this.slotmap.legend());
    const note = { cells: '', segments: 'a segment: its used slots stacked up its cell', areas: 'an area: its used slots along its bar' }[
      this.slotmap.zoom
    ];
    if (note) this.slotLegend.appendChild(el('span', note, 'legend-note'));
  }

  /** The chart's "areas stacked": which colour is which area (the chart's own colours). */
  private renderAreaLegend(): void {
    const nareas = this.info?.pool?.nareas ?? 0;
    const on = this.chart?.mode === 'areas' && nareas > 1;
    this.areaLegendBox.hidden = !on;
    const band = this.root.querySelector<HTMLElement>('#chart-legend [data-series="band"]');
    if (band) band.hidden = on;
    renderLegend(this.areaLegendBox, on ? areaLegend(this.theme.palette, nareas) : []);
  }

  private deviceColor(id: number): string {
    return deviceColor(this.theme.palette, id);
  }

  private showDetails(row: RawRow | null, note?: string): void {
    const d = this.details;
    const info = this.info;
    d.replaceChildren();
    if (!row || !info) {
      d.appendChild(el('p', note ?? 'Select a row (or a run in the slot map) to see its decision.', 'muted'));
      return;
    }
    const head = el('div', undefined, 'details-head');
    const ctx: CellContext = { names: info.names, hasClock: info.hasClock };
    const kind = EVENT_KIND_NAMES[row.kind as EventKind] ?? '';
    head.append(el('h2', `Row ${num(row.index)}: ${cellText('api', row, ctx)} → ${OUTCOME_NAMES[row.outcome as Outcome] || kind}`));
    d.appendChild(head);
    const dl = el('dl');
    const add = (k: string, v: string | null | undefined) => {
      if (v === null || v === undefined || v === '') return;
      dl.append(el('dt', k), el('dd', v));
    };
    const source = sourceOf(row, info);
    const logClock = row.kind === EventKind.LogMessage && info.log?.clock === 'seconds' && !info.log.aligned;
    add('Time', logClock ? `${row.time.toFixed(6)} s since boot (log clock)` : formatTime(row.time, info.hasClock, 1));
    add('CPU', cellText('cpu', row, ctx));
    add('Device', cellText('device', row, ctx));
    add('Size', row.size < 0 ? null : `${num(row.size)} bytes`);
    add('Direction', printColumn('dir', row.dir, info.names));
    add('orig_addr', printColumn('phys', row.phys, info.names));
    add('DMA address', printColumn('dma', row.dma, info.names));
    if (row.slot >= 0) {
      add(
        'Slots',
        `${row.slot} … ${row.slot + row.nslots - 1} (${row.nslots} slot${row.nslots === 1 ? '' : 's'}, ${formatBytes(row.nslots * IO_TLB_SIZE)})`,
      );
      add('Area', cellText('area', row, ctx));
    }
    add('Pool used after', row.used < 0 ? null : `${num(row.used)} slots`);
    add('Copied', row.copied ? `${num(row.copied)} bytes` : null);
    add('Source', source);
    d.appendChild(dl);
    if (row.reasons) {
      const ul = el('ul', undefined, 'reasons');
      for (const r of REASON_INFO) {
        if (!(row.reasons & r.bit)) continue;
        const li = el('li');
        li.append(el('strong', r.code), document.createTextNode(`: ${r.text}`));
        ul.appendChild(li);
      }
      d.appendChild(ul);
    }
    if (row.message) d.appendChild(el('pre', row.message, 'message'));
    if (row.kind === EventKind.LogMessage && info.log) {
      const e = info.log.entries.find((x) => x.file === info.names.files[row.file] && x.line <= row.line && row.line <= x.endLine);
      if (e) this.explainInto(d, e);
      if (!info.log.aligned && info.kind === 'trace+log') d.appendChild(el('p', info.log.clockNote, 'muted clock'));
    }
    const actions = el('div', undefined, 'actions');
    const go = button(
      'Go to Source',
      () => this.post({ type: 'reveal', session: info.id, row: row.index }),
      'primary',
      'Open the trace line, log line or call site',
    );
    go.id = 'go-to-source';
    if (!source) setDisabled(go, true);
    actions.appendChild(go);
    if (row.pair >= 0) {
      const pair = row.pair;
      actions.appendChild(
        button(row.index < pair ? 'Go to Unmap' : 'Go to Map', () => {
          this.post({ type: 'locate', session: info.id, query: this.queryId, row: pair });
        }),
      );
    }
    d.appendChild(actions);
  }

  /** A log message's explanation in the details pane. */
  private explainInto(d: HTMLElement, e: LogEntryView): void {
    const box = el('div', undefined, 'explanation');
    box.append(el('p', `${e.title}.`, 'explain-title'), el('p', e.explanation));
    const facts: string[] = [];
    if (e.cause) facts.push(`cause: ${e.cause}`);
    if (e.sizeHelps !== null) facts.push(e.sizeHelps ? 'a bigger pool (swiotlb=) can help' : 'no swiotlb= size helps');
    if (e.eventLines.length > 1) facts.push(`same event: lines ${e.eventLines.join(', ')}`);
    if (facts.length) box.appendChild(el('p', facts.join(' · '), 'muted'));
    d.appendChild(box);
  }

  private onLogSelected(index: number, e: LogEntryView): void {
    const info = this.info;
    if (!info) return;
    const d = this.details;
    d.replaceChildren();
    const head = el('div', undefined, 'details-head');
    head.appendChild(el('h2', `Line ${e.endLine > e.line ? `${e.line}-${e.endLine}` : e.line}: ${e.kind}`));
    d.appendChild(head);
    const dl = el('dl');
    const add = (k: string, v: string | null) => {
      if (v) dl.append(el('dt', k), el('dd', v));
    };
    add('Time', e.time !== null ? `${e.time.toFixed(6)} s since boot (log clock)` : null);
    add('Device', e.device);
    add('Source', `${e.file}:${e.line}`);
    d.appendChild(dl);
    d.appendChild(el('pre', e.text, 'message'));
    this.explainInto(d, e);
    const actions = el('div', undefined, 'actions');
    const go = button(
      'Go to Source',
      () => this.post({ type: 'revealLog', session: info.id, entry: index }),
      'primary',
      'Open the log line',
    );
    go.id = 'go-to-source';
    actions.appendChild(go);
    d.appendChild(actions);
    if (info.log?.aligned && e.time !== null && info.kind === 'trace+log') {
      this.chart.setCursor(e.time, false);
      this.requestSlotsAtTime(e.time);
    }
  }

  private renderPinned(x: {
    file: string;
    line: number;
    title: string;
    text: string;
    cause: string | null;
    eventLines: readonly number[];
  }): void {
    const p = this.pinned;
    p.replaceChildren();
    p.hidden = false;
    const head = el('div', undefined, 'pinned-head');
    head.append(el('strong', `Explained: ${basename(x.file)}:${x.line}`), document.createTextNode(x.cause ? ` [${x.cause}]` : ''));
    const unpin = button('Unpin', () => {
      p.hidden = true;
    });
    unpin.id = 'unpin';
    head.appendChild(unpin);
    p.append(head, el('p', `${x.title}.`, 'explain-title'), el('p', x.text));
    if (x.eventLines.length > 1) p.appendChild(el('p', `Same event: lines ${x.eventLines.join(', ')}`, 'muted'));
    const i = this.logUi?.indexOf(x.file, x.line) ?? -1;
    if (i >= 0) this.logUi?.select(i, true);
  }

  /** The settings ask for another kernel or platform than the analysis used: offer to re-analyse. */
  private renderOffer(): void {
    const info = this.info;
    const o = this.offer;
    const want = this.profile;
    if (!info || !want || !o) return;
    const diffs: string[] = [];
    if (want.platform !== 'auto' && want.platform !== info.platform)
      diffs.push(`platform ${want.platform} (this analysis: ${info.platform === 'not given' ? 'none' : info.platform})`);
    if (want.kernel !== 'auto' && want.kernel !== info.kernel) diffs.push(`kernel ${want.kernel} (this analysis: ${info.kernel})`);
    o.replaceChildren();
    o.hidden = diffs.length === 0;
    if (!diffs.length) return;
    o.append(el('span', `The settings now ask for ${diffs.join(' and ')}. `));
    const b = button('Re-analyze with them', () => this.post({ type: 'command', command: 'swiotlbLens.reanalyze' }), 'primary');
    b.id = 'reanalyze-offer';
    o.appendChild(b);
  }

  private recordFrame(ms: number): void {
    const info = this.info;
    if (!info) return;
    this.frames.push(ms);
    window.clearTimeout(this.frameTimer);
    // report once the interaction has settled
    this.frameTimer = window.setTimeout(() => {
      if (this.frames.length >= 5) this.post({ type: 'frames', session: info.id, frames: this.frames.slice(-10000) });
      this.frames = [];
    }, 800);
  }
}

function sizeLabel(upTo: number): string {
  return upTo < 0 ? '> 256 KiB' : `≤ ${formatBytes(upTo)}`;
}

function kindLabel(kind: SessionInfo['kind']): string {
  switch (kind) {
    case 'replay':
      return 'replay';
    case 'trace':
      return 'trace';
    case 'log':
      return 'kernel log';
    case 'trace+log':
      return 'trace + log';
    case 'scenario':
      return 'scenario';
    case 'source':
      return 'driver source';
    default:
      return kind;
  }
}

function topReasons(byReason: Readonly<Record<string, number>>): string {
  const top = Object.entries(byReason)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  return top.length ? `: ${top.map(([k, v]) => `${k} ${num(v)}`).join(', ')}` : '';
}

/** Where a row comes from: "file:line", or null. */
function sourceOf(row: RawRow, info: SessionInfo): string | null {
  const file = info.names.files[row.file];
  return file ? `${file}${row.line ? `:${row.line}` : ''}` : null;
}

function peakRow(info: SessionInfo): number {
  return info.summary.peakRow ?? -1;
}

function chartLegend(theme: Theme, info: SessionInfo): HTMLElement {
  const legend = el('div', undefined, 'legend');
  legend.id = 'chart-legend';
  const item = (color: string, label: string, cls = 'swatch') => {
    const i = el('span', undefined, 'legend-item');
    const sw = el('span', undefined, cls);
    sw.style.background = color;
    i.append(sw, document.createTextNode(label));
    return i;
  };
  if (info.bounces) {
    legend.appendChild(item(theme.band, 'swiotlb_bounced events per column'));
    return legend;
  }
  const band = item(theme.band, 'used slots');
  // "areas stacked" draws the areas instead (their own legend)
  band.dataset.series = 'band';
  legend.append(band, item(theme.hiwater, 'high-water', 'swatch line'));
  if (info.pool) legend.appendChild(item(theme.pool, 'pool size', 'swatch line'));
  const causes = Object.keys(info.summary.failuresByCause);
  FAILURE_LABELS.forEach((label, k) => {
    if (causes.includes(label)) legend.appendChild(item(theme.failures[k] as string, label, 'swatch triangle'));
  });
  return legend;
}

/** Legend entries as swatches and text (labels from the input stay text). */
function renderLegend(box: HTMLElement, entries: readonly LegendEntry[]): void {
  box.replaceChildren(
    ...entries.map((e) => {
      const i = el('span', undefined, 'legend-item');
      i.dataset.kind = e.kind;
      if (e.key !== undefined) i.dataset.key = String(e.key);
      if (e.bucket) {
        i.dataset.ageMin = String(e.bucket.min);
        i.dataset.ageMax = String(e.bucket.max);
      }
      const sw = el('span', undefined, 'swatch');
      sw.style.background = e.color;
      i.append(sw, document.createTextNode(e.label));
      i.title = e.label;
      return i;
    }),
  );
}
