/**
 * The one typed message protocol between the extension host and its webviews. Both sides
 * import these types; every message that crosses the boundary is checked with the guards below
 * before it is used (a webview is untrusted input to the host, and the other way round).
 */
import type { ReplaySummary } from '../replay/summary';

/** Host -> webview. */
export type HostMessage =
  | { readonly type: 'replaySummary'; readonly summary: ReplaySummary }
  | { readonly type: 'error'; readonly message: string };

/** Webview -> host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  /** Open `file` in an editor at a 1-based line (a failure's op line, a trace line, a call site). */
  | { readonly type: 'revealLine'; readonly file: string; readonly line: number };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isWebviewMessage(x: unknown): x is WebviewMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'revealLine':
      return typeof x.file === 'string' && x.file.length > 0 && Number.isSafeInteger(x.line) && (x.line as number) >= 1;
    default:
      return false;
  }
}

export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'replaySummary':
      return isObject(x.summary) && typeof x.summary.file === 'string' && isObject(x.summary.pool);
    case 'error':
      return typeof x.message === 'string';
    default:
      return false;
  }
}
