/**
 * What the .vsix ships: every image the README shows is a file of the repository that
 * `vsce ls` (the packager's own file list, from .vscodeignore) puts into the package, so the
 * README on the extension's page shows its screenshots. Breaks when an image is renamed, left out
 * of .vscodeignore, or the README links one that does not exist.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');

function readmeImages(): string[] {
  const md = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...md.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
}

test('README images are relative files of the repository that the package ships', () => {
  const images = readmeImages();
  assert.ok(images.length >= 2, `README shows ${images.length} images`);
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const shipped = new Set(
    execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  for (const img of images) {
    assert.ok(!/^[a-z]+:/i.test(img), `${img}: remote content in the README`);
    assert.ok(fs.existsSync(path.join(ROOT, img)), `${img}: no such file`);
    assert.ok(shipped.has(img), `${img}: not in the package (vsce ls)`);
  }
});
