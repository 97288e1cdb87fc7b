import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml } from '../../src/protocol/escape';
import { isHostMessage, isWebviewMessage } from '../../src/protocol/messages';

test('webview -> host messages are validated', () => {
  assert.ok(isWebviewMessage({ type: 'ready' }));
  assert.ok(isWebviewMessage({ type: 'revealLine', file: '/x/ops.jsonl', line: 3 }));
  for (const bad of [
    null,
    'ready',
    [],
    { type: 'revealLine', file: '/x', line: 0 },
    { type: 'revealLine', file: '', line: 1 },
    { type: 'revealLine', file: '/x', line: 1.5 },
    { type: 'revealLine', file: 7, line: 1 },
    { type: 'runCommand', command: 'rm -rf' },
  ]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test('host -> webview messages are validated', () => {
  assert.ok(isHostMessage({ type: 'error', message: 'x' }));
  assert.ok(!isHostMessage({ type: 'replaySummary', summary: null }));
  assert.ok(!isHostMessage({ type: 'html', html: '<img src=x onerror=alert(1)>' }));
});

test('the HTML shell escapes its title', () => {
  assert.equal(escapeHtml('<img src=x onerror="alert(1)">'), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
});
