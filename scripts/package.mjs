// Packs the .vsix (the one set of vsce options, used by `npm run package` and the e2e run):
// no bundled node_modules (esbuild bundles), no repository URL yet, and the README's relative
// image links kept as they are (the images ship in the package, see .vscodeignore).
// Usage: node scripts/package.mjs [OUT.vsix]
import { execFileSync } from 'node:child_process';

const out = process.argv[2] ?? 'swiotlb-lens.vsix';
execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out], {
  stdio: ['ignore', process.env.PACKAGE_QUIET ? 'ignore' : 'inherit', 'inherit'],
});
