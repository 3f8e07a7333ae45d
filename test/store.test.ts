/**
 * The SQLite store on real files: the shared conformance suite, then what only SQLite
 * has to get right (migrations, corrupt and missing files, locks, the append-only trigger).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore, SqliteStore, TwelveError } from '../src/index.js';
import { event } from '../src/thread/events.js';
import { migrations } from '../src/store/sqlite/migrations.js';
import { storeConformance } from './support/store-conformance.js';
import { tempDir } from './support/temp-dir.js';

storeConformance('SqliteStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twelve-store-'));
  const path = join(dir, 'twelve.db');
  return {
    open: () => new SqliteStore({ path }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

const summary = { status: 'runnable' as const, modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

async function seed(store: SqliteStore, id = 'th_one') {
  await store.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary });
  return id;
}

/** Captures a synchronous or asynchronous failure. */
async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('SqliteStore on disk', () => {
  it('applies migrations once and keeps data across reopening', async () => {
    const path = join(tempDir(), 'nested', 'dir', 'twelve.db');
    const first = new SqliteStore({ path });
    await seed(first);
    await first.close();

    for (let i = 0; i < 2; i++) {
      const again = new SqliteStore({ path });
      expect((await again.loadEvents('th_one')).map((e) => e.type)).toEqual(['thread_started']);
      await again.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare('SELECT version FROM twelve_migrations ORDER BY version').pluck().all()).toEqual(migrations.map((m) => m.version));
      expect(migrations.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('upgrades a database created before human-in-the-loop support, keeping its threads', async () => {
    // A database as the previous release left it: migration 1 only, with one thread.
    const v1 = join(tempDir(), 'v1.db');
    const seeded = new Database(v1);
    seeded.exec(`CREATE TABLE twelve_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    seeded.exec(migrations[0]!.sql);
    seeded.prepare(`INSERT INTO twelve_migrations (version, name, applied_at) VALUES (1, ?, ?)`).run(migrations[0]!.name, new Date().toISOString());
    const now = new Date().toISOString();
    seeded
      .prepare(`INSERT INTO threads (id, agent, status, seq, release_id, input, created_at, updated_at) VALUES ('th_old', 'refunds', 'runnable', 1, 'rel_one', '"x"', ?, ?)`)
      .run(now, now);
    seeded.prepare(`INSERT INTO events (thread_id, seq, type, at, release_id, data) VALUES ('th_old', 1, 'thread_started', ?, 'rel_one', ?)`).run(now, JSON.stringify({ agent: 'refunds', input: 'x' }));
    seeded.close();

    const store = new SqliteStore({ path: v1 });
    try {
      expect(await store.getThread('th_old')).toMatchObject({ id: 'th_old', status: 'runnable', seq: 1, wakeAt: null, control: null });
      expect((await store.loadEvents('th_old')).map((e) => e.type)).toEqual(['thread_started']);
      expect(await store.dailySpend('refunds', now.slice(0, 10))).toBe(0);
      expect((await store.claim({ owner: 'w', leaseMs: 60_000 }))?.id).toBe('th_old');
    } finally {
      await store.close();
    }
    const check = new Database(v1, { readonly: true });
    try {
      expect(check.prepare('SELECT version FROM twelve_migrations ORDER BY version').pluck().all()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    } finally {
      check.close();
    }
  });

  it('counts the unpriced model calls of threads recorded before the count existed (migration 4)', async () => {
    const v3 = join(tempDir(), 'v3.db');
    const seeded = new Database(v3);
    seeded.exec(`CREATE TABLE twelve_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    for (const migration of migrations.filter((m) => m.version <= 3)) {
      seeded.exec(migration.sql);
      seeded.prepare(`INSERT INTO twelve_migrations (version, name, applied_at) VALUES (?, ?, ?)`).run(migration.version, migration.name, new Date().toISOString());
    }
    const now = new Date().toISOString();
    const called = (costUsd: number | null) => JSON.stringify({ model: 'm', attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: 1, outputTokens: 1 }, costUsd, text: '', toolCalls: [], finishReason: 'stop', contextMessages: 1 });
    seeded
      .prepare(`INSERT INTO threads (id, agent, status, seq, release_id, input, model_steps, cost_usd, created_at, updated_at) VALUES (?, 'refunds', 'completed', 4, 'rel_one', '"x"', ?, ?, ?, ?)`)
      .run('th_mixed', 3, 0.002, now, now);
    seeded
      .prepare(`INSERT INTO threads (id, agent, status, seq, release_id, input, model_steps, cost_usd, created_at, updated_at) VALUES (?, 'refunds', 'completed', 2, 'rel_one', '"x"', ?, ?, ?, ?)`)
      .run('th_priced', 1, 0.001, now, now);
    const insert = seeded.prepare(`INSERT INTO events (thread_id, seq, type, at, release_id, data) VALUES (?, ?, ?, ?, 'rel_one', ?)`);
    insert.run('th_mixed', 1, 'thread_started', now, JSON.stringify({ agent: 'refunds', input: 'x' }));
    insert.run('th_mixed', 2, 'model_called', now, called(null));
    insert.run('th_mixed', 3, 'model_called', now, called(0.002));
    insert.run('th_mixed', 4, 'model_called', now, called(null));
    insert.run('th_priced', 1, 'thread_started', now, JSON.stringify({ agent: 'refunds', input: 'x' }));
    insert.run('th_priced', 2, 'model_called', now, called(0.001));
    seeded.close();

    const store = new SqliteStore({ path: v3 });
    try {
      expect(await store.getThread('th_mixed')).toMatchObject({ costUsd: null, pricedCostUsd: 0.002, unpricedCalls: 2 });
      expect(await store.getThread('th_priced')).toMatchObject({ costUsd: 0.001, pricedCostUsd: 0.001, unpricedCalls: 0 });
    } finally {
      await store.close();
    }
  });

  it('opens through a TWELVE_DATABASE_URL, relative or absolute', async () => {
    const dir = tempDir();
    const store = openStore(`sqlite://${join(dir, 'url.db')}?synchronous=full`);
    expect(store.location).toBe(join(dir, 'url.db'));
    await seed(store as SqliteStore);
    await store.close();
    expect(() => openStore('sqlite:')).toThrow(/names no file/);
    expect(() => openStore('mysql://localhost/db')).toThrow(TwelveError);
    expect(() => openStore(`sqlite:${join(dir, 'x.db')}?synchronous=sometimes`)).toThrow(/synchronous must be normal or full/);
  });

  it('reports a corrupt file as store_unavailable, naming the path', async () => {
    const path = join(tempDir(), 'corrupt.db');
    writeFileSync(path, randomBytes(8192));

    const error = await failureOf(() => new SqliteStore({ path }));

    expect(error).toBeInstanceOf(TwelveError);
    expect((error as TwelveError).code).toBe('store_unavailable');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('not a usable SQLite database');
  });

  it('refuses to create a database when mustExist is set, with a clear message', async () => {
    const path = join(tempDir(), 'missing.db');

    const error = await failureOf(() => new SqliteStore({ path, mustExist: true }));
    expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).message).toBe(`no Twelve database at ${path}: nothing has run here yet, or TWELVE_DATABASE_URL points elsewhere`);

    const viaUrl = await failureOf(() => openStore(`sqlite:${path}`, { mustExist: true }));
    expect(TwelveError.is(viaUrl, 'store_unavailable')).toBe(true);
    expect(() => new SqliteStore({ path: join(tempDir(), 'nested', 'missing.db'), mustExist: true })).toThrow(/no Twelve database/);
  });

  it('gives store_unavailable "locked" after the busy timeout when another connection holds an exclusive transaction', async () => {
    const path = join(tempDir(), 'locked.db');
    const store = new SqliteStore({ path, busyTimeoutMs: 100 });
    const id = await seed(store);
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      const error = await failureOf(() => store.append(id, 1, 'rel_one', [event('resumed', { by: 'ops' })], summary));
      const waited = Date.now() - started;

      expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
      expect((error as Error).message).toContain('locked');
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain('waited 100 ms');
      expect(waited).toBeGreaterThanOrEqual(90);
      expect(waited).toBeLessThan(3_000);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // Once the other writer is gone the store works again, and the failed append wrote nothing.
    expect((await store.loadEvents(id)).map((e) => e.seq)).toEqual([1]);
    await store.append(id, 1, 'rel_one', [event('resumed', { by: 'ops' })], summary);
    await store.close();
  });

  it('refuses to UPDATE or DELETE events, whoever asks', async () => {
    const path = join(tempDir(), 'append-only.db');
    const store = new SqliteStore({ path });
    await seed(store);
    await store.close();

    const raw = new Database(path);
    try {
      expect(() => raw.prepare(`UPDATE events SET data = '{}' WHERE thread_id = 'th_one'`).run()).toThrow(/events are append-only/);
      expect(() => raw.prepare(`DELETE FROM events WHERE thread_id = 'th_one'`).run()).toThrow(/events are append-only/);
      expect(raw.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('works in memory for quick tests', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await seed(store);
    expect((await store.getThread('th_one'))?.seq).toBe(1);
    await store.close();
  });
});
