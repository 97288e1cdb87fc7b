/**
 * The panel's webview bundle (dist/webview.js). Every string from an input file is set with
 * textContent, never parsed as HTML.
 */
import type { PanelState } from '../src/protocol/messages';
import { PanelApp } from './panel';
import { registerToolkit } from './toolkit';
import { connect } from './vscode';

// CSP violations in this webview (the e2e tests read them; a strict CSP must meet no inline style)
const violations: string[] = [];
(window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
document.addEventListener('securitypolicyviolation', (e) => {
  if (violations.length < 50) violations.push(`${e.effectiveDirective} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`);
});
registerToolkit();
const root = document.getElementById('root') as HTMLElement;
let app: PanelApp | undefined;
const api = connect<PanelState>((m) => app?.onMessage(m));
app = new PanelApp(root, api);
// the saved state tells the host what to show again (after a hide or a reload)
api.postMessage({ type: 'ready', width: window.innerWidth });
