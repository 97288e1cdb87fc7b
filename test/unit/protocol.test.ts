import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { escapeHtml } from '../../src/protocol/escape';
import { isAnalysisRequest, isHostMessage, isWebviewMessage, requestKey, WEBVIEW_COMMANDS } from '../../src/protocol/messages';

test('webview -> host: every message of the protocol is accepted', () => {
  const good = [
    { type: 'ready' },
    { type: 'timeline', session: 1, request: 2, t0: 0, t1: 1.5, columns: 800 },
    {
      type: 'query',
      session: 1,
      query: 3,
      filter: { devices: [1, 2], outcomes: [2], text: 'nvme', t0: 0.5, t1: 2 },
      sort: { column: 'time', desc: true },
    },
    { type: 'rows', session: 1, request: 4, query: 3, start: 200, count: 200 },
    { type: 'slotmap', session: 1, request: 5, row: -1, time: 1.25 },
    { type: 'slotmap', session: 1, request: 5, row: 17 },
    { type: 'locate', session: 1, query: 3, row: 9 },
    { type: 'reveal', session: 1, row: 9 },
    { type: 'revealDiagnostic', session: 1, index: 0 },
    { type: 'export', session: 1, format: 'csv' },
    { type: 'drawn', session: 1, ms: 12.5 },
    { type: 'frames', session: 1, frames: [1.2, 3.4] },
    { type: 'command', command: 'swiotlbLens.openPanel' },
    { type: 'command', command: 'swiotlbLens.analyzeFile', arg: '/tmp/trace.txt' },
    { type: 'setProfile', kernel: '6.12' },
  ];
  for (const m of good) assert.ok(isWebviewMessage(m), JSON.stringify(m));
});

test('webview -> host: anything else is refused', () => {
  const bad = [
    null,
    'ready',
    [],
    { type: 'revealLine', file: '/etc/passwd', line: 1 },
    { type: 'runCommand', command: 'rm -rf' },
    { type: 'command', command: 'workbench.action.terminal.sendSequence', arg: 'rm -rf ~\n' },
    { type: 'command', command: 'swiotlbLens.openPanel', arg: 7 },
    { type: 'timeline', session: 1, request: 2, t0: 0, t1: 1, columns: 100000 },
    { type: 'timeline', session: 1, request: 2, t0: Number.NaN, t1: 1, columns: 10 },
    { type: 'rows', session: 1, request: 4, query: 3, start: 0, count: 1e6 },
    { type: 'rows', session: -1, request: 4, query: 3, start: 0, count: 10 },
    { type: 'query', session: 1, query: 3, filter: { devices: ['x'] }, sort: { column: 'time', desc: false } },
    { type: 'query', session: 1, query: 3, filter: { evil: 1 }, sort: { column: 'time', desc: false } },
    { type: 'query', session: 1, query: 3, filter: {}, sort: { column: 'constructor', desc: false } },
    { type: 'query', session: 1, query: 3, filter: { text: 'x'.repeat(5000) }, sort: { column: 'time', desc: false } },
    { type: 'slotmap', session: 1, request: 5, row: -2 },
    { type: 'export', session: 1, format: 'html' },
    { type: 'frames', session: 1, frames: ['1'] },
    { type: 'setProfile', kernel: 'x'.repeat(100) },
  ];
  for (const m of bad) assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
});

test('webview -> host: random objects never pass as messages of another shape', () => {
  fc.assert(
    fc.property(fc.object(), (o) => {
      if (isWebviewMessage(o)) assert.ok(['ready', 'command', 'setProfile'].includes((o as { type: string }).type));
    }),
  );
  // every command a webview may ask for belongs to this extension
  for (const c of WEBVIEW_COMMANDS) assert.match(c, /^swiotlbLens\./);
});

test('host -> webview messages are validated', () => {
  assert.ok(isHostMessage({ type: 'error', message: 'x' }));
  assert.ok(isHostMessage({ type: 'busy', message: null }));
  assert.ok(isHostMessage({ type: 'empty', recent: [] }));
  assert.ok(isHostMessage({ type: 'located', session: 1, query: 2, row: 3, position: -1, select: true }));
  assert.ok(!isHostMessage({ type: 'replaySummary', summary: null }));
  assert.ok(!isHostMessage({ type: 'html', html: '<img src=x onerror=alert(1)>' }));
});

test('a request read back from saved state is checked', () => {
  assert.ok(isAnalysisRequest({ kind: 'text', files: ['/a/trace.txt', '/a/dmesg.txt'] }));
  assert.ok(isAnalysisRequest({ kind: 'scenario', files: ['/a/x.swiotlb.json'], compare: true, kernel: '6.12' }));
  for (const bad of [
    null,
    {},
    { kind: 'shell', files: ['/x'] },
    { kind: 'text', files: [] },
    { kind: 'text', files: [1] },
    { kind: 'text', files: ['/x'], compare: 'yes' },
  ]) {
    assert.equal(isAnalysisRequest(bad), false, JSON.stringify(bad));
  }
  assert.equal(requestKey({ kind: 'text', files: ['/a', '/b'] }), requestKey({ kind: 'text', files: ['/a', '/b'] }));
  assert.notEqual(requestKey({ kind: 'text', files: ['/a', '/b'] }), requestKey({ kind: 'text', files: ['/a/b'] }));
  assert.equal(requestKey(null), '');
});

test('the HTML shell escapes its title', () => {
  assert.equal(escapeHtml('<img src=x onerror="alert(1)">'), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
});
