#!/usr/bin/env node
// Memory over many threads in ONE process: a runtime must not keep anything per
// thread once the thread is done (no caches keyed by thread, no listeners, no timers
// left behind). One runtime on a durable SQLite file runs 10,000 threads one after
// another (each: 2 `add` calls + "done" = 3 model steps, checked), and memory is
// sampled after 1k, 2k, 5k and 10k completed threads:
//   RSS        resident set size (includes SQLite's page cache, bounded at ~2 MB)
//   heapUsed   V8 heap after a full GC (global.gc), i.e. what is really retained
// A flat heapUsed series is the pass condition (a leak of even 1 KB per thread would
// add ~10 MB by 10k threads). Runs itself under --expose-gc.
//
// Usage: node memory.mjs [--threads 10000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkThread } from './lib/script.mjs';
import { printRows } from './lib/table.mjs';
import { adderAgent, adderModel, sqliteRuntime } from './lib/twelve.mjs';

if (typeof global.gc !== 'function') {
  // Re-run this script with --expose-gc (and nothing inherited that could skew memory).
  const r = spawnSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: opts } = parseArgs({ options: { threads: { type: 'string', default: '10000' } } });
const total = Number(opts.threads);
const checkpoints = [1000, 2000, 5000, 10000].filter((c) => c <= total);
if (!checkpoints.includes(total)) checkpoints.push(total);
const TURNS = 2;
const LEAK_LIMIT_MB = 5; // heapUsed growth from the first sample to the last that counts as a leak

const mb = (bytes) => bytes / 1024 / 1024;
function sample(threads, elapsedMs) {
  global.gc();
  global.gc(); // a second pass collects what the first one's finalizers released
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { threads, rss: mb(rss), heapUsed: mb(heapUsed), heapTotal: mb(heapTotal), external: mb(external), elapsedMs };
}

const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-memory-'));
try {
  const { runtime } = sqliteRuntime({ dir: workDir, agents: [adderAgent()], models: { 'scripted:bench': adderModel(TURNS) } });
  let toolOutputs = [];
  runtime.subscribe((e) => {
    if (e.type === 'tool_succeeded') toolOutputs.push(e.data.result);
    else if (e.type === 'tool_failed') toolOutputs.push(`failed: ${e.data.error.message}`);
  });
  const runOne = async (t) => {
    toolOutputs = [];
    const { id } = await runtime.launch({ agent: 'adder', input: `Add up, thread ${t}.` });
    const { thread, outcome } = await runtime.runThread(id);
    if (outcome !== 'completed') throw new Error(`${id}: ${outcome}`);
    checkThread(id, { finalText: thread.output, toolOutputs }, TURNS);
  };

  // Warm-up: lazy modules, JIT, SQLite's page cache; the baseline sample follows it.
  for (let t = 0; t < 200; t++) await runOne(-t - 1);
  const samples = [sample(0, 0)];
  const t0 = performance.now();
  let done = 0;
  for (const checkpoint of checkpoints) {
    process.stderr.write(`${checkpoint} threads...\n`);
    for (; done < checkpoint; done++) await runOne(done);
    samples.push(sample(done, performance.now() - t0));
  }
  await runtime.close();

  const first = samples[1];
  const last = samples.at(-1);
  console.log(`${total.toLocaleString('en-US')} threads in one process (each ${TURNS} add calls + "done", durable SQLite), after 200 warm-up threads`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
  printRows(
    ['completed threads', 'RSS MB', 'heapUsed MB (after gc)', 'heapTotal MB', 'external MB', 'elapsed s'],
    samples.map((s) => [
      s.threads === 0 ? '0 (after warm-up)' : s.threads.toLocaleString('en-US'),
      s.rss.toFixed(1),
      s.heapUsed.toFixed(2),
      s.heapTotal.toFixed(1),
      s.external.toFixed(2),
      (s.elapsedMs / 1000).toFixed(1),
    ]),
  );
  const heapGrowth = last.heapUsed - first.heapUsed;
  const perThread = (heapGrowth * 1024 * 1024) / (last.threads - first.threads);
  console.log(
    `\nheapUsed ${first.threads.toLocaleString('en-US')} -> ${last.threads.toLocaleString('en-US')} threads: ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(2)} MB` +
      ` (${perThread.toFixed(0)} bytes/thread); RSS ${last.rss - first.rss >= 0 ? '+' : ''}${(last.rss - first.rss).toFixed(1)} MB`,
  );
  const leak = heapGrowth > LEAK_LIMIT_MB;
  console.log(leak ? `LEAK: heap grew more than ${LEAK_LIMIT_MB} MB` : 'flat: nothing retained per thread');
  if (leak) process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
