// Runs every *.test.ts under the given folders with node:test (TypeScript through tsx).
// `node scripts/run-tests.mjs test/unit [more dirs or files] [-- extra node --test flags]`
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const sep = args.indexOf('--');
const targets = sep < 0 ? args : args.slice(0, sep);
const extra = sep < 0 ? [] : args.slice(sep + 1);

function collect(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) collect(path.join(p, e), out);
  } else if (/\.test\.(ts|mjs)$/.test(p)) {
    out.push(p);
  }
  return out;
}

const files = targets.flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error(`no test files under ${targets.join(', ')}`);
  process.exit(1);
}
// one test file per CPU at a time (node's default leaves one CPU idle); each file runs in its own
// process with its own temporary folders, so they do not meet
const concurrency = extra.some((a) => a.startsWith('--test-concurrency')) ? [] : [`--test-concurrency=${availableParallelism()}`];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...concurrency, ...extra, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
