// `npm run bench:ingest`: bundles scripts/benchIngest.ts as the CLI is bundled, builds the CLI,
// then runs the benchmark (see benchIngest.ts).
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

const build = spawnSync(process.execPath, ['scripts/build.mjs', '--production'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
await esbuild.build({
  entryPoints: ['scripts/benchIngest.ts'],
  outfile: 'dist/bench-ingest.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['dist/bench-ingest.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
