/**
 * A file's bytes without holding the file: its (decompressed) head for sniffing, and its
 * (decompressed) content as 1 MiB chunks. Compression is told by the gzip magic bytes, not by
 * the name.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { createInflateRaw, gunzipSync, constants as zlibConstants } from 'node:zlib';

/** zlib.crc32 (Node 20.15, 22.2): the members' CRC is checked where it exists. */
const crc32 = (zlib as { crc32?: (d: Buffer, v: number) => number }).crc32;

export const CHUNK_BYTES = 1 << 20;

/** gzip data starts with 1f 8b. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

export interface ChunkOptions {
  /** Raw (compressed) bytes read so far, after every chunk. */
  readonly onRawBytes?: (total: number) => void;
}

/**
 * A file's bytes (decompressed) as chunks. Plain files are read with the next read already in
 * flight while the caller works on the current chunk; a chunk is valid until the next one.
 */
export async function* fileChunks(file: string, opts: ChunkOptions = {}): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  let pending: Promise<{ bytesRead: number }> | null = null;
  try {
    // buffers sized to the file: a folder of many small files does not allocate 2 MiB per file
    const size = (await fh.stat()).size;
    const len = size > 0 && size < CHUNK_BYTES ? size + 1 : CHUNK_BYTES;
    const bufs = [Buffer.allocUnsafe(len), Buffer.allocUnsafe(len)];
    let which = 0;
    let pos = 0;
    pending = fh.read(bufs[0] as Buffer, 0, len, pos);
    for (;;) {
      const { bytesRead } = await pending;
      pending = null;
      if (bytesRead === 0) return;
      const cur = bufs[which] as Buffer;
      // gzip is told by its first chunk, then read as a stream from the start
      if (pos === 0 && isGzip(cur.subarray(0, bytesRead))) break;
      pos += bytesRead;
      opts.onRawBytes?.(pos);
      which ^= 1;
      pending = fh.read(bufs[which] as Buffer, 0, len, pos);
      yield bytesRead === len ? cur : cur.subarray(0, bytesRead);
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close();
  }
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  let rawBytes = 0;
  raw.on('data', (b) => {
    rawBytes += b.length;
  });
  try {
    for await (const c of gunzipMembers(raw)) {
      opts.onRawBytes?.(rawBytes);
      yield c;
    }
  } finally {
    raw.destroy();
  }
}

/**
 * What follows the last complete gzip member when it is not gzip data (gzip itself decodes every
 * member, then warns "trailing garbage ignored"). Counted as gzip damage: what came before counts.
 */
export class GzipTrailingData extends Error {
  readonly code = 'Z_DATA_ERROR';
  constructor(
    readonly bytes: number,
    readonly members: number,
  ) {
    super(`${bytes} bytes after the last complete gzip member (${members} read in full) are not gzip data: trailing garbage, ignored`);
  }
}

/** Compressed bytes handed to the inflater at a time: one step's output is at most ~1032 times this. */
const INFLATE_STEP = 16 * 1024;
/** Longest gzip member header read (FEXTRA, FNAME, FCOMMENT): a file name is far shorter. */
const MAX_GZIP_HEADER = 64 * 1024;

function gzipError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Length of the gzip member header at the start of `b`, 0 when more bytes are needed. */
function gzipHeaderLength(b: Buffer, final: boolean): number {
  if (b.length < 10) {
    if (final) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
    return 0;
  }
  if (b[2] !== 8) throw gzipError('Z_DATA_ERROR', 'unknown compression method');
  const flg = b[3] as number;
  let pos = 10;
  const need = (n: number): boolean => {
    if (pos + n <= b.length) return true;
    if (final) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
    if (b.length > MAX_GZIP_HEADER) throw gzipError('Z_DATA_ERROR', `a gzip member header above ${MAX_GZIP_HEADER} bytes`);
    return false;
  };
  if (flg & 4) {
    if (!need(2)) return 0;
    pos += 2 + b.readUInt16LE(pos);
  }
  for (const bit of [8, 16]) {
    if (flg & bit) {
      for (;;) {
        if (!need(1)) return 0;
        if (b[pos++] === 0) break;
      }
    }
  }
  if (flg & 2) pos += 2;
  return need(0) ? pos : 0;
}

/**
 * Decodes gzip data member by member (RFC 1952: members may be concatenated). Every complete
 * member is delivered in full; bytes after the last one that are not a member (other than zero
 * padding) end the stream with GzipTrailingData once the members' data is out. zlib's own gunzip
 * stream instead errors inside the call that decoded the end of the last member, losing up to a
 * chunk of its data. Input is fed a small step at a time, so a step's output is bounded.
 */
export async function* gunzipMembers(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    pending = pending.length ? Buffer.concat([pending, r.value]) : r.value;
    return true;
  };
  let members = 0;
  for (;;) {
    while (pending.length < 2 && (await more()));
    if (pending.length === 0 && done) return;
    if (!isGzip(pending)) {
      if (members === 0) throw gzipError('Z_DATA_ERROR', 'incorrect header check');
      // counted, not held
      let junk = pending.length;
      let zeros = pending.every((x) => x === 0);
      for (let r = done ? null : await it.next(); r && !r.done; r = await it.next()) {
        junk += r.value.length;
        zeros &&= r.value.every((x) => x === 0);
      }
      if (zeros) return; // zero padding after the last member (tape blocks): gzip ignores it too
      throw new GzipTrailingData(junk, members);
    }
    let hdr = gzipHeaderLength(pending, done);
    while (hdr === 0) {
      await more();
      hdr = gzipHeaderLength(pending, done);
    }
    pending = pending.subarray(hdr);
    // the deflate body, then an 8-byte trailer (CRC-32, size mod 2^32)
    const inflate = createInflateRaw({ chunkSize: CHUNK_BYTES });
    const out: Buffer[] = [];
    let failed = null as Error | null;
    let ended = false;
    let size = 0;
    let crc = 0;
    inflate.on('data', (d: Buffer) => {
      out.push(d);
      size += d.length;
      if (crc32) crc = crc32(d, crc);
    });
    let wake: (() => void) | null = null;
    inflate.on('error', (e) => {
      failed = e;
      wake?.(); // a write that fails does not call back
    });
    inflate.on('end', () => {
      ended = true;
    });
    let written = 0; // body bytes written before the current step
    let step: Buffer = Buffer.alloc(0);
    try {
      while (!ended) {
        if (pending.length === 0 && !(await more())) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
        step = pending.subarray(0, INFLATE_STEP);
        pending = pending.subarray(step.length);
        await new Promise<void>((resolve) => {
          wake = resolve;
          inflate.write(step, () => resolve());
        });
        wake = null;
        if (failed) {
          yield* out.splice(0);
          throw failed;
        }
        if (!ended) written += step.length;
        yield* out.splice(0);
      }
    } finally {
      inflate.destroy();
    }
    // what the last step held past the body comes back in front of the rest
    const used = inflate.bytesWritten - written;
    pending = pending.length ? Buffer.concat([step.subarray(used), pending]) : step.subarray(used);
    while (pending.length < 8 && (await more()));
    if (pending.length < 8) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
    if ((crc32 && pending.readUInt32LE(0) !== crc >>> 0) || pending.readUInt32LE(4) !== size % 2 ** 32)
      throw gzipError('Z_DATA_ERROR', 'the gzip trailer does not match the data (CRC-32 or size)');
    pending = pending.subarray(8);
    members++;
  }
}

/** The decompressed beginning of gzip data that may be cut short (empty when it is not gzip). */
export function gunzipPrefix(b: Buffer): Buffer {
  try {
    return gunzipSync(b, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

export interface FileHead {
  /** The first `max` bytes of the content (decompressed). */
  readonly head: Buffer;
  readonly gz: boolean;
}

/** The first `max` bytes of a file's content, decompressed when it is gzip. */
export async function readHead(file: string, max: number): Promise<FileHead> {
  const fh = await open(file, 'r');
  let raw: Buffer;
  try {
    // sized to the file: a folder of many small files keeps a few bytes per head, not `max`
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(max, size || max));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    raw = bytesRead === buf.length ? buf : Buffer.from(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
  if (!isGzip(raw)) return { head: raw, gz: false };
  const parts: Buffer[] = [];
  let n = 0;
  const stream = createReadStream(file);
  try {
    for await (const c of gunzipMembers(stream)) {
      parts.push(c);
      n += c.length;
      if (n >= max) break;
    }
  } catch {
    // a truncated or damaged gzip: what was decoded is the head
  } finally {
    stream.destroy();
  }
  const all = Buffer.concat(parts);
  // a copy: the head may outlive the analysis of its file (a trace's census)
  return { head: all.length > max ? Buffer.from(all.subarray(0, max)) : all, gz: true };
}

/** A damaged or truncated gzip stream (what was decoded before it still counts). */
export function isGzipDamage(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR';
}
