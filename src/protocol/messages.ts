/**
 * The one typed message protocol between the extension host and its webviews (the analysis panel
 * and the side view). Both sides import these types; every message that crosses the boundary is
 * checked with the guards below before it is used (a webview is untrusted input to the host).
 * Large series travel as typed arrays.
 */

import type { ColumnLayout } from '../analysis/columnLayout';
import { type RawRow, type RowNames, SORT_COLUMNS, type SortColumn } from '../analysis/columns';
import type { CompareInfo, CompareRowView } from '../analysis/compareModel';
import type { BouncesView, RangeStats } from '../analysis/panelModel';
import type { TableFilter } from '../analysis/query';
import type { DeviceSummary, Diagnostic, InputKind, PoolInfo } from '../analysis/session';
import type { LogView } from '../analysis/sessionLog';
import type { TimelineColumns } from '../analysis/timeline';
import type { FlagValue, TracksColumns, TracksInfo } from '../analysis/tracks';
import type { SavedView } from '../analysis/viewFile';
import type { RouteKind } from '../inputs/sniff';

export { SORT_COLUMNS, type SortColumn };

/**
 * What to analyse, as the host can redo it after a reload (kept in the panel's state). Only
 * files the user chose end up here; the host checks them again before reading.
 */
export interface AnalysisRequest {
  /** What the router found the files to be (or the kind a command asked for). */
  readonly kind: RouteKind;
  readonly files: readonly string[];
  /** Kernel profile forced by the user ("auto" or absent: from the input). */
  readonly kernel?: string;
  readonly platform?: string;
  /** Scenario: also run the other DMA path and compare. */
  readonly compare?: boolean;
}

/** Everything the panel shows about a session that is not per row. */
export interface SessionInfo {
  /** Increases with every new analysis: replies for an older one are dropped. */
  readonly id: number;
  readonly request: AnalysisRequest | null;
  readonly kind: InputKind;
  readonly title: string;
  readonly files: readonly string[];
  readonly kernel: string;
  readonly platform: string;
  readonly pool: PoolInfo | null;
  readonly hasClock: boolean;
  readonly t0: number;
  readonly t1: number;
  /** Rows the table can list. */
  readonly rows: number;
  /** Rows of the input the table does not list (a log's version, cmdline, CPUs: in the summary). */
  readonly hiddenRows: number;
  /** The names the rows' device, api and file ids stand for (id 0 is "unknown"). */
  readonly names: RowNames;
  readonly deviceStats: readonly DeviceSummary[];
  readonly summary: SummaryView;
  readonly notes: readonly string[];
  /** What a kernel log of the input says: its failures, pool, devices, messages explained, clock. */
  readonly log: LogView | null;
  /** A trace with only swiotlb_bounced events (no maps): what it shows instead of occupancy. */
  readonly bounces: BouncesView | null;
  /** The first problems found in the input (all of them are in the Problems view and the CLI). */
  readonly diagnostics: readonly Diagnostic[];
  readonly diagnosticCount: number;
}

export interface SummaryView {
  readonly maps: number;
  readonly bounced: number;
  readonly direct: number;
  readonly failed: number;
  readonly hangs: number;
  readonly unmaps: number;
  readonly syncs: number;
  readonly bytesCopied: number;
  readonly failuresByCause: Readonly<Record<string, number>>;
  readonly bouncesByReason: Readonly<Record<string, number>>;
  readonly peakSlots: number | null;
  /** Row at which the peak was first reached. */
  readonly peakRow: number | null;
  readonly averageSlots: number | null;
  /** The input had more events than rows: bouncesByReason counts these first rows only. */
  readonly rowsOnly: number | null;
  /** Sizing advice for people, when the input supports one. */
  readonly advice: string | null;
  /** Agreement of the model with placements the kernel was seen to make. */
  readonly check: { readonly compared: number; readonly matched: number; readonly profile: string } | null;
}

/** Commands the side view and the panel may ask the host to run (and nothing else). */
export const WEBVIEW_COMMANDS = [
  'swiotlbLens.openPanel',
  'swiotlbLens.analyzeFile',
  'swiotlbLens.analyzeCurrentFile',
  'swiotlbLens.replayOpsFile',
  'swiotlbLens.analyzeScenario',
  'swiotlbLens.compareXen',
  'swiotlbLens.choosePlatform',
  'swiotlbLens.chooseKernel',
  'swiotlbLens.exportReport',
  'swiotlbLens.reanalyze',
  'swiotlbLens.copyCaptureScript',
  'swiotlbLens.exportView',
  'swiotlbLens.importView',
] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

/** The side view's state. */
export interface SideInfo {
  readonly current: SessionInfo | null;
  readonly platform: string;
  readonly kernel: string;
  readonly platforms: readonly { readonly id: string; readonly title: string }[];
  readonly kernels: readonly string[];
  readonly recent: readonly { readonly file: string; readonly label: string }[];
}

/** The panel's own state, kept by the webview across hide/show and reloads. */
export interface PanelState {
  readonly request: AnalysisRequest | null;
  /** Key of the input the view state belongs to (files + kind). */
  readonly key: string;
  readonly view?: readonly [number, number];
  readonly cursor?: number | null;
  readonly selectedRow?: number;
  readonly filter?: TableFilter;
  readonly sort?: { readonly column: SortColumn; readonly desc: boolean };
  readonly tab?: string;
  readonly chartMode?: 'total' | 'areas';
  readonly yScale?: 'pool' | 'fit';
  readonly colorBy?: 'device' | 'age';
  /** The slot map's zoom: a cell per slot, per segment, or a bar per area. */
  readonly slotZoom?: 'cells' | 'segments' | 'areas';
  /** The table's columns: order, widths, hidden ones. */
  readonly columns?: ColumnLayout;
  /** Tracks pinned to the top of the tracks list ("kind:key", tracks.ts). */
  readonly pinnedTracks?: readonly string[];
  /** Flags the user placed on the timeline (times). */
  readonly flags?: readonly number[];
}

/** An explained log line, as the editor's hover and the panel's pinned view show it. */
export interface PinnedExplanation {
  readonly file: string;
  readonly line: number;
  readonly title: string;
  readonly text: string;
  readonly cause: string | null;
  readonly sizeHelps: boolean | null;
  /** Lines of every message of the same event. */
  readonly eventLines: readonly number[];
}

/** The occupancy chart of an analysis still running: what was read so far (the worker posts it every ~400 ms). */
export interface PartialChart {
  /** Of the input read, 0 ... 1. */
  readonly fraction: number;
  /** Rows read so far. */
  readonly rows: number;
  readonly hasClock: boolean;
  /** Highest occupancy so far (slots). */
  readonly peak: number;
  /** Per-column aggregate from the first row to the last one read (null: no row yet). */
  readonly data: TimelineColumns | null;
}

/** Host -> webview. */
export type HostMessage =
  | {
      readonly type: 'session';
      readonly info: SessionInfo;
      /** The whole input's chart columns at the width the webview had: its first chart waits for no round trip. */
      readonly first?: TimelineColumns;
    }
  /** No analysis yet (a fresh panel): the webview offers the ways to start one. */
  | { readonly type: 'empty'; readonly recent: SideInfo['recent'] }
  /** The chart's columns for the window it asked for (typed arrays, one entry per pixel column). */
  | ({
      readonly type: 'timeline';
      readonly session: number;
      readonly request: number;
      /** Rows of the current search (expression or text) per column, when there is one. */
      readonly hits?: Uint32Array;
    } & TimelineColumns)
  | {
      readonly type: 'count';
      readonly session: number;
      readonly query: number;
      readonly total: number;
      /** The filter expression does not parse (0-based position and length in it): no rows. */
      readonly error?: { readonly message: string; readonly position: number; readonly length: number };
    }
  /** "Export View": the webview answers with exportView. */
  | { readonly type: 'requestView' }
  /** An imported view file for this input: the webview shows it. */
  | { readonly type: 'applyView'; readonly view: SavedView }
  /** The statistics of a time range selected on the chart. */
  | { readonly type: 'rangeStats'; readonly session: number; readonly request: number; readonly stats: RangeStats }
  | {
      readonly type: 'rows';
      readonly session: number;
      readonly request: number;
      readonly query: number;
      readonly start: number;
      /** As stored (ids, bits): the webview prints them with SessionInfo.names (columns.ts). */
      readonly rows: readonly RawRow[];
    }
  | {
      readonly type: 'slotmap';
      readonly session: number;
      readonly request: number;
      readonly row: number;
      readonly time: number;
      /** Owner row of each slot, -1 free. */
      readonly owner: Int32Array;
      /** Device id of each slot's owner, 0 free. */
      readonly device: Uint16Array;
      /** Time each slot's owner was mapped. */
      readonly since: Float64Array;
    }
  /** Where a row is in the current query (-1: filtered out); `select` asks to select it. */
  | {
      readonly type: 'located';
      readonly session: number;
      readonly query: number;
      readonly row: number;
      readonly position: number;
      readonly select: boolean;
      /** From the editor ("Show in Panel"): clear the filters when they hide the row. */
      readonly reveal?: boolean;
    }
  | { readonly type: 'busy'; readonly message: string | null }
  /** An analysis running (its chart fills in) or cancelled (what was shown stays, marked partial). */
  | ({ readonly type: 'partial'; readonly title: string; readonly state: 'running' | 'cancelled' } & PartialChart)
  /** "Explain Selected Log Line": the explanation, pinned in the panel until unpinned. */
  | { readonly type: 'explanation'; readonly explanation: PinnedExplanation }
  /** The kernel and platform the settings (status bar pickers) ask for: the panel offers to re-analyse. */
  | { readonly type: 'profile'; readonly kernel: string; readonly platform: string }
  | { readonly type: 'side'; readonly info: SideInfo }
  /** The tracks of the session, the slice totals and the histograms per device (tracks.ts). */
  | { readonly type: 'trackInfo'; readonly session: number; readonly request: number; readonly info: TracksInfo }
  /** The tracks' columns and the slices for the window the chart shows. */
  | ({ readonly type: 'tracks'; readonly session: number; readonly request: number } & TracksColumns)
  /** The pool's occupancy at each flag. */
  | { readonly type: 'flagValues'; readonly session: number; readonly request: number; readonly flags: readonly FlagValue[] }
  /** The compare view (dist/compare.js): a comparison of xen-swiotlb with dma-direct + the Xen hooks. */
  | { readonly type: 'compare'; readonly info: CompareInfo }
  /** A page of the compare view's rows: all compared calls, or the divergent ones. */
  | {
      readonly type: 'compareRows';
      readonly session: number;
      readonly request: number;
      readonly divergentOnly: boolean;
      readonly start: number;
      readonly total: number;
      readonly rows: readonly CompareRowView[];
    }
  | { readonly type: 'error'; readonly message: string };

/** Webview -> host. */
export type WebviewMessage =
  /** The webview (re)loaded; `width` (px) sizes the first chart's columns sent with the session. */
  | { readonly type: 'ready'; readonly width?: number }
  | {
      readonly type: 'timeline';
      readonly session: number;
      readonly request: number;
      readonly t0: number;
      readonly t1: number;
      readonly columns: number;
    }
  | {
      readonly type: 'query';
      readonly session: number;
      readonly query: number;
      readonly filter: TableFilter;
      readonly sort: { readonly column: SortColumn; readonly desc: boolean };
    }
  | {
      readonly type: 'rows';
      readonly session: number;
      readonly request: number;
      readonly query: number;
      readonly start: number;
      readonly count: number;
    }
  /** The slots after `row`, or at `time` (the state after the last row at or before it). */
  | { readonly type: 'slotmap'; readonly session: number; readonly request: number; readonly row: number; readonly time?: number }
  /** The statistics of the rows between t0 and t1. */
  | { readonly type: 'rangeStats'; readonly session: number; readonly request: number; readonly t0: number; readonly t1: number }
  /** Where is this row in the current query? */
  | { readonly type: 'locate'; readonly session: number; readonly query: number; readonly row: number }
  /** Open the source of a row: its trace line, log line, scenario line or C call site. */
  | { readonly type: 'reveal'; readonly session: number; readonly row: number }
  /** Open the line of one of SessionInfo.log.entries. */
  | { readonly type: 'revealLog'; readonly session: number; readonly entry: number }
  /** Open the place of one of SessionInfo.diagnostics. */
  | { readonly type: 'revealDiagnostic'; readonly session: number; readonly index: number }
  /** The first chart with data was drawn (for the time-to-first-chart figure). */
  /** The first chart of a session drawn, `ms` after the session came; it asked for its columns `askedMs` after (the rest is the round trip and the drawing). */
  | { readonly type: 'drawn'; readonly session: number; readonly ms: number; readonly askedMs: number }
  /** The first chart of a running analysis was drawn (for the first-chart figure), with the rows it shows. */
  | { readonly type: 'partialDrawn'; readonly rows: number }
  /** Frame times measured while the user panned or zoomed (ms per frame). */
  | { readonly type: 'frames'; readonly session: number; readonly frames: readonly number[] }
  | { readonly type: 'export'; readonly session: number; readonly format: 'csv' | 'json' }
  /** The chart as drawn: a PNG data URL or an SVG document, saved where the user picks. */
  | { readonly type: 'exportChart'; readonly session: number; readonly format: 'png' | 'svg'; readonly data: string }
  | { readonly type: 'command'; readonly command: WebviewCommand; readonly arg?: string }
  | { readonly type: 'setProfile'; readonly platform?: string; readonly kernel?: string }
  /** Select the next (or previous) search hit after `row` (-1: after `time`, the cursor). */
  | {
      readonly type: 'nextHit';
      readonly session: number;
      readonly query: number;
      readonly row: number;
      readonly time: number | null;
      readonly backward: boolean;
    }
  /** Text for the clipboard (a table cell). */
  | { readonly type: 'copy'; readonly text: string }
  /** The view to save as a *.swiotlb-view.json file (checked like a view file). */
  | { readonly type: 'exportView'; readonly session: number; readonly view: SavedView }
  /** The tracks of the session (once per session). */
  | { readonly type: 'trackInfo'; readonly session: number; readonly request: number }
  /** The tracks' columns for a window (the one the chart asked for). */
  | {
      readonly type: 'tracks';
      readonly session: number;
      readonly request: number;
      readonly t0: number;
      readonly t1: number;
      readonly columns: number;
    }
  /** The occupancy at flags placed on the timeline. */
  | { readonly type: 'flagValues'; readonly session: number; readonly request: number; readonly times: readonly number[] }
  /** The compare view: rows [start, start+count) of all calls or of the divergent ones. */
  | {
      readonly type: 'compareRows';
      readonly session: number;
      readonly request: number;
      readonly divergentOnly: boolean;
      readonly start: number;
      readonly count: number;
    }
  /** The compare view: open the scenario line of a row. */
  | { readonly type: 'compareReveal'; readonly session: number; readonly index: number };

/** Flags on the timeline, at most. */
export const MAX_FLAGS = 16;

/** Characters of an exported chart, at most (a 4K canvas as PNG is a few MB). */
export const MAX_CHART_EXPORT = 32 * 1024 * 1024;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isInt = (x: unknown, min = 0): x is number => Number.isSafeInteger(x) && (x as number) >= min;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isIntList = (x: unknown) => Array.isArray(x) && x.length <= 65536 && x.every((v) => isInt(v));

/** A table filter as the protocol allows it (also used to check view files). */
export function isTableFilter(x: unknown): x is TableFilter {
  if (!isObject(x)) return false;
  for (const k of Object.keys(x))
    if (!['devices', 'kinds', 'outcomes', 'dirs', 'reasons', 't0', 't1', 'text', 'expr'].includes(k)) return false;
  if (x.devices !== undefined && !isIntList(x.devices)) return false;
  if (x.kinds !== undefined && !isIntList(x.kinds)) return false;
  if (x.outcomes !== undefined && !isIntList(x.outcomes)) return false;
  if (x.dirs !== undefined && !isIntList(x.dirs)) return false;
  if (x.reasons !== undefined && !isInt(x.reasons)) return false;
  if (x.t0 !== undefined && !isNum(x.t0)) return false;
  if (x.t1 !== undefined && !isNum(x.t1)) return false;
  if (x.text !== undefined && (typeof x.text !== 'string' || x.text.length > 1000)) return false;
  if (x.expr !== undefined && (typeof x.expr !== 'string' || x.expr.length > 1000)) return false;
  return true;
}

export function isWebviewMessage(x: unknown): x is WebviewMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'ready':
      return x.width === undefined || isNum(x.width);
    case 'timeline':
      return isInt(x.session) && isInt(x.request) && isNum(x.t0) && isNum(x.t1) && isInt(x.columns, 1) && (x.columns as number) <= 8192;
    case 'query':
      return (
        isInt(x.session) &&
        isInt(x.query) &&
        isTableFilter(x.filter) &&
        isObject(x.sort) &&
        (SORT_COLUMNS as readonly unknown[]).includes(x.sort.column) &&
        typeof x.sort.desc === 'boolean'
      );
    case 'rows':
      return isInt(x.session) && isInt(x.request) && isInt(x.query) && isInt(x.start) && isInt(x.count, 1) && (x.count as number) <= 2000;
    case 'slotmap':
      return (
        isInt(x.session) &&
        isInt(x.request) &&
        Number.isSafeInteger(x.row) &&
        (x.row as number) >= -1 &&
        (x.time === undefined || isNum(x.time))
      );
    case 'locate':
      return isInt(x.session) && isInt(x.query) && isInt(x.row);
    case 'rangeStats':
      return isInt(x.session) && isInt(x.request) && isNum(x.t0) && isNum(x.t1) && (x.t0 as number) <= (x.t1 as number);
    case 'reveal':
      return isInt(x.session) && isInt(x.row);
    case 'revealDiagnostic':
      return isInt(x.session) && isInt(x.index);
    case 'revealLog':
      return isInt(x.session) && isInt(x.entry);
    case 'drawn':
      return isInt(x.session) && isNum(x.ms) && isNum(x.askedMs);
    case 'partialDrawn':
      return isInt(x.rows);
    case 'frames':
      return isInt(x.session) && Array.isArray(x.frames) && x.frames.length <= 10000 && x.frames.every(isNum);
    case 'export':
      return isInt(x.session) && (x.format === 'csv' || x.format === 'json');
    case 'exportChart':
      return (
        isInt(x.session) &&
        typeof x.data === 'string' &&
        x.data.length < MAX_CHART_EXPORT &&
        ((x.format === 'png' && x.data.startsWith('data:image/png;base64,')) || (x.format === 'svg' && x.data.startsWith('<svg ')))
      );
    case 'command':
      return (
        (WEBVIEW_COMMANDS as readonly unknown[]).includes(x.command) &&
        (x.arg === undefined || (typeof x.arg === 'string' && x.arg.length < 4096))
      );
    case 'nextHit':
      return (
        isInt(x.session) &&
        isInt(x.query) &&
        Number.isSafeInteger(x.row) &&
        (x.row as number) >= -1 &&
        (x.time === null || isNum(x.time)) &&
        typeof x.backward === 'boolean'
      );
    case 'copy':
      return typeof x.text === 'string' && x.text.length <= 1 << 20;
    case 'exportView':
      return isInt(x.session) && isObject(x.view);
    case 'setProfile':
      return (
        (x.platform === undefined || (typeof x.platform === 'string' && x.platform.length < 64)) &&
        (x.kernel === undefined || (typeof x.kernel === 'string' && x.kernel.length < 64))
      );
    case 'trackInfo':
      return isInt(x.session) && isInt(x.request);
    case 'tracks':
      return isInt(x.session) && isInt(x.request) && isNum(x.t0) && isNum(x.t1) && isInt(x.columns, 1) && (x.columns as number) <= 8192;
    case 'flagValues':
      return isInt(x.session) && isInt(x.request) && Array.isArray(x.times) && x.times.length <= MAX_FLAGS && x.times.every(isNum);
    case 'compareRows':
      return (
        isInt(x.session) &&
        isInt(x.request) &&
        typeof x.divergentOnly === 'boolean' &&
        isInt(x.start) &&
        isInt(x.count, 1) &&
        (x.count as number) <= 2000
      );
    case 'compareReveal':
      return isInt(x.session) && isInt(x.index);
    default:
      return false;
  }
}

export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'empty':
      return Array.isArray(x.recent);
    case 'session':
      return isObject(x.info) && isInt(x.info.id) && typeof x.info.title === 'string';
    case 'timeline':
      return isInt(x.session) && isInt(x.request) && isInt(x.columns, 1);
    case 'count':
      return isInt(x.session) && isInt(x.query) && isInt(x.total);
    case 'rangeStats':
      return isInt(x.session) && isInt(x.request) && isObject(x.stats);
    case 'rows':
      return isInt(x.session) && isInt(x.request) && isInt(x.start) && Array.isArray(x.rows);
    case 'slotmap':
      return isInt(x.session) && isInt(x.request);
    case 'located':
      return (
        isInt(x.session) &&
        isInt(x.query) &&
        isInt(x.row) &&
        Number.isSafeInteger(x.position) &&
        typeof x.select === 'boolean' &&
        (x.reveal === undefined || typeof x.reveal === 'boolean')
      );
    case 'busy':
      return x.message === null || typeof x.message === 'string';
    case 'partial':
      return (
        typeof x.title === 'string' &&
        (x.state === 'running' || x.state === 'cancelled') &&
        isNum(x.fraction) &&
        isInt(x.rows) &&
        (x.data === null || (isObject(x.data) && isInt(x.data.columns, 1)))
      );
    case 'side':
      return isObject(x.info);
    case 'explanation':
      return isObject(x.explanation) && typeof x.explanation.title === 'string' && typeof x.explanation.text === 'string';
    case 'profile':
      return typeof x.kernel === 'string' && typeof x.platform === 'string';
    case 'compare':
      return isObject(x.info) && isInt(x.info.id) && typeof x.info.title === 'string';
    case 'compareRows':
      return isInt(x.session) && isInt(x.request) && isInt(x.start) && isInt(x.total) && Array.isArray(x.rows);
    case 'error':
      return typeof x.message === 'string';
    case 'requestView':
      return true;
    case 'applyView':
      return isObject(x.view);
    case 'trackInfo':
      return isInt(x.session) && isInt(x.request) && isObject(x.info) && Array.isArray(x.info.tracks);
    case 'tracks':
      return isInt(x.session) && isInt(x.request) && isInt(x.columns, 1);
    case 'flagValues':
      return isInt(x.session) && isInt(x.request) && Array.isArray(x.flags);
    default:
      return false;
  }
}

const REQUEST_KINDS: readonly string[] = ['replay', 'scenario', 'text', 'source'];

/** Checks a request read back from saved webview state (after a reload it is untrusted). */
export function isAnalysisRequest(x: unknown): x is AnalysisRequest {
  if (!isObject(x)) return false;
  if (!REQUEST_KINDS.includes(x.kind as string)) return false;
  if (!Array.isArray(x.files) || x.files.length === 0 || x.files.length > 64) return false;
  if (!x.files.every((f) => typeof f === 'string' && f.length > 0 && f.length < 4096)) return false;
  if (x.kernel !== undefined && (typeof x.kernel !== 'string' || x.kernel.length > 64)) return false;
  if (x.platform !== undefined && (typeof x.platform !== 'string' || x.platform.length > 64)) return false;
  if (x.compare !== undefined && typeof x.compare !== 'boolean') return false;
  return true;
}

/** Key that identifies an input across sessions (the view state follows it). */
export function requestKey(r: AnalysisRequest | null): string {
  return r ? `${r.kind}:${r.files.join('\u0000')}` : '';
}
