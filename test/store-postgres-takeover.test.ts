/**
 * Taking over threads whose worker died, on PostgreSQL, with several claim loops in one
 * process (a worker's concurrency): found by the fault suite. The dead-owner candidates are
 * read before they are leased, so two loops can read the same one; the second must not get
 * it just because the first (same owner) has leased it meanwhile. It did: the runtime then
 * refused to drive it twice ("already running in this process"), and the loop backed off.
 *
 * And knowing at once, on any host, that the owner is dead: each process holds an advisory
 * lock for its life (src/store/postgres/liveness.ts), so a worker killed with SIGKILL has
 * its threads taken over by the next claim, before fresh work, with no lease to wait out.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { event } from '../src/thread/events.js';
import type { ThreadSummary } from '../src/store/types.js';
import type { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { repoRoot } from './support/cli.js';
import { startEmbeddedPostgres } from './support/embedded-postgres.js';
import { freshPostgresDatabase, withAdminClient, withDatabase, type FreshPostgresDatabase } from './support/postgres.js';
import { PostgresStore as Store } from '../src/store/postgres/postgres-store.js';

const runnable: ThreadSummary = { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

describe('PostgresStore: taking over from a dead worker', () => {
  let database: FreshPostgresDatabase | undefined;
  let store: PostgresStore | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.cleanup();
  });

  it('gives a dead owner’s thread to exactly one of several concurrent claims by one owner', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    const threads = 3;
    for (let i = 0; i < threads; i++) {
      await store.createThread({ id: `th_${i}`, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
      expect(await store.claim({ owner: 'dead', leaseMs: 60_000, threadId: `th_${i}` })).toBeDefined();
    }
    // Eight loops of one live worker, all finding only dead-owner work at once.
    for (let round = 0; round < 5; round++) {
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store!.claim({ owner: 'alive', leaseMs: 60_000, isOwnerDead: (owner) => owner === 'dead' })),
      );
      const taken = claims.filter((thread) => thread !== undefined).map((thread) => thread!.id);
      expect(new Set(taken).size).toBe(taken.length); // never the same thread twice
      expect(taken.length).toBeLessThanOrEqual(threads);
      // Hand them back to the dead owner for the next round.
      for (const id of taken) {
        await store.releaseLease(id, 'alive');
        await store.claim({ owner: 'dead', leaseMs: 60_000, threadId: id });
      }
    }
  });

  it('takes over the thread of a SIGKILLed process (another host, for all isOwnerDead knows) at the next claim, before a backlog', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    const create = (id: string) => store!.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
    await create('th_held');
    for (let i = 0; i < 50; i++) await create(`th_backlog_${String(i).padStart(2, '0')}`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lease-holder-child.ts'], {
      cwd: repoRoot,
      env: { ...process.env, TWELVE_DATABASE_URL: database.url, THREAD_ID: 'th_held', LEASE_OWNER: 'elsewhere:4242:abcd' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk) => {
          out += chunk;
          if (out.includes('claimed th_held')) resolve();
        });
        child.on('close', (code) => reject(new Error(`the lease holder exited (${code}) before claiming`)));
      });
      const noPid = () => false; // another host: only the liveness lock can tell
      // While it lives, its thread is not taken: claims get the backlog, in order.
      const first = await store.claim({ owner: 'alive', leaseMs: 60_000, isOwnerDead: noPid });
      expect(first!.id).toBe('th_backlog_00');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // The server ends the dead process's session (and its lock) as soon as it sees the socket close.
    let next;
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      next = await store.claim({ owner: 'alive', leaseMs: 60_000, isOwnerDead: () => false });
      if (next?.id === 'th_held') break;
      if (next) await store.releaseLease(next.id, 'alive'); // a backlog thread: the takeover has not been seen yet
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(next).toMatchObject({ id: 'th_held', leaseOwner: 'alive' });
  });

  it('counts an owner without a lock as dead only if it registered since the server last started', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    for (const id of ['th_before_restart', 'th_dead']) {
      await store.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
    }
    expect(await store.claim({ owner: 'alive', leaseMs: 60_000 })).toMatchObject({ id: 'th_before_restart' }); // registers 'alive', migrates
    await store.releaseLease('th_before_restart', 'alive');
    await withAdminClient(async (client) => {
      // Neither owner holds its lock. One registered before the server's last start (it may be
      // alive and not reconnected yet), the other since (its session ended: it is dead).
      // One transaction: the store's housekeeping forgets lockless owners that lease nothing, and
      // must never see these rows before their leases.
      await client.query('BEGIN');
      await client.query(`INSERT INTO twelve_workers VALUES ('old', 11, pg_postmaster_start_time() - interval '1 hour', now()), ('gone', 12, pg_postmaster_start_time(), now())`);
      await client.query(`UPDATE threads SET lease_owner = CASE id WHEN 'th_before_restart' THEN 'old' ELSE 'gone' END, lease_until = $1`, [Date.now() + 60_000]);
      await client.query('COMMIT');
    }, database.url);
    expect(await store.claim({ owner: 'alive', leaseMs: 60_000, isOwnerDead: () => false })).toMatchObject({ id: 'th_dead' });
    expect(await store.claim({ owner: 'alive', leaseMs: 60_000, isOwnerDead: () => false })).toBeUndefined();
    expect((await store.getThread('th_before_restart'))!.leaseOwner).toBe('old');
  });

  it('never takes a live worker’s thread because the server restarted and dropped its lock', async () => {
    // A server of its own, to restart it.
    const server = await startEmbeddedPostgres();
    const stores: Store[] = [];
    try {
      await withAdminClient((client) => client.query('CREATE DATABASE twelve_restart'), server.url);
      const url = withDatabase(server.url, 'twelve_restart');
      const [a, b] = [new Store({ url }), new Store({ url })];
      stores.push(a, b);
      await a.createThread({ id: 'th_live', agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
      expect(await a.claim({ owner: 'worker-a', leaseMs: 60_000 })).toMatchObject({ id: 'th_live' });
      await server.stop();
      await server.start();
      // Right after the restart worker-a's lock is gone until it reconnects; it is alive all the same.
      for (let i = 0; i < 20; i++) {
        const taken = await b.claim({ owner: 'worker-b', leaseMs: 60_000, isOwnerDead: () => false }).catch(() => undefined);
        expect(taken).toBeUndefined();
      }
      // worker-a re-registers on its own (nothing to claim needed), and stays alive for everyone.
      await expect.poll(async () => (await withAdminClient((client) => client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'twelve liveness'`), url)).rows[0].n, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      expect(await b.claim({ owner: 'worker-b', leaseMs: 60_000, isOwnerDead: () => false })).toBeUndefined();
      expect(await a.renewLease('th_live', 'worker-a', 60_000)).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await server.destroy();
    }
  }, 60_000);
});

