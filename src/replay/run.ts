/**
 * Replays a whole ops file, streaming it line by line. Shared by the CLI and the extension.
 */
import { EventTable } from '../analysis/eventTable';
import { type AnalysisSession, devicesOf, summaryOf } from '../analysis/session';
import { readLines } from '../io/lines';
import { type KernelProfile, resolveProfileWithNote } from '../model/profiles';
import { parseHeader, parseJsonLine, parseOp, ReplayFormatError, type ReplayHeader, type ReplayOp } from './format';
import { type OpOutcome, Replayer } from './replay';

export interface ReplayRunOptions {
  /** `--kernel`: overrides the header's kernel tag. */
  readonly kernel?: string;
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
          replayer = new Replayer(header, resolved.profile, {
            check: opts.check ?? false,
            ...(opts.events ? { events: opts.events, file } : {}),
          });
          return;
        }
        const op = parseOp(o, header as ReplayHeader, lineNo);
        const outcome = replayer.apply(op);
        ops++;
        opts.onOp?.(outcome, op);
      },
      overlong(lineNo, bytes) {
        throw new ReplayFormatError(lineNo, `line of ${bytes} bytes is too long for an op line`);
      },
    },
    { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
  );
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
