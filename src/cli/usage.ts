import { resolveProfileWithNote, UnknownKernelError } from '../model/profiles';

/** A mistake in how the command was called: message plus a pointer to --help, exit 2. */
export class UsageError extends Error {}

/** Rejects an unknown --kernel value before any file is read. */
export function checkKernelOption(name: string | undefined): void {
  if (name === undefined) return;
  try {
    resolveProfileWithNote(name);
  } catch (e) {
    if (e instanceof UnknownKernelError) throw new UsageError(e.message);
    throw e;
  }
}

/** "8G", "512M", "4096", "0x100000000" -> bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a size (e.g. 8G, 512M, 4096)`);
  const num = (m[1] as string).toLowerCase().startsWith('0x') ? Number.parseInt(m[1] as string, 16) : Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0] ?? '';
  const mult = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[unit] ?? 1;
  const v = Math.round(num * mult);
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: "${text}" is too large`);
  return v;
}
