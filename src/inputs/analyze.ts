/**
 * Runs a route (router.ts): the one analysis behind the CLI's `analyze` and the extension's
 * commands. Every kind gives the same things: the session the panel shows, the report for people,
 * the JSON document of `analyze --json`, and what the panel says around the session (title,
 * notes, sizing advice, model check). The front ends only present them.
 */
import { readFile, stat } from 'node:fs/promises';
import type { CompareRows } from '../analysis/compareModel';
import { EventTable } from '../analysis/eventTable';
import type { SessionExtras } from '../analysis/panelModel';
import type { AnalysisSession } from '../analysis/session';
import { logViewOf } from '../analysis/sessionLog';
import { JsonObjectWriter } from '../io/jsonStream';
import { PLATFORM_IDS, platformById } from '../model/dma/platform';
import { DEFAULT_GROW_DELAY } from '../model/dynamic';
import { dynamicUnsupported, resolveProfileWithNote } from '../model/profiles';
import { type ReplayRun, replaySession } from '../replay/run';
import { formatSummary, type ReplaySummary, summarizeReplay } from '../replay/summary';
import { type Comparison, compareScenario } from '../scenario/compare';
import { MAX_SCENARIO_BYTES, parseScenario, type Scenario, ScenarioError } from '../scenario/format';
import { decisionJson, formatScenario, scenarioHeadJson, scenarioTailJson } from '../scenario/report';
import { runScenario, type ScenarioRun } from '../scenario/run';
import { analyzeSource, type SourceAnalysis, type SourceOptions } from '../source/analyze';
import { formatSource, sourceJsonFields, willFailText } from '../source/report';
import { buildReport, formatReport, type TextReport } from '../trace/report';
import { analyzeText, type ParseWorkers, type TextAnalysis } from '../trace/run';
import { traceSession } from '../trace/session';
import { type Route, RouteError } from './router';

export interface AnalyzeContext {
  /** Rows the session keeps for the panel (default: none, as the CLI needs none). */
  readonly rowLimit?: number;
  /** Traces: the table the session's rows go into (the caller may read it while it grows: the chart of a running analysis). */
  readonly events?: EventTable;
  readonly signal?: AbortSignal;
  /** 0 ... 1, with what is being done. */
  readonly onProgress?: (fraction: number, message?: string) => void;
  /** Text of files open in an editor with unsaved changes, by path: read instead of the file. */
  readonly overlay?: ReadonlyMap<string, string>;
  /** Driver source: how the front end finds the C parser, names its settings, limits file sizes. */
  readonly source?: Pick<SourceOptions, 'parser' | 'settingNames' | 'root' | 'maxFileBytes'>;
  /** Traces: parsing in worker threads (null: in this thread; default: beside the bundle). */
  readonly parseWorkers?: ParseWorkers | null;
  /** Traces: skip the sizing pass. */
  readonly noSizing?: boolean;
  /**
   * Where the JSON document (`analyze --json`) goes, chunk by chunk: a scenario's calls are written
   * as the run makes them and a driver's sites one by one, so a long report never exists as one
   * object or one string. Without it no JSON is made for those two kinds.
   */
  readonly jsonOut?: (chunk: string) => void;
  /** Scenarios compared (--compare): every compared call goes here too (the compare view). */
  readonly compareRows?: CompareRows;
  /** Scenarios: how the user raises the call limit, for its message ("raise it with --max-calls N"). */
  readonly maxCallsHint?: string;
}

interface Common {
  readonly route: Route;
  readonly session: AnalysisSession;
  readonly extras: Omit<SessionExtras, 'request'>;
  /** The report for people. */
  readonly text: string;
}

/** What a route's analysis found, by kind. */
export type InputAnalysis = Common &
  (
    | { readonly kind: 'text'; readonly json: TextReport; readonly analysis: TextAnalysis }
    | { readonly kind: 'replay'; readonly json: ReplaySummary; readonly run: ReplayRun; readonly mismatches: readonly string[] }
    | { readonly kind: 'scenario'; readonly run: ScenarioRun; readonly scenario: Scenario; readonly comparison?: Comparison }
    | { readonly kind: 'source'; readonly analysis: SourceAnalysis }
  );

const basename = (p: string) => p.replace(/^.*[\\/]/, '');

function checkPlatform(platform: string | undefined): void {
  if (platform && !platformById(platform)) throw new RouteError(`unknown platform "${platform}" (one of: ${PLATFORM_IDS.join(', ')})`);
}

export async function analyzeRoute(route: Route, ctx: AnalyzeContext = {}): Promise<InputAnalysis> {
  switch (route.kind) {
    case 'text':
      return analyzeTraces(route, ctx);
    case 'replay':
      return analyzeReplay(route, ctx);
    case 'scenario':
      return analyzeScenario(route, ctx);
    default:
      return analyzeDriverSource(route, ctx);
  }
}

/** A last line for a trace's report where only its end shows (an output channel): the numbers that matter most. */
export function summaryLine(name: string, r: TextReport): string {
  const c = r.counts;
  const parts = [`${c.maps} maps (${c.bounced_maps} bounced, ${c.failed} failed)`];
  if (r.occupancy.peak_slots !== null) parts.push(`peak ${r.occupancy.peak_slots} of ${r.pool.nslabs} slots`);
  const p = r.check.profiles[0];
  if (p && p.compared > 0) parts.push(`${p.name} predicted ${p.matched}/${p.compared} placements, fits ${r.check.fits.join(', ')}`);
  if (r.log.full_messages) parts.push(`${r.log.full_messages} "buffer is full" in the log`);
  return `SWIOTLB Lens: ${name}: ${parts.join('; ')}`;
}

async function analyzeTraces(route: Extract<Route, { kind: 'text' }>, ctx: AnalyzeContext): Promise<InputAnalysis> {
  const o = route.options;
  const analysis = await analyzeText(route.inputs, {
    ...o,
    events: ctx.events ?? new EventTable(),
    rowLimit: ctx.rowLimit ?? 0,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onProgress ? { onProgress: (f: number) => ctx.onProgress?.(f, `${Math.round(f * 100)} %`) } : {}),
    ...(ctx.parseWorkers !== undefined ? { parseWorkers: ctx.parseWorkers } : {}),
    ...(ctx.noSizing ? { noSizing: true } : {}),
  });
  const r = buildReport(analysis);
  ctx.jsonOut?.(JSON.stringify(r, null, 2));
  const best = r.check.profiles.find((p) => p.name === r.kernel.profile) ?? r.check.profiles[0];
  const notes = [...r.conclusions];
  for (const d of route.duplicates) notes.push(`${d.file} was read once: it has the same content as ${d.sameAs}.`);
  if (r.kernel.note) notes.push(r.kernel.note);
  if (r.check.note) notes.push(r.check.note);
  if (r.sizing_note) notes.push(r.sizing_note);
  return {
    kind: 'text',
    route,
    session: traceSession(analysis),
    extras: {
      title: filesTitle(route.used.length ? route.used : route.files),
      advice: r.sizing?.advice ?? null,
      check: best && best.compared > 0 ? { compared: best.compared, matched: best.matched ?? 0, profile: best.name } : null,
      notes,
      log: logViewOf(r, analysis.analyzer.log),
    },
    text: formatReport(r),
    json: r,
    analysis,
  };
}

/** The files an analysis read, by name: all of them up to four, else the first three and how many more. */
export function filesTitle(files: readonly string[]): string {
  const names = files.map(basename);
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')} + ${names.length - 3} more`;
}

/** Mismatches and races listed in the report, at most. */
const MAX_MISMATCHES = 100;

async function analyzeReplay(route: Extract<Route, { kind: 'replay' }>, ctx: AnalyzeContext): Promise<InputAnalysis> {
  const file = route.files[0];
  let size = 0;
  try {
    size = (await stat(file)).size;
  } catch {
    // reported by the replay below
  }
  const mismatches: string[] = [];
  const { run, session } = await replaySession(file, {
    ...route.options,
    check: true,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress(bytes) {
      if (size > 0) ctx.onProgress?.(bytes / size);
    },
    onOp(outcome) {
      if (mismatches.length < MAX_MISMATCHES) {
        if (outcome.mismatch) mismatches.push(outcome.mismatch);
        if (outcome.race) mismatches.push(outcome.race);
      }
    },
  });
  const summary = summarizeReplay(run, true);
  ctx.jsonOut?.(JSON.stringify(summary, null, 2));
  const notes = [`${summary.kernel.title} (profile ${summary.kernel.name}, from ${summary.kernel.source}).`];
  if (summary.kernel.note) notes.push(summary.kernel.note);
  if (summary.check && summary.check.mismatches + summary.check.races > 0)
    notes.push(...mismatches.slice(0, 20).map((m) => `Model check: ${m}`));
  return {
    kind: 'replay',
    route,
    session,
    extras: {
      title: `Replay: ${basename(file)}`,
      check: summary.check?.compared
        ? { compared: summary.check.compared, matched: summary.check.matched, profile: run.profile.name }
        : null,
      notes,
    },
    text: [formatSummary(summary), ...mismatches.map((m) => `  ${m}`)].join('\n'),
    json: summary,
    run,
    mismatches,
  };
}

/** A scenario with the kernel, platform and dynamic swiotlb the user chose over its own. */
export function withOverrides(s: Scenario, opts: { kernel?: string; platform?: string; dynamic?: boolean }): Scenario {
  let out = s;
  if (opts.kernel) {
    const r = resolveProfileWithNote(opts.kernel);
    out = { ...out, kernel: r.profile, ...(r.note ? { kernelNote: r.note } : {}) };
  }
  if (opts.platform) {
    checkPlatform(opts.platform);
    out = { ...out, platform: platformById(opts.platform) as Scenario['platform'] };
  }
  if (opts.dynamic && !out.dynamic) out = { ...out, dynamic: { growDelay: DEFAULT_GROW_DELAY } };
  if (out.dynamic) {
    const why = dynamicUnsupported(out.kernel);
    if (why) throw new RouteError(`--dynamic / "dynamic": ${why}`);
    if (out.platform.xen?.pv) throw new RouteError('dynamic swiotlb: Xen PV dom0 sets its pool up with a remap hook, which cannot grow');
  }
  return out;
}

/** A scenario read whole (within MAX_SCENARIO_BYTES) and parsed, with the user's overrides. */
async function readScenario(file: string, route: Extract<Route, { kind: 'scenario' }>, ctx: AnalyzeContext): Promise<Scenario> {
  let text = ctx.overlay?.get(file);
  if (text === undefined) {
    const size = (await stat(file)).size;
    if (size > MAX_SCENARIO_BYTES)
      throw new ScenarioError(file, [
        {
          path: '$',
          line: 1,
          column: 1,
          message: `${size} bytes is larger than the ${MAX_SCENARIO_BYTES / 2 ** 20} MiB a scenario may be`,
        },
      ]);
    text = await readFile(file, 'utf8');
  }
  const parsed = parseScenario(text, file, {
    ...(route.options.maxCalls !== undefined ? { maxCalls: route.options.maxCalls } : {}),
    ...(ctx.maxCallsHint ? { maxCallsHint: ctx.maxCallsHint } : {}),
  });
  return withOverrides(parsed, route.options);
}

/**
 * Throws ScenarioError (every problem with its JSON path and line) when the file does not parse.
 * The run keeps no decisions: the JSON gets each one as it is made (ctx.jsonOut), the views read
 * the event table.
 */
async function analyzeScenario(route: Extract<Route, { kind: 'scenario' }>, ctx: AnalyzeContext): Promise<InputAnalysis> {
  const file = route.files[0];
  const scenario = await readScenario(file, route, ctx);
  const json = ctx.jsonOut ? new JsonObjectWriter(ctx.jsonOut) : undefined;
  const run = runScenario(scenario, {
    keepDecisions: false,
    ...(route.options.maxCalls !== undefined ? { maxCalls: route.options.maxCalls } : {}),
    ...(json
      ? {
          onStart() {
            json.fieldsOf(scenarioHeadJson(scenario));
            json.openArray('calls');
          },
          onDecision(d, index, line) {
            json.item(decisionJson(d, index, line));
          },
        }
      : {}),
  });
  const comparison = route.options.compare ? compareScenario(scenario, ctx.compareRows) : undefined;
  if (json) {
    json.closeArray();
    json.fieldsOf(scenarioTailJson(run, comparison));
    json.end();
  }
  return {
    kind: 'scenario',
    route,
    session: run.session,
    extras: { title: `Scenario: ${scenario.name}`, notes: scenario.description ? [scenario.description] : [] },
    text: formatScenario(run, comparison),
    run,
    scenario,
    ...(comparison ? { comparison } : {}),
  };
}

async function analyzeDriverSource(route: Extract<Route, { kind: 'source' }>, ctx: AnalyzeContext): Promise<InputAnalysis> {
  const o = route.options;
  checkPlatform(o.platform);
  const a = await analyzeSource(route.files, {
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.kernel ? { kernel: o.kernel } : {}),
    ...(o.cmdline ? { cmdline: o.cmdline } : {}),
    ...(o.cpus !== undefined ? { cpus: o.cpus } : {}),
    ...(o.dynamic ? { dynamic: true } : {}),
    ...(o.sourceDefaults !== undefined ? { settings: o.sourceDefaults } : {}),
    ...(o.sourceDevices ? { devices: o.sourceDevices } : {}),
    ...(route.context.length ? { context: route.context } : {}),
    ...(ctx.overlay ? { overlay: ctx.overlay } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...ctx.source,
    onProgress(done, total, file) {
      if (total) ctx.onProgress?.(done / total, `${done}/${total} ${file}`);
    },
  });
  if (ctx.jsonOut) {
    // site by site: the report of a big driver never exists as one object or one string
    const json = new JsonObjectWriter(ctx.jsonOut);
    json.fields(sourceJsonFields(a, route.files));
    json.end();
  }
  const s = a.session.summary;
  const simulated = a.session.events.length;
  // the sites the diagnostics say will fail, beside the cards (which count the workload's calls)
  const willFail = willFailText(a);
  const failed = s.failed + s.hangs;
  const cards = simulated
    ? `The figures above count the annotated workload: ${s.maps} map${s.maps === 1 ? '' : 's'}, ${failed} failed.`
    : 'The figures above count the annotated workload: none ran (no site has depth= or count=).';
  const notes = [
    `${a.sites.length} DMA call site${a.sites.length === 1 ? '' : 's'} in ${a.stats.parsed} file${a.stats.parsed === 1 ? '' : 's'}; ${a.diagnostics.length} diagnostic${a.diagnostics.length === 1 ? '' : 's'} (CodeLens and hover at each call, Problems).`,
    ...(willFail ? [willFail] : []),
    simulated
      ? `The chart and table show the annotated workload (${s.maps} maps of the sites with depth= or count=), run together through the model.`
      : 'No site has a depth= or count= annotation: nothing ran as a workload, so the chart and table are empty. Each call still has its verdict in the editor.',
  ];
  return {
    kind: 'source',
    route,
    session: a.session,
    extras: {
      title: `Driver source: ${route.files.map((f) => basename(f)).join(', ')}`,
      notes,
      ...(willFail ? { advice: `${willFail} ${cards}` } : {}),
    },
    text: formatSource(a),
    analysis: a,
  };
}
