#!/usr/bin/env node
// The lab's ground truth from its in-lock probes (probes-<release>.txt): every map and release in the
// kernel's own order, as a replay file (ops.jsonl, the kernel's answer in each op's "expect") and a
// summary (geometry, counts, peak, the capture's window).
//   node truth.mjs RESULT_DIR OUT_PREFIX     (RESULT_DIR: what the guest wrote; writes OUT_PREFIX.ops.jsonl
//                                              and OUT_PREFIX.summary.json)
// Each map is placed where its area lock gave it a slot (map_found) or, when every area said no,
// at its last not-found; a release where swiotlb_release_slots took the lock. A map is a race when an
// area it found full changed before its decision: the replay then searches a state the kernel did
// not see (the op says "race" and, when it got a slot, "observed_index": the replay follows it). Records are paired by CPU (the lock holds interrupts off) and, between entry and lock, by
// task, so a task that moved to another CPU is still followed.
import fs from 'node:fs';

const [dir, prefix] = process.argv.slice(2);
if (!dir || !prefix) {
  console.error('usage: truth.mjs RESULT_DIR OUT_PREFIX');
  process.exit(2);
}
const SHIFT = 11;
const read = (f) => (fs.existsSync(`${dir}/${f}`) ? fs.readFileSync(`${dir}/${f}`, 'utf8') : '');
const LINE = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+): (\w+): \([^)]*\) ?(.*)$/;
const fields = (s) => {
  const f = {};
  for (const m of s.matchAll(/(\w+)=("[^"]*"|\S+)/g)) f[m[1]] = m[2].replace(/^"|"$/g, '');
  return f;
};
const events = [];
for (const l of read('truth-trace.txt').split('\n')) {
  const m = LINE.exec(l);
  if (m) events.push({ pid: Number(m[2]), cpu: Number(m[3]), ts: Number(m[4]), name: m[5], f: fields(m[6]) });
}
events.sort((a, b) => a.ts - b.ts);
const debugfs = Object.fromEntries([...read('capture/debugfs.txt').matchAll(/^end (\w+)=(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
const nslabs = debugfs.io_tlb_nslabs;
const nareas = Number(/area num (\d+)/.exec(read('capture/dmesg.txt'))?.[1] ?? 1);
const areaNslabs = nslabs / nareas;
let poolBase = -1;

const pending = []; // maps between entry and decision: { pid, cpu, entry, locks: [], nf: [] }
const unpending = [];
const ops = [];
const lastChange = new Array(nareas).fill(-1);
const live = new Map(); // slot -> map id
const used = new Array(nareas).fill(0);
let nextId = 1;
let peak = 0;
const problems = [];
const take = (list, e) => {
  // the innermost open record on this CPU, else this task's (it moved)
  for (let i = list.length - 1; i >= 0; i--) if (list[i].cpu === e.cpu) return list[i];
  for (let i = list.length - 1; i >= 0; i--) if (list[i].pid === e.pid) return list[i];
  return undefined;
};
const drop = (list, r) => list.splice(list.indexOf(r), 1);
const total = () => used.reduce((a, b) => a + b, 0);
for (const e of events) {
  const f = e.f;
  switch (e.name) {
    case 'map_entry': {
      if (poolBase < 0) poolBase = Number(f.pool);
      pending.push({ pid: e.pid, cpu: e.cpu, ts: e.ts, f, locks: [], nf: [] });
      break;
    }
    case 'map_lock': {
      const r = take(pending, e);
      if (!r) problems.push(`${e.ts}: map_lock without a map`);
      else {
        r.cpu = e.cpu;
        r.locks.push({ area: Number(f.area), ts: e.ts, used: Number(f.used), index: Number(f.index) });
      }
      break;
    }
    case 'map_nf': {
      const r = take(pending, e);
      if (r) r.nf.push({ area: Number(f.area), ts: e.ts });
      break;
    }
    case 'map_found': {
      const r = take(pending, e);
      if (!r) {
        problems.push(`${e.ts}: map_found without a map`);
        break;
      }
      r.found = { area: Number(f.area), slot: Number(f.slot), used: Number(f.used), ts: e.ts };
      const a = r.found.area;
      r.nslots = r.found.used - (r.locks.at(-1)?.used ?? 0);
      used[a] = r.found.used;
      r.race = r.nf.some((n) => lastChange[n.area] > n.ts);
      lastChange[a] = e.ts;
      r.op = { id: nextId++ };
      ops.push(r);
      live.set(r.found.slot, r);
      peak = Math.max(peak, total());
      break;
    }
    case 'map_ret': {
      const r = take(pending, e);
      if (!r) {
        problems.push(`${e.ts}: map_ret without a map`);
        break;
      }
      drop(pending, r);
      r.ret = BigInt(f.ret);
      if (!r.found) {
        r.race = r.nf.some((n) => lastChange[n.area] > n.ts);
        r.op = { id: nextId++ };
        ops.push(r);
      }
      break;
    }
    case 'unmap_entry':
      unpending.push({ pid: e.pid, cpu: e.cpu, f });
      break;
    case 'unmap_lock': {
      const u = take(unpending, e);
      if (u) drop(unpending, u);
      const slot = Number(f.slot);
      const m = live.get(slot);
      if (!m) {
        problems.push(`${e.ts}: release of slot ${slot}, which no map in the trace holds`);
        break;
      }
      live.delete(slot);
      const a = Math.floor(slot / areaNslabs);
      used[a] = Number(f.used) - Number(f.nslots);
      lastChange[a] = e.ts;
      ops.push({ unmap: m, ts: e.ts, nslots: Number(f.nslots), used: total() });
      break;
    }
  }
}
ops.sort((a, b) => (a.found?.ts ?? a.nf?.at(-1)?.ts ?? a.ts) - (b.found?.ts ?? b.nf?.at(-1)?.ts ?? b.ts));

const hex = (n) => `0x${n.toString(16)}`;
const DIR = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
const lines = [
  JSON.stringify({
    op: 'init',
    nslabs,
    nareas,
    pool_base: hex(poolBase),
    kernel: 'mainline',
    area_nslabs: areaNslabs,
    workload: `qemu-${prefix.split('/').pop()}`,
    source: read('capture/version.txt').split(' ')[2] ?? '',
    field_defaults: { alloc_size: '=size', align: '0x0', min_align: '0x0', boundary: '0xffffffffffffffff' },
  }),
];
let usedNow = 0;
const counts = { maps: 0, failed: 0, unmaps: 0, races: 0, in_capture: { maps: 0, failed: 0 } };
// the capture's window: its first and last event on the same counter
const capTs = [...read('capture/trace.txt').matchAll(/^\s*\S.*?\[\d+\]\s+\S+\s+(\d+): /gm)].map((m) => Number(m[1]));
const window = capTs.length ? [Math.min(...capTs), Math.max(...capTs)] : [0, 0];
for (const o of ops) {
  if (o.unmap) {
    usedNow = o.used;
    counts.unmaps++;
    lines.push(JSON.stringify({ op: 'unmap', id: o.unmap.op.id, expect: { freed_slots: o.nslots }, used: usedNow }));
    continue;
  }
  const f = o.f;
  const ok = o.found !== undefined;
  const tlb = ok ? Number(o.ret) : -1;
  const op = {
    op: 'map',
    id: o.op.id,
    // the search starts at this CPU's area (raw_smp_processor_id() & (nareas - 1), read before the
    // first lock): the first area locked says which, even if the task moved since
    cpu: o.locks[0]?.area ?? o.cpu % nareas,
    dev: f.dname,
    orig: f.orig,
    size: Number(f.msize),
    ...(Number(f.amask) ? { align: f.amask } : {}),
    ...(f.minalign && f.minalign !== '(fault)' ? { min_align: f.minalign } : {}),
    ...(f.segbnd && f.segbnd !== '(fault)' ? { boundary: f.segbnd } : {}),
    dir: DIR[Number(f.dir)] ?? 'BIDIRECTIONAL',
    ...(BigInt(f.attrs) ? { attrs: f.attrs } : {}),
    expect: ok ? { ok: true, index: (tlb - poolBase) >> SHIFT, offset: tlb & 0x7ff, tlb_addr: hex(tlb) } : { ok: false, reason: 'full' },
  };
  if (ok) {
    usedNow += o.nslots;
    const pad = ((tlb - poolBase) >> SHIFT) - o.found.slot;
    if (pad < 0) problems.push(`map ${o.op.id}: tlb_addr ${hex(tlb)} before its slot ${o.found.slot}`);
  } else if (o.ret !== BigInt('0xffffffffffffffff')) problems.push(`map ${o.op.id}: no slot found, returned ${o.ret}`);
  op.used = usedNow;
  if (o.race) {
    op.race = true;
    // the replay then follows the kernel: the first slot of the run the kernel took
    if (ok) op.observed_index = o.found.slot;
    counts.races++;
  }
  counts.maps++;
  if (!ok) counts.failed++;
  if (o.ts >= window[0] && o.ts <= window[1]) {
    counts.in_capture.maps++;
    if (!ok) counts.in_capture.failed++;
  }
  lines.push(JSON.stringify(op));
}
fs.writeFileSync(`${prefix}.ops.jsonl`, `${lines.join('\n')}\n`);
const summary = {
  kernel: read('capture/version.txt').trim(),
  cmdline: read('capture/cmdline.txt').trim(),
  pool: { base: hex(poolBase), nslabs, nareas, area_nslabs: areaNslabs },
  counts: { ...counts, live_at_end: live.size },
  peak_slots: peak,
  debugfs_hiwater: debugfs.io_tlb_used_hiwater,
  capture_window: window,
  problems,
};
fs.writeFileSync(`${prefix}.summary.json`, `${JSON.stringify(summary, null, 1)}\n`);
console.log(JSON.stringify({ ...summary, problems: problems.slice(0, 5), nproblems: problems.length }));
