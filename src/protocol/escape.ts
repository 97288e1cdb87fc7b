/** Escapes text for an HTML context (the host's HTML shell; webviews use textContent instead). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Control characters that text from an input could smuggle into a terminal or an output channel:
 * C0 except tab and newline (ESC starts ANSI sequences, CR overwrites a line), DEL, and C1 (U+009B
 * is a one-character CSI for terminals that honour 8-bit controls).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/**
 * Shows control characters as escapes: C0 as `\x1b`, DEL and C1 as `\u007f`, `\u009b` (the
 * form JSON uses, so escaped JSON stays valid; JSON.stringify already escapes C0). Tab and
 * newline are kept.
 */
export function escapeControls(s: string): string {
  if (!CONTROL.test(s)) return s;
  return s.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Text for a message: at most `max` characters, with the length (of the whole, when `text` is its start) said when cut. */
export function shortText(text: string, max = 60, length = text.length): string {
  return length > max ? `${text.slice(0, max - 3)}... (${length} characters)` : text;
}
