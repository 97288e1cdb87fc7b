/**
 * Reads a tar archive (ustar, GNU long names, pax path records) as a stream of entries, so a
 * capture archive is analysed without unpacking it. Only regular files are handed out.
 */

import { open } from 'node:fs/promises';
import { CHUNK_BYTES, fileChunks, isGzip } from './chunks';

/** Receives an entry's bytes; a returned promise holds the archive until it settles. */
export interface TarEntrySink {
  data(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Called per regular file; return a sink to receive its bytes, or null to skip it. `offset` is
 * where its bytes start in the (decompressed) archive: readTarMember() reads it from there.
 */
export type TarEntryHandler = (name: string, size: number, offset: number) => TarEntrySink | null;

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
  let consumed = 0; // archive bytes before the current chunk
  let pos = 0; // in the current chunk

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
      sink = onEntry(name.replace(/^\.\//, ''), size, consumed + pos);
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
    pos = 0;
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
    consumed += chunk.length;
    if (ended) break;
  }
  if (!ended && (remaining > 0 || headerFill > 0)) throw new TarFormatError('the archive ends in the middle of an entry (truncated)');
}

/** Where a member's bytes are in its archive (from readTar's handler). */
export interface TarMemberRef {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * A gzipped archive decoded up to some point, kept for the next member: the members of an
 * archive are read in order, so the archive is decompressed once per pass, not once per member.
 */
interface TarCursor {
  readonly it: AsyncIterator<Buffer>;
  /** Archive offset of rest[0]. */
  pos: number;
  rest: Buffer;
  timer: NodeJS.Timeout | null;
}

const cursors = new Map<string, TarCursor>();

/**
 * What readTarMember() read: archive bytes read at members' offsets (plain archives) and passes
 * that decompressed a gzipped archive from its start (tests: a pass reads each archive once).
 */
export const tarMemberReads = { bytes: 0, passes: 0 };
/** A cursor not used for this long is closed (its file and inflater released). */
const CURSOR_IDLE_MS = 2000;
const MAX_CURSORS = 4;

function closeCursor(c: TarCursor): void {
  if (c.timer) clearTimeout(c.timer);
  void c.it.return?.().catch(() => undefined);
}

function keepCursor(file: string, c: TarCursor): void {
  for (const [f, old] of cursors) {
    if (cursors.size < MAX_CURSORS) break;
    cursors.delete(f);
    closeCursor(old);
  }
  c.timer = setTimeout(() => {
    if (cursors.get(file) === c) cursors.delete(file);
    closeCursor(c);
  }, CURSOR_IDLE_MS);
  c.timer.unref();
  cursors.set(file, c);
}

async function isGzipFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const two = Buffer.alloc(2);
    await fh.read(two, 0, 2, 0);
    return isGzip(two);
  } finally {
    await fh.close();
  }
}

const truncated = () => new TarFormatError('the archive ends in the middle of an entry (truncated)');

/**
 * Streams one member of an archive to `sink`, from where readTar() found it: a plain archive is
 * read at the member's offset; a gzipped one from a cursor left after the previous member (or,
 * for a member behind it, decompressed again from the start).
 */
export async function readTarMember(file: string, ref: TarMemberRef, sink: TarEntrySink): Promise<void> {
  if (!(await isGzipFile(file))) {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(ref.size, 1)));
      for (let done = 0; done < ref.size; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, ref.size - done), ref.offset + done);
        if (bytesRead === 0) throw truncated();
        done += bytesRead;
        tarMemberReads.bytes += bytesRead;
        const w = sink.data(buf.subarray(0, bytesRead));
        if (w) await w;
      }
    } finally {
      await fh.close();
    }
    const e = sink.end();
    if (e) await e;
    return;
  }
  let c = cursors.get(file);
  cursors.delete(file); // taken: a concurrent reader of the same archive opens its own
  if (c?.timer) clearTimeout(c.timer);
  if (c && c.pos > ref.offset) {
    closeCursor(c);
    c = undefined;
  }
  if (!c) tarMemberReads.passes++;
  const cur: TarCursor = c ?? { it: fileChunks(file)[Symbol.asyncIterator](), pos: 0, rest: Buffer.alloc(0), timer: null };
  const next = async (): Promise<void> => {
    cur.pos += cur.rest.length;
    const r = await cur.it.next();
    if (r.done) throw truncated();
    cur.rest = r.value;
  };
  try {
    if (ref.size > 0) {
      while (cur.pos + cur.rest.length <= ref.offset) await next();
      cur.rest = cur.rest.subarray(ref.offset - cur.pos);
      cur.pos = ref.offset;
    }
    for (let need = ref.size; need > 0; ) {
      if (cur.rest.length === 0) await next();
      const part = cur.rest.subarray(0, need);
      cur.rest = cur.rest.subarray(part.length);
      cur.pos += part.length;
      need -= part.length;
      const w = sink.data(part);
      if (w) await w;
    }
    const e = sink.end();
    if (e) await e;
  } catch (err) {
    closeCursor(cur);
    throw err;
  }
  keepCursor(file, cur);
}
