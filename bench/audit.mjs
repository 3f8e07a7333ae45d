#!/usr/bin/env node
/**
 * The tamper-evident log's costs: `twelve audit verify --all` over a store of 100k events (time and
 * events/s, from the CLI's own summary and wall time of the process), the per-append cost of
 * writing the chain (eventHash micro-timed on a typical model_called event; appends timed as
 * built, to set beside steps.mjs), on SQLite (default) or PostgreSQL.
 *
 *   npm run build && node bench/audit.mjs [--threads 5000] [--events 20] [--database sqlite|<postgres url>]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { threads: { type: 'string', default: '5000' }, events: { type: 'string', default: '20' }, database: { type: 'string', default: 'sqlite' } } });
const threads = Number(values.threads);
const perThread = Number(values.events);
const { eventHash } = await import(join(root, 'dist/audit/chain.js'));
const { openStore } = await import(join(root, 'dist/store/open.js'));

const dir = mkdtempSync(join(tmpdir(), 'twelve-audit-bench-'));
let url = `sqlite:${join(dir, 'twelve.db')}`;
let dropDatabase;
if (values.database !== 'sqlite') {
  const pg = (await import('pg')).default;
  const name = `twelve_audit_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: values.database });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(values.database);
  target.pathname = `/${name}`;
  url = target.toString();
  dropDatabase = async () => {
    const client = new pg.Client({ connectionString: values.database });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  };
}

const modelCalled = (i) => ({
  type: 'model_called',
  data: { model: 'openai:gpt-4o-2024-08-06', attempt: 1, fallbackIndex: 0, latencyMs: 812, usage: { inputTokens: 1200 + i, outputTokens: 80 }, costUsd: 0.0038, text: 'Calling add.', toolCalls: [{ callId: `c${i}`, tool: 'add', args: { a: i, b: 2 } }], finishReason: 'tool-calls', contextMessages: 4 + i },
});

// eventHash alone, on a typical event (what every append now adds per event).
const sample = { threadId: 'th_0123456789ab', seq: 7, at: new Date().toISOString(), releaseId: 'rel_0123456789abcdef', ...modelCalled(7) };
for (let i = 0; i < 2_000; i += 1) eventHash('a'.repeat(64), sample);
const hashRuns = 50_000;
let t = performance.now();
for (let i = 0; i < hashRuns; i += 1) eventHash('a'.repeat(64), sample);
const hashMicros = ((performance.now() - t) * 1000) / hashRuns;

const store = openStore(url);
const summary = { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
t = performance.now();
let appends = 0;
for (let n = 0; n < threads; n += 1) {
  const id = `th_${String(n).padStart(8, '0')}`;
  await store.createThread({ id, agent: 'bench', releaseId: 'rel_bench', input: 'x', events: [{ type: 'thread_started', data: { agent: 'bench', input: 'x', metadata: {} } }], summary });
  for (let seq = 1; seq < perThread; seq += 1) {
    await store.append(id, seq, 'rel_bench', [modelCalled(seq)], summary);
    appends += 1;
  }
}
const appendMs = performance.now() - t;
await store.close();

t = performance.now();
const output = execFileSync(process.execPath, [join(root, 'bin/twelve.js'), 'audit', 'verify', '--all', '--json'], { env: { ...process.env, TWELVE_DATABASE_URL: url }, encoding: 'utf8' });
const wallMs = performance.now() - t;
const verdict = JSON.parse(output);
if (!verdict.intact || verdict.events !== threads * perThread) throw new Error(`unexpected verdict: ${output.slice(0, 300)}`);

const kind = values.database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
console.log(`audit chain on ${kind}: ${threads} threads x ${perThread} events = ${verdict.events} events`);
console.log('');
console.log('measure                                    value');
console.log('-----------------------------------------  ----------');
console.log(`eventHash per event (model_called)         ${hashMicros.toFixed(1)} µs`);
console.log(`append (1 event, chained), as built        ${((appendMs * 1000) / (appends + threads)).toFixed(0)} µs`);
console.log(`audit verify --all, verifying              ${verdict.ms} ms (${verdict.eventsPerSecond} events/s)`);
console.log(`audit verify --all, whole process          ${wallMs.toFixed(0)} ms`);
rmSync(dir, { recursive: true, force: true });
await dropDatabase?.();
