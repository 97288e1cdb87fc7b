/**
 * Replays a whole ops file, streaming it line by line. Shared by the CLI and the extension.
 */
import { EventTable } from '../analysis/eventTable';
import { type AnalysisSession, devicesOf, summaryOf } from '../analysis/session';
import { readLines } from '../io/lines';
import { type DynamicConfig, machineDynamicConfig } from '../model/dynamic';
import { dynamicUnsupported, type KernelProfile, resolveProfileWithNote } from '../model/profiles';
import { dmaZone } from '../model/setup';
import { parseHeader, parseJsonLine, parseOp, ReplayFormatError, type ReplayHeader, type ReplayOp } from './format';
import { type OpOutcome, Replayer } from './replay';

export interface ReplayRunOptions {
  /** `--kernel`: overrides the header's kernel tag. */
  readonly kernel?: string;
  /** `--dynamic`: CONFIG_SWIOTLB_DYNAMIC on (as a header's "dynamic": true). */
  readonly dynamic?: boolean;
  readonly check?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytesRead: number) => void;
  /** Called after every op, in file order. */
  readonly onOp?: (outcome: OpOutcome, op: ReplayOp) => void;
  /** Record every op as a row of this table. */
  readonly events?: EventTable;
}

export interface ReplayRun {
  readonly file: string;
  readonly header: ReplayHeader;
  readonly profile: KernelProfile;
  /** Where the profile came from: "--kernel" or "header". */
  readonly profileSource: 'option' | 'header' | 'default';
  readonly profileNote?: string;
  readonly replayer: Replayer;
  readonly lines: number;
  readonly ops: number;
}

/** RAM of the machine a replay with dynamic pools assumes: the format describes the pool only. */
export const REPLAY_DYNAMIC_RAM = 16 * 2 ** 30;

/**
 * Dynamic pools for a replay: an x86 machine of REPLAY_DYNAMIC_RAM with the file's pool
 * reserved; maps without a device limit take transient pools from anywhere.
 */
function replayDynamicConfig(header: ReplayHeader, profile: KernelProfile, line: number): DynamicConfig {
  const why = dynamicUnsupported(profile);
  if (why) throw new ReplayFormatError(line, `dynamic swiotlb: ${why}`);
  return machineDynamicConfig({
    arch: 'x86',
    ramBytes: REPLAY_DYNAMIC_RAM,
    zone: dmaZone(profile, { arch: 'x86', possibleCpus: 1 }),
    pool: { start: header.poolBase, nslabs: header.nslabs, nareas: header.nareas },
    encrypted: false,
    canGrow: true,
    pageShift: header.pageShift,
  });
}

/** The profile for a file when neither --kernel nor the header says: the verified 6.1 LTS. */
export const DEFAULT_REPLAY_KERNEL = '6.1';

export async function runReplay(file: string, opts: ReplayRunOptions = {}): Promise<ReplayRun> {
  let header: ReplayHeader | undefined;
  let replayer: Replayer | undefined;
  let profileSource: ReplayRun['profileSource'] = 'default';
  let profileNote: string | undefined;
  let ops = 0;
  const lines = await readLines(
    file,
    {
      line(text, lineNo) {
        try {
          replayLine(text, lineNo);
        } catch (e) {
          // a wrong value is shown as the line writes it
          throw e instanceof ReplayFormatError ? e.withSource(text) : e;
        }
      },
      overlong(lineNo, bytes) {
        throw new ReplayFormatError(lineNo, `line of ${bytes} bytes is too long for an op line`);
      },
    },
    { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
  );
  function replayLine(text: string, lineNo: number): void {
    if (text.trim() === '') return;
    const o = parseJsonLine(text, lineNo);
    if (!replayer) {
      header = parseHeader(o, lineNo);
      const name = opts.kernel ?? header.kernel ?? DEFAULT_REPLAY_KERNEL;
      profileSource = opts.kernel ? 'option' : header.kernel ? 'header' : 'default';
      let resolved: ReturnType<typeof resolveProfileWithNote>;
      try {
        resolved = resolveProfileWithNote(name);
      } catch (e) {
        throw new ReplayFormatError(lineNo, (e as Error).message);
      }
      profileNote = resolved.note;
      const dynamic = opts.dynamic || header.dynamic ? replayDynamicConfig(header, resolved.profile, lineNo) : undefined;
      replayer = new Replayer(header, resolved.profile, {
        check: opts.check ?? false,
        ...(opts.events ? { events: opts.events, file } : {}),
        ...(dynamic ? { dynamic } : {}),
      });
      return;
    }
    const op = parseOp(o, header as ReplayHeader, lineNo);
    const outcome = replayer.apply(op);
    ops++;
    opts.onOp?.(outcome, op);
  }
  if (!replayer || !header) throw new ReplayFormatError(Math.max(lines, 1), 'empty file: no header line {"op":"init",...}');
  return {
    file,
    header,
    profile: replayer.profile,
    profileSource,
    ...(profileNote ? { profileNote } : {}),
    replayer,
    lines,
    ops,
  };
}

/** A replay as an analysis session for the views. */
export async function replaySession(
  file: string,
  opts: Omit<ReplayRunOptions, 'events'> = {},
): Promise<{ run: ReplayRun; session: AnalysisSession }> {
  const events = new EventTable();
  const run = await runReplay(file, { ...opts, events });
  const pool = run.replayer.pool;
  const session: AnalysisSession = {
    kind: 'replay',
    files: [file],
    kernel: run.profile.name,
    platform: 'swiotlb allocator only',
    pool: { start: pool.start, nslabs: pool.nslabs, nareas: pool.nareas, areaNslabs: pool.areaNslabs, source: 'header' },
    events,
    summary: summaryOf(run.replayer.recorder.books),
    devices: devicesOf(run.replayer.recorder.books, events.devices.values),
    diagnostics: [],
  };
  return { run, session };
}
