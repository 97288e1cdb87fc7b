// `npm run bench:rows`: bundles scripts/bench-rows.ts like the shipped code (its worker thread
// runs the bundle), then runs it.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: ['scripts/bench-rows.ts'],
  outfile: 'dist/bench-rows.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['dist/bench-rows.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
