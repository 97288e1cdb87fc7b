// Compares what `analyze --json` makes of one capture recorded several ways (record.sh's folder):
// the tracefs text is the reference; trace.dat (and its v6 / uncompressed v7 conversions) and
// perf script must give the same maps, unmaps, failures, peak occupancy and placements matched.
// usage: node compare.mjs CLI.js FOLDER     (exit status 1 on any difference)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [cli, dir] = process.argv.slice(2);
const extra = ['dmesg.txt', 'cmdline.txt'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
const books = (file) => {
  const j = JSON.parse(execFileSync(process.execPath, [cli, 'analyze', path.join(dir, file), ...extra, '--json'], { maxBuffer: 1 << 28 }).toString());
  const c = j.counts;
  return {
    events: j.input.events,
    kernel: j.kernel.profile,
    pool: `${j.pool.nslabs}@${j.pool.base}`,
    maps: c.maps,
    unmaps: c.unmaps,
    failed: c.failed,
    bounced: c.bounced,
    peak: j.occupancy.peak_slots,
    compared: j.check.compared,
    matched: j.check.matched,
    diagnostics: j.diagnostics.length,
  };
};
const ref = books('trace.txt');
console.log(`trace.txt: ${JSON.stringify(ref)}`);
let bad = 0;
const others = ['trace.dat', 'trace-v6.dat', 'trace-v7-none.dat', 'perf-script.txt', 'perf-script-pid-ns.txt', 'perf-script-period-header.txt'].filter((f) =>
  fs.existsSync(path.join(dir, f)),
);
for (const f of others) {
  const b = books(f);
  const diff = Object.keys(ref).filter((k) => JSON.stringify(ref[k]) !== JSON.stringify(b[k]));
  console.log(`${f}: ${diff.length ? `DIFFERS in ${diff.map((k) => `${k} ${JSON.stringify(b[k])}`).join(', ')}` : 'same analysis'}`);
  if (diff.length) bad++;
}
if (ref.maps < 100) {
  console.log(`only ${ref.maps} maps in the text: the capture did not work`);
  bad++;
}
process.exit(bad ? 1 : 0);
