/**
 * HTML shell for every webview: strict CSP with a per-load nonce, scripts and styles only from
 * the extension's own dist/ and media/ folders, no remote content.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { escapeHtml } from '../protocol/escape';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** The shell for a bundle of dist/ (webview.js: the panel, side.js: the side view, compare.js: the compare view). */
export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  title: string,
  bundle: 'webview.js' | 'side.js' | 'compare.js',
): string {
  const nonce = randomBytes(16).toString('base64');
  // its own nonce for styles: the page exposes it (the csp-nonce meta), never the script nonce
  const styleNonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', bundle));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  const csp = [
    "default-src 'none'",
    // the nonce: the toolkit's focus-visible probe adds a <style> element with the page's
    // csp-nonce (below); nothing else may add styles inline
    `style-src ${webview.cspSource} 'nonce-${styleNonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${styleNonce}">
<link rel="stylesheet" href="${style}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main id="root" class="${bundle === 'side.js' ? 'side' : bundle === 'compare.js' ? 'compare' : 'panel'}"><p class="muted">Waiting for data...</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
