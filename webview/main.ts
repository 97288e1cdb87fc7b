/**
 * Webview bundle (dist/webview.js): renders what the host sends. Every string from an input
 * file is set with textContent, never parsed as HTML.
 */
import type { HostMessage } from '../src/protocol/messages';
import type { ReplaySummary } from '../src/replay/summary';
import { badge, button, dataGrid, divider, registerToolkit } from './toolkit';
import { connect } from './vscode';

interface State {
  summary?: ReplaySummary;
}

registerToolkit();
const root = document.getElementById('root') as HTMLElement;
const api = connect<State>(onMessage);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

function bar(label: string, used: number, total: number): HTMLElement {
  const row = el('div', undefined, 'bar-row');
  row.appendChild(el('span', label, 'bar-label'));
  const track = el('div', undefined, 'bar-track');
  const fill = el('div', undefined, 'bar-fill');
  const pct = total ? Math.min(100, (100 * used) / total) : 0;
  fill.style.width = `${pct}%`;
  track.appendChild(fill);
  track.setAttribute('role', 'meter');
  track.setAttribute('aria-valuemin', '0');
  track.setAttribute('aria-valuemax', String(total));
  track.setAttribute('aria-valuenow', String(used));
  track.setAttribute('aria-label', label);
  row.appendChild(track);
  row.appendChild(el('span', `${used} / ${total} slots (${pct.toFixed(1)} %)`, 'bar-value'));
  return row;
}

function renderSummary(s: ReplaySummary): void {
  root.replaceChildren();
  const h = el('h1', `Replay: ${basename(s.file)}`);
  h.id = 'title';
  h.title = s.file;
  root.appendChild(h);
  const badges = el('div', undefined, 'badges');
  badges.append(
    badge(`kernel ${s.kernel.name}`),
    badge(`${s.pool.nslabs} slots`),
    badge(`${s.pool.nareas} area${s.pool.nareas === 1 ? '' : 's'}`),
    badge(`${s.maps.attempted} maps`),
    badge(`${s.maps.failed} failed`),
  );
  root.appendChild(badges);
  root.appendChild(el('p', `${s.kernel.title}. Pool at ${s.pool.base}, ${s.pool.area_nslabs} slots per area.`, 'muted'));
  if (s.kernel.note) root.appendChild(el('p', s.kernel.note, 'muted'));

  root.appendChild(divider());
  root.appendChild(el('h2', 'Occupancy'));
  const occ = el('div', undefined, 'bars');
  occ.id = 'occupancy';
  occ.appendChild(bar('peak (whole pool)', s.occupancy.peak_slots, s.pool.nslabs));
  if (s.pool.nareas > 1) {
    s.occupancy.peak_area_slots.forEach((v, i) => {
      occ.appendChild(bar(`peak area ${i}`, v, s.pool.area_nslabs));
    });
  }
  root.appendChild(occ);

  const failures = Object.entries(s.failures);
  root.appendChild(el('h2', 'Failures'));
  if (failures.length === 0) {
    root.appendChild(el('p', 'No request failed.', 'muted'));
  } else {
    root.appendChild(el('p', failures.map(([k, v]) => `${k}: ${v}`).join(', ')));
    const grid = dataGrid(
      [
        { title: 'Line', value: (f) => String(f.line), width: '80px' },
        { title: 'Cause', value: (f) => f.reason, width: '100px' },
        { title: 'What the kernel says', value: (f) => f.message },
      ],
      s.failure_messages,
      (f) => api.postMessage({ type: 'revealLine', file: s.file, line: f.line }),
    );
    grid.id = 'failures';
    root.appendChild(grid);
  }

  if (s.devices.length) {
    root.appendChild(el('h2', 'Devices'));
    const grid = dataGrid(
      [
        { title: 'Device', value: (d) => d.name },
        { title: 'Maps', value: (d) => String(d.maps), width: '80px' },
        { title: 'Failed', value: (d) => String(d.failed), width: '80px' },
        { title: 'min_align_mask', value: (d) => d.min_align_mask, width: '130px' },
        { title: 'Peak live slots', value: (d) => String(d.peak_live_slots), width: '130px' },
      ],
      s.devices,
    );
    grid.id = 'devices';
    root.appendChild(grid);
  }

  if (s.check) {
    root.appendChild(el('h2', 'Model check'));
    const c = s.check;
    const p = el(
      'p',
      c.compared === 0
        ? 'The file carries no kernel answers to compare with.'
        : `${c.matched} of ${c.compared} placements as the kernel chose them; ${c.mismatches} mismatches, ${c.races} races.`,
    );
    p.id = 'agreement';
    root.appendChild(p);
  }
  root.appendChild(divider());
  root.appendChild(button('Open the ops file', () => api.postMessage({ type: 'revealLine', file: s.file, line: 1 })));
}

function onMessage(m: HostMessage): void {
  if (m.type === 'replaySummary') {
    api.setState({ summary: m.summary });
    renderSummary(m.summary);
  } else {
    root.replaceChildren(el('p', m.message, 'error'));
  }
}

const saved = api.getState();
if (saved?.summary) renderSummary(saved.summary);
api.postMessage({ type: 'ready' });
