// Scale-out: model steps per second with 1, 2 and 4 `twelve worker` processes sharing one
// store, with a model of 0 ms and of 100 ms latency (an OpenAI-compatible server on
// 127.0.0.1), plus pickup latency (launch -> a worker holds the thread). PostgreSQL
// (TWELVE_BENCH_DATABASE_URL, default the local server) and SQLite side by side.
// With 100 ms latency the work is I/O-bound, so 2 workers should give >= 1.8x of 1.
//
// Fairness: every fleet gets a warm-up round first (one thread per slot, untimed: model SDK
// loaded, HTTP and database connections open), the timed batch is launched 16 at a time (a
// sequential launch loop paced the start), and it is big enough for several rounds of the
// largest fleet (192 threads = 6 rounds of 4 workers x 8), so ramp-up and the last, partly
// filled round are a small part of the time. Completion is polled with a cheap count.
//
//   node scale.mjs [--threads 200] [--slow-threads 192] [--concurrency 8] [--poll-ms 250]
//                  [--workers 1,2,4] [--latency 0,100] [--only postgres|sqlite]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRuntime } from '../dist/index.js';
import agent from './agents/scale-agent.mjs';
import { startModelServer } from './lib/model-server.mjs';
import { percentile, printRows } from './lib/table.mjs';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '200' },
    'slow-threads': { type: 'string', default: '192' },
    concurrency: { type: 'string', default: '8' },
    'poll-ms': { type: 'string', default: '250' },
    latency: { type: 'string' },
    workers: { type: 'string', default: '1,2,4' },
    only: { type: 'string' },
  },
});
const steps = 4;
const concurrency = Number(values.concurrency);
const pollMs = Number(values['poll-ms']);
const fleets = values.workers.split(',').map(Number);
const bin = fileURLToPath(new URL('../bin/twelve.js', import.meta.url));
const agentFile = fileURLToPath(new URL('./agents/scale-agent.mjs', import.meta.url));
const adminUrl = process.env.TWELVE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresDatabase() {
  const { default: pg } = await import('pg');
  const name = `twelve_bench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

function sqliteDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'twelve-scale-'));
  return { url: `sqlite:${join(dir, 'twelve.db')}`, async drop() { rmSync(dir, { recursive: true, force: true }); } };
}

function startWorkers(count, env) {
  return Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [bin, 'worker', '--config', agentFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ready = new Promise((resolve, reject) => {
      let text = '';
      child.stderr.on('data', (chunk) => {
        text += chunk;
        if (/ready in/.test(text)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${text}`)));
    });
    return { child, ready };
  });
}

async function stopWorkers(workers) {
  await Promise.all(
    workers.map(({ child }) => new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', resolve);
      child.kill('SIGTERM');
    })),
  );
}

/** Waits until `expected` threads have completed: a cheap count (GROUP BY status), every 25 ms. */
async function waitAll(runtime, expected) {
  for (;;) {
    const stats = await runtime.store.stats();
    if ((stats.threadsByStatus.completed ?? 0) >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Launches `count` threads, `parallel` at a time (a sequential loop would pace the run on PostgreSQL). */
async function launchAll(runtime, count, prefix, parallel = 16) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await runtime.launch({ agent: 'scale', input: `${prefix}${next++}` });
    }),
  );
}

/**
 * Model steps per second for `threads` threads on `workerCount` worker processes. Each worker
 * first runs a warm-up round (one thread per slot: it loads the model SDK and opens its HTTP
 * and database connections), untimed; then the timed batch is launched (16 launches in
 * flight) and the clock runs from the first launch to the last thread completed.
 */
async function measure(kind, workerCount, latencyMs, threads) {
  const db = kind === 'postgres' ? await postgresDatabase() : sqliteDatabase();
  const model = await startModelServer({ latencyMs, steps });
  const env = {
    ...process.env,
    TWELVE_DATABASE_URL: db.url,
    OPENAI_API_KEY: 'sk-bench-0000000000',
    OPENAI_BASE_URL: model.baseURL,
    TWELVE_WORKER_CONCURRENCY: String(concurrency),
    TWELVE_POLL_MS: String(pollMs),
  };
  const runtime = createRuntime({ agents: [agent], env });
  const workers = startWorkers(workerCount, env);
  try {
    await Promise.all(workers.map((w) => w.ready));
    const warmup = workerCount * concurrency;
    await launchAll(runtime, warmup, 'w');
    await waitAll(runtime, warmup);
    const started = performance.now();
    await launchAll(runtime, threads, 't');
    await waitAll(runtime, warmup + threads);
    const seconds = (performance.now() - started) / 1000;
    return (threads * (steps + 1)) / seconds;
  } finally {
    await stopWorkers(workers);
    await runtime.close();
    await model.close();
    await db.drop();
  }
}

async function pickup(kind, samples = 15) {
  const db = kind === 'postgres' ? await postgresDatabase() : sqliteDatabase();
  const model = await startModelServer({ latencyMs: 0, steps });
  const env = { ...process.env, TWELVE_DATABASE_URL: db.url, OPENAI_API_KEY: 'sk-bench-0000000000', OPENAI_BASE_URL: model.baseURL, TWELVE_POLL_MS: '1000' };
  const runtime = createRuntime({ agents: [agent], env });
  const workers = startWorkers(1, env);
  const times = [];
  try {
    await Promise.all(workers.map((w) => w.ready));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const thread = await runtime.launch({ agent: 'scale', input: `p${i}` });
      for (;;) {
        const events = await runtime.loadEvents(thread.id, 1);
        if (events.length > 0) break; // the worker appended the first step: it picked the thread up
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      times.push(performance.now() - started);
      await waitAll(runtime, i + 1);
      // Launch at a random point of the idle worker's poll interval, so polling shows its average.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
    }
  } finally {
    await stopWorkers(workers);
    await runtime.close();
    await model.close();
    await db.drop();
  }
  return { p50: percentile(times, 50), p90: percentile(times, 90) };
}

const kinds = values.only ? [values.only] : ['postgres', 'sqlite'];
const latencies = values.latency ? values.latency.split(',').map(Number) : [0, 100];
const rows = [];
for (const kind of kinds) {
  for (const latency of latencies) {
    const threads = latency === 0 ? Number(values.threads) : Number(values['slow-threads']);
    const results = [];
    for (const workers of fleets) {
      process.stderr.write(`${kind}, ${latency} ms model, ${workers} worker(s), ${threads} threads...\n`);
      results.push(await measure(kind, workers, latency, threads));
    }
    rows.push([`${kind}, model ${latency} ms, ${threads} threads`, ...results.map((r) => r.toFixed(0)), ...results.slice(1).map((r) => (r / results[0]).toFixed(2) + 'x')]);
  }
}
console.log(`\nmodel steps per second (each worker process: concurrency ${concurrency}, poll ${pollMs} ms; ${steps} tool turns + 1 answer per thread)\n`);
printRows(['store, model latency', ...fleets.map((n) => `${n} worker${n === 1 ? '' : 's'}`), ...fleets.slice(1).map((n) => `${n} vs ${fleets[0]}`)], rows);
const pickups = [];
for (const kind of kinds) {
  process.stderr.write(`${kind}: pickup latency...\n`);
  const p = await pickup(kind);
  pickups.push([kind, p.p50.toFixed(1), p.p90.toFixed(1)]);
}
console.log('\npickup latency: launch -> first step appended by an idle worker (ms; worker poll interval 1000 ms)\n');
printRows(['store', 'p50 ms', 'p90 ms'], pickups);
