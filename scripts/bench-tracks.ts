/**
 * `npm run bench:tracks [TRACE]`: what building the panel's tracks costs the extension host's
 * thread, on a big trace (default: bench:vscode's 10 M-row trace, BENCH_TRACE or the argument
 * otherwise). The trace is analysed once, as the analysis worker does it (rows spilled past the
 * budget); then, three times each, medians:
 *   - on the host (before): tracksOf() building the tracks of the panel's session on its thread;
 *   - in the worker (now): the same build where the rows are, then the host's share: receiving the
 *     transferred arrays (a MessageChannel: the deserialisation runs on the receiving thread) and
 *     adopting them (adoptTracks);
 *   - the alternative, a worker started on demand: the host's share of handing it the columns the
 *     build reads (gathered from the row store, spilled chunks read back, then copied by
 *     structured clone: the table's buffers stay the host's).
 * With the bytes of the built tracks' arrays (kept wherever they are built), and the process' peak
 * RSS before and after the first build on the host.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import { EventTable } from '../src/analysis/eventTable';
import { PanelModel } from '../src/analysis/panelModel';
import { adoptTracks, Tracks, type TracksTransfer, tracksOf } from '../src/analysis/tracks';
import { analyzeRoute } from '../src/inputs/analyze';
import { routeInputs } from '../src/inputs/router';

const FILE = process.argv[2] ?? process.env.BENCH_TRACE ?? '/tmp/swiotlb-lens-bench-vscode/capture/trace.txt';
const RUNS = 3;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number) => `${x.toFixed(0)} ms`;

function receive(x: TracksTransfer): Promise<{ copy: TracksTransfer; ms: number }> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    let t = 0;
    port2.once('message', (copy: TracksTransfer) => {
      const received = performance.now() - t;
      port1.close();
      port2.close();
      resolve({ copy, ms: received });
    });
    t = performance.now();
    port1.postMessage(x, Tracks.transferList(x));
  });
}

async function main(): Promise<void> {
  console.log(`trace: ${FILE}`);
  const route = await routeInputs([FILE]);
  if (route.kind !== 'text') throw new Error(`not a trace: ${route.kind}`);
  let t = performance.now();
  const a = await analyzeRoute(route, { rowLimit: 10_000_000, events: new EventTable() });
  if (a.kind !== 'text') throw new Error('not a trace');
  console.log(`analysed: ${a.session.events.length.toLocaleString('en-US')} rows in ${ms(performance.now() - t)}`);
  // the host's table, as the worker's transfer leaves it (spilled chunks read back by range)
  const events = EventTable.fromTransfer(a.session.events.toTransfer());
  const session = { ...a.session, events };
  const nareas = session.pool?.nareas ?? 0;
  const host: number[] = [];
  const worker: number[] = [];
  const hostNow: number[] = [];
  const recv: number[] = [];
  const onDemand: number[] = [];
  let kept = 0;
  let arrays = 0;
  let clonedBytes = 0;
  for (let run = 1; run <= RUNS; run++) {
    const model = new PanelModel(session, {});
    gc();
    const ab0 = process.memoryUsage().arrayBuffers;
    const hwm0 = hwm();
    t = performance.now();
    tracksOf(model);
    host.push(performance.now() - t);
    gc();
    if (run === 1) {
      kept = process.memoryUsage().arrayBuffers - ab0;
      console.log(`peak RSS before the host build ${mib(hwm0)}, after ${mib(hwm())}; array buffers ${mib(kept)} more after it`);
    }
    // now: built where the rows are (this thread standing for the worker), then the host's share
    t = performance.now();
    const built = new Tracks(events, nareas).toTransfer();
    worker.push(performance.now() - t);
    arrays = Tracks.transferList(built).reduce((n, b) => n + b.byteLength, 0);
    const { copy, ms: r } = await receive(built);
    const other = new PanelModel(session, {});
    t = performance.now();
    adoptTracks(other, copy);
    hostNow.push(performance.now() - t + r);
    recv.push(r);
    // the alternative: the host hands a worker the columns the build reads (copied)
    t = performance.now();
    const cols = (['outcome', 'kind', 'nslots', 'pair', 'area', 'device', 'cpu', 'api', 'size', 'time'] as const).map((c) =>
      events.gather(c),
    );
    const cloned = structuredClone(cols);
    onDemand.push(performance.now() - t);
    clonedBytes = cloned.reduce((n, c) => n + c.byteLength, 0);
    console.log(
      `run ${run}: host build ${ms(host.at(-1) as number)}; worker build ${ms(worker.at(-1) as number)}, host receive + adopt ${ms(hostNow.at(-1) as number)}; on-demand worker: host gathers + copies ${mib(clonedBytes)} in ${ms(onDemand.at(-1) as number)}`,
    );
  }
  console.log(`medians of ${RUNS} runs, ${events.length.toLocaleString('en-US')} rows:`);
  console.log(`  host thread, today's build run on it (the fallback): ${ms(median(host))}`);
  console.log(`  host thread, tracks built in the worker (now):       ${ms(median(hostNow))} (receive ${ms(median(recv))})`);
  console.log(`  the analysis worker's build (added to its run):      ${ms(median(worker))}`);
  console.log(`  host thread, handing an on-demand worker the columns: ${ms(median(onDemand))} (${mib(clonedBytes)} copied)`);
  console.log(`  the tracks' arrays: ${mib(arrays)}, kept by the host wherever they are built`);
}

void main();
