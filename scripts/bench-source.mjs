// `npm run bench:source`: driver source analysis on real code no one here wrote, the drivers/ tree
// of Debian's linux-source-6.1 package. Installs the package when it is missing (apt-get), extracts
// drivers/ once into a cache folder outside the repository, bundles scripts/bench-source.ts as the
// CLI is bundled (esbuild), runs it and fails when the scan takes more than 2 minutes.
// SWIOTLB_BENCH_DRIVERS=DIR scans a drivers/ folder already unpacked instead (no apt-get, no tar).
// Nothing of the kernel is copied into the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

process.chdir(path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const require = createRequire(import.meta.url);
const PACKAGE = 'linux-source-6.1';
const TARBALL = `/usr/src/${PACKAGE}.tar.xz`;
const cache = process.env.SWIOTLB_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'swiotlb-lens-bench');
const tree = path.join(cache, PACKAGE);
const given = process.env.SWIOTLB_BENCH_DRIVERS;
const drivers = given ? path.resolve(given) : path.join(tree, 'drivers');

function step(msg) {
  console.log(`=== bench:source: ${msg}`);
}

if (given) {
  if (!fs.statSync(drivers, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`bench:source: SWIOTLB_BENCH_DRIVERS=${given} is not a folder`);
    process.exit(2);
  }
} else {
  prepareTree();
}

function prepareTree() {
  if (!fs.existsSync(TARBALL)) {
    step(`installing Debian's ${PACKAGE} (apt-get, about 140 MB)`);
    const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => execFileSync(sudo.length ? 'sudo' : args[0], sudo.length ? args : args.slice(1), { stdio: 'inherit', env });
    run(['apt-get', 'update', '-q']);
    run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', PACKAGE]);
  }
  const st = fs.statSync(TARBALL);
  const stamp = `${st.size} ${st.mtimeMs}`;
  const marker = path.join(tree, '.drivers-extracted');
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8') !== stamp) {
    step(`extracting drivers/ into ${cache}`);
    fs.rmSync(tree, { recursive: true, force: true });
    fs.mkdirSync(cache, { recursive: true });
    const t0 = Date.now();
    execFileSync('tar', ['-xJf', TARBALL, '-C', cache, `${PACKAGE}/drivers`], { stdio: 'inherit' });
    fs.writeFileSync(marker, stamp);
    console.log(`extracted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

step('bundling');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
fs.copyFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm'), 'dist/tree-sitter-c.wasm');
const bundle = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', mainFields: ['module', 'main'] };
const importMetaUrl = {
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
};
await Promise.all([
  esbuild.build({ ...bundle, ...importMetaUrl, entryPoints: ['scripts/bench-source.ts'], outfile: 'dist/bench-source.js' }),
  // the worker threads the analysis parses in (as scripts/build.mjs bundles it)
  esbuild.build({ ...bundle, ...importMetaUrl, entryPoints: ['src/source/sourceWorker.ts'], outfile: 'dist/sourceWorker.js' }),
]);
step(`scanning ${drivers}`);
const r = spawnSync(process.execPath, ['dist/bench-source.js', drivers, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
