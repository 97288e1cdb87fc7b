/**
 * Streams lines as byte ranges, for inputs too large to turn into strings line by line (traces
 * of many millions of lines): the caller parses the bytes in place and decodes only the few
 * pieces it keeps. `.gz` is decompressed on the fly, CRLF accepted, over-long lines reported and
 * skipped instead of growing a buffer without bound. This is the one line splitter: string lines
 * (lines.ts), the parallel reader's blocks (parallel.ts) and the parse worker's lines use it.
 */
import { createGunzip } from 'node:zlib';
import { CHUNK_BYTES, fileChunks, GzipTrailingData, isGzip, isGzipDamage } from './chunks';
import { readTar, readTarMember, type TarEntryHandler, type TarEntrySink, type TarMemberRef } from './tar';

export interface ByteLineSink {
  /**
   * One line: bytes [start, end) of `buf`, without the line terminator. The bytes are valid only
   * during the call (the buffer is reused).
   */
  line(buf: Buffer, start: number, end: number, lineNo: number): void;
  /** A line longer than the limit; its bytes are dropped. */
  overlong?(lineNo: number, bytes: number): void;
}

/** Receives runs of whole lines instead of single lines (the lines are not counted here). */
export interface ByteBlockSink {
  /** Bytes [start, end) of `buf`: whole lines (the last one's '\n' may be missing). */
  block(buf: Buffer, start: number, end: number): void;
  /** An over-long line, in stream order between the blocks; its bytes are dropped. */
  overlong(bytes: number): void;
}

export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

/** Splits a byte stream into lines (or runs of whole lines); push() the chunks in order, then end(). */
export class ByteLineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private skipping = false;
  private skipped = 0;
  private readonly lines: ByteLineSink | null;
  private readonly blocks: ByteBlockSink | null;
  /** Lines so far (line mode). */
  lineNo = 0;

  constructor(
    sink: ByteLineSink | ByteBlockSink,
    private readonly maxLine = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.blocks = 'block' in sink ? sink : null;
    this.lines = 'block' in sink ? null : sink;
  }

  /** Emits bytes [start, end) as one line, the carried (or skipped) part before it included. */
  private emit(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    const lines = this.lines;
    if (this.skipping) {
      this.skipping = false;
      const n = this.skipped + (end - start);
      this.skipped = 0;
      if (lines) lines.overlong?.(this.lineNo, n);
      else this.blocks?.overlong(n);
      return;
    }
    if (end - start > this.maxLine) {
      if (lines) lines.overlong?.(this.lineNo, end - start);
      else this.blocks?.overlong(end - start);
      return;
    }
    if (!lines) {
      (this.blocks as ByteBlockSink).block(buf, start, end);
      return;
    }
    if (end > start && buf[end - 1] === 13) end--;
    lines.line(buf, start, end, this.lineNo);
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
    if (this.blocks) {
      if (nl >= 0) pos = this.pushBlocks(this.blocks, buf, pos, buf.lastIndexOf(10, length - 1));
    } else {
      while (nl >= 0) {
        this.emit(buf, pos, nl);
        pos = nl + 1;
        nl = buf.indexOf(10, pos);
        if (nl >= length) nl = -1;
      }
    }
    if (pos < length) this.append(buf, pos, length);
  }

  /** The whole lines in [pos, last] as runs, over-long lines cut out; returns where the rest starts. */
  private pushBlocks(sink: ByteBlockSink, buf: Buffer, pos: number, last: number): number {
    // a run no longer than the limit cannot hold an over-long line: no need to look at its lines
    if (last - pos <= this.maxLine) {
      sink.block(buf, pos, last + 1);
      return last + 1;
    }
    let run = pos;
    for (let s = pos; s <= last; ) {
      const e = buf.indexOf(10, s);
      if (e - s > this.maxLine) {
        if (s > run) sink.block(buf, run, s);
        sink.overlong(e - s);
        run = e + 1;
      }
      s = e + 1;
    }
    if (run <= last) sink.block(buf, run, last + 1);
    return last + 1;
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

export interface ReadByteLinesOptions {
  /** Lines longer than this many bytes are reported and skipped (default 1 MiB). */
  readonly maxLineBytes?: number;
  /** Checked once per chunk. */
  readonly signal?: AbortSignal;
  /** Decompressed bytes of each chunk, after it was split. */
  readonly onBytes?: (n: number) => void;
  /** Raw (compressed) bytes read so far. */
  readonly onRawBytes?: (total: number) => void;
  /**
   * A damaged or truncated gzip stream: what was decoded is still split, then this is called with
   * the line after the last one read. Without it the error is thrown.
   */
  readonly onDamage?: (line: number, message: string) => void;
}

export function abortError(): Error {
  return new DOMException('cancelled', 'AbortError');
}

export function damageMessage(e: Error): string {
  if (e instanceof GzipTrailingData) return e.message;
  return `the gzip data is damaged or cut short (${e.message}): read up to here`;
}

/** Reads a file (plain or gzip), or its content already read, line by line as bytes; returns the number of lines. */
export async function readByteLines(file: string | Buffer, sink: ByteLineSink, opts: ReadByteLinesOptions = {}): Promise<number> {
  const sp = new ByteLineSplitter(sink, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const chunks = typeof file === 'string' ? fileChunks(file, opts.onRawBytes ? { onRawBytes: opts.onRawBytes } : {}) : whole(file, opts);
  try {
    for await (const c of chunks) {
      if (opts.signal?.aborted) throw abortError();
      sp.push(c);
      opts.onBytes?.(c.length);
    }
  } catch (e) {
    if (!opts.onDamage || !isGzipDamage(e)) throw e;
    opts.onDamage(sp.lineNo + 1, damageMessage(e as Error));
  }
  return sp.end();
}

/** A file's content already in memory (a small file's head), as the one chunk it is. */
async function* whole(b: Buffer, opts: ReadByteLinesOptions): AsyncGenerator<Buffer> {
  if (b.length === 0) return;
  opts.onRawBytes?.(b.length);
  yield b;
}

/**
 * Reads one entry of a tar archive (itself plain or gzip, the entry too) line by line as bytes;
 * returns the number of lines.
 */
export async function readTarEntryLines(
  file: string,
  entry: string | TarMemberRef,
  sink: ByteLineSink,
  opts: ReadByteLinesOptions = {},
): Promise<number> {
  const sp = new ByteLineSplitter(sink, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  let found = false;
  // where the member is known (expand.ts), read it alone (tar.ts); else find it by name
  const read = (onEntry: TarEntryHandler) =>
    typeof entry === 'string'
      ? readTar(fileChunks(file), onEntry)
      : readTarMember(file, entry, onEntry(entry.name, entry.size, entry.offset) as TarEntrySink);
  await read((name) => {
    if (name !== (typeof entry === 'string' ? entry : entry.name) || found) return null;
    found = true;
    let gunzip: ReturnType<typeof createGunzip> | null = null;
    let first = true;
    return {
      data(c) {
        if (opts.signal?.aborted) throw abortError();
        opts.onBytes?.(c.length);
        if (first) {
          first = false;
          if (isGzip(c)) {
            gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
            gunzip.on('data', (d: Buffer) => sp.push(d));
          }
        }
        if (!gunzip) {
          sp.push(c);
          return undefined;
        }
        const g = gunzip;
        return g.write(c) ? undefined : new Promise<void>((resolve) => g.once('drain', () => resolve()));
      },
      end() {
        const g = gunzip;
        if (!g) return undefined;
        return new Promise<void>((resolve) => {
          g.once('end', () => resolve());
          g.once('error', (e) => {
            opts.onDamage?.(sp.lineNo + 1, damageMessage(e));
            resolve();
          });
          g.end();
        });
      },
    };
  });
  return sp.end();
}
