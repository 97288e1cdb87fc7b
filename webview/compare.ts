/**
 * The compare view's bundle (dist/compare.js): xen-swiotlb as the kernel has it beside dma-direct
 * with the Xen hooks, one row per compared call, in a virtualised table (only the rows in view
 * exist; pages are asked of the host as they scroll in). Divergent rows and the cells that differ
 * are marked; "Divergences only" filters; clicking a row opens its scenario line. Every string
 * from the input is set with textContent. The filter, the scroll and the selection are kept in
 * the webview's state with the scenario's file: after a window reload the host compares that
 * file again (compareView.ts) and the view comes back as it was.
 */
import type { CompareInfo, CompareRowView, CompareSideView } from '../src/analysis/compareModel';
import type { HostMessage } from '../src/protocol/messages';
import { el } from './dom';
import { badge, checkbox, registerToolkit } from './toolkit';
import { connect } from './vscode';

// CSP violations in this webview (the e2e tests read them; a strict CSP must meet no inline style)
const violations: string[] = [];
(window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
document.addEventListener('securitypolicyviolation', (e) => {
  if (violations.length < 50) violations.push(`${e.effectiveDirective} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`);
});

registerToolkit();

interface State {
  readonly divergentOnly?: boolean;
  /** The scenario compared (what the host compares again after a reload). */
  readonly file?: string;
  /** Where the table was scrolled to and the row selected, for that file and filter. */
  readonly scrollTop?: number;
  readonly selected?: number;
}

const root = document.getElementById('root') as HTMLElement;
const api = connect<State>(onMessage);
const num = (n: number) => n.toLocaleString('en-US');

type SideKey = 'result' | 'reasons' | 'dma' | 'slot';
/** The side columns, with the field of compare.ts's differences() that marks them. */
const SIDE_COLUMNS: readonly { key: SideKey; title: string; width: number; field: string }[] = [
  { key: 'result', title: 'decision', width: 80, field: 'result' },
  { key: 'reasons', title: 'reason', width: 120, field: 'reasons' },
  { key: 'dma', title: 'dma address', width: 120, field: 'dma' },
  { key: 'slot', title: 'slot', width: 70, field: 'slot' },
];
const LEAD = [
  { title: '', width: 24 },
  { title: '#', width: 56 },
  { title: 'line', width: 50 },
  { title: 'call', width: 150 },
  { title: 'device', width: 120 },
];
const TAIL_W = 260;
const SIDE_W = SIDE_COLUMNS.reduce((w, c) => w + c.width, 0);
const LEAD_W = LEAD.reduce((w, c) => w + c.width, 0);
const TABLE_W = LEAD_W + 2 * SIDE_W + TAIL_W;
const ROW_H = 22;
const PAGE = 200;
/** Browsers cap element heights (~33M px): beyond this the scrollbar maps to rows proportionally. */
const MAX_H = 15_000_000;

let info: CompareInfo | null = null;
let divergentOnly = api.getState()?.divergentOnly ?? false;
let total = 0;
let request = 0;
let selected = -1;
const cache = new Map<number, CompareRowView>();
const pending = new Set<number>();
let rendered: HTMLElement[] = [];

let countEl: HTMLElement;
let tableEl: HTMLElement;
let body: HTMLElement;
let spacer: HTMLElement;

function cell(text: string, width: number, cls = 'cell'): HTMLElement {
  const c = el('div', text, cls);
  c.style.width = `${width}px`;
  c.setAttribute('role', 'gridcell');
  return c;
}

function render(i: CompareInfo): void {
  // where the user was, if it was this scenario (a reload, a re-analysis)
  const r = api.getState();
  info = i;
  root.replaceChildren();
  const h = el('h1', i.title);
  h.id = 'compare-title';
  h.title = i.file;
  root.appendChild(h);
  const badges = el('div', undefined, 'badges');
  badges.append(badge(`platform ${i.platform}`), badge(`kernel ${i.kernel}`));
  root.appendChild(badges);

  const sum = el('p', undefined, 'compare-summary');
  sum.id = 'compare-summary';
  sum.dataset.compared = String(i.compared);
  sum.dataset.divergent = String(i.divergent);
  sum.append(
    el('span', `${num(i.compared)} calls compared (${num(i.calls)} workload calls): `),
    el('strong', `${num(i.agree)} agree, ${num(i.divergent)} diverge`),
  );
  root.appendChild(sum);
  const causes = Object.entries(i.byCause);
  if (causes.length) {
    const ul = el('ul', undefined, 'compare-causes');
    ul.id = 'compare-causes';
    for (const [cause, n] of causes) {
      const li = el('li');
      li.append(
        el('span', `${cause} `, 'compare-cause'),
        el('span', `${num(n ?? 0)}: `),
        el('span', i.causeText[cause as keyof CompareInfo['causeText']], 'muted'),
      );
      ul.appendChild(li);
    }
    root.appendChild(ul);
  }
  const verdict = el('p', i.verdict, 'advice');
  verdict.id = 'compare-verdict';
  root.appendChild(verdict);

  const bar = el('div', undefined, 'actions compare-filters');
  const only = checkbox('Divergences only', divergentOnly, (on) => {
    divergentOnly = on;
    query();
    save();
  });
  only.id = 'compare-divergent-only';
  countEl = el('span', '', 'muted');
  countEl.id = 'compare-count';
  countEl.setAttribute('aria-live', 'polite');
  bar.append(only, countEl);
  root.appendChild(bar);

  tableEl = el('div', undefined, 'table compare-table');
  tableEl.id = 'compare-table';
  tableEl.setAttribute('role', 'grid');
  tableEl.setAttribute('aria-label', 'xen-swiotlb and dma-direct with the Xen hooks, call by call');
  const groups = el('div', undefined, 'table-header compare-groups');
  groups.append(
    cell('', LEAD_W, 'cell head'),
    cell("xen-swiotlb (the kernel's path)", SIDE_W, 'cell head compare-side'),
    cell('dma-direct + Xen hooks (unified)', SIDE_W, 'cell head compare-side'),
    cell('', TAIL_W, 'cell head'),
  );
  const header = el('div', undefined, 'table-header');
  header.setAttribute('role', 'row');
  for (const c of LEAD) header.appendChild(cell(c.title, c.width, 'cell head'));
  for (let s = 0; s < 2; s++)
    for (const c of SIDE_COLUMNS) header.appendChild(cell(c.title, c.width, `cell head${c === SIDE_COLUMNS[0] ? ' compare-side' : ''}`));
  header.appendChild(cell('differs in (cause)', TAIL_W, 'cell head'));
  for (const x of header.children) x.setAttribute('role', 'columnheader');
  body = el('div', undefined, 'table-body');
  body.tabIndex = 0;
  spacer = el('div', undefined, 'table-spacer');
  spacer.style.width = `${TABLE_W}px`;
  body.appendChild(spacer);
  tableEl.append(groups, header, body);
  root.appendChild(tableEl);
  body.addEventListener('scroll', () => {
    groups.scrollLeft = body.scrollLeft;
    header.scrollLeft = body.scrollLeft;
    draw();
    save();
  });
  body.addEventListener('keydown', onKey);
  new ResizeObserver(() => draw()).observe(body);
  query();
  if (r?.file === i.file && (r.divergentOnly ?? false) === divergentOnly) {
    if (typeof r.selected === 'number' && r.selected >= 0 && r.selected < total) selected = r.selected;
    if (typeof r.scrollTop === 'number' && r.scrollTop > 0) body.scrollTop = r.scrollTop;
    draw();
  }
  save();
}

/** Keeps the view in the webview's state (VS Code restores it after a reload). */
function save(): void {
  api.setState({ divergentOnly, file: info?.file, scrollTop: body ? body.scrollTop : 0, selected });
}

/** A new filter: forget the rows, ask for the first page (its reply says how many there are). */
function query(): void {
  if (!info) return;
  request++;
  cache.clear();
  pending.clear();
  selected = -1;
  total = divergentOnly ? info.divergent : info.compared;
  setTotal(total);
  body.scrollTop = 0;
  draw();
}

function setTotal(n: number): void {
  total = n;
  spacer.style.height = `${Math.min(n * ROW_H, MAX_H)}px`;
  tableEl.setAttribute('aria-rowcount', String(n));
  tableEl.dataset.total = String(n);
  tableEl.dataset.filter = divergentOnly ? 'divergent' : 'all';
  const i = info as CompareInfo;
  countEl.textContent = divergentOnly
    ? `${num(n)} divergent calls of ${num(i.compared)}`
    : `${num(n)} calls, ${num(i.divergent)} divergent (marked ≠)`;
}

function need(pos: number): void {
  const page = Math.floor(pos / PAGE);
  if (pending.has(page) || !info) return;
  pending.add(page);
  api.postMessage({
    type: 'compareRows',
    session: info.id,
    request,
    divergentOnly,
    start: page * PAGE,
    count: Math.max(1, Math.min(PAGE, total - page * PAGE)),
  });
}

const scaled = () => total * ROW_H > MAX_H;

/** The (fractional) row at the top of the viewport, as [row, pixel offset into it]. */
function firstRow(): [number, number] {
  const h = body.clientHeight;
  let exact: number;
  if (!scaled()) exact = body.scrollTop / ROW_H;
  else {
    const maxScroll = Math.max(1, MAX_H - h);
    exact = (Math.min(body.scrollTop, maxScroll) / maxScroll) * Math.max(0, total - h / ROW_H);
  }
  const row = Math.floor(exact);
  return [row, (exact - row) * ROW_H];
}

function scrollToRow(row: number): void {
  const h = body.clientHeight;
  if (!scaled()) body.scrollTop = row * ROW_H;
  else body.scrollTop = (row / Math.max(1, total - h / ROW_H)) * Math.max(1, MAX_H - h);
}

function sideCells(div: HTMLElement, side: CompareSideView | null, fields: readonly string[]): void {
  SIDE_COLUMNS.forEach((c, k) => {
    const text = side ? side[c.key] : k === 0 ? 'no call' : '';
    const x = cell(
      text,
      c.width,
      `cell${k === 0 ? ' compare-side' : ''}${fields.includes(c.field) || fields.includes('call') ? ' differs' : ''}`,
    );
    if (side?.message && c.key === 'result') x.title = side.message;
    div.appendChild(x);
  });
}

function draw(): void {
  const h = body.clientHeight;
  const [top, offset] = firstRow();
  const first = Math.max(0, top - 5);
  const last = Math.min(total - 1, top + Math.ceil(h / ROW_H) + 5);
  for (const r of rendered) r.remove();
  rendered = [];
  for (let pos = first; pos <= last; pos++) {
    const row = cache.get(pos);
    if (!row) need(pos);
    const div = el('div', undefined, 'table-row compare-row');
    div.setAttribute('role', 'row');
    div.setAttribute('aria-rowindex', String(pos + 1));
    div.style.top = `${body.scrollTop - offset + (pos - top) * ROW_H}px`;
    div.style.width = `${TABLE_W}px`;
    if (pos === selected) {
      div.classList.add('selected');
      div.setAttribute('aria-selected', 'true');
    }
    if (row) {
      const diverges = row.fields.length > 0;
      div.dataset.index = String(row.index);
      if (diverges) div.classList.add('divergent');
      const mark = cell(diverges ? '≠' : '', LEAD[0]?.width ?? 24, 'cell compare-mark');
      if (diverges) mark.title = 'the two paths decide differently';
      div.append(
        mark,
        cell(String(row.index), LEAD[1]?.width ?? 56),
        cell(String(row.line), LEAD[2]?.width ?? 50),
        cell(row.call, LEAD[3]?.width ?? 150),
        cell(row.device, LEAD[4]?.width ?? 120),
      );
      sideCells(div, row.kernel, row.fields);
      sideCells(div, row.unified, row.fields);
      const why = cell(diverges ? `${row.fields.join(', ')}${row.cause ? ` (${row.cause})` : ''}` : '', TAIL_W, 'cell compare-why');
      if (row.cause && info) why.title = info.causeText[row.cause];
      div.appendChild(why);
    } else div.appendChild(cell('…', LEAD_W));
    div.addEventListener('click', () => {
      body.focus();
      select(pos, true);
    });
    body.appendChild(div);
    rendered.push(div);
  }
}

/** Selects a row; `reveal`: open its scenario line. */
function select(pos: number, reveal: boolean): void {
  if (pos < 0 || pos >= total) return;
  selected = pos;
  save();
  const [first] = firstRow();
  const visible = body.clientHeight / ROW_H;
  if (pos < first || pos + 1 > first + visible) scrollToRow(Math.max(0, pos - visible / 2));
  draw();
  const row = cache.get(pos);
  if (reveal && row && info) api.postMessage({ type: 'compareReveal', session: info.id, index: row.index });
}

function onKey(e: KeyboardEvent): void {
  const visible = Math.max(1, Math.floor(body.clientHeight / ROW_H) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: visible, PageUp: -visible };
  let pos = selected;
  if (e.key in moves) pos += moves[e.key] as number;
  else if (e.key === 'Home') pos = 0;
  else if (e.key === 'End') pos = total - 1;
  else if (e.key === 'Enter') {
    select(selected, true);
    e.preventDefault();
    return;
  } else return;
  e.preventDefault();
  select(Math.max(0, Math.min(total - 1, pos)), false);
}

/** A line instead of the view while there is no comparison (a revived view compares again). */
function note(text: string, cls: string): void {
  const p = el('p', text, cls);
  p.id = 'compare-note';
  root.replaceChildren(p);
}

function onMessage(m: HostMessage): void {
  if (m.type === 'compare') {
    render(m.info);
  } else if (m.type === 'busy' && !info && m.message) note(m.message, 'muted');
  else if (m.type === 'error' && !info) note(m.message, 'error');
  else if (m.type === 'compareRows') {
    if (!info || m.session !== info.id || m.request !== request || m.divergentOnly !== divergentOnly) return;
    if (m.total !== total) setTotal(m.total);
    m.rows.forEach((r, k) => {
      cache.set(m.start + k, r);
    });
    pending.delete(Math.floor(m.start / PAGE));
    draw();
  }
}

api.postMessage({ type: 'ready' });
