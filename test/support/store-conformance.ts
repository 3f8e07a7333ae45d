/**
 * The Store contract, as one suite every backend runs: SQLite today, PostgreSQL next.
 *
 *   storeConformance('SqliteStore', () => {
 *     const dir = mkdtempSync(...);
 *     return { open: () => new SqliteStore({ path: join(dir, 'db') }), cleanup: () => rmSync(dir, ...) };
 *   });
 *
 * `freshDatabase` runs before each test and must give an empty database; `open()` may be
 * called several times per test and must return independent connections (store instances)
 * to that same database, which is how the races below are staged.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeqConflictError, TwelveError } from '../../src/errors.js';
import { event, type NewEvent } from '../../src/thread/events.js';
import type { ThreadStatus } from '../../src/thread/state.js';
import type { Store, ThreadSummary } from '../../src/store/types.js';

export interface ConformanceDatabase {
  open(): Store | Promise<Store>;
  cleanup?(): void | Promise<void>;
}

const runnable: ThreadSummary = { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function storeConformance(name: string, freshDatabase: () => ConformanceDatabase | Promise<ConformanceDatabase>): void {
  describe(`${name} conforms to the Store contract`, () => {
    let database: ConformanceDatabase;
    let opened: Store[] = [];

    beforeEach(async () => {
      database = await freshDatabase();
      opened = [];
    });
    afterEach(async () => {
      for (const store of opened) await store.close();
      await database.cleanup?.();
    });

    async function open(): Promise<Store> {
      const store = await database.open();
      opened.push(store);
      return store;
    }

    function newId(): string {
      return `th_${randomBytes(6).toString('hex')}`;
    }

    async function createThread(store: Store, options: { agent?: string; status?: ThreadStatus; id?: string; input?: unknown } = {}) {
      const id = options.id ?? newId();
      const agent = options.agent ?? 'refunds';
      const events = await store.createThread({
        id,
        agent,
        releaseId: 'rel_one',
        input: options.input ?? 'refund A-1001',
        events: [event('thread_started', { agent, input: options.input ?? 'refund A-1001', metadata: { source: 'test' } })],
        summary: { ...runnable, status: options.status ?? 'runnable' },
      });
      return { id, events };
    }

    const modelCalled = (text: string): NewEvent =>
      event('model_called', {
        model: 'scripted:x',
        attempt: 1,
        fallbackIndex: 0,
        latencyMs: 1.5,
        usage: { inputTokens: 10, outputTokens: 2 },
        costUsd: 0.001,
        text,
        toolCalls: [],
        finishReason: 'stop',
        contextMessages: 2,
      });

    it('round-trips a thread and its events through createThread, append and loadEvents', async () => {
      const store = await open();
      const { id, events: created } = await createThread(store, { input: { orderId: 'A-1001', lines: [1, 2] } });
      expect(created).toEqual([
        { threadId: id, seq: 1, type: 'thread_started', at: expect.any(String), releaseId: 'rel_one', data: { agent: 'refunds', input: { orderId: 'A-1001', lines: [1, 2] }, metadata: { source: 'test' } } },
      ]);

      const appended = await store.append(id, 1, 'rel_two', [modelCalled('done'), event('thread_completed', { output: { ok: true, note: 'ünïcödé ✓' } })], {
        status: 'completed',
        output: { ok: true, note: 'ünïcödé ✓' },
        modelSteps: 1,
        inputTokens: 10,
        outputTokens: 2,
        costUsd: 0.001,
      });
      expect(appended.map((e) => [e.seq, e.type, e.releaseId])).toEqual([
        [2, 'model_called', 'rel_two'],
        [3, 'thread_completed', 'rel_two'],
      ]);

      const loaded = await store.loadEvents(id);
      expect(loaded).toEqual([...created, ...appended]);
      expect(Number.isNaN(Date.parse(loaded[0]!.at))).toBe(false);
      expect(await store.loadEvents(id, 2)).toEqual([appended[1]]);
      expect(await store.loadEvents(id, 3)).toEqual([]);

      const thread = await store.getThread(id);
      expect(thread).toMatchObject({
        id,
        agent: 'refunds',
        status: 'completed',
        seq: 3,
        releaseId: 'rel_two',
        input: { orderId: 'A-1001', lines: [1, 2] },
        output: { ok: true, note: 'ünïcödé ✓' },
        error: null,
        waitingReason: null,
        modelSteps: 1,
        inputTokens: 10,
        outputTokens: 2,
        leaseOwner: null,
        leaseUntil: null,
      });
      expect(thread!.costUsd).toBeCloseTo(0.001, 10);
      expect(await store.getThread('th_missing')).toBeUndefined();
      expect(await store.loadEvents('th_missing')).toEqual([]);
    });

    it('keeps error and waiting reason in the summary', async () => {
      const store = await open();
      const { id } = await createThread(store);
      await store.append(id, 1, 'rel_one', [event('escalated', { reason: 'needs a human', consecutiveErrors: 3 })], { ...runnable, status: 'escalated', waitingReason: 'needs a human' });
      expect(await store.getThread(id)).toMatchObject({ status: 'escalated', waitingReason: 'needs a human' });
      await store.append(id, 2, 'rel_one', [event('thread_failed', { error: { code: 'max_steps', message: 'too long' } })], { ...runnable, status: 'failed', error: { code: 'max_steps', message: 'too long' }, waitingReason: null });
      expect(await store.getThread(id)).toMatchObject({ status: 'failed', waitingReason: null, error: { code: 'max_steps', message: 'too long' } });
    });

    it('refuses an append with a stale expected seq with SeqConflictError and writes nothing', async () => {
      const store = await open();
      const { id } = await createThread(store);
      await store.append(id, 1, 'rel_one', [modelCalled('first')], { ...runnable, modelSteps: 1 });
      const before = await store.getThread(id);

      const error = await store.append(id, 1, 'rel_one', [modelCalled('stale'), event('thread_completed', { output: 'stale' })], { ...runnable, status: 'completed', output: 'stale', modelSteps: 9 }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(SeqConflictError);
      expect((error as SeqConflictError).code).toBe('store_conflict');
      expect((error as SeqConflictError).details).toEqual({ threadId: id, expectedSeq: 1, actualSeq: 2 });
      const events = await store.loadEvents(id);
      expect(events.map((e) => e.type)).toEqual(['thread_started', 'model_called']);
      expect(await store.getThread(id)).toEqual(before);
    });

    it('refuses an append to a thread that does not exist', async () => {
      const store = await open();
      const error = await store.append('th_nowhere', 0, 'rel_one', [modelCalled('x')], runnable).catch((e: unknown) => e);
      expect(TwelveError.is(error)).toBe(true);
      expect(await store.loadEvents('th_nowhere')).toEqual([]);
    });

    it('lets exactly one of two connections win each race for the same seq', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);
      let seq = 1;
      for (let round = 0; round < 20; round++) {
        const results = await Promise.allSettled([
          a.append(id, seq, 'rel_a', [modelCalled(`a${round}`)], { ...runnable, modelSteps: round + 1 }),
          b.append(id, seq, 'rel_b', [modelCalled(`b${round}`), modelCalled(`b${round}'`)], { ...runnable, modelSteps: round + 1 }),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(SeqConflictError);
        seq += (won[0] as PromiseFulfilledResult<unknown[]>).value.length;
      }
      const events = await b.loadEvents(id);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
      expect((await a.getThread(id))!.seq).toBe(seq);
    });

    it('leases a runnable thread to one claimer at a time, until it is released', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);

      const claimed = await a.claim({ owner: 'worker-a', leaseMs: 60_000 });
      expect(claimed).toMatchObject({ id, leaseOwner: 'worker-a' });
      expect(claimed!.leaseUntil).toBeGreaterThan(Date.now() + 50_000);
      expect(await b.claim({ owner: 'worker-b', leaseMs: 60_000 })).toBeUndefined();
      expect(await b.claim({ owner: 'worker-b', leaseMs: 60_000, threadId: id })).toBeUndefined();

      expect(await b.renewLease(id, 'worker-b', 60_000)).toBe(false);
      expect(await a.renewLease(id, 'worker-a', 120_000)).toBe(true);
      await b.releaseLease(id, 'worker-b'); // not the owner: no effect
      expect((await a.getThread(id))!.leaseOwner).toBe('worker-a');

      await a.releaseLease(id, 'worker-a');
      expect(await a.getThread(id)).toMatchObject({ leaseOwner: null, leaseUntil: null });
      expect(await b.claim({ owner: 'worker-b', leaseMs: 60_000 })).toMatchObject({ id, leaseOwner: 'worker-b' });
    });

    it('lets an expired lease be claimed again', async () => {
      const store = await open();
      const { id } = await createThread(store);
      expect(await store.claim({ owner: 'worker-a', leaseMs: 20 })).toMatchObject({ id });
      expect(await store.claim({ owner: 'worker-b', leaseMs: 60_000 })).toBeUndefined();
      await sleep(40);
      expect(await store.claim({ owner: 'worker-b', leaseMs: 60_000 })).toMatchObject({ id, leaseOwner: 'worker-b' });
      // The old owner cannot extend a lease it lost.
      expect(await store.renewLease(id, 'worker-a', 60_000)).toBe(false);
    });

    it('lets a dead owner’s lease be taken at once when isOwnerDead says so', async () => {
      const store = await open();
      const { id } = await createThread(store);
      await store.claim({ owner: 'host:111:dead', leaseMs: 60_000 });
      const asked: string[] = [];
      const isOwnerDead = (owner: string) => {
        asked.push(owner);
        return owner === 'host:111:dead';
      };
      expect(await store.claim({ owner: 'worker-b', leaseMs: 60_000, isOwnerDead: () => false })).toBeUndefined();
      expect(await store.claim({ owner: 'worker-b', leaseMs: 60_000, isOwnerDead })).toMatchObject({ id, leaseOwner: 'worker-b' });
      expect(asked).toContain('host:111:dead');

      const { id: other } = await createThread(store);
      await store.claim({ owner: 'host:222:dead', leaseMs: 60_000, threadId: other });
      expect(await store.claim({ owner: 'worker-c', leaseMs: 60_000, threadId: other, isOwnerDead: (o) => o === 'host:222:dead' })).toMatchObject({ id: other, leaseOwner: 'worker-c' });
    });

    it('claims only runnable threads', async () => {
      const store = await open();
      for (const status of ['completed', 'failed', 'escalated'] as const) await createThread(store, { status });
      expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).toBeUndefined();
      const { id } = await createThread(store);
      expect((await store.claim({ owner: 'w', leaseMs: 60_000 }))?.id).toBe(id);
    });

    it('claims only threads of the agents a worker can run, even when another agent’s thread is older', async () => {
      const store = await open();
      const { id: foreign } = await createThread(store, { agent: 'retired-agent' });
      await sleep(5);
      const { id: mine } = await createThread(store, { agent: 'refunds' });

      expect((await store.claim({ owner: 'w', leaseMs: 60_000, agents: ['refunds'] }))?.id).toBe(mine);
      expect(await store.claim({ owner: 'w2', leaseMs: 60_000, agents: ['refunds'] })).toBeUndefined();
      expect((await store.claim({ owner: 'w3', leaseMs: 60_000, agents: ['retired-agent'] }))?.id).toBe(foreign);
    });

    it('hands out different threads to concurrent claimers', async () => {
      const [a, b] = [await open(), await open()];
      const ids = new Set<string>();
      for (let i = 0; i < 6; i++) ids.add((await createThread(a)).id);
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim({ owner: `w${i}`, leaseMs: 60_000 })));
      const got = claims.flatMap((c) => (c ? [c.id] : []));
      expect(got).toHaveLength(6);
      expect(new Set(got)).toEqual(ids);
    });

    it('lists threads newest first, filtered by status and agent', async () => {
      const store = await open();
      const one = await createThread(store, { agent: 'refunds' });
      await sleep(3);
      const two = await createThread(store, { agent: 'refunds', status: 'completed' });
      await sleep(3);
      const three = await createThread(store, { agent: 'triage', status: 'escalated' });
      await sleep(3);
      const four = await createThread(store, { agent: 'triage' });

      expect((await store.listThreads()).map((t) => t.id)).toEqual([four.id, three.id, two.id, one.id]);
      expect((await store.listThreads({ agent: 'refunds' })).map((t) => t.id)).toEqual([two.id, one.id]);
      expect((await store.listThreads({ status: ['runnable'] })).map((t) => t.id)).toEqual([four.id, one.id]);
      expect((await store.listThreads({ status: ['completed', 'escalated'] })).map((t) => t.id)).toEqual([three.id, two.id]);
      expect((await store.listThreads({ status: ['runnable'], agent: 'triage' })).map((t) => t.id)).toEqual([four.id]);
      expect((await store.listThreads({ limit: 2 })).map((t) => t.id)).toEqual([four.id, three.id]);
      expect(await store.listThreads({ agent: 'nobody' })).toEqual([]);
    });

    it('saves releases once and reads them back', async () => {
      const [a, b] = [await open(), await open()];
      const manifest = { agent: 'refunds', prompt: 'You refund orders.', models: ['openai:gpt-4o-2024-08-06'], limits: { maxSteps: 20 } };
      await a.saveRelease({ id: 'rel_abc', agent: 'refunds', manifest });
      await b.saveRelease({ id: 'rel_abc', agent: 'refunds', manifest: { changed: true } });

      const release = await b.getRelease('rel_abc');
      expect(release).toEqual({ id: 'rel_abc', agent: 'refunds', manifest, createdAt: expect.any(String) });
      expect(await a.getRelease('rel_missing')).toBeUndefined();
    });
  });
}
