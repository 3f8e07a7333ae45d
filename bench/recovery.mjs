#!/usr/bin/env node
// Recovery under a backlog: how long the threads of a SIGKILLed worker wait before another
// worker takes their next step, while hundreds of runnable threads are queued (so "take
// over only when nothing else is free" would leave them waiting for their lease to expire).
//
// W `twelve worker` processes (concurrency C, default lease 30 s) drive threads of the scale
// agent (bench/agents/scale-agent.mjs: S tool turns, a model answering after L ms) on
// PostgreSQL; a backlog of B runnable threads is kept queued (topped up as it drains). K
// times, a random worker is SIGKILLed (never before every worker is ready) and replaced at
// once. The threads it held at that moment are "affected"; for each, the time from the
// SIGKILL to the first event appended after it (the event's own timestamp; same host, same
// clock) is its recovery time. Prints p50 / p99 / max, and the backlog at each kill.
// Target: p99 <= 2 s.
//
// --root <dir> runs another checkout's build (dist/, bin/, bench/agents/) instead, e.g. the
// code before a change, for a "before" figure.
//
// PostgreSQL: TWELVE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
// a fresh database is created and dropped.
//
//   node recovery.mjs [--kills 10] [--backlog 300] [--workers 3] [--concurrency 4] [--steps 6] [--latency 50] [--root ..]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startModelServer } from './lib/model-server.mjs';
import { benchDatabase } from './lib/bench-database.mjs';
import { percentile, printRows } from './lib/table.mjs';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '10' },
    backlog: { type: 'string', default: '300' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    steps: { type: 'string', default: '6' },
    latency: { type: 'string', default: '50' },
    'kill-interval': { type: 'string', default: '2000' },
    root: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) },
  },
});
const kills = Number(values.kills);
const backlog = Number(values.backlog);
const workerCount = Number(values.workers);
const concurrency = Number(values.concurrency);
const root = resolve(values.root);
const TARGET_S = 2;
const bin = resolve(root, 'bin/twelve.js');
const agentFile = resolve(root, 'bench/agents/scale-agent.mjs');
if (!existsSync(resolve(root, 'dist/index.js'))) throw new Error(`${root}/dist is missing: run \`npm run build\` there first`);
const { createRuntime } = await import(pathToFileURL(resolve(root, 'dist/index.js')).href);
const { default: agent } = await import(pathToFileURL(agentFile).href);

const database = await benchDatabase('twelve_recovery');
const databaseUrl = database.url;
const { pg } = database;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^(TWELVE_|OPENAI_|ANTHROPIC_)/.test(k)));
const model = await startModelServer({ latencyMs: Number(values.latency), steps: Number(values.steps) });
// The defaults a fleet runs with (lease 30 s, poll 1 s), so the figure is what a user sees.
const env = { ...baseEnv, TWELVE_DATABASE_URL: databaseUrl, OPENAI_API_KEY: 'sk-bench-0000000000', OPENAI_BASE_URL: model.baseURL, TWELVE_WORKER_CONCURRENCY: String(concurrency) };
const runtime = createRuntime({ agents: [agent], env });
const db = new pg.Client({ connectionString: databaseUrl });

const workers = [];
function startWorker(index) {
  const child = spawn(process.execPath, [bin, 'worker', '--config', agentFile], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const worker = { child, owner: undefined, stderr: '' };
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    worker.stderr += chunk;
    worker.owner ??= /twelve worker (\S+): ready in/.exec(worker.stderr)?.[1];
  });
  child.on('exit', (code, signal) => {
    if (workers[index] === worker && !stopping) process.stderr.write(`worker exited by itself (${code ?? signal}): ${worker.stderr.slice(-300)}\n`);
  });
  workers[index] = worker;
}

async function queued() {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM threads WHERE status = 'runnable' AND lease_owner IS NULL`);
  return rows[0].n;
}
let launched = 0;
async function topUp() {
  const missing = backlog - (await queued());
  for (let i = 0; i < missing; i++) await runtime.launch({ agent: 'scale', input: `thread ${launched++}` });
}

let stopping = false;
const samples = []; // seconds from SIGKILL to the next step, per affected thread
const backlogAtKill = [];
const pending = [];
try {
  await runtime.listThreads({ limit: 1 }); // migrated
  await db.connect();
  await topUp();
  for (let i = 0; i < workerCount; i++) startWorker(i);
  process.stderr.write(`${launched} threads queued; ${workerCount} workers x concurrency ${concurrency}; ${kills} kills\n`);
  for (let k = 0; k < kills; k++) {
    await sleep(Number(values['kill-interval']));
    while (workers.some((w) => !w.owner)) await sleep(20); // never kill before the replacement is ready
    await topUp();
    const victim = workers[Math.floor(Math.random() * workerCount)];
    const { rows: held } = await db.query(`SELECT id FROM threads WHERE lease_owner = $1 AND status = 'runnable'`, [victim.owner]);
    backlogAtKill.push(await queued());
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    startWorker(workers.indexOf(victim));
    process.stderr.write(`kill ${k + 1}: ${held.length} threads held, backlog ${backlogAtKill.at(-1)}\n`);
    for (const { id } of held) {
      pending.push(
        (async () => {
          // The first event appended after the kill, by whoever took the thread over.
          for (;;) {
            const { rows } = await db.query(`SELECT at FROM events WHERE thread_id = $1 AND at >= $2 ORDER BY seq LIMIT 1`, [id, new Date(killedAt)]);
            if (rows[0]) return samples.push((rows[0].at.getTime() - killedAt) / 1000);
            const { rows: thread } = await db.query(`SELECT status FROM threads WHERE id = $1`, [id]);
            if (thread[0].status !== 'runnable') return undefined; // finished just before the kill: not affected
            if (Date.now() - killedAt > 120_000) throw new Error(`thread ${id}: no step 120 s after the kill`);
            await sleep(50);
          }
        })(),
      );
    }
  }
  await Promise.all(pending);
} finally {
  stopping = true;
  for (const w of workers) w.child.kill('SIGKILL');
  await runtime.close();
  await db.end().catch(() => undefined);
  await model.close();
  await database.drop();
}

const s = (x) => x.toFixed(2);
console.log(`\nrecovery on PostgreSQL under a backlog: ${workerCount} workers x concurrency ${concurrency}, lease 30 s (default), model ${values.latency} ms, ${values.steps} tool turns per thread`);
console.log(`${root === fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '') ? 'this checkout' : root}; node ${process.version}, ${process.platform}/${process.arch}\n`);
printRows(
  ['kills', 'affected threads', 'backlog at kill (min / median)', 'p50 s', 'p99 s', 'max s'],
  [[String(kills), String(samples.length), `${Math.min(...backlogAtKill)} / ${percentile(backlogAtKill, 50)}`, s(percentile(samples, 50)), s(percentile(samples, 99)), s(Math.max(...samples))]],
);
const p99 = percentile(samples, 99);
console.log(`\n${p99 <= TARGET_S ? 'OK' : 'OVER TARGET'}: p99 ${s(p99)} s from SIGKILL to the next step (target ${TARGET_S} s)`);
if (p99 > TARGET_S) process.exitCode = 1;
