/**
 * What an input file holds, told from its content (and, for folders and C files, its name):
 * shared by the CLI's `analyze` and the extension's "Analyze File".
 */
import { open, stat } from 'node:fs/promises';

export type AnalyzeInputKind = 'scenario' | 'source' | 'text';

/** The first bytes of a file. */
async function head(path: string, bytes = 4096): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Decides what a path holds from its content (and, for folders and C files, its name). */
export async function detectInputKind(path: string): Promise<AnalyzeInputKind> {
  const st = await stat(path);
  if (st.isDirectory()) return (await looksLikeCapture(path)) ? 'text' : 'source';
  if (/\.(c|h)$/i.test(path)) return 'source';
  const h = await head(path);
  if (h[0] === 0x1f && h[1] === 0x8b) return 'text'; // gzip: traces and logs
  const text = h
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  // a scenario is one JSON object naming a workload (replay ops are JSON Lines: one object per line)
  if (text.startsWith('{') && /"workload"\s*:/.test(text) && !/^\{[^\n]*"op"\s*:/.test(text)) return 'scenario';
  return 'text';
}

/** A folder written by the capture script (it has a trace or a dmesg file). */
async function looksLikeCapture(dir: string): Promise<boolean> {
  for (const name of ['trace.txt', 'trace.txt.gz', 'dmesg.txt', 'dmesg.txt.gz', 'capture.json']) {
    try {
      await stat(`${dir}/${name}`);
      return true;
    } catch {
      // not there
    }
  }
  return false;
}

/** Replay ops (JSON Lines starting with an "init" op), plain or gzipped by name. */
export async function isReplayOps(path: string): Promise<boolean> {
  if (/\.jsonl\.gz$/i.test(path)) return true;
  if ((await stat(path)).isDirectory()) return false;
  const text = (await head(path, 1024))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return /^\{[^\n]*"op"\s*:\s*"init"/.test(text);
}
