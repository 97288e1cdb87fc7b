/**
 * The panel's view of kernel logs, host side without VS Code: a log's failures by cause, its pool,
 * devices, kernel source and conclusions; every message explained within its event; the log's
 * clock next to a counter-clock trace; machine facts kept out of the table. Oracles are the
 * fixtures' own lines (read here independently) and the kernel's wording.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EventKind } from '../../src/analysis/codes';
import { PanelModel } from '../../src/analysis/panelModel';
import { fullDeviceName } from '../../src/analysis/sessionLog';
import { analyzeRoute } from '../../src/inputs/analyze';
import { routeInputs } from '../../src/inputs/router';
import { isHostMessage, isWebviewMessage } from '../../src/protocol/messages';

const FIX = path.join(__dirname, '..', 'fixtures');
const LOGS = path.join(FIX, 'logs-real');

async function model(files: string[]): Promise<PanelModel> {
  const route = await routeInputs(files);
  const a = await analyzeRoute(route, { rowLimit: 100_000, parseWorkers: null });
  return new PanelModel(a.session, { ...a.extras, request: { kind: route.kind, files } });
}

describe('a kernel log gets a dashboard from its own lines', () => {
  test('a pool-exhausted log: failures by cause, the pool from "total N (slots)", the kernel assumed', async () => {
    const file = path.join(LOGS, '05-rpi4490-xhci-pool-exhausted.log');
    const text = fs.readFileSync(file, 'utf8');
    const full = text.split('\n').filter((l) => /swiotlb buffer is full/.test(l)).length;
    const total = Number(/total (\d+) \(slots\)/.exec(text)?.[1]);
    const m = await model([file]);
    const log = m.info.log;
    assert.ok(log, 'the session carries the log view');
    assert.equal(m.info.kind, 'log');
    assert.equal(log.fullMessages, full);
    assert.equal(log.failures, full);
    assert.deepEqual(log.byCause, { exhausted: full });
    assert.equal(log.pool?.nslabs, total);
    assert.match(log.pool?.source ?? '', /total \d+ \(slots\)/);
    assert.equal(log.kernel.assumed, true, 'no line names the kernel: the profile is assumed');
    assert.equal(log.kernel.release, null);
    const e = log.entries[0];
    assert.equal(e?.cause, 'exhausted');
    assert.match(e?.explanation ?? '', new RegExp(`of ${total} slots \\(100 %\\) were in use`));
    assert.equal(fullDeviceName(log.devices[0] as never), 'xhci_hcd 0000:01:00.0');
  });

  test('an overflow with its WARN block: one event, the full device name, the bus limit words', async () => {
    const file = path.join(LOGS, '03-rpi3416-vc4-overflow-32bit.log');
    const m = await model([file]);
    const log = m.info.log;
    assert.ok(log);
    assert.equal(log.clock, 'seconds');
    assert.equal(fullDeviceName(log.devices[0] as never), 'vc4-drm gpu');
    const overflow = log.entries.find((e) => e.kind === 'overflow');
    const warn = log.entries.find((e) => e.kind === 'warn');
    assert.ok(overflow && warn);
    assert.equal(warn.event, overflow.event, 'the WARN belongs to the overflow before it');
    assert.ok(overflow.eventLines.includes(warn.line));
    assert.match(warn.explanation, /report_addr/);
    assert.equal(log.kernel.release, '5.4.51-v7l');
    assert.equal(log.kernel.assumed, true, '5.4 is not modelled: the 6.1 profile is assumed');
    // every message explained, as text (no markup produced here)
    for (const x of log.entries) assert.ok(x.title.length > 0 && x.explanation.length > 0);
  });

  test('a counter-clock trace and its dmesg: two clocks, not aligned, said so; facts not rows', async () => {
    const run = path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2');
    const m = await model([path.join(run, 'trace.txt.gz'), path.join(run, 'dmesg.txt.gz')]);
    const log = m.info.log;
    assert.ok(log);
    assert.equal(m.info.kind, 'trace+log');
    assert.equal(m.info.hasClock, false);
    assert.equal(log.traceClock, 'counter');
    assert.equal(log.clock, 'seconds');
    assert.equal(log.aligned, false);
    assert.match(log.clockNote, /counter clock.*cannot be aligned/);
    // the dmesg's "Linux version" line is a fact of the summary, not a row of the table
    assert.ok(
      log.facts.some((f) => f.label === 'Linux version' && /6\.1/.test(f.value)),
      JSON.stringify(log.facts),
    );
    assert.ok(m.info.hiddenRows > 0);
    const t = m.session.events;
    const facts = new Set(['version', 'cmdline', 'cpus', 'uname', 'pci-dma', 'area-num']);
    const isFact = (r: number) => t.get('kind', r) === EventKind.LogMessage && facts.has(t.apis.get(t.get('api', r)));
    let hiddenInTable = 0;
    for (let i = 0; i < t.length; i++) if (isFact(i)) hiddenInTable++;
    assert.equal(m.info.hiddenRows, hiddenInTable);
    assert.equal(m.info.rows, t.length - hiddenInTable);
    for (const r of m.current) assert.ok(!isFact(r), `row ${r} is a machine fact`);
    const reply = m.answer({ type: 'query', session: m.info.id, query: 1, filter: {}, sort: { column: 'index', desc: false } });
    assert.equal(reply?.type === 'count' && reply.total, m.info.rows);
    for (const r of m.current) assert.ok(!isFact(r));
  });

  test('a trace alone has no log view', async () => {
    // alone in its folder (beside its dmesg the router reads both)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-panel-log-'));
    const trace = path.join(dir, 'trace.txt.gz');
    fs.copyFileSync(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'trace.txt.gz'), trace);
    const m = await model([trace]);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(m.info.log, null);
    assert.equal(m.info.hiddenRows, 0);
  });
});

describe('the protocol of explanations, log lines and profiles', () => {
  test('new messages are checked', () => {
    assert.ok(isWebviewMessage({ type: 'revealLog', session: 1, entry: 0 }));
    assert.ok(!isWebviewMessage({ type: 'revealLog', session: 1, entry: -1 }));
    assert.ok(!isWebviewMessage({ type: 'revealLog', session: 1, entry: '0' }));
    assert.ok(isHostMessage({ type: 'profile', kernel: 'auto', platform: 'xen-pv-dom0' }));
    assert.ok(!isHostMessage({ type: 'profile', kernel: 1, platform: 'x' }));
    assert.ok(
      isHostMessage({
        type: 'explanation',
        explanation: { file: 'a', line: 1, title: 't', text: 'x', cause: null, sizeHelps: null, eventLines: [1] },
      }),
    );
    assert.ok(!isHostMessage({ type: 'explanation', explanation: { title: 1 } }));
    assert.ok(isWebviewMessage({ type: 'exportChart', session: 1, format: 'png', data: 'data:image/png;base64,iVBORw0KGgo=' }));
    assert.ok(isWebviewMessage({ type: 'exportChart', session: 1, format: 'svg', data: '<svg xmlns="x"></svg>' }));
    assert.ok(!isWebviewMessage({ type: 'exportChart', session: 1, format: 'png', data: '<svg ' }));
    assert.ok(!isWebviewMessage({ type: 'exportChart', session: 1, format: 'svg', data: 'data:image/png;base64,' }));
    assert.ok(!isWebviewMessage({ type: 'exportChart', session: 1, format: 'gif', data: 'x' }));
  });
});

describe('a time range gives a statistics table', () => {
  test('the whole run equals the summary; a part equals a count of its rows', async () => {
    const { replaySession } = await import('../../src/replay/run');
    const { Outcome } = await import('../../src/analysis/codes');
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const m = new PanelModel(session);
    const s = m.info.summary;
    const all = m.rangeStats(m.info.t0, m.info.t1);
    assert.equal(all.rows, m.session.events.length);
    assert.equal(all.maps, s.maps);
    assert.equal(all.failed, s.failed + s.hangs);
    assert.equal(all.bytesCopied, s.bytesCopied);
    assert.equal(all.peakSlots, s.peakSlots);
    assert.equal(all.slotsBefore, null);
    // a middle third, counted from the table directly
    const t = m.session.events;
    const a = m.info.t0 + (m.info.t1 - m.info.t0) / 3;
    const b = m.info.t0 + (2 * (m.info.t1 - m.info.t0)) / 3;
    let rows = 0;
    let failed = 0;
    let peak = -1;
    for (let i = 0; i < t.length; i++) {
      const time = t.get('time', i);
      if (time < a || time > b) continue;
      rows++;
      if (t.get('outcome', i) === Outcome.Failed || t.get('outcome', i) === Outcome.Hang) failed++;
      peak = Math.max(peak, t.get('used', i));
    }
    const part = m.rangeStats(a, b);
    assert.ok(rows > 0 && rows < t.length);
    assert.equal(part.rows, rows);
    assert.equal(part.failed, failed);
    assert.equal(part.peakSlots, peak);
    assert.ok(part.slotsBefore !== null);
    const reply = m.answer({ type: 'rangeStats', session: m.info.id, request: 7, t0: a, t1: b });
    assert.equal(reply?.type, 'rangeStats');
    assert.ok(isHostMessage(reply));
    assert.ok(!isWebviewMessage({ type: 'rangeStats', session: 1, request: 1, t0: 5, t1: 4 }));
  });
});

describe('a trace with only swiotlb_bounced events shows its bounces', () => {
  test('bounces by device, forced, the DMA_MAPPING_ERROR sentinel', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-bounced-'));
    const { gunzipSync } = await import('node:zlib');
    const full = gunzipSync(fs.readFileSync(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'trace.txt.gz'))).toString('utf8');
    const lines = full.split('\n').filter((l) => l.startsWith('#') || l.includes('swiotlb_bounced:'));
    // one bounce whose dev_addr is the error sentinel
    const k = lines.findIndex((l) => l.includes('swiotlb_bounced:'));
    lines.splice(k + 1, 0, (lines[k] as string).replace(/dev_addr=[0-9a-f]+/, 'dev_addr=ffffffffffffffff'));
    const file = path.join(dir, 'trace.txt');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const m = await model([file]);
    fs.rmSync(dir, { recursive: true, force: true });
    const body = lines.filter((l) => l.includes('swiotlb_bounced:'));
    const b = m.info.bounces;
    assert.ok(b);
    assert.equal(m.info.summary.maps, 0);
    assert.equal(b.total, body.length);
    assert.equal(b.forced, body.filter((l) => /\bFORCE\b/.test(l)).length);
    assert.equal(b.errorSentinel, 1);
    const perDevice = new Map<string, number>();
    for (const l of body) {
      const d = /dev_name: (\S+)/.exec(l)?.[1] as string;
      perDevice.set(d, (perDevice.get(d) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(b.devices.map((d) => [d.name, d.bounces])), Object.fromEntries(perDevice));
    assert.equal(
      b.sizes.reduce((n, x) => n + x.count, 0),
      body.length,
    );
  });

  test('a trace with maps has no bounces view', async () => {
    const { replaySession } = await import('../../src/replay/run');
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    assert.equal(new PanelModel(session).info.bounces, null);
  });
});
