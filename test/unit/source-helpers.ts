/** Helpers for the driver source tests: C text in a temporary driver folder, analysed. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeSource, type SourceAnalysis, type SourceOptions } from '../../src/source/analyze';
import { extractFile } from '../../src/source/extract';
import type { Site } from '../../src/source/sites';
import { loadCParser } from '../../src/source/treeSitter';
import type { ParsedFile } from '../../src/source/types';

export const ROOT = path.join(__dirname, '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'source');

/** Writes files into a fresh folder (one driver) and returns its path. */
export function driver(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swlens-src-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Analyses C text as the single file of a driver (plus extra files of that driver). */
export async function analyzeC(text: string, opts: SourceOptions = {}, extra: Record<string, string> = {}): Promise<SourceAnalysis> {
  const dir = driver({ 'drv.c': text, ...extra });
  return analyzeSource([dir], { root: dir, ...opts });
}

export async function extract(text: string): Promise<ParsedFile> {
  await loadCParser();
  return extractFile('t.c', text);
}

/** The site on a 1-based line. */
export function siteAt(a: SourceAnalysis, line: number, api?: string): Site {
  const s = a.sites.find((x) => x.raw.span.row + 1 === line && (!api || x.api === api));
  if (!s) throw new Error(`no ${api ?? 'site'} on line ${line}: ${a.sites.map((x) => `${x.raw.span.row + 1}:${x.api}`).join(', ')}`);
  return s;
}

/** The 1-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  if (i < 0) throw new Error(`marker not found: ${marker}`);
  return i + 1;
}

export function codes(a: SourceAnalysis, code?: string) {
  return a.diagnostics.filter((d) => !code || d.code === code);
}
