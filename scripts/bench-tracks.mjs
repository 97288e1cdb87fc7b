// `npm run bench:tracks`: bundles scripts/bench-tracks.ts as the extension is bundled, then runs it.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: ['scripts/bench-tracks.ts'],
  outfile: 'dist/bench-tracks.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--expose-gc', 'dist/bench-tracks.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
