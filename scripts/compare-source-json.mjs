// `node scripts/compare-source-json.mjs BEFORE.json AFTER.json`: whether two `analyze DIR --json`
// reports of driver source say the same (sites, pairs, diagnostics and the rest), leaving out
// what measures the run (stats.ms). Prints the first differences; exits 1 when there are any.
import fs from 'node:fs';

const [a, b] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
if (!a || !b) {
  console.error('usage: compare-source-json BEFORE.json AFTER.json');
  process.exit(2);
}
for (const j of [a, b]) if (j.stats) delete j.stats.ms;
const diffs = [];
function walk(x, y, at) {
  if (diffs.length >= 20) return;
  if (typeof x !== typeof y || Array.isArray(x) !== Array.isArray(y) || (x === null) !== (y === null)) {
    diffs.push(`${at}: ${JSON.stringify(x)?.slice(0, 200)} / ${JSON.stringify(y)?.slice(0, 200)}`);
    return;
  }
  if (x && typeof x === 'object') {
    const keys = Array.isArray(x) ? [...Array(Math.max(x.length, y.length)).keys()] : [...new Set([...Object.keys(x), ...Object.keys(y)])];
    for (const k of keys) walk(x[k], y[k], `${at}${Array.isArray(x) ? `[${k}]` : `.${k}`}`);
  } else if (x !== y) diffs.push(`${at}: ${JSON.stringify(x)} / ${JSON.stringify(y)}`);
}
walk(a, b, '');
const count = (j) => ['sites', 'pairs', 'diagnostics', 'devices', 'drivers', 'files'].map((k) => `${k} ${j[k]?.length ?? '-'}`).join(', ');
console.log(`before: ${count(a)}`);
console.log(`after:  ${count(b)}`);
if (diffs.length) {
  console.log(`DIFFERENT (first ${diffs.length}):`);
  for (const d of diffs) console.log(`  ${d}`);
  process.exit(1);
}
console.log('the same (stats.ms left out)');
