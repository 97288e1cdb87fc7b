/**
 * Checks one capture recorded several ways (record.sh's folder) against its tracefs text:
 *  1. the events: each CPU's records are the same in trace.dat (and its v6 / v7
 *     conversions) and in perf script as in the text (probe addresses and hashed pointers aside,
 *     which only the kernel can print; perf does not see trace_marker writes, and prints what its
 *     libtraceevent cannot as "[FAILED TO PARSE]": there only the event is compared);
 *  2. the analysis (`analyze --json` with the capture's dmesg and command line): the same maps,
 *     failures and swiotlb_bounced events; unmaps paired, peak occupancy and placements matched
 *     depend on the order of events of different CPUs, which each buffer and perf's per-CPU clock
 *     stamp on their own: a difference there is reported, and is an error only when (1) failed.
 * usage: node --import tsx compare.ts CLI.js FOLDER      (exit status 1 on an error)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { traceDatText } from '../../src/io/traceDat';
import { EventLine, parseEventLine } from '../../src/trace/ftrace';

const [cli, dir] = process.argv.slice(2) as [string, string];

/** Per CPU, the records as "pid event: body". */
function perCpu(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const ev = new EventLine();
  for (const l of text.split('\n')) {
    const b = Buffer.from(l, 'latin1');
    if (!parseEventLine(b, 0, b.length, ev)) continue;
    const name = b.toString('latin1', ev.eventStart, ev.eventEnd);
    const body = b
      .toString('latin1', ev.bodyStart, ev.end)
      .replace(/^\([^)]*\)/, '(ip)')
      .replace(/virt_addr=\S+/, 'virt_addr=?')
      .trimEnd();
    const list = out.get(ev.cpu) ?? [];
    list.push(`${ev.pid} ${name}: ${body}`);
    out.set(ev.cpu, list);
  }
  return out;
}

async function datText(file: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of traceDatText(file, { onDiag: (m) => console.log(`${path.basename(file)}: ${m}`) })) parts.push(c);
  return Buffer.concat(parts).toString('latin1');
}

/**
 * The same records on every CPU. Compared as multisets: the order of one CPU's records can differ
 * between two buffers (an interrupt's event written between a tracepoint's writes to each buffer).
 */
function sameEvents(a: Map<number, string[]>, b: Map<number, string[]>, skipMarks: boolean): string | null {
  // events libtraceevent printed as "[FAILED TO PARSE]": only the event is compared, on both sides
  const raw = new Set<string>();
  for (const ys of b.values()) for (const y of ys) if (y.includes(': [FAILED TO PARSE] ')) raw.add(y.split(': ')[0]?.split(' ')[1] ?? '');
  const key = (l: string) => (raw.has(l.split(': ')[0]?.split(' ')[1] ?? '') ? (l.split(': ')[0] as string) : l);
  for (const cpu of new Set([...a.keys(), ...b.keys()])) {
    const x = (a.get(cpu) ?? [])
      .filter((l) => !skipMarks || !l.includes(' tracing_mark_write: '))
      .map(key)
      .sort();
    const y = (b.get(cpu) ?? []).map(key).sort();
    if (x.length !== y.length) return `CPU ${cpu}: ${y.length} records, the text ${x.length}`;
    for (let i = 0; i < x.length; i++)
      if (x[i] !== y[i]) return `CPU ${cpu}: "${(y[i] as string).slice(0, 200)}" where the text has "${(x[i] as string).slice(0, 200)}"`;
  }
  return null;
}

function books(file: string) {
  const extra = ['dmesg.txt', 'cmdline.txt'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  const j = JSON.parse(
    execFileSync(process.execPath, [cli, 'analyze', path.join(dir, file), ...extra, '--json'], { maxBuffer: 1 << 28 }).toString(),
  );
  const c = j.counts;
  return {
    hard: {
      events: j.input.events,
      kernel: j.kernel.profile,
      pool: `${j.pool.nslabs}@${j.pool.base}`,
      maps: c.maps,
      failed: c.failed,
      bounced: c.bounced,
    },
    order: { unmaps: c.unmaps, peak: j.occupancy.peak_slots, matched: j.check.matched, diagnostics: j.diagnostics.length },
  };
}

(async () => {
  const text = perCpu(fs.readFileSync(path.join(dir, 'trace.txt'), 'latin1'));
  const ref = books('trace.txt');
  console.log(`trace.txt: ${JSON.stringify(ref)}`);
  let bad = ref.hard.maps < 100 ? 1 : 0;
  if (bad) console.log(`only ${ref.hard.maps} maps in the text: the capture did not work`);
  const others = [
    'trace.dat',
    'trace-v6.dat',
    'trace-v7-none.dat',
    'perf-script.txt',
    'perf-script-pid-ns.txt',
    'perf-script-period-header.txt',
  ];
  for (const f of others.filter((o) => fs.existsSync(path.join(dir, o)))) {
    const perf = f.startsWith('perf');
    const events = sameEvents(text, perCpu(perf ? fs.readFileSync(path.join(dir, f), 'latin1') : await datText(path.join(dir, f))), perf);
    const b = books(f);
    const hard = Object.keys(ref.hard).filter(
      (k) => JSON.stringify(ref.hard[k as keyof typeof ref.hard]) !== JSON.stringify(b.hard[k as keyof typeof b.hard]),
    );
    const order = Object.keys(ref.order).filter((k) => ref.order[k as keyof typeof ref.order] !== b.order[k as keyof typeof b.order]);
    const show = (o: Record<string, unknown>, ks: string[]) => ks.map((k) => `${k} ${JSON.stringify(o[k])}`).join(', ');
    if (events || hard.length) {
      bad++;
      console.log(`${f}: FAIL: ${events ?? 'the same records'}; ${hard.length ? `differs in ${show(b.hard, hard)}` : ''}`);
    } else if (order.length) {
      console.log(
        `${f}: the same records of every CPU and the same maps/failures; another order across CPUs gives ${show(b.order, order)}`,
      );
    } else console.log(`${f}: the same records and the same analysis`);
  }
  process.exit(bad ? 1 : 0);
})();
