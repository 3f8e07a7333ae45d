/**
 * Retention and blobs: `twelve prune` archives the blobs the pruned threads' events name (stored
 * requests with their bases and tools, large tool results) and then deletes the blobs no remaining
 * event names, on SQLite (through the CLI) and PostgreSQL. A blob shared with a live thread stays
 * and the live thread's requests still load; a pruned thread's requests load from the archive;
 * `audit verify --archive` checks the blob lines; a blob written again after the sweep's cut-off stays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { blobOfText } from '../src/blobs/blob.js';
import { limitResult } from '../src/blobs/truncate-result.js';
import { loadRequest, recordRequest, type PreviousRequest } from '../src/model/request-record.js';
import { archiveRequestReader, readArchive, readArchiveBlobs } from '../src/retention/archive-file.js';
import { runPrune } from '../src/retention/prune.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/types.js';
import { event, type NewEvent } from '../src/thread/events.js';
import { runCli } from './support/cli.js';
import { freshPostgresDatabase, type FreshPostgresDatabase } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';

const summary = { modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const old = '2020-01-01T00:00:00.000Z';
const tools = [{ type: 'function', name: 'lookup', description: 'Looks an order up', inputSchema: { type: 'object', properties: { id: { type: 'string' } } } }] as LanguageModelV3CallOptions['tools'];
type Message = LanguageModelV3CallOptions['prompt'][number];
const system: Message = { role: 'system', content: 'You handle refunds.' };
const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const request = (prompt: LanguageModelV3CallOptions['prompt']): LanguageModelV3CallOptions => ({ prompt, tools, temperature: 0 });

const modelCalled = (ref: { ref: string; bytes: number }) =>
  event('model_called', { model: 'scripted', attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, text: 'ok', toolCalls: [], finishReason: 'stop', contextMessages: 2, request: ref } as never);

interface Recorded {
  refs: string[];
  sent: LanguageModelV3CallOptions[];
  /** The seq of each step's model_called event (its request is kept with it). */
  seqs: number[];
  threadId: string;
  resultBlob?: string;
}

/**
 * A thread of two model steps, recorded as the runtime does (recordRequest, the blobs appended
 * with model_called; one session: the tools blob sent once) and, with `bigResult`, a truncated
 * tool result stored as a blob. `first` is the first user message: two threads with the same one
 * send the identical first request (one shared blob).
 */
async function thread(store: Store, id: string, first: string, options: { finish: boolean; bigResult?: string }): Promise<Recorded> {
  await store.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: first, events: [event('thread_started', { agent: 'refunds', input: first })], summary: { ...summary, status: 'runnable' } });
  let seq = 1;
  const sentBlobs = new Set<string>();
  const append = async (events: NewEvent[], blobs: Array<{ hash: string; bytes: number; data: string }>, status: 'runnable' | 'completed' = 'runnable', request?: string) => {
    const fresh = blobs.filter((b) => !sentBlobs.has(b.hash));
    fresh.forEach((b) => sentBlobs.add(b.hash));
    await store.append(id, seq, 'rel_one', events, { ...summary, status }, { ...(fresh.length ? { blobs: fresh } : {}), ...(request ? { request: { index: 0, text: request } } : {}) });
    seq += events.length;
  };
  const out: Recorded = { refs: [], sent: [], seqs: [], threadId: id };
  let previous: PreviousRequest | undefined;
  const prompt: LanguageModelV3CallOptions['prompt'] = [system, user(first)];
  for (let step = 0; step < 2; step++) {
    const sent = request(structuredClone(prompt));
    const recorded = recordRequest(sent, undefined, previous);
    previous = recorded.next(seq + 1);
    out.seqs.push(seq + 1);
    await append([modelCalled(recorded.request)], recorded.blobs, 'runnable', recorded.text);
    out.refs.push(recorded.request.ref);
    out.sent.push(sent);
    prompt.push({ role: 'assistant', content: [{ type: 'text', text: `answer ${step}` }] }, user(`${id} follow-up ${step}`));
  }
  if (options.bigResult) {
    const limited = limitResult(options.bigResult, 1024);
    await append([event('tool_succeeded', { callId: 'c1', result: limited.result, durationMs: 1, blob: limited.ref })], [limited.blob!]);
    out.resultBlob = limited.blob!.hash;
  }
  if (options.finish) await append([event('thread_completed', { output: 'done' })], [], 'completed');
  return out;
}

/** Two finished threads (one shares its first request, and the tools, with the live one) and one live thread. */
async function seed(store: Store) {
  const gone = await thread(store, 'th_gone', 'refund order 1', { finish: true, bigResult: 'x'.repeat(5000) });
  const sharing = await thread(store, 'th_sharing', 'refund order 2', { finish: true });
  const live = await thread(store, 'th_live', 'refund order 2', { finish: false, bigResult: 'y'.repeat(5000) });
  expect(sharing.refs[0]).toBe(live.refs[0]);
  return { gone, sharing, live };
}

async function expectLiveRequestsLoad(store: Store, live: Recorded) {
  for (const [i, ref] of live.refs.entries()) expect(await loadRequest(store, { threadId: live.threadId, seq: live.seqs[i]!, ref })).toEqual(live.sent[i]);
  expect(await store.getBlob(live.resultBlob!)).toBeDefined();
}

/** What a prune of the two finished threads must leave: checked the same on both stores. */
async function expectPruned(store: Store, archive: string, { gone, sharing, live }: Awaited<ReturnType<typeof seed>>) {
  // The finished threads' own blobs are gone (their requests went with their events); the tools stay.
  for (const ref of [...gone.refs, gone.resultBlob!, sharing.refs[1]!]) expect(await store.getBlob(ref), ref).toBeUndefined();
  await expectLiveRequestsLoad(store, live);
  // The archive holds every blob the pruned threads named, each once, and their requests load from it.
  const lines = gunzipSync(readFileSync(archive)).toString('utf8').split('\n').filter(Boolean);
  const blobHashes = lines.filter((l) => l.startsWith('{"blob"')).map((l) => (JSON.parse(l) as { blob: { hash: string } }).blob.hash);
  expect(new Set(blobHashes).size).toBe(blobHashes.length);
  const archived = archiveRequestReader(archive);
  for (const t of [gone, sharing]) for (const [i, ref] of t.refs.entries()) expect(await loadRequest(archived, { threadId: t.threadId, seq: t.seqs[i]!, ref })).toEqual(t.sent[i]);
  expect(readArchiveBlobs(archive).get(gone.resultBlob!)?.data).toBe(JSON.stringify('x'.repeat(5000)));
  expect(readArchive(archive).map((e) => e.threadId)).toEqual(expect.arrayContaining(['th_gone', 'th_sharing']));
  // 2 + 2 requests (kept with their events, archived as blob lines), the tools and one result.
  expect(blobHashes).toHaveLength(6);
}

describe('prune sweeps blobs on SQLite', () => {
  it('archives the pruned threads\' blobs, deletes theirs, keeps shared ones, and verify checks the blob lines', async () => {
    const dir = tempDir();
    const path = join(dir, 'twelve.db');
    const store = new SqliteStore({ path });
    const seeded = await seed(store);
    await store.close();
    const db = new Database(path);
    db.prepare(`UPDATE threads SET updated_at = ? WHERE id IN ('th_gone', 'th_sharing')`).run(old);
    db.prepare(`UPDATE blobs SET created_at = ?`).run(old);
    db.close();
    const env = { TWELVE_DATABASE_URL: `sqlite:${path}` };
    const archive = join(dir, 'archive.jsonl.gz');

    const run = await runCli(['prune', '--completed-before', '30d', '--archive', archive, '--json'], { env });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as { threads: number; blobsArchived: number; blobsDeleted: number; blobBytesFreed: number };
    expect(report).toMatchObject({ threads: 2, blobsArchived: 6, blobsDeleted: 1 });
    expect(report.blobBytesFreed).toBeGreaterThan(5000);

    const reopened = new SqliteStore({ path });
    try {
      await expectPruned(reopened, archive, seeded);
    } finally {
      await reopened.close();
    }
    const verified = await runCli(['audit', 'verify', '--archive', archive], { env });
    expect(verified.stdout).toContain('intact: 2 threads');
    expect(verified.code).toBe(0);

    // A second run has nothing to prune and sweeps nothing; its text output says so.
    const again = await runCli(['prune', '--completed-before', '30d', '--archive', archive], { env });
    expect(again.stdout).toContain('blobs deleted: 0 (0 B freed)');

    // An edited blob line is tampering.
    const text = gunzipSync(readFileSync(archive)).toString('utf8');
    const edited = text.replace('xxxxxxxxxx', 'xxxxxxxxxY');
    expect(edited).not.toBe(text);
    const tampered = join(dir, 'tampered.jsonl.gz');
    writeFileSync(tampered, gzipSync(edited));
    const bad = await runCli(['audit', 'verify', '--archive', tampered], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/blob: line \d+: blob sha256:[0-9a-f]{64}: its data hashes to/);
  });

  it('keeps an unreferenced blob written again after the sweep\'s cut-off, and deletes an untouched one', async () => {
    const dir = tempDir();
    const path = join(dir, 'twelve.db');
    const store = new SqliteStore({ path });
    try {
      await touchScenario(store, (sql, value) => age(path, sql, value));
    } finally {
      await store.close();
    }
  });

  it('follows a request stored in the older layout to its message and tools blobs', async () => {
    const path = join(tempDir(), 'twelve.db');
    const store = new SqliteStore({ path });
    try {
      await v1Scenario(store, (sql, value) => age(path, sql, value));
    } finally {
      await store.close();
    }
  });
});

function age(path: string, sql: string, value: string): void {
  const db = new Database(path);
  db.prepare(sql.replace('$1', '?')).run(value);
  db.close();
}

/**
 * The race the sweep guards against, made sequential: the cut-off is taken, then an append sends
 * an old blob again (as a new session of another thread does); the sweep must keep it.
 */
async function touchScenario(store: Store, ageAllBlobs: (sql: string, value: string) => void | Promise<void>) {
  const kept = blobOfText(JSON.stringify({ big: 'k'.repeat(3000) }));
  const dropped = blobOfText(JSON.stringify({ big: 'd'.repeat(3000) }));
  await store.createThread({ id: 'th_a', agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: { ...summary, status: 'runnable' } });
  // Stored by an append whose event is since gone (as after a prune): neither blob is named by any event.
  await store.append('th_a', 1, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' }, { blobs: [kept, dropped] });
  await ageAllBlobs(`UPDATE blobs SET created_at = $1`, old);
  const cutoff = new Date(Date.now() - 1000).toISOString();
  await store.createThread({ id: 'th_b', agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: { ...summary, status: 'runnable' } });
  await store.append('th_b', 1, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' }, { blobs: [kept, kept] });
  expect(await store.sweepBlobs({ before: cutoff, batch: 1 })).toEqual({ blobs: 1, bytes: dropped.bytes });
  expect(await store.getBlob(kept.hash)).toMatchObject({ data: kept.data });
  expect(await store.getBlob(dropped.hash)).toBeUndefined();
}

/** A request stored in the older layout ('twelve.request/1': every message a blob, listed in `prompt`) keeps its messages and tools. */
async function v1Scenario(store: Store, ageAllBlobs: (sql: string, value: string) => void | Promise<void>) {
  const messages = [blobOfText(JSON.stringify(system)), blobOfText(JSON.stringify(user('hi')))];
  const toolsBlob = blobOfText(JSON.stringify(tools));
  const manifest = blobOfText(JSON.stringify({ format: 'twelve.request/1', prompt: messages.map((m) => m.hash), tools: toolsBlob.hash, options: { temperature: 0 } }));
  const stray = blobOfText(JSON.stringify('nothing names me'));
  await store.createThread({ id: 'th_v1', agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: { ...summary, status: 'runnable' } });
  await store.append('th_v1', 1, 'rel_one', [modelCalled({ ref: manifest.hash, bytes: manifest.bytes })], { ...summary, status: 'runnable' }, { blobs: [...messages, toolsBlob, manifest, stray] });
  await ageAllBlobs(`UPDATE blobs SET created_at = $1`, old);
  expect(await store.sweepBlobs({ before: new Date().toISOString() })).toEqual({ blobs: 1, bytes: stray.bytes });
  expect(await loadRequest(store, { threadId: 'th_v1', seq: 2, ref: manifest.hash })).toEqual({ temperature: 0, prompt: [system, user('hi')], tools });
}

describe('prune sweeps blobs on PostgreSQL', () => {
  let database: FreshPostgresDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await database?.cleanup();
  });

  const sql = async (text: string, values: unknown[]) => {
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    try {
      await client.query(text, values);
    } finally {
      await client.end();
    }
  };

  it('archives the pruned threads\' blobs, deletes theirs and keeps shared ones', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    const seeded = await seed(store);
    await sql(`UPDATE threads SET updated_at = $1 WHERE id IN ('th_gone', 'th_sharing')`, [old]);
    await sql(`UPDATE blobs SET created_at = $1`, [old]);
    const archive = join(tempDir(), 'archive.jsonl.gz');
    const report = await runPrune({ store, before: new Date(Date.now() - 86_400_000).toISOString(), archive });
    expect(report).toMatchObject({ threads: 2, blobsArchived: 6, blobsDeleted: 1 });
    await expectPruned(store, archive, seeded);
  });

  it('keeps an unreferenced blob written again after the sweep\'s cut-off, and deletes an untouched one', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    await touchScenario(store, (text, value) => sql(text, [value]));
  });

  it('a delete that meets a blob an append is sending again waits for it, then keeps it', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    const blob = blobOfText(JSON.stringify({ big: 'r'.repeat(3000) }));
    await store.createThread({ id: 'th_a', agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: { ...summary, status: 'runnable' } });
    await store.append('th_a', 1, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' }, { blobs: [blob] });
    await sql(`UPDATE blobs SET created_at = $1`, [old]);
    const cutoff = new Date(Date.now() - 1000).toISOString();
    // An append in flight: it has sent the blob again (the append's own statement) and not committed yet.
    const appender = new pg.Client({ connectionString: database.url });
    const observer = new pg.Client({ connectionString: database.url });
    await appender.connect();
    await observer.connect();
    try {
      await appender.query('BEGIN');
      await appender.query(`INSERT INTO blobs (hash, bytes, data, created_at) VALUES ($1, $2, $3, now()) ON CONFLICT (hash) DO UPDATE SET created_at = GREATEST(blobs.created_at, excluded.created_at)`, [blob.hash, blob.bytes, blob.data]);
      const sweep = store.sweepBlobs({ before: cutoff });
      // The sweep read the blob as a candidate (old, named by nothing) and its delete now waits on the row.
      // Asked outside the appender's transaction: a transaction reads pg_stat_activity once and keeps that snapshot.
      const waiting = async () =>
        (await observer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM blobs%'`)).rows[0].n as number;
      for (let i = 0; i < 600 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(1);
      await appender.query('COMMIT');
      expect(await sweep).toEqual({ blobs: 0, bytes: 0 });
    } finally {
      await appender.end();
      await observer.end();
    }
    expect(await store.getBlob(blob.hash)).toMatchObject({ data: blob.data });
  });

  it('follows a request stored in the older layout to its message and tools blobs', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    await v1Scenario(store, (text, value) => sql(text, [value]));
  });
});
