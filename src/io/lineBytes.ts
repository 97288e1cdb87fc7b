/**
 * Streams lines as byte ranges, for inputs too large to turn into strings line by line (traces
 * of many millions of lines): the caller parses the bytes in place and decodes only the few
 * pieces it keeps. Same rules as lines.ts: `.gz` decompressed on the fly, CRLF accepted,
 * over-long lines reported and skipped instead of growing a buffer without bound.
 */

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { isGzipPath } from './lines';

export interface ByteLineSink {
  /**
   * One line: bytes [start, end) of `buf`, without the line terminator. The bytes are valid only
   * during the call (the buffer is reused).
   */
  line(buf: Buffer, start: number, end: number, lineNo: number): void;
  /** A line longer than the limit; its bytes are dropped. */
  overlong?(lineNo: number, bytes: number): void;
}

export interface ReadLineBytesOptions {
  /** Lines longer than this many bytes are reported and skipped (default 1 MiB). */
  maxLineBytes?: number;
  /** Checked once per chunk. */
  signal?: AbortSignal;
  /** Raw (compressed) bytes read so far, once per chunk. */
  onProgress?(bytesRead: number): void;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
const CHUNK = 1 << 20;

/** Splits a byte stream into lines; push() the chunks in order, then end(). */
export class ByteLineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private skipping = false;
  private skipped = 0;
  lineNo = 0;

  constructor(
    private readonly sink: ByteLineSink,
    private readonly maxLine = DEFAULT_MAX_LINE_BYTES,
  ) {}

  private emit(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    if (this.skipping) {
      this.skipping = false;
      this.sink.overlong?.(this.lineNo, this.skipped + (end - start));
      this.skipped = 0;
      return;
    }
    if (end - start > this.maxLine) {
      this.sink.overlong?.(this.lineNo, end - start);
      return;
    }
    if (end > start && buf[end - 1] === 13) end--;
    this.sink.line(buf, start, end, this.lineNo);
  }

  private append(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.skipping) {
      this.skipped += n;
      return;
    }
    if (this.carryLen + n > this.maxLine) {
      this.skipping = true;
      this.skipped = this.carryLen + n;
      this.carryLen = 0;
      return;
    }
    if (this.carryLen + n > this.carry.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.carry.length * 2, this.carryLen + n, 4096));
      this.carry.copy(bigger, 0, 0, this.carryLen);
      this.carry = bigger;
    }
    buf.copy(this.carry, this.carryLen, start, end);
    this.carryLen += n;
  }

  /** Feeds bytes [0, length) of `buf`; `buf` may be reused by the caller afterwards. */
  push(buf: Buffer, length = buf.length): void {
    let pos = 0;
    let nl = buf.indexOf(10, 0);
    if (nl >= length) nl = -1;
    if (nl >= 0 && (this.carryLen > 0 || this.skipping)) {
      // finish the line begun in an earlier chunk
      this.append(buf, 0, nl);
      if (this.skipping) this.emit(buf, 0, 0);
      else this.emit(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      pos = nl + 1;
      nl = buf.indexOf(10, pos);
      if (nl >= length) nl = -1;
    }
    while (nl >= 0) {
      this.emit(buf, pos, nl);
      pos = nl + 1;
      nl = buf.indexOf(10, pos);
      if (nl >= length) nl = -1;
    }
    if (pos < length) this.append(buf, pos, length);
  }

  /** Emits the last line if the input did not end with a newline; returns the line count. */
  end(): number {
    if (this.carryLen > 0 || this.skipping) {
      if (this.skipping) this.emit(this.carry, 0, 0);
      else this.emit(this.carry, 0, this.carryLen);
      this.carryLen = 0;
    }
    return this.lineNo;
  }
}

function abortError(): Error {
  return new DOMException('cancelled', 'AbortError');
}

/** Feeds a stream of chunks to a splitter (gzip members, tar entries, ...). */
export async function splitStream(
  source: AsyncIterable<Buffer>,
  sink: ByteLineSink,
  opts: ReadLineBytesOptions & { rawBytes?: () => number } = {},
): Promise<number> {
  const splitter = new ByteLineSplitter(sink, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  for await (const chunk of source) {
    if (opts.signal?.aborted) throw abortError();
    splitter.push(chunk);
    opts.onProgress?.(opts.rawBytes ? opts.rawBytes() : 0);
  }
  return splitter.end();
}

/** Reads a file (plain or `.gz`, told apart by its first two bytes) line by line as bytes. */
export async function readLineBytes(path: string, sink: ByteLineSink, opts: ReadLineBytesOptions = {}): Promise<number> {
  const fh = await open(path, 'r');
  let gz = false;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    gz = (bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b) || (bytesRead < 2 && isGzipPath(path) && bytesRead > 0);
    if (!gz) {
      const splitter = new ByteLineSplitter(sink, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
      const buf = Buffer.allocUnsafe(CHUNK);
      let total = 0;
      for (;;) {
        if (opts.signal?.aborted) throw abortError();
        const { bytesRead: n } = await fh.read(buf, 0, CHUNK, null);
        if (n === 0) break;
        total += n;
        splitter.push(buf, n);
        opts.onProgress?.(total);
      }
      return splitter.end();
    }
  } finally {
    await fh.close();
  }
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  let rawBytes = 0;
  raw.on('data', (b) => {
    rawBytes += b.length;
  });
  const gunzip = raw.pipe(createGunzip({ chunkSize: CHUNK }));
  raw.on('error', (e) => gunzip.destroy(e));
  try {
    return await splitStream(gunzip as AsyncIterable<Buffer>, sink, { ...opts, rawBytes: () => rawBytes });
  } finally {
    raw.destroy();
  }
}
