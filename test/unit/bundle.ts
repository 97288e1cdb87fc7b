/**
 * Worker entries bundled for a test as scripts/build.mjs bundles them (CommonJS for Node, ES
 * module builds first, import.meta.url for web-tree-sitter), into a folder of the test's own.
 */
import path from 'node:path';
import { buildSync } from 'esbuild';

export function bundleWorker(entry: string, outfile: string): string {
  buildSync({
    entryPoints: [path.join(__dirname, '..', '..', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    mainFields: ['module', 'main'],
    banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
  });
  return outfile;
}
