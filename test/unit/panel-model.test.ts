/**
 * The panel's host side without VS Code: what the webview asks and what it gets, per-device
 * totals, exports, and the manifest entries the panel relies on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { EventTable } from '../../src/analysis/eventTable';
import { deviceStats, PanelModel } from '../../src/analysis/panelModel';
import { csvLines } from '../../src/analysis/query';
import { summarizeEvents } from '../../src/analysis/session';
import { jsonExportChunks, sessionMarkdown } from '../../src/analysis/sessionReport';
import { routeInputs } from '../../src/inputs/router';
import { PLATFORM_IDS } from '../../src/model/dma/platform';
import { PROFILE_CHOICES } from '../../src/model/profiles';
import { isHostMessage, WEBVIEW_COMMANDS } from '../../src/protocol/messages';
import { replaySession } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');
const HOSTILE = '<img src=x onerror=alert(1)>';

async function smallPool(): Promise<PanelModel> {
  const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
  return new PanelModel(session, {
    request: { kind: 'replay', files: ['/x/b.jsonl.gz'] },
    check: { compared: 3457, matched: 3456, profile: '6.1' },
  });
}

describe('the panel model answers the webview', () => {
  test('session, chart columns, pages of rows, slot maps, positions', async () => {
    const m = await smallPool();
    const id = m.info.id;
    assert.equal(m.info.rows, 6902);
    assert.equal(m.info.summary.failed, 12);
    assert.equal(m.info.summary.peakSlots, 512);
    assert.equal(m.info.summary.check?.matched, 3456);
    assert.ok(isHostMessage({ type: 'session', info: m.info }));

    const tl = m.answer({ type: 'timeline', session: id, request: 1, t0: m.info.t0, t1: m.info.t1, columns: 300 });
    assert.equal(tl?.type, 'timeline');
    if (tl?.type !== 'timeline') return;
    assert.equal(Math.max(...tl.totalMax), 512);
    assert.equal(
      tl.failures.reduce((a, b) => a + b, 0),
      12,
    );

    // a stale session gets no answer
    assert.equal(m.answer({ type: 'timeline', session: id + 1000, request: 1, t0: 0, t1: 1, columns: 10 }), undefined);

    const count = m.answer({
      type: 'query',
      session: id,
      query: 7,
      filter: { outcomes: [Outcome.Failed] },
      sort: { column: 'size', desc: true },
    });
    assert.deepEqual(count, { type: 'count', session: id, query: 7, total: 12 });
    const rows = m.answer({ type: 'rows', session: id, request: 2, query: 7, start: 0, count: 50 });
    assert.equal(rows?.type, 'rows');
    if (rows?.type !== 'rows') return;
    assert.equal(rows.rows.length, 12);
    assert.ok(rows.rows.every((r) => r.outcome === Outcome.Failed));
    const sizes = rows.rows.map((r) => r.size as number);
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => b - a),
    );
    const first = rows.rows[0];
    assert.match(m.info.names.files[first?.file ?? 0] ?? '', /b_small_pool_smp2\.ops\.jsonl\.gz$/);
    assert.ok((first?.line ?? 0) > 1);
    // rows of an older query are not answered
    assert.equal(m.answer({ type: 'rows', session: id, request: 3, query: 6, start: 0, count: 5 }), undefined);

    const failedRow = rows.rows[3]?.index as number;
    assert.deepEqual(m.answer({ type: 'locate', session: id, query: 7, row: failedRow }), {
      type: 'located',
      session: id,
      query: 7,
      row: failedRow,
      position: 3,
      select: true,
    });
    const hidden = m.answer({ type: 'locate', session: id, query: 7, row: 0 });
    assert.equal(hidden?.type === 'located' && hidden.position, -1);

    // at the peak every slot has an owner, and each owner is a bounced map still live then
    const peakRow = m.info.summary.peakRow as number;
    const map = m.answer({ type: 'slotmap', session: id, request: 4, row: peakRow });
    assert.equal(map?.type, 'slotmap');
    if (map?.type !== 'slotmap') return;
    assert.equal(map.owner.length, 512);
    assert.ok(map.owner.every((o) => o >= 0 && o <= peakRow));
    assert.ok(map.device.every((d) => d > 0));
    // by time: the state after the last row at or before it (no clock: time is the row number)
    const byTime = m.answer({ type: 'slotmap', session: id, request: 5, row: -1, time: peakRow + 0.5 });
    assert.deepEqual(byTime?.type === 'slotmap' && Array.from(byTime.owner), Array.from(map.owner));
  });

  test('per-device totals charge releases to the mapping device', async () => {
    const m = await smallPool();
    const devs = new Map(m.info.deviceStats.map((d) => [d.name, d]));
    const nvme = devs.get('0000:00:03.0');
    const other = devs.get('0000:00:04.0');
    assert.equal(nvme?.maps, 2113);
    assert.equal(nvme?.failed, 10);
    assert.equal(other?.maps, 1344);
    assert.equal(other?.failed, 2);
    // the replay summary's per-device peaks of live slots
    assert.equal(nvme?.peakSlots, 378);
    assert.equal(other?.peakSlots, 512);
  });
});

describe('exports', () => {
  function hostileTable(): EventTable {
    const t = new EventTable();
    t.push({
      kind: EventKind.Map,
      outcome: Outcome.Bounced,
      device: HOSTILE,
      api: 'dma_map_single',
      size: 4096,
      slot: 0,
      nslots: 2,
      used: 2,
    });
    t.push({ kind: EventKind.Map, outcome: Outcome.Direct, device: '=HYPERLINK("http://x","y")', api: 'dma_map_single', size: 64 });
    t.push({ kind: EventKind.Unmap, outcome: Outcome.Released, device: HOSTILE, slot: 0, nslots: 2, used: 0, pair: 0 });
    return t;
  }

  test('CSV cells never start a formula; JSON parses back; Markdown escapes', () => {
    const t = hostileTable();
    const csv = [...csvLines(t, [0, 1, 2])];
    assert.equal(csv.length, 4);
    assert.ok(csv[2]?.includes(`"'=HYPERLINK(""http://x"",""y"")"`), csv[2]);
    const m = new PanelModel({
      kind: 'trace',
      files: ['/t/trace.txt'],
      kernel: '6.1',
      platform: 'x86',
      pool: null,
      events: t,
      summary: summarizeEvents(t),
      devices: deviceStats(t),
      diagnostics: [],
    });
    const doc = JSON.parse([...jsonExportChunks(m)].join(''));
    assert.equal(doc.format, 'swiotlb-lens-rows/2');
    assert.equal(doc.rows.length, 3);
    assert.equal(doc.rows[0].device, HOSTILE);
    assert.equal(doc.session.summary.maps, 2);
    const md = sessionMarkdown(m.info);
    assert.ok(!/(^|[^\\])</.test(md), md);
    assert.ok(md.includes('\\<img src=x onerror=alert(1)\\>'));
    assert.match(md, /\| Bounced \| 1 \(50\.0 %\) \|/);
  });

  test('device totals of a hand-made table', () => {
    const stats = deviceStats(hostileTable());
    assert.deepEqual(
      stats.map((d) => [d.name, d.maps, d.bounced, d.direct, d.peakSlots]),
      [
        [HOSTILE, 1, 1, 0, 2],
        ['=HYPERLINK("http://x","y")', 1, 0, 1, 0],
      ],
    );
  });
});

describe('inputs and the manifest', () => {
  test('replay ops are told apart from traces by content', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-detect-'));
    const ops = path.join(dir, 'a.jsonl');
    const trace = path.join(dir, 'trace.txt');
    fs.writeFileSync(ops, '{"op":"init","nslabs":512,"nareas":1,"pool_base":"0x0"}\n');
    fs.writeFileSync(trace, '# tracer: nop\n');
    assert.equal((await routeInputs([ops])).kind, 'replay');
    assert.equal((await routeInputs([trace])).kind, 'text');
    assert.equal((await routeInputs([path.join(FIX, 'kernel-6.1', 'a_force_smp2.ops.jsonl.gz')])).kind, 'replay');
  });

  test('the settings and commands the panel uses are contributed', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties;
    assert.deepEqual(props['swiotlbLens.platform'].enum, ['auto', ...PLATFORM_IDS]);
    assert.deepEqual(props['swiotlbLens.kernelProfile'].enum, ['auto', ...PROFILE_CHOICES.map((p) => p.name)]);
    const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    for (const c of WEBVIEW_COMMANDS) assert.ok(commands.has(c), c);
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'SWIOTLB');
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:swiotlbLens.panel'));
    assert.equal(pkg.contributes.views.swiotlbLens[0].id, 'swiotlbLens.sideView');
    assert.equal(pkg.contributes.customEditors[0].priority, 'option');
  });
});
