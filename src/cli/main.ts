/**
 * swiotlb-lens command line: the same model and inputs as the extension, for scripts and CI.
 */
import { PROFILE_NAMES } from '../model/profiles';
import { CmdlineError } from '../model/setup';
import { escapeControls } from '../protocol/escape';
import { ReplayFormatError } from '../replay/format';
import { DEFAULT_MAX_SCENARIO_CALLS } from '../scenario/format';
import { analyzeCommand } from './analyze';
import { BrokenPipe, stderr, stdout } from './output';
import { poolCommand } from './pool';
import { replayCommand } from './replay';
import { UsageError } from './usage';

export const VERSION = '0.1.0';

const MAIN_HELP = `swiotlb-lens ${VERSION}: which DMA mappings bounce through the Linux swiotlb, and why

Usage: swiotlb-lens <command> [options]

Commands:
  analyze PATH    analyse a trace, a kernel log, a scenario or driver source
  replay FILE     replay swiotlb allocator ops (JSON Lines) through a kernel profile
  pool            the default bounce pool a kernel sets up at boot, and what it prints
  help [COMMAND]  show help for a command

Options:
  -h, --help      show help
  -V, --version   print the version

Kernel profiles (--kernel): ${PROFILE_NAMES.join(', ')}, or a release such as 6.1.192.
Run "swiotlb-lens <command> --help" for the options of a command.
`;

export const REPLAY_HELP = `Usage: swiotlb-lens replay FILE [--kernel PROFILE] [--dynamic] [--check] [--summary] [--json]

Replays a file of swiotlb allocator ops (the golden / replay format: a header line
{"op":"init","nslabs":N,"nareas":A,"pool_base":"0x...",...} then one map, alloc, unmap,
sync_for_cpu or sync_for_device per line) and prints one JSON line per op:
  {"id":7,"ok":true,"index":48,"offset":3980,"tlb_addr":"0x9c018f8c","used":36}
  {"id":9,"ok":false,"reason":"full","used":36}
  {"id":7,"freed_slots":18,"used":64}
A map with "observed_index" (the slot a real kernel used) reports the model's own prediction,
then follows the kernel.  FILE may be gzip-compressed (.gz).

Options:
  --kernel PROFILE  kernel profile, overriding the file's "kernel" (default 6.1):
                    ${PROFILE_NAMES.join(', ')}, or a release (6.1.50, 6.12.117)
  --dynamic         CONFIG_SWIOTLB_DYNAMIC (6.6+; as a header's "dynamic": true): maps that
                    find no slot get a transient pool ("pool":"transient"), a worker adds
                    pools ("pool":"added"); the machine is x86 with 16 GiB
  --check           compare with the file's "expect"/"used" answers: print each mismatch with
                    its line number and a last line "N ops, M mismatches, R races"; exit 1 on
                    any mismatch
  --summary         print a summary for people instead of the op lines
  --json            with --summary: the summary as one JSON object
  -h, --help        show this help

Exit status: 0 replayed (and, with --check, no mismatch); 1 mismatches; 2 bad input or usage.
`;

export const POOL_HELP = `Usage: swiotlb-lens pool [--cmdline "LINE"] [--cpus N] [--ram SIZE] [--kernel PROFILE]
                        [--arch x86|arm64] [--guest sev|tdx|realm] [--max-phys ADDR]
                        [--available SIZE] [--pool-base ADDR] [--dynamic]
                        [--board rpi4] [--zone-dma-limit ADDR] [--dram-start ADDR] [--json]

The default swiotlb pool a kernel sets up at boot: swiotlb= parsing (slabs, areas,
force/noforce, C base rules), memory-encryption sizing (6 % of RAM, 64 MiB ... 1 GiB), areas from
the possible CPUs rounded to a power of two, the power-of-two pool rounding, the halving
fall-back, and the lines the kernel prints.

Options:
  --cmdline LINE    kernel command line (or just "swiotlb=...")
  --cpus N          possible CPUs (default 1)
  --ram SIZE        RAM, e.g. 8G, 512M (decides memory-encryption sizing and >4 GiB memory)
  --max-phys ADDR   highest physical address + 1 (default: from --ram)
  --kernel PROFILE  kernel profile (default 6.1)
  --arch ARCH       x86 (default) or arm64
  --guest KIND      sev, tdx or realm: a confidential-computing guest (forces bouncing)
  --available SIZE  memory the boot allocator can give the pool (shows the halving fall-back)
  --pool-base ADDR  physical start of the pool, for the "mapped [mem ...]" line
  --dynamic         CONFIG_SWIOTLB_DYNAMIC (6.6+): what the pool grows by, and where
  --board NAME      arm64 board whose device tree limits DMA (rpi4: 1 GiB)
  --zone-dma-limit ADDR
                    arm64: highest address every DMA master reaches (DT dma-ranges, IORT);
                    ZONE_DMA and the pool's place follow
  --dram-start ADDR arm64: where RAM starts (default 0)
  --json            one JSON object
  -h, --help        show this help
`;

export const ANALYZE_HELP = `Usage: swiotlb-lens analyze PATH... [--json] [--kernel PROFILE] [--platform PROFILE]
                           [--cmdline "LINE"] [--cpus N] [--compare] [--dynamic] [--max-calls N]
                           [--defaults HINTS] [--device KEY=HINTS]...

Analyses what PATH holds, told apart by content:
  - a kernel trace (ftrace text, trace-cmd report, perf script, trace-cmd's trace.dat) and/or kernel log (dmesg, journal), or a
    folder or tar archive written by the capture script; a lone trace or log is read with
    the capture files beside it (dmesg.txt, cmdline.txt, ...);
  - replay ops (JSON Lines from an "init" op): replayed, with a summary (as replay --summary);
  - a scenario (JSON: platform, kernel, pool, devices, workload);
  - driver source (C files or a folder of them; a lone C file is read with its folder's).

Options:
  --json            one JSON object instead of a report
  --kernel PROFILE  kernel profile (default: from the input, else 6.1)
  --platform NAME   platform profile (bare-metal x86, SEV guest, Xen PV dom0, ...)
  --cmdline LINE    kernel command line, for the pool geometry (swiotlb=...)
  --cpus N          possible CPUs, for the number of areas
  --compare         scenarios on Xen: also run dma-direct with the Xen hooks and compare
                    every call with the kernel's xen-swiotlb
  --dynamic         scenarios, replay ops and driver source: CONFIG_SWIOTLB_DYNAMIC on
                    (6.6+ kernels)
  --max-calls N     scenarios: most DMA API calls the workload may expand to (${DEFAULT_MAX_SCENARIO_CALLS})
  --defaults HINTS  driver source: defaults in the annotation grammar, as the setting
                    swiotlbLens.source.defaults (e.g. "ram=32G cpus=8 where=high")
  --device KEY=HINTS
                    driver source, repeatable: settings for one device, as the setting
                    swiotlbLens.source.devices (e.g. --device '&pdev->dev=dma_mask=40')
  -h, --help        show this help

Exit status: 0 analysed; 1 the analysis found failures it was asked to flag; 2 bad input or usage.
`;

function helpFor(cmd: string | undefined): string {
  switch (cmd) {
    case 'analyze':
      return ANALYZE_HELP;
    case 'replay':
      return REPLAY_HELP;
    case 'pool':
      return POOL_HELP;
    default:
      return MAIN_HELP;
  }
}

/** What a path given on the command line can be wrong with, by errno code: FILE: message, exit 2. */
const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many levels of symbolic links (a symlink loop?)',
  ENAMETOOLONG: 'the path is too long',
  ENXIO: 'no such device',
  EMFILE: 'too many open files',
};

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '-h' || cmd === '--help') {
      stdout.write(MAIN_HELP);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '-V' || cmd === '--version') {
      stdout.line(VERSION);
      return 0;
    }
    if (cmd === 'help') {
      stdout.write(helpFor(rest[0]));
      return 0;
    }
    if (rest.includes('-h') || rest.includes('--help')) {
      stdout.write(helpFor(cmd));
      return 0;
    }
    switch (cmd) {
      case 'analyze':
        return await analyzeCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'pool':
        return poolCommand(rest);
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof BrokenPipe) return 0;
    try {
      stdout.flush();
    } catch {
      // the reader is gone; the error still goes to stderr
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      stderr.line(`swiotlb-lens: ${(e as Error).message}`);
      stderr.line(`Run "swiotlb-lens ${cmd && cmd !== 'help' ? `${cmd} ` : ''}--help" for usage.`);
      return 2;
    }
    if (e instanceof ReplayFormatError || e instanceof CmdlineError) {
      stderr.line((e as Error).message);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    const fileProblem = err.code !== undefined ? FILE_ERRORS[err.code] : undefined;
    if (fileProblem !== undefined) {
      stderr.line(`swiotlb-lens: ${err.path ?? ''}: ${fileProblem}`);
      return 2;
    }
    if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') {
      stderr.line(`swiotlb-lens: corrupt gzip data (${err.message})`);
      return 2;
    }
    stderr.line(`swiotlb-lens: internal error: ${err.stack ?? err.message}`);
    return 70;
  } finally {
    try {
      stdout.flush();
    } catch {
      // reader gone
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(escapeControls(`swiotlb-lens: internal error: ${(e as Error).stack}\n`));
      process.exitCode = 70;
    },
  );
}
