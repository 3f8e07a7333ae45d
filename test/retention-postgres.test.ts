/**
 * Retention on PostgreSQL never waits for a worker: a thread whose row another transaction holds
 * (a worker mid-step) is skipped by the prune (row locks, SKIP LOCKED), the others go, and the
 * events' delete guard is closed again once the batch commits.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { event } from '../src/thread/events.js';
import type { Store } from '../src/store/types.js';
import { freshPostgresDatabase, type FreshPostgresDatabase } from './support/postgres.js';

const summary = { modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

describe('twelve prune on PostgreSQL', () => {
  let database: FreshPostgresDatabase | undefined;
  let store: Store | undefined;
  let client: pg.Client | undefined;
  afterEach(async () => {
    await client?.end().catch(() => undefined);
    await store?.close();
    await database?.cleanup();
  });

  it('skips a finished thread whose row a worker holds, without waiting, and prunes the rest', async () => {
    database = await freshPostgresDatabase();
    store = database.open();
    for (const id of ['th_held', 'th_free']) {
      await store.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: { ...summary, status: 'runnable' } });
      await store.append(id, 1, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' });
    }
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query(`SELECT id FROM threads WHERE id = 'th_held' FOR UPDATE`);

    // Would hang until the holder commits if the prune waited for row locks.
    const counts = await store.pruneThreads(['th_held', 'th_free']);
    expect(counts).toEqual({ threads: 1, events: 2, notifications: 0, skipped: ['th_held'] });
    await client.query('COMMIT');

    expect(await store.getThread('th_free')).toBeUndefined();
    expect(await store.loadEvents('th_held')).toHaveLength(2);
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM prune_grants`);
    expect(rows[0].n).toBe(0);
    await expect(client.query(`DELETE FROM events WHERE thread_id = 'th_held'`)).rejects.toThrow(/append-only/);
    // The next run takes it.
    expect(await store.pruneThreads(['th_held'])).toMatchObject({ threads: 1, skipped: [] });
  });
});
