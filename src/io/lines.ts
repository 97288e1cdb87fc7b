/**
 * Streams a text file line by line without holding it in memory: 1 MiB chunks, `.gz`
 * decompressed on the fly, CRLF accepted, over-long lines cut short and reported instead of
 * growing a string without bound.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

export interface LineSink {
  /** Called for every line, 1-based, without the line terminator. */
  line(text: string, lineNo: number): void;
  /** Called for a line longer than `maxLineBytes`; its text is dropped. */
  overlong?(lineNo: number, bytes: number): void;
}

export interface ReadLinesOptions {
  /** Lines longer than this (in UTF-16 units after decoding) are reported and skipped. */
  maxLineLength?: number;
  /** Lets a long read be cancelled: checked once per chunk. */
  signal?: AbortSignal;
  /** Progress in raw (compressed) bytes read. */
  onProgress?(bytesRead: number): void;
}

export const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

export function isGzipPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

export async function readLines(path: string, sink: LineSink, opts: ReadLinesOptions = {}): Promise<number> {
  const maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let rawBytes = 0;
  raw.on('data', (b) => {
    rawBytes += b.length;
  });
  const stream = isGzipPath(path) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let skipping = false; // inside an over-long line
  let skippedLen = 0;
  let lineNo = 0;
  const emit = (text: string) => {
    lineNo++;
    if (skipping) {
      skipping = false;
      sink.overlong?.(lineNo, skippedLen + text.length);
      skippedLen = 0;
      return;
    }
    if (text.length > maxLine) {
      sink.overlong?.(lineNo, text.length);
      return;
    }
    const t = text.length > 0 && text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    sink.line(t, lineNo);
  };
  for await (const chunk of stream) {
    if (opts.signal?.aborted) {
      raw.destroy();
      throw new DOMException('cancelled', 'AbortError');
    }
    const text = decoder.write(chunk as Buffer);
    let pos = 0;
    let nl = text.indexOf('\n', pos);
    if (nl >= 0) {
      emit(carry + text.slice(0, nl));
      carry = '';
      pos = nl + 1;
      nl = text.indexOf('\n', pos);
      while (nl >= 0) {
        emit(text.slice(pos, nl));
        pos = nl + 1;
        nl = text.indexOf('\n', pos);
      }
    }
    const rest = text.slice(pos);
    if (skipping) {
      skippedLen += rest.length;
    } else if (carry.length + rest.length > maxLine) {
      skipping = true;
      skippedLen = carry.length + rest.length;
      carry = '';
    } else {
      carry += rest;
    }
    opts.onProgress?.(rawBytes);
  }
  const tail = carry + decoder.end();
  if (tail.length > 0 || skipping) emit(tail);
  return lineNo;
}
