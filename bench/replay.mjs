#!/usr/bin/env node
// Replay of recorded threads (src/replay): what checking a change against recorded threads
// costs. Same workload as steps.mjs: a 10-step thread (9 `add` calls + "done") on a durable
// SQLite file, recorded once by running it.
//   one thread    replayThread() of one recorded 10-step thread, repeated: on the release
//                 that recorded it, and on a candidate rebuilt from a stored manifest (another
//                 release id, so both sides are rendered and compared at every step).
//                 Median and p90 per replay; target < 20 ms.
//   batch         replayThreads() of 1,000 recorded 10-step threads in one fresh process
//                 (a child, so its peak RSS is the batch's alone): total time, per thread,
//                 and peak RSS.
// Every replay must come out "same" with 10 steps compared, or the bench fails.
//
// Usage: node bench/replay.mjs [--repeat 200] [--threads 1000]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile, printRows } from './lib/table.mjs';
import { adderAgent, adderModel } from './lib/twelve.mjs';
import { createRuntime, openStore } from '../dist/index.js';
import { replayThread } from '../dist/replay/replay-thread.js';
import { replayThreads } from '../dist/replay/replay-batch.js';
import { releaseFromManifest } from '../dist/replay/release-from-manifest.js';

const TURNS = 9; // 9 add calls + "done" = 10 model steps
const { values: opts } = parseArgs({ options: { repeat: { type: 'string', default: '200' }, threads: { type: 'string', default: '1000' }, child: { type: 'string' } } });

function check(result) {
  if (result.outcome !== 'same' || result.stepsCompared !== TURNS + 1) throw new Error(`replay of ${result.threadId}: ${JSON.stringify(result)}`);
}

if (opts.child) {
  // The batch, in a fresh process: open the store, replay every thread of the agent, report.
  const store = openStore(`sqlite:${opts.child}`);
  const runtime = createRuntime({ agents: [adderAgent()], store, env: { TWELVE_DATABASE_URL: `sqlite:${opts.child}`, TWELVE_LOG: 'off' } });
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const { results, summary } = await replayThreads({ store, candidate: runtime.release('adder'), limit: Number(opts.threads) });
  const ms = performance.now() - started;
  results.forEach(check);
  process.send({ threads: summary.threads, same: summary.same, ms, rssBeforeMb: rssBefore / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024 });
  await runtime.close();
  await store.close();
  process.exit(0);
}

const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-replay-'));
try {
  const dbPath = join(workDir, 'twelve.db');
  const runtime = createRuntime({ agents: [adderAgent()], models: { 'scripted:bench': adderModel(TURNS) }, env: { TWELVE_DATABASE_URL: `sqlite:${dbPath}`, TWELVE_LOG: 'off' } });
  const threadCount = Number(opts.threads);
  const recordStarted = performance.now();
  for (let i = 0; i < threadCount; i++) await runtime.launch({ agent: 'adder', input: `thread ${i}` });
  await runtime.runUntilIdle();
  const recordMs = performance.now() - recordStarted;

  const [one] = await runtime.listThreads({ agent: 'adder', limit: 1 });
  const current = runtime.release('adder');
  const stored = await runtime.store.getRelease(current.releaseId);
  const fromManifest = releaseFromManifest(stored.manifest, { releaseId: 'rel_bench_candidate' });
  const repeat = Number(opts.repeat);
  const rows = [];
  for (const [label, candidate] of [['same release', current], ['candidate from a manifest', fromManifest]]) {
    for (let i = 0; i < 20; i++) check(await replayThread({ store: runtime.store, threadId: one.id, candidate })); // warm-up
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      check(await replayThread({ store: runtime.store, threadId: one.id, candidate }));
      times.push(performance.now() - t0);
    }
    rows.push([label, String(repeat), percentile(times, 50).toFixed(2), percentile(times, 90).toFixed(2)]);
  }
  await runtime.close();

  console.log(`one recorded 10-step thread (${one.seq} events), replayed ${repeat} times per row`);
  printRows(['candidate', 'replays', 'median ms', 'p90 ms'], rows);
  const worst = Math.max(...rows.map((r) => Number(r[2])));
  console.log(`${worst < 20 ? 'OK' : 'OVER'}: median ${worst} ms per 10-step replay (target < 20 ms)\n`);

  const batch = await new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', dbPath, '--threads', String(threadCount)], { stdio: 'inherit' });
    child.on('message', resolve);
    child.on('error', reject);
    child.on('exit', (code) => code !== 0 && reject(new Error(`batch child exited ${code}`)));
  });
  console.log(`batch: ${batch.threads} recorded 10-step threads (recorded in ${(recordMs / 1000).toFixed(1)} s), replayed in one fresh process`);
  printRows(
    ['threads', 'same', 'total s', 'ms/thread', 'RSS before MB', 'peak RSS MB'],
    [[String(batch.threads), String(batch.same), (batch.ms / 1000).toFixed(2), (batch.ms / batch.threads).toFixed(2), batch.rssBeforeMb.toFixed(0), batch.peakRssMb.toFixed(0)]],
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
