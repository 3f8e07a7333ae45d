#!/usr/bin/env node
// Eval suites (src/eval): what running a suite costs, so `twelve eval` can sit in CI.
//   example suites  `twelve eval email-classifier` and `twelve eval refunds` as CI runs them: a
//                   fresh CLI process each time, offline from recordings, on a fresh project
//                   store. Wall time per run (median and p90), cases, and ms per case.
//   runner          runSuite() in-process on the bench's 10-step adder thread (9 `add` calls +
//                   "done", the steps.mjs workload) with the instant scripted model: cases per
//                   second at concurrency 1 and 4, i.e. the runner's own overhead (an isolated
//                   SQLite store per run, a real thread and scoring per case).
// Every case must pass, or the bench fails.
//
// Usage: node bench/evals.mjs [--runs 5] [--cases 200]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, printRows } from './lib/table.mjs';
import { adderAgent, adderModel } from './lib/twelve.mjs';
import { runSuite } from '../dist/eval/run-suite.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' }, cases: { type: 'string', default: '200' } } });
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'twelve-bench-evals-'));

try {
  console.log(`example suites: ${opts.runs} runs each, a fresh \`twelve eval <agent>\` process and project store per run\n`);
  const rows = [];
  for (const agent of ['email-classifier', 'refunds']) {
    const times = [];
    let cases = 0;
    for (let run = 0; run < Number(opts.runs); run++) {
      const env = { ...process.env, TWELVE_DATABASE_URL: `sqlite:${join(work, `${agent}-${run}.db`)}`, TWELVE_LOG: 'off' };
      delete env.TWELVE_MODEL_MODE;
      const started = performance.now();
      const out = execFileSync(process.execPath, ['bin/twelve.js', 'eval', agent, '--json'], { cwd: root, env, encoding: 'utf8' });
      times.push(performance.now() - started);
      const report = JSON.parse(out);
      const summary = report.candidate.summary;
      if (summary.failed !== 0) throw new Error(`${agent}: ${summary.failed} case(s) failed: ${out}`);
      cases = summary.cases;
    }
    const median = percentile(times, 50);
    rows.push([agent, String(cases), median.toFixed(0), percentile(times, 90).toFixed(0), (median / cases).toFixed(0)]);
  }
  printRows(['suite', 'cases', 'wall ms (median)', 'p90', 'ms/case'], rows);

  const n = Number(opts.cases);
  console.log(`\nrunner: ${n} cases of a 10-step thread (scripted instant model), in-process\n`);
  const cases = Array.from({ length: n }, (_, i) => ({ id: `case-${i}`, input: `add ${i}`, expect: { status: 'completed', maxSteps: 10 } }));
  const runnerRows = [];
  for (const concurrency of [1, 4]) {
    const started = performance.now();
    const { summary } = await runSuite({ agent: adderAgent(), cases, models: { 'scripted:bench': adderModel(9) }, modelMode: 'live', concurrency, env: { TWELVE_LOG: 'off' } });
    const ms = performance.now() - started;
    if (summary.passed !== n) throw new Error(`runner: ${summary.failed} of ${n} cases failed`);
    runnerRows.push([String(concurrency), ms.toFixed(0), (ms / n).toFixed(2), ((n * 1000) / ms).toFixed(0), ((ms / n) / 10).toFixed(3)]);
  }
  printRows(['concurrency', 'total ms', 'ms/case', 'cases/s', 'ms/step'], runnerRows);
} finally {
  rmSync(work, { recursive: true, force: true });
}
