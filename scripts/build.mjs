// One build for every bundle: the extension host, the webview and the CLI (esbuild).
// `node scripts/build.mjs [--production] [--watch]`

import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
fs.mkdirSync('dist', { recursive: true });
// the C parser (web-tree-sitter and the tree-sitter-c grammar) is WebAssembly loaded from dist/ at run time
fs.copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
fs.copyFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm'), 'dist/tree-sitter-c.wasm');
// web-tree-sitter's ES module reads import.meta.url, which a CommonJS bundle does not have
const importMetaUrl = {
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
};

const common = {
  bundle: true,
  // prefer ES module builds: some packages' UMD builds require() files esbuild cannot see
  mainFields: ['module', 'main'],
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const bundles = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    // the first statement of the bundle: the extension reports how long loading it took
    define: importMetaUrl.define,
    banner: { js: `"use strict";globalThis.__swiotlbLensLoadStart = performance.now();${importMetaUrl.banner.js}` },
  },
  {
    ...common,
    // trace/log analysis off the extension host's main thread
    entryPoints: ['src/extension/analyzeWorker.ts'],
    outfile: 'dist/analyzeWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    // parses big traces in worker threads, for the CLI and the analysis worker
    entryPoints: ['src/trace/parseWorker.ts'],
    outfile: 'dist/parseWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    // driver source parsing in worker threads, for the CLI and the extension (src/source/sourceWorkers.ts)
    entryPoints: ['src/source/sourceWorker.ts'],
    outfile: 'dist/sourceWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    ...importMetaUrl,
  },
  {
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['webview/side.ts'],
    outfile: 'dist/side.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    // the compare view: xen-swiotlb beside dma-direct with the Xen hooks, call by call
    entryPoints: ['webview/compare.ts'],
    outfile: 'dist/compare.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: importMetaUrl.define,
    banner: { js: `#!/usr/bin/env node\n${importMetaUrl.banner.js}` },
  },
];

if (watch) {
  const contexts = await Promise.all(bundles.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching...');
} else {
  const t0 = Date.now();
  await Promise.all(bundles.map((b) => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755);
  console.log(
    `built dist/extension.js, dist/analyzeWorker.js, dist/parseWorker.js, dist/sourceWorker.js, dist/webview.js, dist/side.js, dist/compare.js, dist/cli.js in ${Date.now() - t0} ms${production ? ' (production)' : ''}`,
  );
}
