/**
 * What the panel shows of a kernel log: summary cards (messages, failures by cause, the pool the
 * log names, devices, where the kernel profile came from), its conclusions and machine facts, a
 * lane of its messages on the log's own clock (or the trace's axis when both are in seconds), and
 * the table of its messages with each explanation inline. Text from the log goes in as text.
 */
import { fullDeviceName, type LogEntryView, type LogView } from '../src/analysis/sessionLog';
import { formatBytes } from '../src/model/units';
import { el } from './dom';

const num = (n: number) => n.toLocaleString('en-US');
const FRAMES = new Set(['cut-here', 'warn-cpu', 'hardware', 'end-trace']);

export interface LogCallbacks {
  /** An entry was selected (in the lane or the table). */
  selected(index: number, entry: LogEntryView): void;
  /** Open the entry's line in the editor. */
  activated(index: number): void;
}

/** The card of a summary: label, value, detail. */
export function card(id: string, label: string, value: string, detail?: string, cls?: string, title?: string): HTMLElement {
  const c = el('div', undefined, `card${cls ? ` ${cls}` : ''}`);
  c.id = `sum-${id}`;
  c.append(el('div', label, 'card-label'), el('div', value, 'card-value'));
  if (detail) c.appendChild(el('div', detail, 'card-detail'));
  if (title) c.title = title;
  return c;
}

export function causesText(by: Readonly<Record<string, number>>): string {
  return Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${num(v)} ${k}`)
    .join(' · ');
}

/** Where the kernel profile came from, in a few words. */
export function kernelWords(log: LogView): string {
  const k = log.kernel;
  if (k.release) return `${k.release}${k.assumed ? `: not modelled, profile ${k.profile} assumed` : ` (profile ${k.profile})`}`;
  return k.assumed ? `not named in the log: profile ${k.profile} assumed` : `profile ${k.profile}`;
}

/** The log's summary cards. `withTrace`: the trace has its own cards; these say "log". */
export function logCards(log: LogView, withTrace: boolean): HTMLElement[] {
  const out: HTMLElement[] = [];
  const parts = [`${num(log.fullMessages)} "buffer is full"`, `${num(log.overflowMessages)} overflow`];
  if (log.suppressed) parts.push(`${num(log.suppressed)} suppressed`);
  if (!withTrace) out.push(card('log-messages', 'Log messages', num(log.messages), parts.join(' · ')));
  out.push(
    card(
      'log-failures',
      withTrace ? 'Log failures' : 'Failures',
      num(log.failures),
      log.failures ? `${causesText(log.byCause)}${log.noSizeHelps ? ' · no swiotlb= size helps' : ''}` : 'none in the log',
      log.failures ? 'bad' : undefined,
    ),
  );
  if (!withTrace) {
    out.push(
      log.pool
        ? card(
            'log-pool',
            'Pool',
            `${num(log.pool.nslabs)} slots`,
            `${formatBytes(log.pool.bytes)}; from ${log.pool.source}`,
            undefined,
            log.pool.source,
          )
        : card('log-pool', 'Pool', 'not in the log', 'no "software IO TLB: mapped" or "total N (slots)" line'),
      card(
        'log-devices',
        'Devices',
        num(log.devices.length),
        log.devices
          .slice(0, 4)
          .map((d) => fullDeviceName(d))
          .join(', ') + (log.devices.length > 4 ? ', ...' : ''),
      ),
      card(
        'log-kernel',
        'Kernel',
        log.kernel.release ?? (log.kernel.assumed ? 'assumed' : log.kernel.profile),
        kernelWords(log),
        undefined,
        `kernel profile from ${log.kernel.source}`,
      ),
    );
  }
  return out;
}

/** Conclusions and machine facts under the cards. */
export function logFindings(log: LogView, withTrace: boolean): HTMLElement {
  const box = el('section', undefined, 'log-findings');
  box.id = 'log-findings';
  if (!withTrace && log.conclusions.length) {
    const ul = el('ul', undefined, 'conclusions');
    ul.id = 'log-conclusions';
    for (const c of log.conclusions) ul.appendChild(el('li', c));
    box.appendChild(ul);
  }
  if (log.facts.length) {
    const facts = el('div', undefined, 'facts');
    facts.id = 'log-facts';
    for (const f of log.facts.slice(0, 6)) {
      const s = el('span', undefined, 'fact');
      s.append(el('strong', `${f.label}: `), document.createTextNode(f.value));
      s.title = `${f.file}:${f.line}`;
      facts.appendChild(s);
    }
    box.appendChild(facts);
  }
  return box;
}

function markClass(e: LogEntryView): string {
  if (FRAMES.has(e.kind)) return 'frame';
  if (e.cause && e.cause !== 'mask-limited') return 'bad';
  if (e.cause || e.kind === 'overflow') return 'warn';
  return 'info';
}

/** The lane of log messages and the table of them, selected together. */
export class LogLaneAndTable {
  readonly lane: HTMLElement;
  readonly table: HTMLElement;
  private readonly track: HTMLElement;
  private readonly axis: HTMLElement;
  private readonly marks: HTMLElement[] = [];
  private readonly rows: HTMLElement[] = [];
  private selectedIndex = -1;
  /** The axis: seconds (the log's or the trace's) or line numbers. */
  private view: [number, number];
  private readonly byLine: boolean;
  /** "vc4-drm gpu" for "gpu": the driver the log names with the device. */
  private readonly fullName: Map<string, string>;

  constructor(
    private readonly log: LogView,
    private readonly cb: LogCallbacks,
    traceView: [number, number] | null,
  ) {
    this.byLine = log.clock !== 'seconds';
    this.fullName = new Map(log.devices.map((d) => [d.name, fullDeviceName(d)]));
    const vals = log.entries.map((e) => this.valueOf(e));
    const lo = vals.length ? Math.min(...vals) : 0;
    const hi = vals.length ? Math.max(...vals) : 1;
    this.view = log.aligned && traceView ? traceView : [lo, hi];
    this.lane = el('section', undefined, 'log-lane');
    this.lane.id = 'log-lane';
    const head = el('div', undefined, 'lane-head');
    head.append(
      el('strong', 'Kernel log'),
      el(
        'span',
        ` ${num(log.entries.length)} message${log.entries.length === 1 ? '' : 's'} on ${this.byLine ? 'line numbers' : 'the log clock (s since boot)'}`,
      ),
    );
    const note = el('div', log.clockNote, 'lane-note');
    note.id = 'clock-note';
    this.track = el('div', undefined, 'lane-track');
    this.track.setAttribute('role', 'listbox');
    this.track.setAttribute('aria-label', 'Kernel log messages over time');
    this.axis = el('div', undefined, 'lane-axis');
    log.entries.forEach((e, i) => {
      const m = el('button', undefined, `lane-mark ${markClass(e)}`);
      m.type = 'button';
      m.dataset.entry = String(i);
      m.dataset.line = String(e.line);
      m.title = `line ${e.line}${e.time !== null ? ` (${e.time.toFixed(6)} s)` : ''}: ${e.title}`;
      m.addEventListener('click', () => this.select(i, true));
      this.marks.push(m);
      this.track.appendChild(m);
    });
    this.lane.append(head, this.track, this.axis, note);
    this.table = this.buildTable();
    this.place();
  }

  private valueOf(e: LogEntryView): number {
    return this.byLine || e.time === null ? e.line : e.time;
  }

  /** The trace chart's window (aligned clocks only). */
  setView(view: [number, number]): void {
    if (!this.log.aligned) return;
    this.view = view;
    this.place();
  }

  private place(): void {
    const [a, b] = this.view;
    const span = b - a;
    this.log.entries.forEach((e, i) => {
      const v = this.valueOf(e);
      const f = span > 0 ? (v - a) / span : 0.5;
      const m = this.marks[i] as HTMLElement;
      m.hidden = f < -0.001 || f > 1.001;
      m.style.left = `calc(${(Math.min(1, Math.max(0, f)) * 100).toFixed(3)}% - 4px)`;
    });
    this.axis.replaceChildren();
    const ticks = 5;
    for (let k = 0; k < ticks; k++) {
      const v = a + (span * k) / (ticks - 1);
      const t = el('span', this.byLine ? `line ${Math.round(v)}` : `${v.toFixed(span < 1 ? 3 : 1)} s`, 'tick');
      t.style.left = `${(k / (ticks - 1)) * 100}%`;
      this.axis.appendChild(t);
    }
  }

  private buildTable(): HTMLElement {
    const wrap = el('div', undefined, 'log-table-wrap');
    const t = el('table', undefined, 'log-table');
    t.id = 'log-table';
    const head = el('tr');
    for (const h of ['Line', 'Time', 'Device', 'Message and explanation']) head.appendChild(el('th', h));
    const thead = el('thead');
    thead.appendChild(head);
    const body = el('tbody');
    this.log.entries.forEach((e, i) => {
      const tr = el('tr', undefined, `log-row ${markClass(e)}`);
      tr.dataset.entry = String(i);
      tr.dataset.line = String(e.line);
      tr.tabIndex = -1;
      tr.append(
        el('td', e.endLine > e.line ? `${e.line}-${e.endLine}` : String(e.line), 'num'),
        el('td', e.time !== null ? `${e.time.toFixed(6)} s` : '', 'num'),
        el('td', e.device ? (this.fullName.get(e.device) ?? e.device) : '', 'dev'),
      );
      const msg = el('td', undefined, 'msg');
      const text = el('div', e.text, 'log-text');
      const explain = el('div', undefined, 'log-explain');
      if (e.cause) explain.appendChild(el('span', e.cause, 'cause'));
      explain.appendChild(document.createTextNode(`${e.title}. ${FRAMES.has(e.kind) ? '' : e.explanation}`));
      msg.append(text, explain);
      tr.appendChild(msg);
      tr.addEventListener('click', () => this.select(i, true));
      tr.addEventListener('dblclick', () => this.cb.activated(i));
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') this.cb.activated(i);
        else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
          ev.preventDefault();
          const j = Math.max(0, Math.min(this.log.entries.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)));
          this.select(j, true);
          (this.rows[j] as HTMLElement).focus();
        }
      });
      this.rows.push(tr);
      body.appendChild(tr);
    });
    t.append(thead, body);
    wrap.appendChild(t);
    if (this.log.entriesDropped > 0)
      wrap.appendChild(el('p', `${num(this.log.entriesDropped)} more messages in the report (CLI, Export).`, 'muted'));
    if (!this.log.entries.length) wrap.appendChild(el('p', 'No swiotlb message in the log.', 'muted'));
    return wrap;
  }

  /** The entry of a file line (a wrapped message: any of its lines), or -1. */
  indexOf(file: string, line: number): number {
    return this.log.entries.findIndex((e) => e.file === file && e.line <= line && line <= e.endLine);
  }

  select(i: number, notify: boolean): void {
    const e = this.log.entries[i];
    if (!e) return;
    this.rows[this.selectedIndex]?.classList.remove('selected');
    this.marks[this.selectedIndex]?.classList.remove('selected');
    this.selectedIndex = i;
    const tr = this.rows[i] as HTMLElement;
    tr.classList.add('selected');
    tr.scrollIntoView({ block: 'nearest' });
    this.marks[i]?.classList.add('selected');
    // the other messages of the same event
    this.rows.forEach((r, k) => {
      r.classList.toggle('same-event', e.event >= 0 && k !== i && this.log.entries[k]?.event === e.event);
    });
    if (notify) this.cb.selected(i, e);
  }

  get selected(): number {
    return this.selectedIndex;
  }
}
