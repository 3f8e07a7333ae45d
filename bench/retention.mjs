#!/usr/bin/env node
// Retention: database size after N finished threads (default 100k, three events each:
// started, a model call with its request (kept in its event's row), completed; every 10th also a 20 KB tool result
// stored as a blob), without pruning and after `twelve prune` removed 90% of them (archive
// included, with the blobs those threads name; then the blobs nothing names any more are swept),
// on SQLite and, when a server is reachable, PostgreSQL; and the prune's throughput (threads/s,
// archive written and fsynced per batch, blob sweep included).
//
// SQLite never gives pages back to the file system by itself: a prune frees pages inside the
// file, which later appends reuse (the "live" column), and VACUUM shrinks the file. PostgreSQL
// likewise: after a plain VACUUM the space is reusable by the same tables; VACUUM FULL (which
// locks the tables: a maintenance window) returns it.
//
// Threads are written straight through the store (createThread, then one append with the
// request and blobs as the runtime sends them: recordRequest; in parallel on PostgreSQL) for speed; the prune
// is the real one (dist/retention/prune.js). The tools blob is the same for every thread (one row).
//
// Usage: npm run build && node bench/retention.mjs [--threads 100000] [--batch 500] [--only sqlite|postgres]
// PostgreSQL: TWELVE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { printRows } from './lib/table.mjs';
import { benchDatabase } from './lib/bench-database.mjs';

const { values: opts } = parseArgs({ options: { threads: { type: 'string', default: '100000' }, batch: { type: 'string', default: '500' }, only: { type: 'string' } } });
const total = Number(opts.threads);
const batch = Number(opts.batch);
const dist = new URL('../dist/', import.meta.url);
const { SqliteStore } = await import(new URL('store/sqlite/sqlite-store.js', dist));
const { runPrune } = await import(new URL('retention/prune.js', dist));
const { event } = await import(new URL('thread/events.js', dist));
const { recordRequest } = await import(new URL('model/request-record.js', dist));
const { limitResult } = await import(new URL('blobs/truncate-result.js', dist));

const tools = [
  { type: 'function', name: 'lookup_order', description: 'Looks an order up by its id: items, amounts, delivery status.', inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } },
  { type: 'function', name: 'refund', description: 'Refunds an order (part or all). Needs approval above 100 EUR.', inputSchema: { type: 'object', properties: { orderId: { type: 'string' }, amountCents: { type: 'integer' }, reason: { type: 'string' } }, required: ['orderId', 'amountCents'] } },
];
const system = { role: 'system', content: 'You handle refund requests for an online shop. Look the order up, check the policy, then refund or explain why not. Be brief and polite.' };

const old = '2020-01-01T00:00:00.000Z';
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const rows = [];
const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-retention-'));

function newThread(i) {
  const input = `Customer ${i} asks for a refund of order A-${1000 + (i % 9000)}: the parcel arrived damaged, photos attached.`;
  const recorded = recordRequest({ prompt: [system, { role: 'user', content: [{ type: 'text', text: input }] }], tools, temperature: 0, maxOutputTokens: 400 });
  const events = [
    event('model_called', { model: 'openai:gpt-4o-2024-08-06', attempt: 1, fallbackIndex: 0, latencyMs: 812.5, usage: { inputTokens: 640, outputTokens: 48 }, costUsd: 0.00208, text: 'Refund approved for the damaged parcel.', toolCalls: [], finishReason: 'stop', contextMessages: 2, request: recorded.request }),
  ];
  const blobs = [...recorded.blobs];
  if (i % 10 === 3) {
    const limited = limitResult({ order: `A-${1000 + (i % 9000)}`, history: Array.from({ length: 200 }, (_, n) => ({ at: `2026-01-${String(1 + (n % 28)).padStart(2, '0')}`, status: 'in transit', note: `scan ${n} of thread ${i}` })) }, 4096);
    events.push(event('tool_succeeded', { callId: 'call_1', result: limited.result, durationMs: 12, blob: limited.ref }));
    blobs.push(limited.blob);
  }
  events.push(event('thread_completed', { output: 'Refund approved for the damaged parcel.' }));
  return {
    request: recorded.text,
    thread: {
      id: `th_bench_${String(i).padStart(7, '0')}`,
      agent: i % 3 ? 'refunds' : 'triage',
      releaseId: 'rel_bench',
      input,
      events: [event('thread_started', { agent: 'refunds', input, metadata: { source: 'bench' } })],
      summary: { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    },
    events,
    blobs,
  };
}

async function fill(store, parallel) {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) {
      const { thread, events, blobs, request } = newThread(next++);
      await store.createThread(thread);
      // The request is kept with its model_called event (the first appended), as the runtime keeps it.
      await store.append(thread.id, 1, thread.releaseId, events, { status: 'completed', modelSteps: 1, inputTokens: 640, outputTokens: 48, costUsd: 0.00208 }, { blobs, request: { index: 0, text: request } });
    }
  }));
  return (performance.now() - started) / 1000;
}

async function prune(store, label) {
  const archive = join(workDir, `${label}.jsonl.gz`);
  const report = await runPrune({ store, before: '2021-01-01T00:00:00.000Z', batch, archive });
  rows.push([`${label}: prune ${report.threads} threads (batch ${batch}, archive ${mb(statSync(archive).size)} MB with ${report.blobsArchived} blobs); ${report.blobsDeleted} blobs swept (${mb(report.blobBytesFreed)} MB)`, '', '', `${Math.round(report.threads / (report.ms / 1000))} threads/s`]);
}

async function sqlite() {
  const { default: Database } = await import('better-sqlite3');
  const path = join(workDir, 'bench.db');
  const store = new SqliteStore({ path });
  const seconds = await fill(store, 1);
  const db = new Database(path);
  const size = (label) => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const page = db.pragma('page_size', { simple: true });
    const live = (db.pragma('page_count', { simple: true }) - db.pragma('freelist_count', { simple: true })) * page;
    const file = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    const blobs = db.prepare(`SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM blobs`).get();
    rows.push([`sqlite: ${label}`, mb(file), mb(live), `${blobs.n} blobs, ${mb(blobs.bytes)} MB`]);
  };
  size(`${total} threads, none pruned (written in ${seconds.toFixed(1)} s)`);
  // 90% of them finished long ago.
  db.prepare(`UPDATE threads SET updated_at = ? WHERE rowid % 10 <> 0`).run(old);
  // Blobs written long ago too: the sweep keeps any written in the last few minutes.
  db.prepare(`UPDATE blobs SET created_at = ?`).run(old);
  await prune(store, 'sqlite');
  size('after pruning 90% (freed pages stay in the file, reused)');
  await store.close();
  db.exec('VACUUM');
  size('after pruning 90% and VACUUM');
  db.close();
}

async function postgres() {
  let database;
  try {
    database = await benchDatabase('twelve_retention');
  } catch (error) {
    rows.push([`postgres: skipped (${error.message.split('\n')[0]})`, '', '', '']);
    return;
  }
  const { PostgresStore } = await import(new URL('store/postgres/postgres-store.js', dist));
  const store = new PostgresStore({ url: database.url, poolSize: 16 });
  const client = new database.pg.Client({ connectionString: database.url });
  try {
    const seconds = await fill(store, 16);
    await client.connect();
    const size = async (label) => {
      const { rows: [r] } = await client.query(
        `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c WHERE c.relname IN ('threads', 'events', 'notifications', 'notification_attempts', 'prune_grants', 'blobs') AND c.relkind = 'r'`,
      );
      const { rows: [b] } = await client.query(`SELECT count(*)::int AS n, coalesce(sum(bytes), 0)::bigint AS bytes, pg_total_relation_size('blobs')::bigint AS size FROM blobs`);
      rows.push([`postgres: ${label}`, mb(Number(r.bytes)), '', `${b.n} blobs, ${mb(Number(b.bytes))} MB (table ${mb(Number(b.size))} MB)`]);
    };
    await client.query('VACUUM ANALYZE threads, events, blobs');
    await size(`${total} threads, none pruned (written in ${seconds.toFixed(1)} s)`);
    await client.query(`UPDATE threads SET updated_at = $1 WHERE right(id, 1) <> '0'`, [old]);
    // Blobs written long ago too: the sweep keeps any written in the last few minutes.
    await client.query(`UPDATE blobs SET created_at = $1`, [old]);
    await client.query('VACUUM threads');
    await prune(store, 'postgres');
    await client.query('VACUUM threads, events, blobs');
    await size('after pruning 90% and VACUUM (space reusable, not returned)');
    await client.query('VACUUM FULL threads, events, blobs');
    await size('after pruning 90% and VACUUM FULL');
  } finally {
    await client.end().catch(() => undefined);
    await store.close();
    await database.drop();
  }
}

try {
  if (opts.only !== 'postgres') await sqlite();
  if (opts.only !== 'sqlite') await postgres();
  console.log(`Retention: ${total} finished threads, 3 events each (a stored request each, a 20 KB result blob every 10th); 90% pruned with an archive\n`);
  printRows(['case', 'file MB', 'live MB', 'prune / blobs'], rows);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
