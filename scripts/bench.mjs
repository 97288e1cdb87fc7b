// `npm run bench`: bundles scripts/bench.ts exactly as the CLI is bundled (esbuild), then runs it,
// so the figures are those of the shipped code rather than of a TypeScript loader.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: ['scripts/bench.ts'],
  outfile: 'dist/bench.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['dist/bench.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
