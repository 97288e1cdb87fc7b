/**
 * The output channel with every control character from an input escaped, as the CLI prints it
 * (escapeControls): a device name or message cannot smuggle escape sequences into the channel.
 */
import type * as vscode from 'vscode';
import { escapeControls } from '../protocol/escape';

export function escapedOutputChannel(c: vscode.OutputChannel): vscode.OutputChannel {
  return {
    name: c.name,
    append: (value) => c.append(escapeControls(value)),
    appendLine: (value) => c.appendLine(escapeControls(value)),
    replace: (value) => c.replace(escapeControls(value)),
    clear: () => c.clear(),
    show: (columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean) =>
      c.show(columnOrPreserveFocus as vscode.ViewColumn, preserveFocus),
    hide: () => c.hide(),
    dispose: () => c.dispose(),
  };
}
