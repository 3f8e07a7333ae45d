/**
 * Taking over threads whose worker died, on PostgreSQL, with several claim loops in one
 * process (a worker's concurrency): found by the fault suite. The dead-owner candidates are
 * read before they are leased, so two loops can read the same one; the second must not get
 * it just because the first (same owner) has leased it meanwhile. It did: the runtime then
 * refused to drive it twice ("already running in this process"), and the loop backed off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { event } from '../src/thread/events.js';
import type { ThreadSummary } from '../src/store/types.js';
import type { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { freshPostgresDatabase, type FreshPostgresDatabase } from './support/postgres.js';

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
});
