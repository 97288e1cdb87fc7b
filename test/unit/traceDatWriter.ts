/**
 * Writes small trace.dat files (little-endian, 64-bit, 4 KiB pages) for the reader's tests: the
 * ring-buffer encodings real captures rarely show (time extends, absolute timestamps, padding,
 * long records, lost-event flags) and the zlib compression Debian's trace-cmd cannot write.
 * Layouts follow trace-cmd.dat.v6(5)/v7(5) as the reader does; the real files in
 * test/fixtures/kernel-traces check that reading against trace-cmd itself.
 */
import { deflateSync } from 'node:zlib';

export const PAGE = 4096;

export const HEADER_PAGE = [
  '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;',
  '\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;',
  '\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;',
  '\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;',
  '',
].join('\n');
export const HEADER_EVENT =
  '# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n';

export type Rec =
  | { kind: 'data'; delta: number; payload: Buffer; long?: boolean }
  | { kind: 'extend'; delta: number }
  | { kind: 'stamp'; ts: number }
  | { kind: 'pad'; delta: number; bytes: number }
  | { kind: 'end' };

export interface PageSpec {
  ts: number;
  recs: Rec[];
  /** RB_MISSED_EVENTS, with the count stored after the data when given. */
  lost?: number | 'unknown';
}

function hdr(typeLen: number, delta: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(((delta & 0x7ffffff) << 5) | typeLen, 0);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}
function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v), 0);
  return b;
}
const cstr = (s: string) => Buffer.from(`${s}\0`, 'latin1');

export function page(spec: PageSpec): Buffer {
  const parts: Buffer[] = [];
  for (const r of spec.recs) {
    if (r.kind === 'data') {
      const p = Buffer.concat([r.payload, Buffer.alloc((4 - (r.payload.length % 4)) % 4)]);
      if (r.long || p.length > 28 * 4) parts.push(hdr(0, r.delta), u32(p.length + 4), p);
      else parts.push(hdr(p.length / 4, r.delta), p);
    } else if (r.kind === 'extend') {
      parts.push(hdr(30, r.delta % 2 ** 27), u32(Math.floor(r.delta / 2 ** 27)));
    } else if (r.kind === 'stamp') {
      parts.push(hdr(31, r.ts % 2 ** 27), u32(Math.floor(r.ts / 2 ** 27)));
    } else if (r.kind === 'pad') {
      parts.push(hdr(29, r.delta), u32(4 + r.bytes), Buffer.alloc(r.bytes)); // array[0] counts itself
    } else {
      parts.push(hdr(29, 0), u32(0));
    }
  }
  const data = Buffer.concat(parts);
  let commit = data.length;
  const out = Buffer.alloc(PAGE);
  if (spec.lost !== undefined) {
    commit += 2 ** 31;
    if (spec.lost !== 'unknown') {
      commit += 2 ** 30;
      out.writeBigUInt64LE(BigInt(spec.lost), 16 + data.length);
    }
  }
  out.writeBigUInt64LE(BigInt(spec.ts), 0);
  out.writeBigUInt64LE(BigInt(commit), 8);
  data.copy(out, 16);
  return out;
}

/** A record's payload: common fields (type, flags, preempt, pid) then the event's own bytes. */
export function payload(id: number, pid: number, rest: Buffer): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(id, 0);
  b.writeInt32LE(pid, 4);
  return Buffer.concat([b, rest]);
}

export interface DatSpec {
  version: 6 | 7;
  compression?: 'none' | 'zlib';
  clock: string;
  uname?: string;
  /** system -> format file texts */
  formats: Record<string, string[]>;
  cmdlines: string;
  cpus: Buffer[][];
}

/** A v6 or v7 trace.dat as bytes. */
export function traceDat(spec: DatSpec): Buffer {
  const head = Buffer.concat([
    Buffer.from([0x17, 0x08, 0x44]),
    Buffer.from('tracing', 'latin1'),
    cstr(String(spec.version)),
    Buffer.from([0, 8]),
    u32(PAGE),
  ]);
  const headerInfo = Buffer.concat([
    cstr('header_page'),
    u64(HEADER_PAGE.length),
    Buffer.from(HEADER_PAGE),
    cstr('header_event'),
    u64(HEADER_EVENT.length),
    Buffer.from(HEADER_EVENT),
  ]);
  const ftrace = spec.formats.ftrace ?? [];
  const ftraceFormats = Buffer.concat([u32(ftrace.length), ...ftrace.flatMap((f) => [u64(f.length), Buffer.from(f, 'latin1')])]);
  const systems = Object.entries(spec.formats).filter(([s]) => s !== 'ftrace');
  const eventFormats = Buffer.concat([
    u32(systems.length),
    ...systems.flatMap(([s, fs]) => [cstr(s), u32(fs.length), ...fs.flatMap((f) => [u64(f.length), Buffer.from(f, 'latin1')])]),
  ]);
  const cmdlines = Buffer.concat([u64(spec.cmdlines.length), Buffer.from(spec.cmdlines, 'latin1')]);
  const pages = spec.cpus.map((ps) => Buffer.concat(ps));
  if (spec.version === 6) {
    const opts = Buffer.concat([
      u16(4),
      u32(spec.clock.length + 1),
      cstr(spec.clock),
      ...(spec.uname ? [u16(5), u32(spec.uname.length + 1), cstr(spec.uname)] : []),
      u16(0),
    ]);
    const pre = Buffer.concat([
      head,
      headerInfo,
      ftraceFormats,
      eventFormats,
      u32(0),
      u32(0),
      cmdlines,
      u32(pages.length),
      Buffer.from('options  \0', 'latin1'),
      opts,
      Buffer.from('flyrecord\0', 'latin1'),
    ]);
    let off = pre.length + pages.length * 16;
    off = Math.ceil(off / PAGE) * PAGE;
    const table: Buffer[] = [];
    let at = off;
    for (const p of pages) {
      table.push(u64(at), u64(p.length));
      at += p.length;
    }
    const body = Buffer.concat([pre, ...table]);
    return Buffer.concat([body, Buffer.alloc(off - body.length), ...pages]);
  }
  // v7: sections, each "u16 id, u16 flags, u32 string id, u64 size", compressed when flags & 1
  const comp = spec.compression ?? 'none';
  const section = (id: number, body: Buffer, compress: boolean) => {
    if (!compress) return Buffer.concat([u16(id), u16(0), u32(0), u64(body.length), body]);
    const z = deflateSync(body);
    const c = Buffer.concat([u32(z.length), u32(body.length), z]);
    return Buffer.concat([u16(id), u16(1), u32(0), u64(c.length), c]);
  };
  const zip = comp !== 'none';
  const start = Buffer.concat([head, cstr(comp), cstr(comp === 'none' ? '' : '1.2.13'), u64(0)]);
  const chunks: Buffer[] = [start];
  let pos = start.length;
  const add = (b: Buffer) => {
    const at = pos;
    chunks.push(b);
    pos += b.length;
    return at;
  };
  const hi = add(section(16, headerInfo, zip));
  const fe = add(section(17, ftraceFormats, zip));
  const ef = add(section(18, eventFormats, zip));
  const cl = add(section(21, cmdlines, zip));
  // the flyrecord section: its header, then per-CPU data (chunks of pages when compressed)
  const cpuData = pages.map((p) =>
    zip
      ? Buffer.concat([
          u32(1),
          (() => {
            const z = deflateSync(p);
            return Buffer.concat([u32(z.length), u32(p.length), z]);
          })(),
        ])
      : p,
  );
  const flyHdr = Buffer.concat([u16(3), u16(zip ? 1 : 0), u32(0), u64(cpuData.reduce((n, d) => n + d.length, 0))]);
  const fly = add(flyHdr);
  const cpuAt: number[] = [];
  for (const d of cpuData) cpuAt.push(add(d));
  const opt = (id: number, data: Buffer) => Buffer.concat([u16(id), u32(data.length), data]);
  const buffer = Buffer.concat([
    u64(fly),
    cstr(''),
    cstr(spec.clock),
    u32(PAGE),
    u32(pages.length),
    ...cpuData.flatMap((d, k) => [u32(k), u64(cpuAt[k] as number), u64(d.length)]),
  ]);
  const options = Buffer.concat([
    opt(16, u64(hi)),
    opt(17, u64(fe)),
    opt(18, u64(ef)),
    opt(21, u64(cl)),
    opt(8, u32(pages.length)),
    ...(spec.uname ? [opt(5, cstr(spec.uname))] : []),
    opt(3, buffer),
    opt(0, u64(0)),
  ]);
  const optAt = add(section(0, options, zip));
  const file = Buffer.concat(chunks);
  file.writeBigUInt64LE(BigInt(optAt), start.length - 8);
  return file;
}
