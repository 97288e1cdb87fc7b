/**
 * Runs many CLI invocations in one process (cli-batch.ts starts it): `main()` in-process, its
 * stdout and stderr going to the files the parent gave as fd 1 and 2, so every byte passes through
 * the CLI's real output path. After each case a JSON line in the results file says where its
 * output is, its exit status, time and the process's peak RSS; before each case the progress file
 * names it, so a case that hangs or kills the process is known.
 *
 *   node --import tsx test/unit/cli-batch-child.ts CASES.json RESULTS.jsonl PROGRESS OUT ERR
 */
import fs from 'node:fs';
import { main } from '../../src/cli/main';

async function run(): Promise<void> {
  const [casesFile, resultsFile, progressFile, outFile, errFile] = process.argv.slice(2) as [string, string, string, string, string];
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8')) as { args: string[] }[];
  const size = (f: string) => fs.statSync(f).size;
  for (let i = 0; i < cases.length; i++) {
    fs.writeFileSync(progressFile, String(i));
    const out0 = size(outFile);
    const err0 = size(errFile);
    const t0 = performance.now();
    let code: number;
    try {
      code = await main((cases[i] as { args: string[] }).args);
    } catch (e) {
      // main() handles everything; anything that escapes it is a crash too
      fs.writeSync(2, `batch: main() threw: ${(e as Error).stack}\n`);
      code = 70;
    }
    const ms = performance.now() - t0;
    fs.appendFileSync(
      resultsFile,
      `${JSON.stringify({ i, code, out: [out0, size(outFile)], err: [err0, size(errFile)], ms, maxRssKb: process.resourceUsage().maxRSS })}\n`,
    );
  }
}

void run();
