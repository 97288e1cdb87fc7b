/**
 * A file's bytes without holding the file: its (decompressed) head for sniffing, and its
 * (decompressed) content as 1 MiB chunks. Compression is told by the gzip magic bytes, not by
 * the name.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';

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
    const two = Buffer.alloc(2);
    await fh.read(two, 0, 2, 0);
    if (!isGzip(two)) {
      const bufs = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
      let which = 0;
      let pos = 0;
      pending = fh.read(bufs[0] as Buffer, 0, CHUNK_BYTES, pos);
      for (;;) {
        const { bytesRead } = await pending;
        pending = null;
        if (bytesRead === 0) return;
        pos += bytesRead;
        opts.onRawBytes?.(pos);
        const cur = bufs[which] as Buffer;
        which ^= 1;
        pending = fh.read(bufs[which] as Buffer, 0, CHUNK_BYTES, pos);
        yield bytesRead === CHUNK_BYTES ? cur : cur.subarray(0, bytesRead);
      }
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
  const stream = raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  raw.on('error', (e) => stream.destroy(e));
  try {
    for await (const c of stream) {
      opts.onRawBytes?.(rawBytes);
      yield c as Buffer;
    }
  } finally {
    raw.destroy();
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
  const stream = createReadStream(file).pipe(createGunzip());
  try {
    for await (const c of stream) {
      parts.push(c as Buffer);
      n += (c as Buffer).length;
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
