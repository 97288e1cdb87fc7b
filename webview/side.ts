/**
 * The side-bar view's bundle (dist/side.js): the current analysis at a glance, the platform and
 * kernel profile pickers, recent inputs and quick actions. Text from inputs goes in as text.
 */

import { formatBytes, pctText } from '../src/model/units';
import type { HostMessage, SideInfo, WebviewCommand } from '../src/protocol/messages';
import { basename, el } from './dom';
import { badge, button, dropdown, registerToolkit } from './toolkit';
import { connect } from './vscode';

registerToolkit();
const root = document.getElementById('root') as HTMLElement;
const api = connect<{ info?: SideInfo }>(onMessage);

const num = (n: number) => n.toLocaleString('en-US');

function command(command: WebviewCommand, arg?: string): void {
  api.postMessage({ type: 'command', command, ...(arg !== undefined ? { arg } : {}) });
}

function render(info: SideInfo): void {
  root.replaceChildren();
  const current = el('section', undefined, 'side-current');
  current.id = 'side-current';
  const c = info.current;
  if (c) {
    const h = el('h2', c.title);
    h.title = c.files.join('\n');
    current.appendChild(h);
    const s = c.summary;
    const badges = el('div', undefined, 'badges');
    // no "not given" badge; a kernel no line of the log names is "assumed"
    badges.append(badge(`kernel ${c.kernel}${c.log?.kernel.assumed ? ' (assumed)' : ''}`));
    if (c.platform && c.platform !== 'not given') badges.append(badge(`platform ${c.platform}`));
    current.appendChild(badges);
    const dl = el('dl', undefined, 'side-summary');
    const add = (k: string, v: string) => dl.append(el('dt', k), el('dd', v));
    add('Maps', num(s.maps));
    add('Bounced', s.maps ? `${num(s.bounced)} (${pctText(s.bounced, s.maps)})` : '0');
    add('Failures', num(s.failed + s.hangs));
    add('Copied', formatBytes(s.bytesCopied));
    if (s.peakSlots !== null && c.pool)
      add('Peak', `${num(s.peakSlots)} of ${num(c.pool.nslabs)} slots (${pctText(s.peakSlots, c.pool.nslabs)})`);
    if (s.check) add('Model check', `${num(s.check.matched)} / ${num(s.check.compared)}`);
    current.appendChild(dl);
    if (s.advice) current.appendChild(el('p', s.advice, 'advice'));
    current.appendChild(button('Open Panel', () => command('swiotlbLens.openPanel'), 'primary'));
  } else {
    current.appendChild(el('p', 'No analysis yet.', 'muted'));
  }
  root.appendChild(current);

  root.appendChild(el('h3', 'Profiles'));
  const profiles = el('div', undefined, 'side-profiles');
  const platform = dropdown(
    'Platform',
    [{ value: 'auto', label: 'Platform: from the input' }, ...info.platforms.map((p) => ({ value: p.id, label: p.title }))],
    info.platform,
    (v) => api.postMessage({ type: 'setProfile', platform: v }),
  );
  platform.id = 'side-platform';
  const kernel = dropdown(
    'Kernel profile',
    [{ value: 'auto', label: 'Kernel: from the input' }, ...info.kernels.map((k) => ({ value: k, label: `Linux ${k}` }))],
    info.kernel,
    (v) => api.postMessage({ type: 'setProfile', kernel: v }),
  );
  kernel.id = 'side-kernel';
  profiles.append(platform, kernel);
  root.appendChild(profiles);

  root.appendChild(el('h3', 'Actions'));
  const actions = el('div', undefined, 'side-actions');
  actions.append(
    button('Analyze File...', () => command('swiotlbLens.analyzeFile')),
    button('Analyze Current File', () => command('swiotlbLens.analyzeCurrentFile')),
    button('Compare xen-swiotlb', () => command('swiotlbLens.compareXen')),
    button('Export Report...', () => command('swiotlbLens.exportReport')),
  );
  root.appendChild(actions);

  root.appendChild(el('h3', 'Recent'));
  if (info.recent.length === 0) root.appendChild(el('p', 'Inputs you analyse appear here.', 'muted'));
  const ul = el('ul', undefined, 'recent');
  ul.id = 'side-recent';
  for (const r of info.recent) {
    const li = el('li');
    const a = el('a', r.label || basename(r.file));
    a.href = '#';
    a.title = r.file;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      command('swiotlbLens.analyzeFile', r.file);
    });
    li.appendChild(a);
    ul.appendChild(li);
  }
  root.appendChild(ul);
}

function onMessage(m: HostMessage): void {
  if (m.type === 'side') {
    api.setState({ info: m.info });
    render(m.info);
  }
}

const saved = api.getState();
if (saved?.info) render(saved.info);
api.postMessage({ type: 'ready' });
