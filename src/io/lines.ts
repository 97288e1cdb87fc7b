/**
 * Streams a text file line by line as strings without holding it in memory: the byte lines of
 * lineBytes.ts (1 MiB chunks, `.gz` decompressed on the fly, CRLF accepted, over-long lines
 * reported and skipped), each decoded as UTF-8. A line break never falls inside a UTF-8
 * sequence, so decoding line by line is decoding the whole.
 */
import { readByteLines } from './lineBytes';

export interface LineSink {
  /** Called for every line, 1-based, without the line terminator. */
  line(text: string, lineNo: number): void;
  /** Called for a line longer than `maxLineBytes`; its text is dropped. */
  overlong?(lineNo: number, bytes: number): void;
}

export interface ReadLinesOptions {
  /** Lines longer than this many bytes are reported and skipped. */
  maxLineBytes?: number;
  /** Lets a long read be cancelled: checked once per chunk. */
  signal?: AbortSignal;
  /** Progress in raw (compressed) bytes read. */
  onProgress?(bytesRead: number): void;
}

export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

export async function readLines(path: string, sink: LineSink, opts: ReadLinesOptions = {}): Promise<number> {
  return readByteLines(
    path,
    {
      line: (b, s, e, lineNo) => sink.line(b.toString('utf8', s, e), lineNo),
      overlong: (lineNo, bytes) => sink.overlong?.(lineNo, bytes),
    },
    {
      maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onRawBytes: opts.onProgress } : {}),
    },
  );
}
