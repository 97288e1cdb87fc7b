/** The webview side of the typed protocol (src/protocol/messages.ts). */
import type { HostMessage, WebviewMessage } from '../src/protocol/messages';
import { isHostMessage } from '../src/protocol/messages';

interface VsCodeApi<S> {
  postMessage(message: WebviewMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export function connect<S>(onMessage: (m: HostMessage) => void): VsCodeApi<S> {
  const api = acquireVsCodeApi<S>();
  window.addEventListener('message', (e: MessageEvent) => {
    // Only messages of the protocol are acted on; anything else is dropped.
    if (isHostMessage(e.data)) onMessage(e.data);
  });
  return api;
}
