// `npm run bench:panel`: bundles scripts/bench-panel.ts like the shipped code, then runs it
// (the webview half needs dist/webview.js: run `npm run build` first).
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: ['scripts/bench-panel.ts'],
  outfile: 'dist/bench-panel.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['module', 'main'],
  external: ['playwright-core'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['dist/bench-panel.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
