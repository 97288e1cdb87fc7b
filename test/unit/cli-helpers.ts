/**
 * The CLI for tests: `cli(...)` runs it in this process through its `main`, with stdout and
 * stderr captured (a fresh tsx process per case cost 1-3 s); `cliProcess(...)` starts it as a real
 * process, for what only a process shows: the exit status, the two streams, a closed pipe.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { stderr, stdout } from '../../src/cli/output';

export const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `swiotlb-lens ...args` in-process, from the repository's root (paths may be relative to it). */
export async function cli(...args: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(ROOT);
  stdout.redirect((s) => {
    out += s;
  });
  stderr.redirect((s) => {
    err += s;
  });
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    stdout.redirect();
    stderr.redirect();
    process.chdir(cwd);
  }
}

/** Runs `swiotlb-lens ...args` as a process (node + tsx), from the repository's root. */
export function cliProcess(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
