/**
 * Reads a tar archive (ustar, GNU long names, pax path records) as a stream of entries, so a
 * capture archive is analysed without unpacking it. Only regular files are handed out.
 */

/** Receives an entry's bytes; a returned promise holds the archive until it settles. */
export interface TarEntrySink {
  data(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/** Called per regular file; return a sink to receive its bytes, or null to skip it. */
export type TarEntryHandler = (name: string, size: number) => TarEntrySink | null;

export class TarFormatError extends Error {}

const BLOCK = 512;

/**
 * Largest GNU long-name ('L') or pax ('x') record read: they are held whole until the member they
 * describe. A path is at most PATH_MAX (4096) bytes; a larger record is refused, not read.
 */
export const MAX_TAR_HEADER_RECORD = 1 << 20;

/** True when a 512-byte block is a ustar (or GNU tar) header. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK) return false;
  const magic = Buffer.from(block.subarray(257, 262)).toString('latin1');
  return magic === 'ustar' && checksumOk(block);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  const stored = Number.parseInt(Buffer.from(h.subarray(148, 156)).toString('latin1').replace(/\0.*$/, '').trim() || 'x', 8);
  return stored === sum;
}

function field(h: Buffer, start: number, len: number): string {
  const s = h.toString('utf8', start, start + len);
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function sizeOf(h: Buffer): number {
  // GNU base-256 for sizes of 8 GiB and more
  if ((h[124] as number) & 0x80) {
    let v = 0;
    for (let i = 125; i < 136; i++) v = v * 256 + (h[i] as number);
    return v;
  }
  const s = field(h, 124, 12).trim();
  return s ? Number.parseInt(s, 8) : 0;
}

/** Streams an archive's entries to `onEntry`. */
export async function readTar(source: AsyncIterable<Buffer>, onEntry: TarEntryHandler): Promise<void> {
  const header = Buffer.alloc(BLOCK);
  let headerFill = 0;
  let remaining = 0; // body bytes of the current entry still to come
  let padding = 0;
  let sink: TarEntrySink | null = null;
  let longName: string | null = null;
  let collect: Buffer[] | null = null; // body of a GNU 'L' or pax 'x' record
  let collectType = '';
  let ended = false;

  const startEntry = (): Promise<void> | undefined => {
    if (!isTarHeader(header)) {
      if (header.every((b) => b === 0)) {
        ended = true;
        return undefined;
      }
      throw new TarFormatError('not a tar header (damaged or truncated archive)');
    }
    const type = String.fromCharCode(header[156] as number);
    const size = sizeOf(header);
    const prefix = field(header, 345, 155);
    let name = field(header, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    if (longName !== null) {
      name = longName;
      longName = null;
    }
    remaining = size;
    padding = (BLOCK - (size % BLOCK)) % BLOCK;
    sink = null;
    collect = null;
    if (type === 'L' || type === 'x') {
      if (size > MAX_TAR_HEADER_RECORD)
        throw new TarFormatError(
          `a ${type === 'L' ? "GNU long-name ('L')" : "pax ('x')"} header record of ${size} bytes is above the ${MAX_TAR_HEADER_RECORD / 2 ** 20} MiB limit for a member's header (damaged or hostile archive)`,
        );
      collect = [];
      collectType = type;
    } else if (type === '0' || type === '\0' || type === '7') {
      sink = onEntry(name.replace(/^\.\//, ''), size);
    }
    return remaining === 0 ? finishBody() : undefined;
  };

  const finishBody = (): Promise<void> | undefined => {
    if (collect) {
      const text = Buffer.concat(collect).toString('utf8');
      if (collectType === 'L') longName = text.replace(/\0.*$/s, '');
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
        if (m) longName = m[1] as string;
      }
      collect = null;
    }
    const done = (sink as TarEntrySink | null)?.end();
    sink = null;
    return done || undefined;
  };

  for await (const chunk of source) {
    let pos = 0;
    while (pos < chunk.length && !ended) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - pos);
        const part = chunk.subarray(pos, pos + n);
        if (collect) (collect as Buffer[]).push(Buffer.from(part));
        else {
          const w = (sink as TarEntrySink | null)?.data(part);
          if (w) await w;
        }
        remaining -= n;
        pos += n;
        if (remaining === 0) {
          const f = finishBody();
          if (f) await f;
        }
      } else if (padding > 0) {
        const n = Math.min(padding, chunk.length - pos);
        padding -= n;
        pos += n;
      } else {
        const n = Math.min(BLOCK - headerFill, chunk.length - pos);
        chunk.copy(header, headerFill, pos, pos + n);
        headerFill += n;
        pos += n;
        if (headerFill === BLOCK) {
          headerFill = 0;
          const f = startEntry();
          if (f) await f;
        }
      }
    }
    if (ended) break;
  }
  if (!ended && (remaining > 0 || headerFill > 0)) throw new TarFormatError('the archive ends in the middle of an entry (truncated)');
}
