/**
 * The CLI run in-process for many inputs at once (cli-batch-child.ts): one child process per batch
 * instead of one per case. A watchdog stops a case that runs longer than its bound and says which
 * case it was; a case that kills the process (out of memory, a native crash) is named the same way.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CliResult {
  readonly args: readonly string[];
  /** Exit status main() returned. */
  readonly code: number;
  readonly out: Buffer;
  readonly err: Buffer;
  readonly ms: number;
  /** The batch process's peak RSS after this case (monotone over the batch). */
  readonly maxRssKb: number;
}

export class BatchFailure extends Error {}

const CHILD = path.join(__dirname, 'cli-batch-child.ts');

export interface BatchOptions {
  /** A case running longer than this is a hang (default 60 s: a bound for runaways, not speed). */
  readonly caseTimeoutMs?: number;
  /** --max-old-space-size of the batch process, MB. */
  readonly maxOldSpaceMb?: number;
}

/** What became of a case that did not return: it ran past its bound, or the process died in it. */
export interface CliLost {
  readonly args: readonly string[];
  readonly lost: string;
}

/** Runs every case; a case that hangs or kills the process is a CliLost, and the rest still run. */
export async function runCliBatch(cases: readonly (readonly string[])[], opts: BatchOptions = {}): Promise<(CliResult | CliLost)[]> {
  const out: (CliResult | CliLost)[] = [];
  while (out.length < cases.length) {
    const rest = cases.slice(out.length);
    const r = await runChild(rest, opts);
    out.push(...r.results);
    if (r.lost !== undefined) out.push({ args: rest[r.results.length] as string[], lost: r.lost });
  }
  return out;
}

/** runCliBatch for cases that must all return. */
export async function runCliCases(cases: readonly (readonly string[])[], opts: BatchOptions = {}): Promise<CliResult[]> {
  const all = await runCliBatch(cases, opts);
  const lost = all.find((r): r is CliLost => 'lost' in r);
  if (lost) throw new BatchFailure(`${JSON.stringify(lost.args)}: ${lost.lost}`);
  return all as CliResult[];
}

async function runChild(cases: readonly (readonly string[])[], opts: BatchOptions): Promise<{ results: CliResult[]; lost?: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-batch-'));
  const f = (name: string) => path.join(dir, name);
  fs.writeFileSync(f('cases.json'), JSON.stringify(cases.map((args) => ({ args }))));
  fs.writeFileSync(f('results.jsonl'), '');
  fs.writeFileSync(f('progress'), '');
  const out = fs.openSync(f('out'), 'w+');
  const err = fs.openSync(f('err'), 'w+');
  const limit = opts.caseTimeoutMs ?? 60_000;
  const child = spawn(
    process.execPath,
    [
      ...(opts.maxOldSpaceMb ? [`--max-old-space-size=${opts.maxOldSpaceMb}`] : []),
      '--import',
      'tsx',
      CHILD,
      f('cases.json'),
      f('results.jsonl'),
      f('progress'),
      f('out'),
      f('err'),
    ],
    { stdio: ['ignore', out, err], cwd: path.join(__dirname, '..', '..') },
  );
  let current = '';
  let since = Date.now();
  let hung = false;
  const watchdog = setInterval(() => {
    const now = fs.readFileSync(f('progress'), 'utf8');
    if (now !== current) {
      current = now;
      since = Date.now();
    } else if (now !== '' && Date.now() - since > limit) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 250);
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  clearInterval(watchdog);
  const lines = fs.readFileSync(f('results.jsonl'), 'utf8').split('\n').filter(Boolean);
  const read = (fd: number, [a, b]: [number, number]) => {
    const buf = Buffer.alloc(b - a);
    fs.readSync(fd, buf, 0, b - a, a);
    return buf;
  };
  const results = lines.map((l) => {
    const r = JSON.parse(l) as { i: number; code: number; out: [number, number]; err: [number, number]; ms: number; maxRssKb: number };
    return { args: cases[r.i] as string[], code: r.code, out: read(out, r.out), err: read(err, r.err), ms: r.ms, maxRssKb: r.maxRssKb };
  });
  const tail = fs.readFileSync(f('err'), 'utf8').slice(-1500);
  fs.closeSync(out);
  fs.closeSync(err);
  fs.rmSync(dir, { recursive: true, force: true });
  if (results.length === cases.length) return { results };
  if (results.length === 0 && current === '') throw new BatchFailure(`the batch process did not start (exit ${status.code}): ${tail}`);
  return {
    results,
    lost: hung ? `ran longer than ${limit} ms` : `the process died (exit ${status.code}, signal ${status.signal}): ${tail}`,
  };
}

/** Bytes a terminal would act on: C0 except tab and newline, DEL, and C1 (UTF-8 C2 80 ... C2 9F). */
export function controlBytes(b: Buffer): number[] {
  const at: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const x = b[i] as number;
    if (
      (x < 0x20 && x !== 0x0a && x !== 0x09) ||
      x === 0x7f ||
      (x === 0xc2 && (b[i + 1] as number) >= 0x80 && (b[i + 1] as number) <= 0x9f)
    )
      at.push(i);
  }
  return at;
}
