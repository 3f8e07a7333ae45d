#!/usr/bin/env node
// Fault suite, long version: the chaos of test/fault.test.ts run for longer on PostgreSQL.
// N `twelve worker` processes drive M threads of the fault agent (2 idempotent side effects
// each, test/fixtures/fault-agent.ts) while a random worker is SIGKILLed and restarted every
// ~0.5 s, the model server answers 5xx or hangs at random, and the database restarts a few
// times. Prints a table of counts; exits 1 if a thread did not complete, an effect is
// missing or doubled, a log has a seq gap or duplicate, or a worker died by itself.
//
// The database is a dedicated embedded PostgreSQL (so it can be stopped and started). With
// --database external it is a fresh database on TWELVE_BENCH_DATABASE_URL (default the local
// server), and the restarts are skipped (the script says so).
//
// The chaos driver is TypeScript (test/support/chaos.ts): loaded here through tsx, a root
// dependency. Workers run the built CLI (bin/twelve.js -> dist): `npm run build` first.
//
//   node fault.mjs [--threads 1500] [--kills 200] [--workers 3] [--concurrency 4]
//                  [--kill-interval 500] [--db-restarts 3] [--database embedded|external] [--stall 120]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';
import { printRows } from './lib/table.mjs';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1500' },
    kills: { type: 'string', default: '200' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'kill-interval': { type: 'string', default: '500' },
    'db-restarts': { type: 'string', default: '3' },
    database: { type: 'string', default: 'embedded' },
    // Give up when nothing moved (no event, no finished thread, no worker ready) for this many seconds.
    stall: { type: 'string', default: '120' },
  },
});
const threads = Number(values.threads);
const minKills = Number(values.kills);
const dbRestarts = Number(values['db-restarts']);
if (!existsSync(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)))) throw new Error('dist/ is missing: run `npm run build` at the repository root first');

register();
const { runFaultSuite } = await import('../test/support/chaos.ts');
const { startEmbeddedPostgres } = await import('../test/support/embedded-postgres.ts');
const { default: pg } = await import('pg');

async function createDatabase(adminUrl, name) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

let server;
let skipped;
if (values.database === 'embedded') {
  try {
    server = await startEmbeddedPostgres();
  } catch (error) {
    skipped = `no embedded PostgreSQL could be started (${String(error.message).split('\n')[0]})`;
  }
} else {
  skipped = '--database external: the script does not control that server';
}
const name = `twelve_fault_${Date.now().toString(36)}`;
const adminUrl = server?.url ?? process.env.TWELVE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseUrl = await createDatabase(adminUrl, name);
if (skipped && dbRestarts > 0) process.stderr.write(`DATABASE RESTARTS SKIPPED: ${skipped}; running the chaos on ${new URL(adminUrl).host} without restarting it\n`);

const restartEvery = Math.max(1, Math.floor((minKills - 20) / Math.max(1, dbRestarts)));
let result;
try {
  result = await runFaultSuite({
    databaseUrl,
    threads,
    workers: Number(values.workers),
    concurrency: Number(values.concurrency),
    steps: 2,
    killIntervalMs: Number(values['kill-interval']),
    minKills,
    errorRate: 0.08,
    hangRate: 0.03,
    ...(server && dbRestarts > 0
      ? {
          restartDatabase: {
            afterKills: Math.min(20, minKills),
            everyKills: restartEvery,
            times: dbRestarts,
            restart: async () => {
              await server.stop();
              await new Promise((resolve) => setTimeout(resolve, 1_000));
              await server.start();
            },
          },
        }
      : {}),
    stallMs: Number(values.stall) * 1000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
} finally {
  if (server) await server.destroy();
  else {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}

const r = result;
const problems = [];
if (r.stalled) problems.push(`gave up: ${r.stalled}`);
if (r.completed !== r.threads) problems.push(`${r.threads - r.completed} threads did not complete (${JSON.stringify(r.statuses)})`);
if (r.missingEffects) problems.push(`${r.missingEffects} tool calls without exactly one effect`);
if (r.strayEffects) problems.push(`${r.strayEffects} effects for no tool call`);
if (r.unbracketedRuns) problems.push(`${r.unbracketedRuns} tool runs without a durable tool_started`);
if (r.seqAnomalies) problems.push(`${r.seqAnomalies} threads with a seq gap or duplicate`);
if (r.workerCrashes) problems.push(`${r.workerCrashes} workers exited by themselves`);
if (r.databaseRestarts && r.listenersBack !== r.workers) problems.push(`only ${r.listenersBack}/${r.workers} workers listening again after a restart`);
const otherFailures = Object.entries(r.toolFailures).filter(([code]) => code !== 'tool_interrupted');
if (otherFailures.length) problems.push(`tool failures: ${JSON.stringify(Object.fromEntries(otherFailures))}`);

const n = (value) => value.toLocaleString('en-US');
console.log(`\nfault suite on PostgreSQL: ${r.workers} workers x concurrency ${values.concurrency}, a worker SIGKILLed every ~${values['kill-interval']} ms, model 5xx 8% / hang 3%, 2 effects per thread`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}${skipped ? `; database restarts skipped: ${skipped}` : ''}\n`);
printRows(
  ['count', 'value'],
  [
    ['threads', n(r.threads)],
    ['completed', n(r.completed)],
    ['worker kills (SIGKILL)', n(r.kills)],
    ['workers that died by themselves', n(r.workerCrashes)],
    ['database restarts', `${n(r.databaseRestarts)}${r.databaseRestarts ? ` (${n(r.databaseDowntimeMs)} ms down in all)` : ''}`],
    ['workers listening again after each', r.databaseRestarts ? `${r.listenersBack}/${r.workers} (within ${n(r.listenersBackMs)} ms)` : '-'],
    ['model requests', n(r.modelRequests)],
    ['model 5xx injected', n(r.injected5xx)],
    ['model hangs injected', n(r.injectedHangs)],
    ['tool calls', n(r.toolCalls)],
    ['effects (fault_effects rows)', n(r.effects)],
    ['tool attempts (fault_attempts rows)', n(r.toolAttempts)],
    ['tool re-runs', n(r.toolReruns)],
    ['  of which found the effect done', n(r.rerunsAfterEffect)],
    ['calls given up after 3 interrupted runs', `${n(r.abandonedCalls)}${r.abandonedCalls ? ` (${r.abandonedWithEffect} with their effect)` : ''}`],
    ['calls without exactly one effect', n(r.missingEffects)],
    ['stray effects', n(r.strayEffects)],
    ['runs without tool_started', n(r.unbracketedRuns)],
    ['seq anomalies', n(r.seqAnomalies)],
    ['worker loop errors logged', n(r.workerErrors)],
    ['kills that waited for a replacement to be ready', n(r.killsDelayed)],
    ['new worker ready in (median / max)', `${n(r.workerReadyMs.median)} / ${n(r.workerReadyMs.max)} ms`],
    ['elapsed', `${(r.elapsedMs / 1000).toFixed(1)} s`],
  ],
);
if (r.workerErrorSamples.length) console.log(`\nworker errors (samples):\n  ${r.workerErrorSamples.join('\n  ')}`);
const givenUpBeforeEffect = r.abandonedCalls - r.abandonedWithEffect;
const effectsLine = givenUpBeforeEffect
  ? `every effect at most once per key (exactly once for every call that ran to the end; ${givenUpBeforeEffect} calls given up by the runtime before their effect)`
  : 'every effect exactly once per key';
console.log(problems.length ? `\nFAILED: ${problems.join('; ')}` : `\nOK: every thread completed; ${effectsLine}; every log gapless`);
// process.exit, not process.exitCode: importing embedded-postgres installs an exit hook
// (async-exit-hook) that ends the process with status 0 when the event loop drains.
process.exit(problems.length ? 1 : 0);
