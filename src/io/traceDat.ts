/**
 * trace-cmd's binary `trace.dat`, read directly and streaming (trace-cmd.dat.v6(5), v7(5)): the
 * file's event format files, header_page/header_event, saved cmdlines and options; then each
 * CPU's ring-buffer pages (v7: in zlib or zstd chunks), read a block at a time and merged by
 * timestamp, each record printed as a text line in the layout the text path reads
 * (`comm-pid [cpu] timestamp: event: body`, bodies as the kernel's print fmt prints them).
 * Memory holds the metadata and one block of pages per CPU, never the whole file.
 *
 * Damage (a file cut short, a bad section, a bad page) becomes a diagnostic naming the file
 * offset or the CPU and page; everything still intact is read.
 */
import { open, stat } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { type ByteLineSink, ByteLineSplitter, DEFAULT_MAX_LINE_BYTES, type ReadByteLinesOptions } from './lineBytes';
import { type EventFormat, genericBody, parseFormat, parseHeaderFields, type RawRecord } from './traceFormat';

const MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]; // \x17\x08Dtracing

/** Does this file start like a trace.dat? */
export function isTraceDat(head: Uint8Array): boolean {
  if (head.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC[i]) return false;
  return true;
}

/** What the file says about the traced machine (for the analysis' facts). */
export interface TraceDatInfo {
  version: number;
  compression: string;
  cpus: number;
  /** The clock the events were stamped with ("local", "counter", ...). */
  clock: string;
  /** uname of the traced machine ("Linux host 6.12.117+deb13-amd64 #1 SMP ... x86_64"). */
  uname?: string;
  traceCmdVersion?: string;
}

export interface TraceDatOptions {
  /** A problem with the file, with where it is. */
  onDiag(message: string): void;
  /** The file's metadata, once read (before the first chunk). */
  onInfo?(info: TraceDatInfo): void;
  signal?: AbortSignal;
  /** Bytes of file read per CPU at a time (default 256 KiB). */
  blockBytes?: number;
}

/** Metadata bigger than this is taken as damage (kallsyms is skipped, never read). */
const META_MAX = 256 << 20;

class Damaged extends Error {}

/** Positional reads with a small read-ahead window. */
class FileSource {
  private buf = Buffer.alloc(0);
  private bufPos = 0;
  constructor(
    private readonly fh: import('node:fs/promises').FileHandle,
    readonly size: number,
  ) {}

  /** Up to `n` bytes at `pos` (fewer at the end of the file). */
  async read(pos: number, n: number): Promise<Buffer> {
    if (pos >= this.bufPos && pos + n <= this.bufPos + this.buf.length) return this.buf.subarray(pos - this.bufPos, pos - this.bufPos + n);
    const want = Math.max(n, 64 << 10);
    const b = Buffer.alloc(Math.min(want, Math.max(0, this.size - pos)));
    const { bytesRead } = b.length ? await this.fh.read(b, 0, b.length, pos) : { bytesRead: 0 };
    this.buf = b.subarray(0, bytesRead);
    this.bufPos = pos;
    return this.buf.subarray(0, Math.min(n, bytesRead));
  }

  /** Exactly `n` bytes at `pos` (a fresh copy), or Damaged. */
  async exact(pos: number, n: number, what: string): Promise<Buffer> {
    if (n < 0 || n > META_MAX || pos + n > this.size)
      throw new Damaged(`${what} at offset ${pos} (${n} bytes) runs past the end of the file (${this.size} bytes)`);
    if (n <= 64 << 10) return Buffer.from(await this.read(pos, n));
    const b = Buffer.alloc(n);
    const { bytesRead } = await this.fh.read(b, 0, n, pos);
    if (bytesRead < n) throw new Damaged(`${what} at offset ${pos} is cut short`);
    return b;
  }
}

/** Sequential reads over a buffer (a decompressed section, or bytes read from the file). */
class Cursor {
  pos = 0;
  constructor(
    readonly b: Buffer,
    readonly little: boolean,
    /** File offset of b[0] (for messages; -1 inside a decompressed section). */
    readonly base: number,
    readonly what: string,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new Damaged(`${this.what}: cut short at ${this.where()}`);
  }
  where(): string {
    return this.base >= 0 ? `offset ${this.base + this.pos}` : `byte ${this.pos} of the section`;
  }
  u16(): number {
    this.need(2);
    const v = this.little ? this.b.readUInt16LE(this.pos) : this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.little ? this.b.readUInt32LE(this.pos) : this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.little ? this.b.readBigUInt64LE(this.pos) : this.b.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  bytes(n: number): Buffer {
    if (n < 0 || n > this.b.length - this.pos) throw new Damaged(`${this.what}: ${n} bytes at ${this.where()} run past its end`);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  cstr(): string {
    const z = this.b.indexOf(0, this.pos);
    if (z < 0) throw new Damaged(`${this.what}: unterminated string at ${this.where()}`);
    const s = this.b.toString('latin1', this.pos, z);
    this.pos = z + 1;
    return s;
  }
  get left(): number {
    return this.b.length - this.pos;
  }
}

interface CpuData {
  cpu: number;
  offset: number;
  size: number;
}

interface Meta {
  little: boolean;
  longSize: number;
  pageSize: number;
  version: number;
  compression: string;
  info: TraceDatInfo;
  formats: Map<number, EventFormat>;
  cmdlines: Map<number, string>;
  cpus: CpuData[];
  /** The per-CPU data is in compressed chunks (v7 with a compression). */
  chunked: boolean;
  page: { ts: { offset: number; size: number }; commit: { offset: number; size: number }; data: number };
  /** Latency-format text (v6 "latency", v7 BUFFER_TEXT): printed as it is. */
  latency?: { offset: number; size: number };
}

function decompress(algo: string, data: Buffer, usize: number): Buffer {
  if (algo === 'zlib') return inflateSync(data);
  if (algo === 'zstd') {
    const out = zstdDecompress(data, new Uint8Array(usize));
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
  throw new Damaged(`compression "${algo}" is not supported (zlib and zstd are)`);
}

/** Reads the header and the metadata. */
async function readMeta(src: FileSource, diag: (m: string) => void): Promise<Meta> {
  const head = await src.read(0, 64);
  if (!isTraceDat(head)) throw new Damaged('not a trace.dat (no "\\x17\\x08Dtracing" magic)');
  const z = head.indexOf(0, 10);
  if (z < 0 || z + 7 > head.length) throw new Damaged('the file header is cut short');
  const version = Number(head.toString('latin1', 10, z));
  if (version !== 6 && version !== 7)
    throw new Damaged(`trace.dat file version "${head.toString('latin1', 10, z)}" is not supported (6 and 7 are)`);
  const little = head[z + 1] === 0;
  const longSize = head[z + 2] as number;
  const c0 = new Cursor(head, little, 0, 'the file header');
  c0.pos = z + 3;
  const pageSize = c0.u32();
  if (pageSize < 256 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0)
    throw new Damaged(`page size ${pageSize} at offset ${z + 3} is not a power of two`);
  const meta: Meta = {
    little,
    longSize,
    pageSize,
    version,
    compression: 'none',
    info: { version, compression: 'none', cpus: 0, clock: 'local' },
    formats: new Map(),
    cmdlines: new Map(),
    cpus: [],
    chunked: false,
    page: { ts: { offset: 0, size: 8 }, commit: { offset: 8, size: longSize === 4 ? 4 : 8 }, data: 16 },
  };
  if (version === 6) await readV6(src, meta, z + 7, diag);
  else await readV7(src, meta, c0, diag);
  meta.info.compression = meta.compression;
  return meta;
}

/** A section body of v6 read from the file: the cursor's buffer holds `n` bytes at `pos`. */
async function fileCursor(src: FileSource, pos: number, n: number, little: boolean, what: string): Promise<Cursor> {
  return new Cursor(await src.exact(pos, n, what), little, pos, what);
}

function readHeaderInfo(c: Cursor, meta: Meta): void {
  for (let k = 0; k < 2; k++) {
    const name = c.cstr();
    const n = c.u64();
    const text = c.bytes(n).toString('latin1');
    if (name === 'header_page') {
      const f = parseHeaderFields(text);
      const ts = f.get('timestamp');
      const commit = f.get('commit');
      const data = f.get('data');
      if (ts && commit && data) meta.page = { ts, commit, data: data.offset };
    } else if (name !== 'header_event')
      throw new Damaged(`expected header_page/header_event, found "${name.slice(0, 20)}" at ${c.where()}`);
  }
}

function readFormats(c: Cursor, meta: Meta, system: string | null, diag: (m: string) => void): void {
  const systems = system === null ? c.u32() : 1;
  for (let s = 0; s < systems; s++) {
    const sys = system ?? c.cstr();
    const n = c.u32();
    for (let k = 0; k < n; k++) {
      const size = c.u64();
      const at = c.where();
      const text = c.bytes(size).toString('latin1');
      try {
        const ev = parseFormat(text, sys);
        meta.formats.set(ev.id, ev);
      } catch (e) {
        diag(`an event format of system "${sys}" at ${at} does not parse (${(e as Error).message}); its events are skipped`);
      }
    }
  }
}

function readCmdlines(text: string, meta: Meta): void {
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (m) meta.cmdlines.set(Number(m[1]), m[2] as string);
  }
}

function clockOf(text: string): string {
  // "[local] global counter ..." names the clock in use in brackets; a bare name is the clock
  const m = /\[([^\]]+)\]/.exec(text);
  return (m ? (m[1] as string) : text.trim().split(/\s+/)[0]) || 'local';
}

function readOption(
  id: number,
  data: Cursor,
  meta: Meta,
  buffers: { name: string; clock: string; offset: number; cpus: CpuData[] }[],
): void {
  const str = () => data.b.toString('latin1', 0, data.b.indexOf(0) < 0 ? data.b.length : data.b.indexOf(0));
  switch (id) {
    case 3: {
      // BUFFER: an instance's flyrecord data (v6: offset + name; v7: + clock and per-CPU data)
      const offset = data.u64();
      const name = data.cstr();
      if (meta.version === 7) {
        const clock = data.cstr();
        // trace-cmd 3.x writes the sub-buffer size before the CPU count
        if (data.left >= 8 && data.left === 8 + 20 * (meta.little ? data.b.readUInt32LE(data.pos + 4) : data.b.readUInt32BE(data.pos + 4)))
          data.u32();
        const n = data.u32();
        const cpus: CpuData[] = [];
        for (let k = 0; k < n && k < 8192; k++) cpus.push({ cpu: data.u32(), offset: data.u64(), size: data.u64() });
        buffers.push({ name, clock, offset, cpus });
      } else buffers.push({ name, clock: '', offset, cpus: [] });
      return;
    }
    case 4:
      meta.info.clock = clockOf(str());
      return;
    case 5:
      meta.info.uname = str();
      return;
    case 8:
      meta.info.cpus = data.u32();
      return;
    case 9:
      meta.info.traceCmdVersion = str();
      return;
    default:
      return;
  }
}

async function readV6(src: FileSource, meta: Meta, pos: number, diag: (m: string) => void): Promise<void> {
  const L = meta.little;
  const at = async (n: number, what: string) => {
    const c = await fileCursor(src, pos, n, L, what);
    pos += n;
    return c;
  };
  const num = async (n: 4 | 8, what: string) => {
    const c = await at(n, what);
    return n === 4 ? c.u32() : c.u64();
  };
  // header_page, header_event: name, u64 size, text
  const hdr: Buffer[] = [];
  for (const name of ['header_page', 'header_event']) {
    const nm = await at(name.length + 1, 'the header info');
    hdr.push(nm.b);
    const n = await num(8, `the size of ${name}`);
    const b = await src.exact(pos, n, name);
    pos += n;
    const size = Buffer.alloc(8);
    if (L) size.writeBigUInt64LE(BigInt(n));
    else size.writeBigUInt64BE(BigInt(n));
    hdr.push(size, b);
  }
  readHeaderInfo(new Cursor(Buffer.concat(hdr), L, -1, 'the header info'), meta);
  // ftrace event formats, then the other systems
  const nf = await num(4, 'the ftrace format count');
  const ftraceStart = pos - 4;
  for (let k = 0; k < nf; k++) {
    const n = await num(8, 'an ftrace format size');
    pos += n;
  }
  const fc = await fileCursor(src, ftraceStart, pos - ftraceStart, L, 'the ftrace event formats');
  readFormats(fc, meta, 'ftrace', diag);
  const evStart = pos;
  const systems = await num(4, 'the event system count');
  for (let s = 0; s < systems; s++) {
    const name = await src.read(pos, 4096);
    const z = name.indexOf(0);
    if (z < 0) throw new Damaged(`an event system name at offset ${pos} is not terminated`);
    pos += z + 1;
    const n = await num(4, 'an event count');
    for (let k = 0; k < n; k++) {
      const size = await num(8, 'an event format size');
      pos += size;
    }
  }
  readFormats(await fileCursor(src, evStart, pos - evStart, L, 'the event formats'), meta, null, diag);
  // kallsyms and printk formats: skipped
  const kallsyms = await num(4, 'the kallsyms size');
  pos += kallsyms;
  const printk = await num(4, 'the printk formats size');
  pos += printk;
  const cl = await num(8, 'the saved cmdlines size');
  readCmdlines((await src.exact(pos, cl, 'the saved cmdlines')).toString('latin1'), meta);
  pos += cl;
  const ncpu = await num(4, 'the CPU count');
  meta.info.cpus = ncpu;
  let label = (await at(10, 'the data label')).b.toString('latin1');
  const buffers: { name: string; clock: string; offset: number; cpus: CpuData[] }[] = [];
  if (label.startsWith('options')) {
    for (;;) {
      const id = (await at(2, 'an option')).u16();
      if (id === 0) break;
      const n = await num(4, 'an option size');
      readOption(id, await at(n, `option ${id}`), meta, buffers);
    }
    label = (await at(10, 'the data label')).b.toString('latin1');
  }
  if (label.startsWith('latency')) {
    meta.latency = { offset: pos, size: src.size - pos };
    return;
  }
  if (!label.startsWith('flyrecord'))
    throw new Damaged(`expected "flyrecord" at offset ${pos - 10}, found "${label.replace(/[^\x20-\x7e]/g, '?')}"`);
  for (let k = 0; k < ncpu && k < 8192; k++) {
    const c = await at(16, `CPU ${k}'s data location`);
    meta.cpus.push({ cpu: k, offset: c.u64(), size: c.u64() });
  }
  for (const b of buffers) diag(`the trace.dat holds the instance "${b.name}" too: only the top-level buffer is read`);
}

async function readSection(src: FileSource, meta: Meta, offset: number, what: string): Promise<{ id: number; body: Cursor }> {
  const h = await fileCursor(src, offset, 16, meta.little, what);
  const id = h.u16();
  const flags = h.u16();
  h.u32();
  const size = h.u64();
  if (flags & 1) {
    const ch = await fileCursor(src, offset + 16, 8, meta.little, what);
    const csize = ch.u32();
    const usize = ch.u32();
    const data = await src.exact(offset + 24, csize, what);
    let out: Buffer;
    try {
      out = decompress(meta.compression, data, usize);
    } catch (e) {
      if (e instanceof Damaged) throw e;
      throw new Damaged(`${what} (section at offset ${offset}) does not decompress (${(e as Error).message})`);
    }
    return { id, body: new Cursor(out, meta.little, -1, what) };
  }
  return { id, body: await fileCursor(src, offset + 16, size, meta.little, what) };
}

async function readV7(src: FileSource, meta: Meta, c0: Cursor, diag: (m: string) => void): Promise<void> {
  const rest = new Cursor(
    await src.exact(c0.pos, Math.min(512, src.size - c0.pos), 'the file header'),
    meta.little,
    c0.pos,
    'the file header',
  );
  meta.compression = rest.cstr();
  rest.cstr();
  let optOffset = rest.u64();
  const buffers: { name: string; clock: string; offset: number; cpus: CpuData[] }[] = [];
  const sections = new Map<number, number>();
  const seen = new Set<number>();
  while (optOffset > 0 && !seen.has(optOffset)) {
    seen.add(optOffset);
    const { id, body } = await readSection(src, meta, optOffset, `the options section at offset ${optOffset}`);
    if (id !== 0) throw new Damaged(`expected an options section at offset ${optOffset}, found section ${id}`);
    optOffset = 0;
    while (body.left >= 6) {
      const oid = body.u16();
      const n = body.u32();
      const data = new Cursor(body.bytes(n), meta.little, -1, `option ${oid}`);
      if (oid === 0) {
        optOffset = data.u64();
        break;
      }
      if (oid >= 16 && oid <= 21) sections.set(oid, data.u64());
      else if (oid === 22) meta.latency = { offset: data.u64(), size: 0 };
      else readOption(oid, data, meta, buffers);
    }
  }
  const section = async (id: number, what: string): Promise<Cursor | null> => {
    const off = sections.get(id);
    if (off === undefined) return null;
    try {
      const s = await readSection(src, meta, off, what);
      if (s.id !== id) throw new Damaged(`expected section ${id} (${what}) at offset ${off}, found section ${s.id}`);
      return s.body;
    } catch (e) {
      if (!(e instanceof Damaged)) throw e;
      diag(e.message);
      return null;
    }
  };
  const hi = await section(16, 'the header info');
  if (hi) readHeaderInfo(hi, meta);
  const fe = await section(17, 'the ftrace event formats');
  if (fe) readFormats(fe, meta, 'ftrace', diag);
  const ef = await section(18, 'the event formats');
  if (ef) readFormats(ef, meta, null, diag);
  else diag('the trace.dat has no readable event formats: its events cannot be decoded');
  const cl = await section(21, 'the saved cmdlines');
  if (cl) readCmdlines(cl.bytes(cl.u64()).toString('latin1'), meta);
  const top = buffers.find((b) => b.name === '') ?? buffers[0];
  if (top) {
    meta.info.clock = top.clock || meta.info.clock;
    meta.cpus = top.cpus;
    try {
      const h = await fileCursor(src, top.offset, 16, meta.little, 'the flyrecord section');
      const id = h.u16();
      const flags = h.u16();
      if (id !== 3) diag(`expected the flyrecord section at offset ${top.offset}, found section ${id}`);
      meta.chunked = (flags & 1) !== 0;
    } catch (e) {
      if (!(e instanceof Damaged)) throw e;
      diag(e.message);
      meta.chunked = meta.compression !== 'none';
    }
    for (const b of buffers)
      if (b !== top)
        diag(`the trace.dat holds the instance "${b.name}" too: only the ${top.name ? `"${top.name}"` : 'top-level'} buffer is read`);
  }
  if (meta.info.cpus === 0) meta.info.cpus = meta.cpus.length;
}

// ---- per-CPU pages -----------------------------------------------------------------------

/** One CPU's pages, a block at a time, and its current record. */
class CpuReader {
  /** Pages of the current block. */
  private block: Buffer = Buffer.alloc(0);
  private blockFile = 0;
  private pageIdx = 0;
  private pagesRead = 0;
  private filePos: number;
  private chunksLeft = -1;
  /** The current record: [recStart, recEnd) in `block`, its timestamp. */
  recStart = 0;
  recEnd = 0;
  ts = 0;
  /** Lost events noted at the start of the current page, printed before its first record. */
  lost = 0;
  lostUnknown = false;
  private pos = 0; // next event header in the current page
  private pageEnd = 0;
  private pageBase = 0;
  private pageTs = 0;
  private inPage = false;

  constructor(
    readonly cpu: CpuData,
    private readonly meta: Meta,
    private readonly src: FileSource,
    private readonly diag: (m: string) => void,
    private readonly blockBytes: number,
  ) {
    this.filePos = cpu.offset;
  }

  private where(): string {
    return `CPU ${this.cpu.cpu} page ${this.pagesRead} (file offset ${this.blockFile + this.pageIdx * this.meta.pageSize})`;
  }

  /** Reads the next block of pages; false at the end of the CPU's data. */
  private async refill(): Promise<boolean> {
    const ps = this.meta.pageSize;
    const end = this.cpu.offset + this.cpu.size;
    if (this.meta.chunked) {
      try {
        if (this.chunksLeft < 0) {
          if (this.cpu.size === 0) return false;
          const h = await fileCursor(this.src, this.filePos, 4, this.meta.little, `CPU ${this.cpu.cpu}'s data`);
          this.chunksLeft = h.u32();
          this.filePos += 4;
        }
        if (this.chunksLeft === 0) return false;
        const h = await fileCursor(this.src, this.filePos, 8, this.meta.little, `CPU ${this.cpu.cpu}'s data`);
        const csize = h.u32();
        const usize = h.u32();
        const data = await this.src.exact(this.filePos + 8, csize, `CPU ${this.cpu.cpu}'s compressed chunk`);
        this.blockFile = this.filePos;
        this.filePos += 8 + csize;
        this.chunksLeft--;
        try {
          this.block = decompress(this.meta.compression, data, usize);
        } catch (e) {
          this.diag(
            `CPU ${this.cpu.cpu}: the compressed chunk at file offset ${this.blockFile} does not decompress (${(e as Error).message}); skipped`,
          );
          this.block = Buffer.alloc(0);
        }
      } catch (e) {
        if (!(e instanceof Damaged)) throw e;
        this.diag(`CPU ${this.cpu.cpu}: ${e.message}; the rest of this CPU's data is not read`);
        return false;
      }
    } else {
      if (this.filePos >= end) return false;
      const want = Math.min(end - this.filePos, Math.max(ps, Math.floor(this.blockBytes / ps) * ps));
      const avail = Math.max(0, Math.min(want, this.src.size - this.filePos));
      if (avail < want) {
        this.diag(
          `CPU ${this.cpu.cpu}: the data (${this.cpu.size} bytes at file offset ${this.cpu.offset}) runs past the end of the file at offset ${this.src.size}: read up to there`,
        );
      }
      const n = Math.floor(avail / ps) * ps;
      if (n === 0) return false;
      this.block = await this.src.exact(this.filePos, n, `CPU ${this.cpu.cpu}'s pages`);
      this.blockFile = this.filePos;
      this.filePos = avail < want ? end : this.filePos + n;
    }
    this.pageIdx = -1;
    return true;
  }

  /** Opens the next page of the block; false when the block is used up. */
  private openPage(): boolean {
    const ps = this.meta.pageSize;
    const m = this.meta;
    for (;;) {
      this.pageIdx++;
      const base = this.pageIdx * ps;
      if (base + ps > this.block.length) return false;
      this.pagesRead++;
      const b = this.block;
      const ts = readNum(b, base + m.page.ts.offset, m.page.ts.size, m.little);
      const commitRaw = readNum(b, base + m.page.commit.offset, m.page.commit.size, m.little);
      const flags = Math.floor(commitRaw / 2 ** 30) & 3;
      const commit = commitRaw % 2 ** 27;
      const dataEnd = base + m.page.data + commit;
      if (commit === 0) continue;
      if (dataEnd > base + ps) {
        this.diag(`${this.where()}: commit ${commit} is beyond the page (${ps - m.page.data} bytes of data); page skipped`);
        continue;
      }
      this.lost = 0;
      this.lostUnknown = false;
      if (flags & 2) {
        // RB_MISSED_EVENTS; with RB_MISSED_STORED the count follows the data
        if (flags & 1 && dataEnd + m.longSize <= base + ps) this.lost = readNum(b, dataEnd, m.longSize, m.little);
        else this.lostUnknown = true;
      }
      this.pageBase = base;
      this.pageTs = ts;
      this.pos = base + m.page.data;
      this.pageEnd = dataEnd;
      this.inPage = true;
      return true;
    }
  }

  /** Advances to the next record within the block read; false when the block is used up. */
  advance(): boolean {
    for (;;) {
      if (this.inPage && this.nextInPage()) return true;
      this.inPage = false;
      if (!this.openPage()) return false;
    }
  }

  /** Advances to the next record, reading blocks as needed; false when this CPU has no more. */
  async next(): Promise<boolean> {
    while (!this.advance()) {
      if (!(await this.refill())) return false;
    }
    return true;
  }

  private nextInPage(): boolean {
    const b = this.block;
    const L = this.meta.little;
    while (this.pos + 4 <= this.pageEnd) {
      const hdr = L ? b.readUInt32LE(this.pos) : b.readUInt32BE(this.pos);
      const typeLen = L ? hdr & 0x1f : hdr >>> 27;
      const delta = L ? hdr >>> 5 : hdr & 0x7ffffff;
      const p = this.pos + 4;
      if (typeLen === 29) {
        // padding: the rest of the page when its delta is 0, else a discarded record
        if (delta === 0 || p + 4 > this.pageEnd) {
          this.pos = this.pageEnd;
          return false;
        }
        const len = L ? b.readUInt32LE(p) : b.readUInt32BE(p);
        this.pageTs += delta;
        this.pos = p + len;
        continue;
      }
      if (typeLen === 30 || typeLen === 31) {
        if (p + 4 > this.pageEnd) break;
        const ext = (L ? b.readUInt32LE(p) : b.readUInt32BE(p)) * 2 ** 27 + delta;
        if (typeLen === 30) this.pageTs += ext;
        else this.pageTs = ext; // an absolute timestamp (the top bits of a 64-bit clock are 0 here)
        this.pos = p + 4;
        continue;
      }
      let start: number;
      let len: number;
      if (typeLen === 0) {
        if (p + 4 > this.pageEnd) break;
        len = ((L ? b.readUInt32LE(p) : b.readUInt32BE(p)) - 4 + 3) & ~3;
        start = p + 4;
      } else {
        len = typeLen * 4;
        start = p;
      }
      if (len < 0 || start + len > this.pageEnd) {
        this.diag(
          `${this.where()}: a record at byte ${this.pos - this.pageBase} of the page runs past its data; the rest of the page is skipped`,
        );
        this.pos = this.pageEnd;
        return false;
      }
      this.pageTs += delta;
      this.ts = this.pageTs;
      this.recStart = start;
      this.recEnd = start + len;
      this.pos = start + len;
      return true;
    }
    this.pos = this.pageEnd;
    return false;
  }

  get data(): Buffer {
    return this.block;
  }

  /** The current record's page (for lost-event notes: printed once per page). */
  get page(): number {
    return this.pagesRead;
  }
}

function readNum(b: Buffer, off: number, size: number, little: boolean): number {
  if (off + size > b.length) return 0;
  if (size === 4) return little ? b.readUInt32LE(off) : b.readUInt32BE(off);
  if (size === 8) {
    const v = little ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  if (size === 2) return little ? b.readUInt16LE(off) : b.readUInt16BE(off);
  return b[off] as number;
}

// ---- printing ----------------------------------------------------------------------------

/** Events printed from their print fmt; all others as "field=value ...". */
function printsFromFmt(ev: EventFormat): boolean {
  return ev.system === 'swiotlb' || ev.system === 'dma' || ev.byName.has('__probe_ip') || ev.byName.has('__probe_func');
}

class Printer {
  private readonly badFmt = new Set<number>();
  private readonly unknownIds = new Map<number, number>();
  private readonly typeField: { offset: number; size: number };
  private readonly pidField: { offset: number; size: number };
  private readonly ns: boolean;

  constructor(
    private readonly meta: Meta,
    private readonly diag: (m: string) => void,
  ) {
    const any = meta.formats.values().next().value as EventFormat | undefined;
    const t = any?.byName.get('common_type');
    const p = any?.byName.get('common_pid');
    this.typeField = t ? { offset: t.offset, size: t.size } : { offset: 0, size: 2 };
    this.pidField = p ? { offset: p.offset, size: p.size } : { offset: 4, size: 4 };
    // clocks in nanoseconds print as seconds; counters and TSC-like clocks as the raw count
    this.ns = /^(local|global|mono|mono_raw|boot|perf|tai)$/.test(meta.info.clock);
  }

  private time(ts: number): string {
    if (!this.ns) return String(ts);
    // rounded to the microsecond, as the kernel's text and trace-cmd report print it
    const usecs = Math.floor((ts + 500) / 1000);
    return `${Math.floor(usecs / 1e6)}.${String(usecs % 1e6).padStart(6, '0')}`;
  }

  line(r: CpuReader): string | null {
    const m = this.meta;
    const b = r.data;
    const rec: RawRecord = {
      data: b,
      view: new DataView(b.buffer, b.byteOffset, b.byteLength),
      start: r.recStart,
      end: r.recEnd,
      little: m.little,
    };
    if (r.recEnd - r.recStart < this.typeField.offset + this.typeField.size) return null;
    const id = readNum(b, r.recStart + this.typeField.offset, this.typeField.size, m.little);
    const ev = m.formats.get(id);
    if (!ev) {
      const n = (this.unknownIds.get(id) ?? 0) + 1;
      this.unknownIds.set(id, n);
      if (n === 1 && this.unknownIds.size <= 10)
        this.diag(`CPU ${r.cpu.cpu} page ${r.page}: a record of event id ${id}, which the file has no format for: skipped`);
      return null;
    }
    const pidRaw = readNum(b, r.recStart + this.pidField.offset, this.pidField.size, m.little);
    const pid = this.pidField.size === 4 ? pidRaw | 0 : pidRaw;
    const comm = pid === 0 ? '<idle>' : (m.cmdlines.get(pid) ?? '<...>');
    let name = ev.name;
    let body: string;
    if (ev.system === 'ftrace' && ev.name === 'print' && ev.byName.has('buf')) {
      // trace_marker writes: named as the tracefs text names them
      name = 'tracing_mark_write';
      body = genericValue(ev, rec, 'buf').replace(/\n$/, '');
    } else if (ev.print && printsFromFmt(ev)) {
      try {
        body = ev.print(rec);
      } catch (e) {
        if (!this.badFmt.has(id)) {
          this.badFmt.add(id);
          this.diag(`${ev.system}:${ev.name}: its print fmt cannot be evaluated (${(e as Error).message}); printed as field=value`);
        }
        body = genericBody(ev, rec);
      }
    } else {
      if (printsFromFmt(ev) && !this.badFmt.has(id)) {
        this.badFmt.add(id);
        this.diag(`${ev.system}:${ev.name}: its print fmt cannot be read (${ev.printError ?? 'none'}); printed as field=value`);
      }
      body = genericBody(ev, rec);
    }
    return `${comm.padStart(16)}-${pid} [${String(r.cpu.cpu).padStart(3, '0')}] ${this.time(r.ts)}: ${name}: ${body}\n`;
  }
}

function genericValue(ev: EventFormat, rec: RawRecord, field: string): string {
  const f = ev.byName.get(field);
  if (!f) return '';
  let s = rec.start + f.offset;
  const e = f.loc || f.size === 0 ? rec.end : Math.min(rec.end, s + f.size);
  if (f.loc) {
    const w = rec.little ? rec.view.getUint32(s, true) : rec.view.getUint32(s, false);
    s = rec.start + (w & 0xffff);
  }
  let z = s;
  while (z < e && rec.data[z] !== 0) z++;
  return Buffer.from(rec.data.buffer, rec.data.byteOffset + s, Math.max(0, z - s)).toString('latin1');
}

/**
 * The trace.dat as chunks of text lines (each chunk ends with a newline). The first line is
 * "cpus=N", as `trace-cmd report` prints it; lost events are "CPU:N [LOST n EVENTS]".
 */
export async function* traceDatText(file: string, opts: TraceDatOptions): AsyncGenerator<Buffer, void, undefined> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const src = new FileSource(fh, size);
    let meta: Meta;
    try {
      meta = await readMeta(src, opts.onDiag);
    } catch (e) {
      if (!(e instanceof Damaged) && !(e instanceof RangeError)) throw e;
      opts.onDiag(`${file}: ${e.message}; nothing more can be read`);
      return;
    }
    opts.onInfo?.(meta.info);
    yield Buffer.from(`cpus=${meta.info.cpus || meta.cpus.length}\n`, 'latin1');
    if (meta.latency) {
      if (meta.latency.size > 0) {
        for (let p = meta.latency.offset; p < meta.latency.offset + meta.latency.size; p += 1 << 20) {
          yield Buffer.from(await src.read(p, Math.min(1 << 20, meta.latency.offset + meta.latency.size - p)));
        }
      } else opts.onDiag('a latency-format trace.dat (version 7): its text is not read');
      return;
    }
    const readers = meta.cpus.map((c) => new CpuReader(c, meta, src, opts.onDiag, opts.blockBytes ?? 256 << 10));
    const printer = new Printer(meta, opts.onDiag);
    const live: CpuReader[] = [];
    for (const r of readers) if (await r.next()) live.push(r);
    const lostPrinted = new Map<CpuReader, number>();
    let out: string[] = [];
    let outLen = 0;
    while (live.length > 0) {
      if (opts.signal?.aborted) throw new DOMException('cancelled', 'AbortError');
      let k = 0;
      for (let j = 1; j < live.length; j++) if ((live[j] as CpuReader).ts < (live[k] as CpuReader).ts) k = j;
      const r = live[k] as CpuReader;
      if ((r.lost > 0 || r.lostUnknown) && lostPrinted.get(r) !== r.page) {
        lostPrinted.set(r, r.page);
        out.push(r.lostUnknown ? `CPU:${r.cpu.cpu} [LOST EVENTS]\n` : `CPU:${r.cpu.cpu} [LOST ${r.lost} EVENTS]\n`);
      }
      const line = printer.line(r);
      if (line !== null) {
        out.push(line);
        outLen += line.length;
      }
      if (!r.advance() && !(await r.next())) live.splice(k, 1);
      if (outLen >= 1 << 20) {
        yield Buffer.from(out.join(''), 'latin1');
        out = [];
        outLen = 0;
      }
    }
    if (out.length) yield Buffer.from(out.join(''), 'latin1');
  } finally {
    await fh.close();
  }
}

/** The beginning of a trace.dat's text (which events it holds), without reporting its problems. */
export async function traceDatHead(file: string, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of traceDatText(file, { onDiag: () => {} })) {
    parts.push(c);
    n += c.length;
    if (n >= max) break;
  }
  return Buffer.concat(parts).subarray(0, max);
}

/**
 * A trace.dat's text lines into a line sink, as readByteLines does for text files; `onInfo`
 * gets the file's metadata (the traced machine's uname). Problems are reported at the line reached.
 */
export async function readTraceDatLines(
  file: string,
  sink: ByteLineSink,
  opts: ReadByteLinesOptions & { onInfo?: (info: TraceDatInfo) => void } = {},
): Promise<number> {
  const sp = new ByteLineSplitter(sink, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const onDiag = (m: string) => {
    if (!opts.onDamage) throw new Error(m);
    opts.onDamage(sp.lineNo, m);
  };
  for await (const c of traceDatText(file, {
    onDiag,
    ...(opts.onInfo ? { onInfo: opts.onInfo } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })) {
    sp.push(c);
  }
  // progress counts the file's bytes, not the text made of them
  opts.onBytes?.((await stat(file)).size);
  return sp.end();
}
