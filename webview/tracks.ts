/**
 * The panel's tracks, under the occupancy chart and on its time axis: counter tracks of the slots
 * in use per area, per device and per CPU (each pinnable: pinned tracks stay at the top), a lane
 * of instant events (failures, log messages, markers), the lifetimes of mappings as slices from
 * map to unmap in one lane per device, histograms of their sizes and lifetimes, and flags with
 * the measured time and occupancy between them. The host aggregates per pixel column (tracks.ts)
 * for the window the chart asks for, so the tracks follow its zoom and pan. Input strings (device
 * names) go in as text: textContent, SVG text nodes, canvas fillText.
 */
import { formatTime } from '../src/analysis/columns';
import type { TrackDef, TracksColumns, TracksInfo } from '../src/analysis/tracks';
import { formatBytes } from '../src/model/units';
import { type HostMessage, MAX_FLAGS, type SessionInfo, type WebviewMessage } from '../src/protocol/messages';
import { PAD } from './chart';
import { asFloat64, asInt32, asUint16, asUint32, el } from './dom';
import { areaColor } from './slotmapLayout';
import type { Theme } from './theme';
import { button } from './toolkit';

const num = (n: number) => n.toLocaleString('en-US');
const SVG = 'http://www.w3.org/2000/svg';
const TRACK_H = 30;
const LANE_H = 18;
/** Sub-rows of a device's slice lane, at most (overlapping beyond: drawn on the last). */
const MAX_DEPTH = 6;
const SUB_H = 7;
const INSTANT_NAMES = ['failure', 'log message', 'marker'] as const;

/** A time span as the panel says it: the range's Δ, the flags' Δ. */
export function deltaText(span: number, hasClock: boolean): string {
  return hasClock ? formatTime(span, true, span) : `${num(Math.round(span))} counter ticks`;
}

/** A track's key in the saved state: it names the same track in the next analysis of the input. */
export const trackKey = (d: TrackDef) => `${d.kind}:${d.key}`;

export interface TracksCallbacks {
  post(m: WebviewMessage): void;
  nextRequest(): number;
  /** Select a row (an instant event, the map of a slice). */
  locate(row: number): void;
  /** Pinned tracks or flags changed (for the saved state). */
  save(s: { pinnedTracks?: readonly string[]; flags?: readonly number[] }): void;
  /** The flags changed: the chart draws them too. */
  flagsChanged(flags: readonly number[]): void;
  deviceColor(id: number): string;
}

export class TracksView {
  readonly root: HTMLElement;
  private theme: Theme;
  private tracks: TracksInfo | null = null;
  private data: TracksColumns | null = null;
  private pending: [number, number, number] | null = null;
  private infoRequest = 0;
  private dataRequest = 0;
  private flagRequest = 0;
  private pinned: string[];
  private flags: number[];
  private cursor: number | null = null;
  private readonly list: HTMLElement;
  private readonly instants: HTMLCanvasElement;
  private readonly slices: HTMLCanvasElement;
  private readonly slicesNote: HTMLElement;
  private readonly histograms: HTMLElement;
  private readonly flagBox: HTMLElement;
  private readonly readout: HTMLElement;
  private canvases = new Map<number, HTMLCanvasElement>();
  /** Where each slice was drawn (for clicks). */
  private sliceHits: { x0: number; x1: number; y0: number; y1: number; row: number }[] = [];

  constructor(
    private readonly info: SessionInfo,
    theme: Theme,
    private readonly cb: TracksCallbacks,
    saved: { pinnedTracks?: readonly string[]; flags?: readonly number[] },
  ) {
    this.theme = theme;
    this.pinned = [...(saved.pinnedTracks ?? [])];
    this.flags = [...(saved.flags ?? [])].slice(0, MAX_FLAGS);
    const root = el('section', undefined, 'tracks-section');
    root.id = 'tracks-section';
    this.root = root;
    const bar = el('div', undefined, 'toolbar');
    const add = button('Flag at cursor', () => this.addFlag(), 'secondary', 'Place a flag at the cursor (or alt+click the chart)');
    add.id = 'flag-add';
    const clear = button('Clear flags', () => this.setFlags([]), 'secondary', 'Remove every flag');
    clear.id = 'flags-clear';
    bar.append(el('h2', 'Tracks'), el('span', 'Pin a track to keep it at the top. Same time axis as the chart.', 'muted'), add, clear);
    this.flagBox = el('div', undefined, 'flags');
    this.flagBox.id = 'flags';
    this.readout = el('div', '', 'readout');
    this.readout.id = 'tracks-readout';
    const lane = el('div', undefined, 'track instant-track');
    lane.id = 'instant-lane';
    lane.append(el('div', 'Events: failures, log messages, markers (click to select)', 'track-head'));
    this.instants = el('canvas', undefined, 'track-canvas');
    this.instants.id = 'instants';
    this.instants.style.height = `${LANE_H}px`;
    lane.appendChild(this.instants);
    this.list = el('div', undefined, 'track-list');
    this.list.id = 'track-list';
    // until the host's trackInfo: built in the analysis worker, or on the host on first use
    const building = el('p', 'Tracks are being built…', 'muted');
    building.id = 'tracks-building';
    this.list.appendChild(building);
    const sliceBox = el('section', undefined, 'slices-section');
    sliceBox.id = 'slices-section';
    this.slicesNote = el('p', '', 'muted');
    this.slicesNote.id = 'slices-note';
    this.slices = el('canvas', undefined, 'track-canvas slices');
    this.slices.id = 'slices';
    this.histograms = el('div', undefined, 'histograms');
    this.histograms.id = 'histograms';
    sliceBox.append(el('h3', 'Mapping lifetimes: map → unmap, one lane per device'), this.slicesNote, this.slices, this.histograms);
    root.append(bar, this.flagBox, lane, this.list, this.readout, sliceBox);
    this.instants.addEventListener('click', (e) => this.clickInstant(e));
    this.slices.addEventListener('click', (e) => this.clickSlice(e));
    for (const c of [this.instants, this.slices]) c.addEventListener('mousemove', (e) => this.hover(e, c));
    new ResizeObserver(() => this.drawAll()).observe(root);
    this.infoRequest = cb.nextRequest();
    cb.post({ type: 'trackInfo', session: info.id, request: this.infoRequest });
    if (this.flags.length) this.requestFlags();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.drawAll();
  }

  /** The chart asked for the columns of a window: the tracks ask for the same one. */
  request(t0: number, t1: number, columns: number): void {
    this.pending = [t0, t1, columns];
    if (!this.tracks) return;
    this.dataRequest = this.cb.nextRequest();
    this.cb.post({ type: 'tracks', session: this.info.id, request: this.dataRequest, t0, t1, columns });
  }

  setCursor(time: number | null): void {
    this.cursor = time;
    this.drawAll();
  }

  get flagTimes(): readonly number[] {
    return this.flags;
  }

  onMessage(m: HostMessage): boolean {
    switch (m.type) {
      case 'trackInfo':
        if (m.request !== this.infoRequest) return true;
        this.tracks = m.info;
        this.renderList();
        this.renderHistograms();
        if (this.pending) this.request(...this.pending);
        return true;
      case 'tracks':
        if (m.request !== this.dataRequest) return true;
        this.data = {
          ...m,
          max: asInt32(m.max),
          last: asInt32(m.last),
          instants: asUint32(m.instants),
          instantRows: asInt32(m.instantRows),
          sliceRows: asInt32(m.sliceRows),
          sliceStart: asFloat64(m.sliceStart),
          sliceEnd: asFloat64(m.sliceEnd),
          sliceDevice: asUint16(m.sliceDevice),
          sliceOpen: asUint8(m.sliceOpen),
        };
        this.root.dataset.window = `${m.t0} ${m.t1}`;
        this.drawAll();
        return true;
      case 'flagValues':
        if (m.request === this.flagRequest) this.renderFlags(m.flags);
        return true;
      default:
        return false;
    }
  }

  /** A flag at a time (the cursor when none is given). */
  addFlag(time: number | null = this.cursor): void {
    if (time === null || this.flags.length >= MAX_FLAGS) return;
    this.setFlags([...this.flags, time]);
  }

  private setFlags(flags: number[]): void {
    this.flags = flags;
    this.cb.save({ flags });
    this.cb.flagsChanged(flags);
    this.requestFlags();
    this.drawAll();
  }

  private requestFlags(): void {
    if (!this.flags.length) {
      this.flagBox.replaceChildren();
      this.flagBox.dataset.flags = '0';
      return;
    }
    this.flagRequest = this.cb.nextRequest();
    this.cb.post({ type: 'flagValues', session: this.info.id, request: this.flagRequest, times: this.flags });
  }

  /** Each flag with the pool's occupancy there, and the Δ between flags next to each other in time. */
  private renderFlags(values: readonly { time: number; row: number; used: number }[]): void {
    const box = this.flagBox;
    box.replaceChildren();
    box.dataset.flags = String(values.length);
    const info = this.info;
    const span = info.t1 - info.t0;
    const named = values.map((v, i) => ({ ...v, name: `F${i + 1}`, index: i }));
    const list = el('ul', undefined, 'flag-list');
    for (const f of named) {
      const li = el('li');
      li.dataset.flag = f.name;
      li.append(
        el('strong', f.name),
        document.createTextNode(` at ${formatTime(f.time, info.hasClock, span)}: ${num(f.used)} slots in use `),
      );
      const rm = button('×', () => this.setFlags(this.flags.filter((_, k) => k !== f.index)), 'icon', `Remove flag ${f.name}`);
      li.appendChild(rm);
      list.appendChild(li);
    }
    box.appendChild(list);
    const byTime = [...named].sort((a, b) => a.time - b.time || a.index - b.index);
    for (let k = 1; k < byTime.length; k++) {
      const a = byTime[k - 1] as (typeof named)[number];
      const b = byTime[k] as (typeof named)[number];
      const d = b.used - a.used;
      const p = el(
        'p',
        `${a.name} → ${b.name}: Δ ${deltaText(b.time - a.time, info.hasClock)} · occupancy ${d > 0 ? '+' : d < 0 ? '−' : '±'}${num(Math.abs(d))} slots (${num(a.used)} → ${num(b.used)})`,
        'flag-delta',
      );
      p.dataset.dt = String(b.time - a.time);
      p.dataset.dslots = String(d);
      box.appendChild(p);
    }
  }

  /** The counter tracks, pinned ones first (in the order they were pinned). */
  private renderList(): void {
    const t = this.tracks;
    if (!t) return;
    this.list.replaceChildren();
    this.canvases.clear();
    const pinned = this.pinned.map((k) => t.tracks.find((d) => trackKey(d) === k)).filter((d): d is TrackDef => !!d);
    const rest = t.tracks.filter((d) => !this.pinned.includes(trackKey(d)));
    const kindName = { area: 'area', device: 'device', cpu: 'CPU' } as const;
    for (const d of [...pinned, ...rest]) {
      const isPinned = this.pinned.includes(trackKey(d));
      const row = el('div', undefined, `track${isPinned ? ' track-pinned' : ''}`);
      row.dataset.track = trackKey(d);
      row.dataset.kind = d.kind;
      row.dataset.pinned = String(isPinned);
      row.dataset.peak = String(d.peak);
      const head = el('div', undefined, 'track-head');
      const pin = button(isPinned ? 'Unpin' : 'Pin', () => this.togglePin(d), 'secondary', `${isPinned ? 'Unpin' : 'Pin'} this track`);
      pin.classList.add('pin');
      const label = el('span', d.label, 'track-label');
      head.append(pin, label, el('span', ` ${kindName[d.kind]} · slots in use, peak ${num(d.peak)}`, 'muted'));
      const c = el('canvas', undefined, 'track-canvas');
      c.style.height = `${TRACK_H}px`;
      c.addEventListener('mousemove', (e) => this.hover(e, c, d));
      row.append(head, c);
      this.canvases.set(d.id, c);
      this.list.appendChild(row);
    }
    if (t.omitted) this.list.appendChild(el('p', `${num(t.omitted)} more tracks (the quietest devices and CPUs) not shown.`, 'muted'));
    this.list.dataset.tracks = String(t.tracks.length);
    this.drawAll();
  }

  private togglePin(d: TrackDef): void {
    const k = trackKey(d);
    this.pinned = this.pinned.includes(k) ? this.pinned.filter((x) => x !== k) : [...this.pinned, k];
    this.cb.save({ pinnedTracks: this.pinned });
    this.renderList();
  }

  /** Per device: bars of sizes and of lifetimes, as SVG. */
  private renderHistograms(): void {
    const t = this.tracks;
    const box = this.histograms;
    box.replaceChildren();
    if (!t) return;
    const hasClock = this.info.hasClock;
    const sizeLabel = (up: number, prev: number) => (up < 0 ? `> ${formatBytes(prev)}` : `≤ ${formatBytes(up)}`);
    const lifeLabel = (up: number, prev: number) =>
      up < 0 ? `> ${hasClock ? formatTime(prev, true, prev) : num(prev)}` : `≤ ${hasClock ? formatTime(up, true, up) : num(up)}`;
    this.slicesNote.textContent = `${num(t.slices)} mappings${t.openSlices ? `, ${num(t.openSlices)} never unmapped in the input (drawn to its end, outlined)` : ''}. Click a slice to select its map.`;
    for (const d of t.devices.slice(0, 16)) {
      const h = el('div', undefined, 'histogram');
      h.dataset.device = d.name;
      h.dataset.maps = String(d.maps);
      h.dataset.open = String(d.open);
      const title = el('h4', d.name);
      title.prepend(swatch(this.cb.deviceColor(d.id)));
      h.append(
        title,
        el('p', `${num(d.maps)} mappings${d.open ? `, ${num(d.open)} never unmapped` : ''}`, 'muted'),
        barChart('Sizes', t.sizeBins, d.sizes, sizeLabel, this.cb.deviceColor(d.id), this.theme),
        barChart(
          hasClock ? 'Lifetimes' : 'Lifetimes (events)',
          t.lifetimeBins,
          d.lifetimes,
          lifeLabel,
          this.cb.deviceColor(d.id),
          this.theme,
        ),
      );
      box.appendChild(h);
    }
    if (t.devices.length > 16) box.appendChild(el('p', `${num(t.devices.length - 16)} more devices.`, 'muted'));
  }

  // ------------------------------------------------------------ drawing

  private drawAll(): void {
    const t = this.tracks;
    if (!t) return;
    for (const d of t.tracks) {
      const c = this.canvases.get(d.id);
      if (c) this.drawTrack(c, d);
    }
    this.drawInstants();
    this.drawSlices();
  }

  /** A canvas sized for its CSS box, its context and the plot's geometry (the chart's paddings). */
  private prepare(c: HTMLCanvasElement, height?: number): { ctx: CanvasRenderingContext2D; w: number; h: number; pw: number } | null {
    if (height !== undefined) c.style.height = `${height}px`;
    const w = c.clientWidth;
    const h = height ?? c.clientHeight;
    if (!w || !h) return null;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext('2d');
    if (!ctx) return null;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = '10px var(--vscode-font-family, sans-serif)';
    return { ctx, w, h, pw: Math.max(1, w - PAD.left - PAD.right) };
  }

  private xOf(t: number, pw: number): number {
    const d = this.data;
    const t0 = d?.t0 ?? this.info.t0;
    const t1 = d && d.t1 > d.t0 ? d.t1 : t0 + 1;
    return PAD.left + ((t - t0) / (t1 - t0)) * pw;
  }

  /** The cursor and the flags across a track. */
  private marks(ctx: CanvasRenderingContext2D, h: number, pw: number): void {
    const th = this.theme;
    ctx.lineWidth = 1;
    this.flags.forEach((f, i) => {
      const x = Math.round(this.xOf(f, pw)) + 0.5;
      if (x < PAD.left || x > PAD.left + pw) return;
      ctx.strokeStyle = th.hiwater;
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = th.hiwater;
      ctx.fillText(`F${i + 1}`, x + 2, 9);
    });
    if (this.cursor !== null) {
      const x = Math.round(this.xOf(this.cursor, pw)) + 0.5;
      if (x >= PAD.left && x <= PAD.left + pw) {
        ctx.strokeStyle = th.cursor;
        ctx.beginPath();
        ctx.moveTo(x, 0);
        ctx.lineTo(x, h);
        ctx.stroke();
      }
    }
  }

  private drawTrack(c: HTMLCanvasElement, def: TrackDef): void {
    const g = this.prepare(c);
    const d = this.data;
    if (!g) return;
    const { ctx, h, pw } = g;
    const th = this.theme;
    ctx.strokeStyle = th.grid;
    ctx.strokeRect(PAD.left + 0.5, 0.5, pw, h - 1);
    ctx.fillStyle = th.muted;
    ctx.fillText(num(def.peak), 4, 10);
    ctx.fillText('0', 4, h - 2);
    if (!d) return;
    const colour = def.kind === 'device' ? this.cb.deviceColor(def.key) : def.kind === 'area' ? areaColor(th.palette, def.key) : th.band;
    const ymax = Math.max(1, def.peak);
    const colW = pw / d.columns;
    const base = def.id * d.columns;
    let busy = 0;
    ctx.fillStyle = colour;
    for (let col = 0; col < d.columns; col++) {
      const v = d.max[base + col] as number;
      if (v <= 0) continue;
      busy++;
      const bh = Math.max(1, (v / ymax) * (h - 4));
      ctx.fillRect(PAD.left + col * colW, h - 1 - bh, Math.max(colW, 1), bh);
    }
    c.dataset.columns = String(busy);
    this.marks(ctx, h, pw);
  }

  private drawInstants(): void {
    const g = this.prepare(this.instants, LANE_H);
    const d = this.data;
    if (!g) return;
    const { ctx, h, pw } = g;
    const th = this.theme;
    ctx.strokeStyle = th.grid;
    ctx.strokeRect(PAD.left + 0.5, 0.5, pw, h - 1);
    if (!d) return;
    const colours = [th.failures[0] as string, th.accent, th.hiwater];
    const colW = pw / d.columns;
    const counts = [0, 0, 0];
    for (let cls = 0; cls < 3; cls++) {
      ctx.fillStyle = colours[cls] as string;
      for (let col = 0; col < d.columns; col++) {
        const n = d.instants[cls * d.columns + col] as number;
        if (!n) continue;
        counts[cls] = (counts[cls] as number) + n;
        const x = PAD.left + (col + 0.5) * colW;
        // failures on the top row, log messages in the middle, markers at the bottom
        const y = 2 + cls * 5;
        ctx.fillRect(x - 1.5, y, 3, 4);
      }
    }
    this.instants.dataset.failures = String(counts[0]);
    this.instants.dataset.logs = String(counts[1]);
    this.instants.dataset.markers = String(counts[2]);
    this.marks(ctx, h, pw);
  }

  private drawSlices(): void {
    const t = this.tracks;
    const d = this.data;
    const devices = (t?.devices ?? []).slice(0, 16);
    // lanes: each device's slices packed into sub-rows where they do not overlap on screen
    const laneOf = new Map<number, number>(devices.map((x, i) => [x.id, i]));
    const packed: { x0: number; x1: number; lane: number; sub: number; row: number; open: boolean; dev: number }[] = [];
    const ends: number[][] = devices.map(() => []);
    const pw = Math.max(1, this.slices.clientWidth - PAD.left - PAD.right);
    if (d) {
      for (let k = 0; k < d.sliceRows.length; k++) {
        const lane = laneOf.get(d.sliceDevice[k] as number);
        if (lane === undefined) continue;
        const x0 = Math.max(PAD.left, this.xOf(d.sliceStart[k] as number, pw));
        const x1 = Math.min(PAD.left + pw, Math.max(x0 + 1, this.xOf(d.sliceEnd[k] as number, pw)));
        const subs = ends[lane] as number[];
        let sub = subs.findIndex((e) => e <= x0);
        if (sub < 0) sub = subs.length < MAX_DEPTH ? subs.length : MAX_DEPTH - 1;
        subs[sub] = Math.max(subs[sub] ?? 0, x1 + 0.5);
        packed.push({ x0, x1, lane, sub, row: d.sliceRows[k] as number, open: !!d.sliceOpen[k], dev: d.sliceDevice[k] as number });
      }
    }
    const laneH = ends.map((s) => Math.max(1, s.length) * SUB_H + 14);
    const tops: number[] = [];
    let y = 0;
    for (const hgt of laneH) {
      tops.push(y);
      y += hgt;
    }
    const g = this.prepare(this.slices, Math.max(LANE_H, y));
    if (!g) return;
    const { ctx, h } = g;
    const th = this.theme;
    this.sliceHits = [];
    devices.forEach((dev, i) => {
      const top = tops[i] as number;
      ctx.fillStyle = th.muted;
      ctx.fillText(dev.name, PAD.left + 2, top + 10);
      ctx.strokeStyle = th.grid;
      ctx.beginPath();
      ctx.moveTo(PAD.left, top + (laneH[i] as number) - 0.5);
      ctx.lineTo(PAD.left + pw, top + (laneH[i] as number) - 0.5);
      ctx.stroke();
    });
    for (const s of packed) {
      const y0 = (tops[s.lane] as number) + 12 + s.sub * SUB_H;
      ctx.fillStyle = this.cb.deviceColor(s.dev);
      ctx.globalAlpha = s.open ? 0.45 : 0.85;
      ctx.fillRect(s.x0, y0, s.x1 - s.x0, SUB_H - 1);
      ctx.globalAlpha = 1;
      if (s.open) {
        ctx.strokeStyle = th.foreground;
        ctx.strokeRect(s.x0 + 0.5, y0 + 0.5, Math.max(1, s.x1 - s.x0 - 1), SUB_H - 2);
      }
      this.sliceHits.push({ x0: s.x0, x1: s.x1, y0, y1: y0 + SUB_H, row: s.row });
    }
    this.slices.dataset.slices = String(packed.length);
    this.slices.dataset.inView = String(d?.slicesInView ?? 0);
    const shown = d ? d.sliceRows.length : 0;
    if (d && d.slicesInView > shown)
      this.slicesNote.dataset.window = `${num(d.slicesInView)} in view: the ${num(shown)} longest drawn, zoom in for the rest`;
    else delete this.slicesNote.dataset.window;
    this.slicesNote.title = this.slicesNote.dataset.window ?? '';
    this.marks(ctx, h, pw);
  }

  // ------------------------------------------------------------ pointer

  private hover(e: MouseEvent, c: HTMLCanvasElement, def?: TrackDef): void {
    const d = this.data;
    if (!d) return;
    const rect = c.getBoundingClientRect();
    const pw = Math.max(1, c.clientWidth - PAD.left - PAD.right);
    const col = Math.floor(((e.clientX - rect.left - PAD.left) / pw) * d.columns);
    if (col < 0 || col >= d.columns) return;
    const span = d.t1 - d.t0;
    const time = formatTime(d.t0 + ((col + 0.5) / d.columns) * span, this.info.hasClock, span);
    if (def) {
      this.readout.textContent = `${def.label} at ${time}: up to ${num(d.max[def.id * d.columns + col] as number)} slots, ${num(d.last[def.id * d.columns + col] as number)} at the end of the column`;
      return;
    }
    if (c === this.instants) {
      const parts = INSTANT_NAMES.map((n, k) => [n, d.instants[k * d.columns + col] as number] as const)
        .filter(([, v]) => v > 0)
        .map(([n, v]) => `${num(v)} ${n}${v === 1 ? '' : 's'}`);
      this.readout.textContent = `${time}: ${parts.length ? parts.join(', ') : 'no events'}`;
      return;
    }
    const hit = this.sliceAt(e);
    if (hit >= 0) {
      const k = [...d.sliceRows].indexOf(hit);
      const life = (d.sliceEnd[k] as number) - (d.sliceStart[k] as number);
      this.readout.textContent = `Map at row ${num(hit)}: ${d.sliceOpen[k] ? 'not unmapped by the end of the input' : `unmapped after ${deltaText(life, this.info.hasClock)}`}`;
    }
  }

  private sliceAt(e: MouseEvent): number {
    const rect = this.slices.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    for (let i = this.sliceHits.length - 1; i >= 0; i--) {
      const s = this.sliceHits[i] as (typeof this.sliceHits)[number];
      if (x >= s.x0 - 1 && x <= s.x1 + 1 && y >= s.y0 && y <= s.y1) return s.row;
    }
    return -1;
  }

  private clickSlice(e: MouseEvent): void {
    const row = this.sliceAt(e);
    if (row >= 0) this.cb.locate(row);
  }

  private clickInstant(e: MouseEvent): void {
    const d = this.data;
    if (!d) return;
    const rect = this.instants.getBoundingClientRect();
    const pw = Math.max(1, this.instants.clientWidth - PAD.left - PAD.right);
    const at = Math.floor(((e.clientX - rect.left - PAD.left) / pw) * d.columns);
    // the nearest column with an event, within 3 pixels
    for (let dx = 0; dx <= 3; dx++)
      for (const col of [at - dx, at + dx]) {
        if (col < 0 || col >= d.columns) continue;
        for (let cls = 0; cls < 3; cls++) {
          const row = d.instantRows[cls * d.columns + col] as number;
          if (row >= 0) {
            this.cb.locate(row);
            return;
          }
        }
      }
  }
}

/** Bytes arrive as a Uint8Array (or the plain form some hosts send). */
function asUint8(x: unknown): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  return Uint8Array.from(Object.values(x as Record<string, number>));
}

function swatch(color: string): HTMLElement {
  const s = el('span', undefined, 'swatch');
  s.style.background = color;
  return s;
}

/** A small bar chart as SVG: a bar per bin with its count, the bins' labels under it. */
function barChart(
  title: string,
  bins: readonly number[],
  counts: readonly number[],
  label: (up: number, prev: number) => string,
  colour: string,
  th: Theme,
): HTMLElement {
  const box = el('figure', undefined, 'bars');
  box.dataset.kind = title.startsWith('Sizes') ? 'sizes' : 'lifetimes';
  box.dataset.counts = counts.join(',');
  // room on the left for the first label, turned like the others
  const left = 22;
  const w = left + 24 * bins.length + 8;
  const h = 116;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${counts.join(', ')}`);
  const top = Math.max(1, ...counts);
  const text = (x: number, y: number, s: string, anchor = 'middle', rotate = false) => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.setAttribute('text-anchor', anchor);
    t.setAttribute('font-size', '9');
    t.setAttribute('fill', th.muted);
    if (rotate) t.setAttribute('transform', `rotate(-40 ${x} ${y})`);
    t.textContent = s;
    svg.appendChild(t);
  };
  const plotH = 52;
  counts.forEach((n, i) => {
    const x = left + i * 24;
    const binLabel = label(bins[i] as number, i > 0 ? (bins[i - 1] as number) : 0);
    const bh = n ? Math.max(1, (n / top) * plotH) : 0;
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', String(x + 2));
    r.setAttribute('y', String(12 + plotH - bh));
    r.setAttribute('width', '20');
    r.setAttribute('height', String(bh));
    r.setAttribute('fill', colour);
    const tip = document.createElementNS(SVG, 'title');
    tip.textContent = `${binLabel}: ${n}`;
    r.appendChild(tip);
    svg.appendChild(r);
    if (n) text(x + 12, 10 + plotH - bh, num(n));
    text(x + 16, 12 + plotH + 10, binLabel, 'end', true);
  });
  const cap = el('figcaption', title);
  box.append(cap, svg as unknown as HTMLElement);
  return box;
}
