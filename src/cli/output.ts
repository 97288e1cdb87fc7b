/**
 * Buffered, synchronous stdout/stderr for the CLI: big writes, no lost output on exit, and a
 * quiet stop when the reader goes away (`... | head`). Every control character from an input is
 * escaped on its way out (escapeControls), whatever printed it.
 */
import { writeSync } from 'node:fs';
import { escapeControls } from '../protocol/escape';

export class BrokenPipe extends Error {}

export class Out {
  private parts: string[] = [];
  private size = 0;
  private sink: ((text: string) => void) | undefined;

  constructor(
    private readonly fd: number,
    private readonly limit = 1 << 16,
  ) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
  }

  line(s: string): void {
    this.write(`${s}\n`);
  }

  /** Sends the output to `sink` instead of the file descriptor (none: back to it). Tests run the CLI in-process this way. */
  redirect(sink?: (text: string) => void): void {
    this.flush();
    this.sink = sink;
  }

  flush(): void {
    if (this.parts.length === 0) return;
    // control characters from an input never reach a terminal as themselves (protocol/escape.ts)
    const text = escapeControls(this.parts.join(''));
    if (this.sink) {
      this.parts = [];
      this.size = 0;
      this.sink(text);
      return;
    }
    const data = Buffer.from(text, 'utf8');
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') throw new BrokenPipe();
        throw e;
      }
    }
  }
}

export const stdout = new Out(1);
export const stderr = new Out(2, 0);
