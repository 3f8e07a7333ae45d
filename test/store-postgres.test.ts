/**
 * The PostgreSQL store: the shared conformance suite on a fresh database per test, then what
 * only a shared server has to get right (concurrent migration, LISTEN/NOTIFY, fleet-wide
 * caps under contention, outages and recovery, the append-only trigger, schemas).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, TwelveError } from '../src/index.js';
import { event } from '../src/thread/events.js';
import type { Store, ThreadSummary } from '../src/store/types.js';
import { PostgresStore, migratePostgres } from '../src/store/postgres/postgres-store.js';
import { postgresMigrations } from '../src/store/postgres/migrations.js';
import { storeConformance } from './support/store-conformance.js';
import { freshPostgresDatabase, withAdminClient, type FreshPostgresDatabase } from './support/postgres.js';
import { startEmbeddedPostgres } from './support/embedded-postgres.js';
import { supportAgent } from './support/agents.js';
import { makeRuntime, startServer } from './support/runtime.js';

storeConformance('PostgresStore', freshPostgresDatabase);

const runnable: ThreadSummary = { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function launch(store: Store, id: string, agent = 'refunds') {
  await store.createThread({ id, agent, releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent, input: 'x' })], summary: runnable });
  return id;
}

async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('PostgresStore on a shared server', () => {
  let database: FreshPostgresDatabase;
  const databases: FreshPostgresDatabase[] = [];
  const stores: Store[] = [];

  async function fresh(): Promise<FreshPostgresDatabase> {
    database = await freshPostgresDatabase();
    databases.push(database);
    return database;
  }
  function open(options: Parameters<FreshPostgresDatabase['open']>[0] = {}): PostgresStore {
    const store = database.open(options);
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(databases.splice(0).map((db) => db.cleanup()));
  });

  it('migrates exactly once when ten stores open the same fresh database at once', async () => {
    await fresh();
    const ten = Array.from({ length: 10 }, () => open());
    await Promise.all(ten.map((store, i) => launch(store, `th_${i}`)));

    const rows = await withAdminClient((client) => client.query('SELECT version FROM twelve_migrations ORDER BY version'), database.url);
    expect(rows.rows.map((row) => row.version)).toEqual(postgresMigrations.map((m) => m.version));
    expect(postgresMigrations.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect((await ten[0]!.listThreads()).length).toBe(10);
    // A second round of opens finds the schema current and applies nothing.
    expect(await migratePostgres(database.url)).toMatchObject({ applied: [], version: 12 });
  });

  it('counts the unpriced model calls of threads recorded before the count existed (migration 4)', async () => {
    await fresh();
    const called = (costUsd: number | null) => JSON.stringify({ model: 'm', attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: 1, outputTokens: 1 }, costUsd, text: '', toolCalls: [], finishReason: 'stop', contextMessages: 1 });
    await withAdminClient(async (client) => {
      await client.query(`CREATE TABLE twelve_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of postgresMigrations.filter((m) => m.version <= 3)) {
        await client.query(migration.sql);
        await client.query(`INSERT INTO twelve_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      }
      await client.query(`INSERT INTO threads (id, agent, status, seq, release_id, input, model_steps, cost_usd, created_at, updated_at)
        VALUES ('th_mixed', 'refunds', 'completed', 4, 'rel_one', '"x"', 3, 0.002, now(), now()), ('th_priced', 'refunds', 'completed', 2, 'rel_one', '"x"', 1, 0.001, now(), now())`);
      await client.query(
        `INSERT INTO events (thread_id, seq, type, at, release_id, data) VALUES
          ('th_mixed', 1, 'thread_started', now(), 'rel_one', '{"agent":"refunds","input":"x"}'), ('th_mixed', 2, 'model_called', now(), 'rel_one', $1),
          ('th_mixed', 3, 'model_called', now(), 'rel_one', $2), ('th_mixed', 4, 'model_called', now(), 'rel_one', $1),
          ('th_priced', 1, 'thread_started', now(), 'rel_one', '{"agent":"refunds","input":"x"}'), ('th_priced', 2, 'model_called', now(), 'rel_one', $3)`,
        [called(null), called(0.002), called(0.001)],
      );
    }, database.url);

    expect((await migratePostgres(database.url)).applied).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const store = open();
    expect(await store.getThread('th_mixed')).toMatchObject({ costUsd: null, pricedCostUsd: 0.002, unpricedCalls: 2 });
    expect(await store.getThread('th_priced')).toMatchObject({ costUsd: 0.001, pricedCostUsd: 0.001, unpricedCalls: 0 });
  });

  it('refuses a database migrated by a newer Twelve, naming both versions', async () => {
    await fresh();
    expect((await migratePostgres(database.url)).applied).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await withAdminClient((client) => client.query(`INSERT INTO twelve_migrations (version, name) VALUES (99, 'from the future')`), database.url);

    const error = await failureOf(() => open().listThreads());
    expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).message).toMatch(/schema version 99, newer than this Twelve knows \(12\); upgrade twelve-agents/);
  });

  it('wakes a subscribed worker within ~100 ms of a launch from another store instance', async () => {
    await fresh();
    const worker = open();
    const launcher = open();
    await launcher.listThreads(); // migrated and connected, so the timing below is the NOTIFY alone
    const wakes: number[] = [];
    const unsubscribe = await worker.subscribeWork(() => wakes.push(performance.now()));
    expect(wakes).toHaveLength(1); // one look on subscribing, for work that came before
    wakes.length = 0;

    const before = performance.now();
    await launch(launcher, 'th_wake');
    const deadline = Date.now() + 1_000;
    while (wakes.length === 0 && Date.now() < deadline) await sleep(2);
    expect(wakes.length).toBeGreaterThan(0);
    expect(wakes[0]! - before).toBeLessThan(100);

    // A worker's own appends to a thread it holds wake nobody; letting go of runnable work does.
    const claimed = await worker.claim({ owner: 'w', leaseMs: 60_000 });
    wakes.length = 0;
    await worker.append('th_wake', 1, 'rel_one', [event('resumed', { by: 'w' })], runnable);
    await sleep(50);
    expect(wakes).toEqual([]);
    await worker.releaseLease(claimed!.id, 'w');
    await waitFor(() => wakes.length > 0);

    await unsubscribe();
    wakes.length = 0;
    await launch(launcher, 'th_after');
    await sleep(50);
    expect(wakes).toEqual([]);
  });

  it('keeps listening across a dropped connection (a PostgreSQL restart) and nudges once on reconnect', async () => {
    await fresh();
    const worker = open();
    const launcher = open();
    let wakes = 0;
    await worker.subscribeWork(() => wakes++);
    wakes = 0;
    await terminateConnections(database.name);
    await waitFor(() => wakes > 0, 5_000); // the catch-up nudge after reconnecting
    wakes = 0;
    await launch(launcher, 'th_after_restart');
    await waitFor(() => wakes > 0, 5_000);
  });

  it('never lets more than the cap of an agent’s threads be leased, under eight concurrent claim loops', async () => {
    await fresh();
    const [a, b] = [open(), open()];
    for (let i = 0; i < 12; i++) await launch(a, `th_capped_${i}`, 'capped');
    for (let i = 0; i < 4; i++) await launch(a, `th_free_${i}`, 'free');
    const cap = 2;
    let live = 0;
    let peak = 0;
    let freeClaims = 0;
    let completed = 0;
    // Until the work is done (not for a fixed time: a loaded machine claims slowly); the deadline only stops a hang.
    const deadline = Date.now() + 20_000;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const store = i % 2 ? a : b;
        while ((completed < 12 || freeClaims < 4) && Date.now() < deadline) {
          const thread = await store.claim({ owner: `w${i}`, leaseMs: 60_000, agentCaps: { capped: cap } });
          if (!thread) {
            await sleep(2);
            continue;
          }
          if (thread.agent === 'free') {
            freeClaims++;
            continue; // keep it leased: uncapped agents are not held back
          }
          live++;
          peak = Math.max(peak, live);
          // Hold it until another loop has had the chance to take a second one (or a while passed).
          for (const until = Date.now() + 300; peak < cap && Date.now() < until; ) await sleep(5);
          await sleep(5 + Math.random() * 10);
          live--;
          await store.append(thread.id, thread.seq, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...runnable, status: 'completed', output: 'ok' });
          await store.releaseLease(thread.id, `w${i}`);
          completed++;
        }
      }),
    );
    expect(peak).toBe(cap);
    expect(freeClaims).toBe(4);
    const leased = await withAdminClient((client) => client.query(`SELECT count(*)::int AS n FROM threads WHERE agent = 'capped' AND lease_owner IS NOT NULL`), database.url);
    expect(leased.rows[0].n).toBe(0);
    expect((await a.listThreads({ agent: 'capped', status: ['completed'] })).length).toBe(12);
  });

  it('reports a server that is not there as store_unavailable, naming host:port/database and not the password', async () => {
    const store = new PostgresStore({ url: 'postgres://twelve:s3cret-pw@127.0.0.1:1/twelve_nowhere', connectTimeoutMs: 2_000 });
    const started = Date.now();
    const error = await failureOf(() => store.listThreads());
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).message).toBe('cannot connect to PostgreSQL at 127.0.0.1:1/twelve_nowhere: connection refused; is the server running and TWELVE_DATABASE_URL right?');
    expect(store.location).toBe('postgres://twelve@127.0.0.1:1/twelve_nowhere');
    expect(JSON.stringify({ message: (error as Error).message, details: (error as TwelveError).details })).not.toContain('s3cret');
    await store.close();
  });

  it('reports a missing database as store_unavailable with what to do', async () => {
    await fresh();
    const missing = new PostgresStore({ url: database.url.replace(database.name, `${database.name}_missing`) });
    const error = await failureOf(() => missing.getThread('th_x'));
    expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`${database.name}_missing: the database does not exist`));
    await missing.close();
  });

  it('recovers after its connections are terminated (pg_terminate_backend), losing nothing', async () => {
    await fresh();
    const store = open();
    await launch(store, 'th_one');
    await Promise.all([store.getThread('th_one'), store.loadEvents('th_one'), store.listThreads()]); // several pooled connections
    expect(await terminateConnections(database.name)).toBeGreaterThan(0);

    // Every call works at once: dead pooled connections are dropped, reads retried once.
    expect((await store.getThread('th_one'))?.seq).toBe(1);
    await store.append('th_one', 1, 'rel_one', [event('resumed', { by: 'ops' })], runnable);
    expect((await store.claim({ owner: 'w', leaseMs: 60_000 }))?.id).toBe('th_one');
    expect((await store.loadEvents('th_one')).map((e) => e.seq)).toEqual([1, 2]);

    await terminateConnections(database.name);
    await sleep(20);
    await store.append('th_one', 2, 'rel_one', [event('resumed', { by: 'ops' })], runnable);
    expect((await store.getThread('th_one'))?.seq).toBe(3);
  });

  it('survives a PostgreSQL restart: store_unavailable while it is down, then reads, writes and wake-ups work again', async () => {
    // Its own throwaway server, since this test stops it.
    const server = await startEmbeddedPostgres();
    try {
      const store = new PostgresStore({ url: server.url, connectTimeoutMs: 2_000 });
      stores.push(store);
      let wakes = 0;
      await launch(store, 'th_before');
      await store.subscribeWork(() => wakes++);
      wakes = 0;

      await server.stop();
      const error = await failureOf(() => store.getThread('th_before'));
      expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
      expect((error as Error).message).toContain(`PostgreSQL at 127.0.0.1:${server.port}/postgres`);

      await server.start();
      expect((await store.getThread('th_before'))?.seq).toBe(1);
      await store.append('th_before', 1, 'rel_one', [event('resumed', { by: 'ops' })], runnable);
      await waitFor(() => wakes > 0, 10_000); // the listener reconnected and nudged once
      wakes = 0;
      const other = new PostgresStore({ url: server.url });
      stores.push(other);
      await launch(other, 'th_after');
      await waitFor(() => wakes > 0);
    } finally {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      await server.destroy();
    }
  });

  it('runs agents end to end across two runtimes: one launches, the other’s idle worker is woken by NOTIFY, not its poll', async () => {
    await fresh();
    const server = await startServer();
    server.setFallback((request) => {
      const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
      return messages.some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] };
    });
    const env = { TWELVE_DATABASE_URL: database.url };
    const launcher = makeRuntime({ agents: [supportAgent().agent], server, env }).runtime;
    const workerSide = makeRuntime({ agents: [supportAgent().agent], server, env }).runtime;
    expect(workerSide.store.kind).toBe('postgres');
    await Promise.all([launcher.listThreads(), workerSide.listThreads()]); // both migrated
    const worker = workerSide.startWorker({ concurrency: 2, pollMs: 60_000 });
    // Let the loops reach their idle wait: a nudge that lands while a loop is inside claim()
    // is dropped by the worker loop (src/worker/worker.ts), which would cost a full poll.
    await sleep(200);

    // Nothing in the worker's process nudges it, and its poll is a minute away: only NOTIFY can wake it.
    const ids = await Promise.all(['one', 'two', 'three'].map(async (input) => (await launcher.launch({ agent: 'support', input })).id));
    await expect.poll(async () => (await launcher.listThreads({ status: ['completed'] })).length, { timeout: 10_000, interval: 20 }).toBe(3);
    await worker.stop();
    expect(worker.processed).toBe(3);
    for (const id of ids) {
      const events = await launcher.store.loadEvents(id);
      expect(events.map((e) => e.type)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
      expect(await launcher.getThread(id)).toMatchObject({ status: 'completed', output: 'done', leaseOwner: null });
    }
  });

  it('opens through TWELVE_DATABASE_URL, keeping its tables in ?schema= when asked', async () => {
    await fresh();
    const store = openStore(`${database.url}?schema=tenant_a`);
    stores.push(store);
    expect(store.kind).toBe('postgres');
    expect(store.location).toMatch(/\/twelve_test_[0-9a-f]+\?schema=tenant_a$/);
    await launch(store, 'th_schema');
    const other = openStore(database.url);
    stores.push(other);
    expect(await other.getThread('th_schema')).toBeUndefined();
    expect((await store.getThread('th_schema'))?.id).toBe('th_schema');
    const tables = await withAdminClient(
      (client) => client.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'events' ORDER BY table_schema`),
      database.url,
    );
    expect(tables.rows.map((row) => row.table_schema)).toEqual(['public', 'tenant_a']);
    expect(() => openStore(`${database.url}?schema=Robert'); DROP TABLE`)).toThrow(/schema must be a lower-case SQL identifier/);
  });

  it('refuses to UPDATE, DELETE or TRUNCATE events, whoever asks, and keeps event data queryable as JSON', async () => {
    await fresh();
    const store = open();
    await launch(store, 'th_log');
    await store.append('th_log', 1, 'rel_one', [event('tool_requested', { callId: 'c1', tool: 'issue_refund', args: { amountCents: 2500, note: 'damaged' }, source: 'model' })], runnable);
    await store.close();
    await withAdminClient(async (client) => {
      await expect(client.query(`UPDATE events SET data = '{}' WHERE thread_id = 'th_log'`)).rejects.toThrow(/events are append-only/);
      await expect(client.query(`DELETE FROM events WHERE thread_id = 'th_log'`)).rejects.toThrow(/events are append-only/);
      await expect(client.query(`TRUNCATE events CASCADE`)).rejects.toThrow(/events are append-only/);
      const { rows } = await client.query(`SELECT data ->> 'tool' AS tool, (data -> 'args' ->> 'amountCents')::int AS cents FROM events WHERE type = 'tool_requested'`);
      expect(rows).toEqual([{ tool: 'issue_refund', cents: 2500 }]);
    }, database.url);
  });

  it('with mustExist, refuses a database that has no Twelve tables instead of creating them', async () => {
    await fresh();
    const store = openStore(database.url, { mustExist: true });
    stores.push(store);
    const error = await failureOf(() => store.listThreads());
    expect(TwelveError.is(error, 'store_unavailable')).toBe(true);
    expect((error as Error).message).toMatch(/no Twelve tables in .*: nothing has run here yet/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Kills every Twelve connection to `database`, as a PostgreSQL restart would. Returns how many. */
async function terminateConnections(database: string): Promise<number> {
  return withAdminClient(async (client) => {
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [database],
    );
    return rows[0].n as number;
  });
}
