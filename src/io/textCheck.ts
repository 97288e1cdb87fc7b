/**
 * Is the beginning of a file text a person or the kernel wrote, or binary data? Only text is read
 * as a kernel log: random or binary input is refused with the reason instead of being shown as a
 * log with nothing in it. Pure; the input router calls it on a file's (decompressed) head.
 *
 * Text may carry a little damage (a syslog's run of NUL bytes after an unclean shutdown, Latin-1
 * accents, ANSI colour codes of `dmesg --color`), so the test is by density, not by the first odd
 * byte: scattered NUL and control bytes above 1 % of the head, or bytes that are not UTF-8 above
 * 10 %, make it binary.
 */

export type TextVerdict = { readonly text: true } | { readonly text: false; readonly reason: string };

/** Binary formats people give us by mistake (or that another reader handles): the name for the message. */
const MAGIC: readonly { readonly name: string; readonly bytes: readonly number[]; readonly at?: number }[] = [
  { name: 'a perf.data file (run `perf script` on it)', bytes: [0x50, 0x45, 0x52, 0x46, 0x49, 0x4c, 0x45, 0x32] },
  { name: 'an ELF binary', bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { name: 'xz-compressed data (decompress it first)', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd-compressed data (decompress it first)', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'bzip2-compressed data (decompress it first)', bytes: [0x42, 0x5a, 0x68] },
  { name: 'a zip archive (extract it first)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'a PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'a JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'a PDF document', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

/** The name of a known binary format the head starts with, or null. */
export function knownBinaryFormat(head: Uint8Array): string | null {
  for (const m of MAGIC) {
    const at = m.at ?? 0;
    if (head.length >= at + m.bytes.length && m.bytes.every((b, i) => head[at + i] === b)) return m.name;
  }
  return null;
}

/** Length of a valid UTF-8 sequence starting at i, or 0. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return i + n > b.length && n > 0 ? n : 0;
  for (let k = 1; k < n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  return n;
}

const NUL_RUN = 64;

export function looksLikeText(head: Uint8Array): TextVerdict {
  const known = knownBinaryFormat(head);
  if (known) return { text: false, reason: `not text: ${known}` };
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
    return { text: false, reason: 'UTF-16 text: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)' };
  let odd = 0;
  let invalid = 0;
  let counted = 0;
  let padding = 0;
  for (let i = 0; i < head.length; ) {
    const c = head[i] as number;
    if (c === 0) {
      // a run of NULs is padding (a log file after an unclean shutdown), scattered ones are binary
      let j = i;
      while (j < head.length && head[j] === 0) j++;
      if (j - i >= NUL_RUN) padding += j - i;
      else {
        odd += j - i;
        counted += j - i;
      }
      i = j;
      continue;
    }
    counted++;
    if (c < 0x80) {
      // tab, line breaks, form feed, backspace and ESC (colour codes) occur in text
      if (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 11 && c !== 8 && c !== 27) odd++;
      else if (c === 0x7f) odd++;
      i++;
      continue;
    }
    const n = utf8Length(head, i);
    if (n === 0) {
      invalid++;
      i++;
    } else {
      counted += n - 1;
      i += n;
    }
  }
  if (counted === 0)
    return padding > 0 ? { text: false, reason: `not text: only NUL bytes in the first ${head.length} bytes` } : { text: true };
  if (odd / counted > 0.01)
    return { text: false, reason: `not text: ${odd} NUL or control bytes in the first ${head.length} bytes (binary data?)` };
  if (invalid / counted > 0.1)
    return {
      text: false,
      reason: `not text: ${Math.round((100 * invalid) / counted)} % of the first ${head.length} bytes are not UTF-8 (binary data?)`,
    };
  return { text: true };
}

/** An input that cannot be read as any format: the file and why. */
export class InputFormatError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InputFormatError';
  }
}
