/**
 * Buffered, synchronous stdout/stderr for the CLI: big writes, no lost output on exit, and a
 * quiet stop when the reader goes away (`... | head`).
 */
import { writeSync } from 'node:fs';

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
    if (this.sink) {
      const text = this.parts.join('');
      this.parts = [];
      this.size = 0;
      this.sink(text);
      return;
    }
    const data = Buffer.from(this.parts.join(''), 'utf8');
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
