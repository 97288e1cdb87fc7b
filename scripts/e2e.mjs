// `npm run test:e2e`: packages the extension, makes sure code-server (VS Code in a browser) and its
// Node 24 are installed in a tools folder outside the repository, then runs test/e2e/*.test.mjs
// against the installed .vsix with Debian's Chromium driven by playwright-core.
// Recipe and pitfalls: shared notes/e2e-testing.md. Tools are reused when present.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.chdir(path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

const CS_VERSION = '4.139.1';
const NODE24_VERSION = '24.21.0';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const tools = path.join(
  process.env.E2E_TOOLS_DIR ?? path.join(os.homedir(), '.cache', 'swiotlb-lens-e2e'),
  `cs-${CS_VERSION}-node-${NODE24_VERSION}`,
);
const node24 = path.join(tools, 'node24', 'node_modules', 'node', 'bin', 'node');
const csEntry = path.join(tools, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function step(msg) {
  console.log(`=== e2e: ${msg}`);
}

if (!fs.existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} not found. Install Debian's Chromium: apt-get install -y chromium libkrb5-dev (or set CHROMIUM).`);
  process.exit(1);
}

function npmInstall(dir, spec, allow, env = process.env) {
  fs.mkdirSync(dir, { recursive: true });
  // npm 11 asks for install scripts to be approved; these packages need theirs (binary, native modules).
  const allowScripts = Object.fromEntries(allow.map((p) => [p, true]));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, allowScripts })}\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd: dir, stdio: 'inherit', env });
}

function csWorks() {
  if (!fs.existsSync(node24) || !fs.existsSync(csEntry)) return false;
  const r = spawnSync(node24, [csEntry, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: path.join(tools, 'cfg') },
  });
  return r.status === 0 && r.stdout.includes(CS_VERSION);
}

if (!csWorks()) {
  step(`installing code-server ${CS_VERSION} on Node ${NODE24_VERSION} into ${tools} (about 2 minutes)`);
  fs.rmSync(tools, { recursive: true, force: true });
  npmInstall(path.join(tools, 'node24'), `node@${NODE24_VERSION}`, ['node']);
  // npm must run under Node 24 for code-server's install scripts (they check the version).
  const env = { ...process.env, PATH: `${path.dirname(node24)}:${process.env.PATH}` };
  npmInstall(path.join(tools, 'cs'), `code-server@${CS_VERSION}`, ['code-server', 'argon2'], env);
  if (!csWorks()) {
    console.error('e2e: code-server did not install correctly (its native modules need libkrb5-dev)');
    process.exit(1);
  }
}

step('packaging the extension');
fs.mkdirSync('test-output', { recursive: true });
const vsix = path.resolve('test-output', 'swiotlb-lens.vsix');
execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '-o', vsix], {
  stdio: ['ignore', 'ignore', 'inherit'],
});

// `npm run test:e2e -- panel` runs the test files whose names contain "panel";
// `--bench` runs the benchmarks (test/e2e/*.bench.mjs) instead of the tests
const bench = process.argv.includes('--bench');
const only = process.argv.slice(2).filter((a) => a !== '--bench');
const suffix = bench ? '.bench.mjs' : '.test.mjs';
step(`running test/e2e/*${suffix}`);
const files = fs
  .readdirSync('test/e2e')
  .filter((f) => f.endsWith(suffix) && (only.length === 0 || only.some((o) => f.includes(o))))
  .map((f) => path.join('test/e2e', f));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=1500000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, CODE_SERVER_NODE: node24, CODE_SERVER_ENTRY: csEntry, VSIX: vsix, CHROMIUM },
});
process.exit(r.status ?? 1);
