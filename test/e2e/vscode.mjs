// Helpers to drive a real VS Code (code-server) in headless Chromium with playwright-core.
// Recipe: shared notes/e2e-testing.md (pitfalls: wait for contributions before F1, pick the exact
// palette row, webviews are two iframes deep).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test as nodeTest } from 'node:test';
import { chromium } from 'playwright-core';

export const EXTENSION_ID = 'swiotlb-lens.swiotlb-lens';
export const SHOTS = path.resolve('test-output', 'e2e');

const SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'files.simpleDialog.enable': true,
  'window.restoreWindows': 'none',
};

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function startCodeServer({ workspace, vsix, settings = {} }) {
  const node = process.env.CODE_SERVER_NODE;
  const entry = process.env.CODE_SERVER_ENTRY;
  if (!node || !entry) throw new Error('run the e2e tests through "npm run test:e2e"');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-e2e-'));
  const ud = path.join(root, 'ud');
  const ext = path.join(root, 'ext');
  const cfg = path.join(root, 'config.yaml');
  fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
  fs.mkdirSync(ext);
  fs.writeFileSync(cfg, '');
  fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify({ ...SETTINGS, ...settings }));
  const common = ['--config', cfg, '--user-data-dir', ud, '--extensions-dir', ext];
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(root, 'xdg') };
  execFileSync(node, [entry, ...common, '--install-extension', vsix], { env, stdio: 'pipe' });
  const installed = fs.readdirSync(ext).filter((d) => d.startsWith(EXTENSION_ID));
  if (installed.length !== 1) throw new Error(`the .vsix did not install: ${fs.readdirSync(ext).join(', ')}`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(
    node,
    [
      entry,
      ...common,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    { env, stdio: 'pipe', detached: true },
  );
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    if (i > 300 || proc.exitCode !== null) throw new Error(`code-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${base}/?folder=${encodeURIComponent(workspace)}`,
    root,
    log: () => log,
    async stop() {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {}
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    },
  };
}

export async function launchBrowser() {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1200 },
    args: CHROMIUM_ARGS,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return { ctx, page };
}

export async function openWorkbench(page, url) {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
}

/** F1, the exact title, Enter. Retries until the command is registered (contributions load late). */
export async function runCommand(page, title, { timeout = 60_000, quickPick = false } = {}) {
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    try {
      // a webview that just took the focus may swallow F1: the palette then stays hidden (or inert)
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${title}`, { timeout: 5_000 });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      continue;
    }
    const row = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: exact }) })
      .first();
    try {
      await row.waitFor({ timeout: 5_000 });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      continue;
    }
    // keys go to the input itself: a webview opening beside must not take them
    for (let i = 0; i < 20 && !(await row.evaluate((e) => e.classList.contains('focused'))); i++) await input.press('ArrowDown');
    await input.press('Enter');
    // a command that asks with a quick pick of its own keeps the widget open
    if (quickPick) await page.waitForTimeout(500);
    else await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    return;
  }
}

/**
 * Quick Open (Ctrl+P) a workspace file by name. A pick can be lost while the panel's webview
 * takes focus: the open is tried again until the file's tab is the active one.
 */
export async function openFile(page, name) {
  const tab = page.locator(`.tab.active[data-resource-name="${name}"]`).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(name);
    // the file itself, not an editor whose title names it (the panel's "SWIOTLB: trace.txt, dmesg.txt")
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const row = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: exact }) })
      .first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    try {
      await tab.waitFor({ timeout: attempt < 3 ? 10_000 : 30_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/**
 * Ctrl+G to a line (and column) of the active editor. An Enter that lands while a panel beside
 * is still opening can be lost with the widget left open: press it again until the status bar
 * shows the position.
 */
export async function goToLine(page, line, column = 1) {
  const status = page.locator('.statusbar-item', { hasText: `Ln ${line}, Col ${column}` });
  const input = page.locator('.quick-input-widget input');
  const deadline = Date.now() + 30_000;
  await page.keyboard.press('Escape');
  // a widget still closing (Quick Open after its Enter) must not take the line number
  await page
    .locator('.quick-input-widget')
    .waitFor({ state: 'hidden', timeout: 5_000 })
    .catch(() => {});
  for (;;) {
    try {
      if (!(await input.isVisible())) await page.keyboard.press('Control+G');
      await input.fill(`:${line}:${column}`, { timeout: 3_000 });
      await input.press('Enter', { timeout: 3_000 });
      await status.waitFor({ timeout: 3_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

/** The inner document of a webview panel of this extension (not a side-bar view). */
export function panelFrame(page, index = 0) {
  return page
    .frameLocator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]:not([src*="purpose=webviewView"])`)
    .nth(index)
    .frameLocator('iframe#active-frame');
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/**
 * Opens the extension's Output channel as a user does (analyses no longer force it open). The
 * channel exists once the extension is active: the pick is retried until it lists it.
 */
export async function showOutput(page, { timeout = 120_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await runCommand(page, 'Output: Show Output Channels...', { quickPick: true });
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'SWIOTLB Lens' }).first();
    try {
      await row.waitFor({ timeout: 5_000 });
      await row.click();
      await page.locator('.part.panel .monaco-editor .view-lines').first().waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1_000);
    }
  }
}

/** Text of the Output panel's editor (the visible lines: the end of the channel). */
export async function outputText(page) {
  // Monaco renders spaces as no-break spaces
  return (await page.locator('.part.panel .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
}

/** Matches of a pattern in the Output view's text (it wraps long lines: white space normalised). */
export async function outputMatches(page, pattern) {
  // before the first output there is no Output view
  if ((await page.locator('.part.panel .monaco-editor .view-lines').count()) === 0) return [];
  const text = (await outputText(page)).replace(/\s+/g, ' ');
  return [...text.matchAll(new RegExp(pattern.source, 'g'))];
}

/**
 * Waits for an output line matching `pattern` and returns the last match that is not one of
 * `seen` (matches taken before an action: the Output view renders only the lines in sight, so
 * counting matches would not do).
 */
export async function outputMatch(page, pattern, { timeout = 30_000, seen = [] } = {}) {
  const old = new Set(seen.map((m) => m[0]));
  const deadline = Date.now() + timeout;
  for (;;) {
    const fresh = (await outputMatches(page, pattern)).filter((m) => !old.has(m[0]));
    if (fresh.length) return fresh[fresh.length - 1];
    if (Date.now() > deadline) throw new Error(`no new output line matches ${pattern}:\n${await outputText(page).catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The frame-time gesture: twelve wheel steps into the middle of the chart, then three drags back and forth. */
export async function zoomAndPan(page, chart) {
  await chart.scrollIntoViewIfNeeded();
  const box = await chart.boundingBox();
  const y = box.y + box.height * 0.5;
  await page.mouse.move(box.x + box.width * 0.5, y);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -120);
  await page.mouse.down();
  for (let i = 0; i < 3; i++) {
    await page.mouse.move(box.x + box.width * 0.2, y, { steps: 30 });
    await page.mouse.move(box.x + box.width * 0.8, y, { steps: 30 });
  }
  await page.mouse.up();
}

/** Answers VS Code's simple file dialog (files.simpleDialog.enable) with an absolute path. */
export async function pickFile(page, file) {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  // the dialog fills in where it starts once ready (a folder to open from, a file name to save
  // as), on a busy machine late: typing before that is overwritten. Wait until it has, and the
  // value has held for half a second.
  const value = () => input.inputValue().catch(() => '');
  for (let last = await value(), i = 0; i < 60; i++) {
    await page.waitForTimeout(500);
    const now = await value();
    if (now === last && /^\/./.test(now)) break;
    last = now;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    await input.fill(file);
    await page
      .waitForFunction((f) => document.querySelector('.quick-input-widget input')?.value === f, file, { timeout: 5_000 })
      .catch(() => {});
    await input.press('Enter');
    try {
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5_000 });
      return;
    } catch {
      // still open (the path was completed or reset): type it again
    }
  }
  throw new Error(`the file dialog did not take ${file}`);
}

/** Pixels of a canvas that differ from its first pixel (0: nothing drawn). */
export async function canvasInk(locator) {
  return locator.evaluate((c) => {
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] !== 0) ink++;
    return ink;
  });
}

/** Chooses an option of a toolkit dropdown by its label, as a user would: open it, click. */
export async function pickOption(frame, selector, label) {
  const dd = frame.locator(selector);
  await dd.click();
  await dd.locator('vscode-option', { hasText: label }).first().click();
}

/** Lines of the output channel that match a pattern (scrolls to the end first). */
export async function outputLines(page, pattern) {
  const text = await outputText(page);
  return text.split('\n').filter((l) => pattern.test(l));
}

/**
 * One code-server and one browser for a test file. `prepare(ws)` fills the fresh workspace
 * folder, `ready(page)` runs before the workbench opens, `close()` before both are stopped.
 * Returns the file's `test`: a failing test leaves a FAILED-<shotPrefix><name> screenshot.
 */
export function workbenchSuite({ tmpPrefix, shotPrefix = '', prepare, ready, close }) {
  let cs;
  let browser;
  before(async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    await prepare?.(ws);
    cs = await startCodeServer({ workspace: ws, vsix: process.env.VSIX });
    browser = await launchBrowser();
    ready?.(browser.page);
    await openWorkbench(browser.page, cs.url);
  });
  after(async () => {
    await close?.();
    await browser?.ctx.close();
    await cs?.stop();
  });
  return function test(name, fn) {
    nodeTest(name, async () => {
      try {
        await fn();
      } catch (e) {
        if (browser) await shot(browser.page, `FAILED-${shotPrefix}${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
        throw e;
      }
    });
  };
}

/**
 * Waits for a modal dialog whose text matches `pattern` and clicks its button `label`
 * (e.g. the profile pickers' "Save in This Workspace" / "Only This Session").
 */
export async function answerDialog(page, pattern, label, { timeout = 30_000 } = {}) {
  const box = page.locator('.monaco-dialog-box', { hasText: pattern });
  await box.waitFor({ timeout });
  await box.locator('.monaco-button', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).click();
  await box.waitFor({ state: 'hidden', timeout });
}

/** The inner frame of one of this extension's webviews that holds `selector` (two iframes deep). */
export async function frameWith(page, selector, { timeout = 60_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector}`);
    await page.waitForTimeout(250);
  }
}
