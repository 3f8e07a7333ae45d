/**
 * The Store contract, as one suite every backend runs: SQLite and PostgreSQL.
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
import { toBlob } from '../../src/blobs/blob.js';
import type { ThreadStatus } from '../../src/thread/state.js';
import type { Store, ThreadSummary } from '../../src/store/types.js';
import { eventHash } from '../../src/audit/chain.js';
import type { DeliveryAttempt, NotificationPayload } from '../../src/notify/types.js';

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
        { threadId: id, seq: 1, type: 'thread_started', at: expect.any(String), releaseId: 'rel_one', data: { agent: 'refunds', input: { orderId: 'A-1001', lines: [1, 2] }, metadata: { source: 'test' } }, hash: expect.any(String) },
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
        wakeAt: null,
        control: null,
      });
      expect(thread!.costUsd).toBeCloseTo(0.001, 10);
      expect(await store.getThread('th_missing')).toBeUndefined();
      expect(await store.loadEvents('th_missing')).toEqual([]);
    });

    it('keeps the release id and time an event carries when a thread is created with copies (a fork), and finds events by type', async () => {
      const store = await open();
      const { id: origin } = await createThread(store);
      await store.append(origin, 1, 'rel_one', [modelCalled('thinking')], { ...runnable, modelSteps: 1 });
      const originEvents = await store.loadEvents(origin);
      const forkId = newId();
      const copies = originEvents.map(({ type, data, releaseId, at }) => ({ type, data, releaseId, at }) as NewEvent & { releaseId: string; at: string });
      const created = await store.createThread({
        id: forkId,
        agent: 'refunds',
        releaseId: 'rel_two',
        input: 'refund A-1001',
        events: [...copies, event('thread_forked', { from: origin, atSeq: 2, by: 'alice' })],
        summary: { ...runnable, modelSteps: 1 },
      });

      const loaded = await store.loadEvents(forkId);
      expect(loaded).toEqual(created);
      expect(loaded.map((e) => [e.seq, e.type, e.releaseId, e.at])).toEqual([
        [1, 'thread_started', 'rel_one', originEvents[0]!.at],
        [2, 'model_called', 'rel_one', originEvents[1]!.at],
        [3, 'thread_forked', 'rel_two', expect.any(String)],
      ]);
      expect(loaded.map((e) => e.data)).toEqual([...originEvents.map((e) => e.data), { from: origin, atSeq: 2, by: 'alice' }]);
      expect(await store.getThread(forkId)).toMatchObject({ seq: 3, releaseId: 'rel_two', modelSteps: 1 });

      const forks = await store.loadEventsOfType([origin, forkId, 'th_missing'], 'thread_forked');
      expect(forks).toEqual([created[2]]);
      expect(await store.loadEventsOfType([], 'thread_forked')).toEqual([]);
    });

    it('chains every event to the one before it (audit hash chain) in createThread and append, forks starting their own chain', async () => {
      const store = await open();
      const { id, events: created } = await createThread(store, { input: { orderId: 'A-1', note: 'ünï\u0000' } });
      const appended = await store.append(id, 1, 'rel_two', [modelCalled('a'), event('thread_completed', { output: { ok: true } })], { ...runnable, status: 'completed', modelSteps: 1 });
      const loaded = await store.loadEvents(id);
      expect(loaded.map((e) => e.hash)).toEqual([...created, ...appended].map((e) => e.hash));
      let previous: string | null = null;
      for (const e of loaded) {
        expect(e.hash).toBe(eventHash(previous, e));
        previous = e.hash!;
      }
      // A second connection (no tip remembered) chains from the stored link too.
      const other = await open();
      const { id: second } = await createThread(other);
      await other.append(second, 1, 'rel_one', [modelCalled('b')], { ...runnable, modelSteps: 1 });
      await store.append(second, 2, 'rel_one', [modelCalled('c')], { ...runnable, modelSteps: 2 });
      const chain = await other.loadEvents(second);
      expect(chain[2]!.hash).toBe(eventHash(chain[1]!.hash!, chain[2]!));

      const forkId = newId();
      const copies = loaded.slice(0, 2).map(({ type, data, releaseId, at }) => ({ type, data, releaseId, at }) as NewEvent & { releaseId: string; at: string });
      const fork = await store.createThread({ id: forkId, agent: 'refunds', releaseId: 'rel_two', input: 'x', events: copies, summary: runnable });
      expect(fork[0]!.hash).toBe(eventHash(null, { ...loaded[0]!, threadId: forkId }));
      expect(fork[1]!.hash).toBe(eventHash(fork[0]!.hash!, fork[1]!));
      expect((await store.loadEvents(forkId)).map((e) => e.hash)).toEqual(fork.map((e) => e.hash));
    });

    it('scans every thread\'s events by keyset pages and keeps signed chain heads', async () => {
      const store = await open();
      const a = await createThread(store, { id: 'th_a' });
      await store.append('th_a', 1, 'rel_one', [modelCalled('a')], runnable);
      await createThread(store, { id: 'th_b' });
      const first = await store.scanEvents({ limit: 2 });
      expect(first.map((e) => [e.threadId, e.seq, e.threadSeq])).toEqual([['th_a', 1, 2], ['th_a', 2, 2]]);
      const rest = await store.scanEvents({ after: { threadId: 'th_a', seq: 2 }, limit: 10 });
      expect(rest.map((e) => [e.threadId, e.seq])).toEqual([['th_b', 1]]);
      expect(rest[0]!.hash).toEqual(expect.any(String));
      const head = { id: 'h1', threadId: 'th_a', seq: 1, hash: a.events[0]!.hash!, signature: 'c2ln', keyId: 'k1', signedAt: new Date(0).toISOString() };
      await store.saveAuditHead(head);
      expect(await store.loadAuditHeads(['th_a', 'th_b'])).toEqual([head]);
      expect(await store.loadAuditHeads([])).toEqual([]);
    });

    it('gives back inputs, outputs and event data exactly as written: key order, NUL characters, numbers', async () => {
      // The runtime compares a relaunch's input with the stored one, and renders stored data into prompts.
      const store = await open();
      const input = { orderId: 'A-1001', z: 1, a: { y: [3, 1], b: null }, note: 'nul\u0000byte', big: 12345678901234, tiny: 1e-7 };
      const { id } = await createThread(store, { input });
      const output = { zeta: true, alpha: 'ok', mid: { c: 1, b: 2 } };
      await store.append(id, 1, 'rel_one', [event('thread_completed', { output })], { ...runnable, status: 'completed', output });
      const thread = await store.getThread(id);
      expect(JSON.stringify(thread!.input)).toBe(JSON.stringify(input));
      expect(JSON.stringify(thread!.output)).toBe(JSON.stringify(output));
      const events = await store.loadEvents(id);
      expect(JSON.stringify(events.map((e) => e.data))).toBe(JSON.stringify([{ agent: 'refunds', input, metadata: { source: 'test' } }, { output }]));
    });

    it('keeps error, waiting reason and wake-up time in the summary', async () => {
      const store = await open();
      const { id } = await createThread(store);
      await store.append(id, 1, 'rel_one', [event('escalated', { reason: 'needs a human', consecutiveErrors: 3, kind: 'errors' })], {
        ...runnable,
        status: 'awaiting_human',
        waitingReason: 'escalated: needs a human',
      });
      expect(await store.getThread(id)).toMatchObject({ status: 'awaiting_human', waitingReason: 'escalated: needs a human', wakeAt: null });
      const deadline = Date.parse('2030-01-01T00:00:00.000Z');
      await store.append(id, 2, 'rel_one', [event('resumed', { by: 'ops' })], { ...runnable, status: 'awaiting_approval', waitingReason: 'approval for refund: large', wakeAt: deadline });
      expect(await store.getThread(id)).toMatchObject({ status: 'awaiting_approval', waitingReason: 'approval for refund: large', wakeAt: deadline });
      await store.append(id, 3, 'rel_one', [event('thread_failed', { error: { code: 'prefetch_failed', message: 'no order id' } })], {
        ...runnable,
        status: 'failed',
        error: { code: 'prefetch_failed', message: 'no order id' },
        waitingReason: null,
      });
      // A summary without wakeAt clears it: nothing is due any more.
      expect(await store.getThread(id)).toMatchObject({ status: 'failed', waitingReason: null, wakeAt: null, error: { code: 'prefetch_failed', message: 'no order id' } });
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
      // Long enough for the second claim to land inside it on a loaded machine.
      const lease = await store.claim({ owner: 'worker-a', leaseMs: 500 });
      expect(lease).toMatchObject({ id });
      expect(await store.claim({ owner: 'worker-b', leaseMs: 60_000 })).toBeUndefined();
      while (Date.now() <= lease!.leaseUntil!) await sleep(10);
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

    it('takes over threads interrupted mid-step (dead owner, expired lease) before fresh work, however long the backlog', async () => {
      const store = await open();
      // The backlog is older than the interrupted threads, so queue order alone would serve it first.
      const backlog: string[] = [];
      for (let i = 0; i < 30; i++) backlog.push((await createThread(store)).id);
      const interrupted: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { id } = await createThread(store);
        expect(await store.claim({ owner: 'host:111:dead', leaseMs: 60_000, threadId: id })).toMatchObject({ id });
        interrupted.push(id);
      }
      const { id: stalled } = await createThread(store);
      const lease = await store.claim({ owner: 'host:222:stalled', leaseMs: 1, threadId: stalled });
      while (Date.now() <= lease!.leaseUntil!) await sleep(2);
      interrupted.push(stalled);
      const { id: busy } = await createThread(store);
      await store.claim({ owner: 'host:333:alive', leaseMs: 60_000, threadId: busy });

      const isOwnerDead = (owner: string) => owner === 'host:111:dead';
      const claimed: string[] = [];
      for (let i = 0; i < 4; i++) claimed.push((await store.claim({ owner: 'worker-b', leaseMs: 60_000, isOwnerDead }))!.id);
      expect(new Set(claimed.slice(0, 3))).toEqual(new Set(interrupted));
      expect(claimed[3]).toBe(backlog[0]);
      // A live owner's thread is never taken; the claimer's own leases are not orphans either.
      expect((await store.getThread(busy))!.leaseOwner).toBe('host:333:alive');
      for (const id of claimed) expect((await store.getThread(id))!.leaseOwner).toBe('worker-b');
    });

    it('claims runnable threads, never finished ones, and waiting ones only when they are due', async () => {
      const store = await open();
      for (const status of ['completed', 'failed', 'cancelled', 'awaiting_approval', 'awaiting_human', 'sleeping', 'paused'] as const) await createThread(store, { status });
      expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).toBeUndefined();
      const { id } = await createThread(store);
      expect((await store.claim({ owner: 'w', leaseMs: 60_000 }))?.id).toBe(id);
    });

    /** A thread in `status` whose summary says it must be looked at again at `wakeAt`. */
    async function waitingThread(store: Store, status: ThreadStatus, wakeAt: number | null) {
      const { id } = await createThread(store);
      await store.append(id, 1, 'rel_one', [event('paused', { by: 'test' })], { ...runnable, status, waitingReason: `${status} for a test`, wakeAt });
      return id;
    }

    it('claims a waiting thread once its wake-up time has passed (a deadline, the end of a sleep), and not before', async () => {
      const store = await open();
      const past = Date.now() - 1_000;
      const future = Date.now() + 3_600_000;
      await waitingThread(store, 'awaiting_approval', future);
      await waitingThread(store, 'awaiting_approval', null);
      await waitingThread(store, 'awaiting_human', future);
      await waitingThread(store, 'sleeping', future);
      // Paused threads are never due, whatever their wake-up time says.
      const paused = await waitingThread(store, 'paused', past);
      expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).toBeUndefined();

      const due = new Set<string>();
      for (const status of ['awaiting_approval', 'awaiting_human', 'sleeping'] as const) due.add(await waitingThread(store, status, past));
      const claimed = new Set<string>();
      for (let i = 0; i < 3; i++) claimed.add((await store.claim({ owner: `w${i}`, leaseMs: 60_000 }))!.id);
      expect(claimed).toEqual(due);
      expect(await store.claim({ owner: 'w9', leaseMs: 60_000 })).toBeUndefined();
      expect((await store.getThread(paused))!.leaseOwner).toBeNull();
    });

    it('still leases a waiting (not finished) thread by id, for a person acting on it', async () => {
      const store = await open();
      const waiting = await waitingThread(store, 'awaiting_approval', Date.now() + 3_600_000);
      const paused = await waitingThread(store, 'paused', null);
      const { id: done } = await createThread(store, { status: 'completed' });
      expect(await store.claim({ owner: 'w', leaseMs: 60_000, threadId: waiting })).toMatchObject({ id: waiting, leaseOwner: 'w', status: 'awaiting_approval' });
      expect(await store.claim({ owner: 'w', leaseMs: 60_000, threadId: paused })).toMatchObject({ id: paused, leaseOwner: 'w', status: 'paused' });
      expect(await store.claim({ owner: 'w', leaseMs: 60_000, threadId: done })).toBeUndefined();
    });

    it('keeps a pause or cancel request until an append clears it, and makes the thread claimable meanwhile', async () => {
      const [a, b] = [await open(), await open()];
      const paused = await waitingThread(a, 'paused', null);
      const waiting = await waitingThread(a, 'awaiting_human', null);
      expect(await a.getControl(paused)).toBeNull();
      expect(await a.claim({ owner: 'w', leaseMs: 60_000 })).toBeUndefined();

      await a.setControl(paused, { kind: 'cancel', by: 'ana@example.com', reason: 'customer withdrew' });
      expect(await b.getControl(paused)).toEqual({ kind: 'cancel', by: 'ana@example.com', reason: 'customer withdrew' });
      expect((await b.getThread(paused))!.control).toEqual({ kind: 'cancel', by: 'ana@example.com', reason: 'customer withdrew' });
      expect(await b.getControl(waiting)).toBeNull();
      // The request is work for a worker, even on a paused thread.
      const claimed = await b.claim({ owner: 'w', leaseMs: 60_000 });
      expect(claimed).toMatchObject({ id: paused, control: { kind: 'cancel', by: 'ana@example.com' } });
      await b.releaseLease(paused, 'w');

      // An append that does not say it applied the request leaves it in place ...
      await a.append(paused, 2, 'rel_one', [event('resumed', { by: 'bob' })], { ...runnable, status: 'paused', waitingReason: 'paused by test' });
      expect(await a.getControl(paused)).toEqual({ kind: 'cancel', by: 'ana@example.com', reason: 'customer withdrew' });
      // ... and the one that applied it clears it.
      await a.append(paused, 3, 'rel_one', [event('cancelled', { by: 'ana@example.com', reason: 'customer withdrew' })], {
        ...runnable,
        status: 'cancelled',
        error: { code: 'cancelled', message: 'cancelled by ana@example.com: customer withdrew' },
        clearControl: true,
      });
      expect(await b.getControl(paused)).toBeNull();
      expect(await b.getThread(paused)).toMatchObject({ status: 'cancelled', control: null });
      expect(await b.claim({ owner: 'w', leaseMs: 60_000 })).toBeUndefined();

      // A later request replaces an earlier one; a finished thread takes none.
      await a.setControl(waiting, { kind: 'pause', by: 'ops' });
      await a.setControl(waiting, { kind: 'cancel', by: 'lead' });
      expect(await b.getControl(waiting)).toEqual({ kind: 'cancel', by: 'lead' });
      await a.setControl(paused, { kind: 'pause', by: 'ops' });
      expect(await b.getControl(paused)).toBeNull();
      expect(await b.getControl('th_missing')).toBeNull();
    });

    it('adds each append’s spend to the agent’s daily total, in the same transaction', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a, { agent: 'refunds' });
      const { id: other } = await createThread(a, { agent: 'triage' });
      expect(await a.dailySpend('refunds', '2026-01-01')).toBe(0);

      await a.append(id, 1, 'rel_one', [modelCalled('one')], { ...runnable, modelSteps: 1, costUsd: 0.25 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 0.25 } });
      await b.append(id, 2, 'rel_one', [modelCalled('two')], { ...runnable, modelSteps: 2, costUsd: 0.75 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 0.5 } });
      await a.append(id, 3, 'rel_one', [modelCalled('three')], { ...runnable, modelSteps: 3, costUsd: 0.875 }, { spend: { agent: 'refunds', day: '2026-01-02', costUsd: 0.125 } });
      await a.append(other, 1, 'rel_one', [modelCalled('triage')], { ...runnable, modelSteps: 1, costUsd: 2 }, { spend: { agent: 'triage', day: '2026-01-01', costUsd: 2 } });
      await a.append(id, 4, 'rel_one', [event('resumed', { by: 'ops' })], { ...runnable, modelSteps: 3, costUsd: 0.875 }, {});

      expect(await b.dailySpend('refunds', '2026-01-01')).toBeCloseTo(0.75, 10);
      expect(await b.dailySpend('refunds', '2026-01-02')).toBeCloseTo(0.125, 10);
      expect(await b.dailySpend('triage', '2026-01-01')).toBeCloseTo(2, 10);
      expect(await b.dailySpend('nobody', '2026-01-01')).toBe(0);

      // A losing append adds nothing.
      const lost = await a.append(id, 1, 'rel_one', [modelCalled('stale')], { ...runnable, modelSteps: 9 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 100 } }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(SeqConflictError);
      expect(await b.dailySpend('refunds', '2026-01-01')).toBeCloseTo(0.75, 10);
    });

    it('adds the spend of a thread with a tenant to the tenant’s daily total, and keeps the tenant on the thread', async () => {
      const [a, b] = [await open(), await open()];
      const id = newId();
      await a.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', tenant: 'acme', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
      const { id: other } = await createThread(a);
      expect((await b.getThread(id))!.tenant).toBe('acme');
      expect((await b.getThread(other))!.tenant).toBeNull();
      expect((await b.listThreads()).find((t) => t.id === id)!.tenant).toBe('acme');

      await a.append(id, 1, 'rel_one', [modelCalled('one')], { ...runnable, modelSteps: 1, costUsd: 0.25 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 0.25, tenant: 'acme' } });
      await b.append(id, 2, 'rel_one', [modelCalled('two')], { ...runnable, modelSteps: 2, costUsd: 0.75 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 0.5, tenant: 'acme' } });
      await a.append(other, 1, 'rel_one', [modelCalled('no tenant')], { ...runnable, modelSteps: 1, costUsd: 2 }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 2 } });
      expect(await b.tenantSpend('acme', '2026-01-01')).toBeCloseTo(0.75, 10);
      expect(await b.tenantSpend('acme', '2026-01-02')).toBe(0);
      expect(await b.tenantSpend('globex', '2026-01-01')).toBe(0);
      expect(await b.dailySpend('refunds', '2026-01-01')).toBeCloseTo(2.75, 10);

      const lost = await a.append(id, 1, 'rel_one', [modelCalled('stale')], { ...runnable }, { spend: { agent: 'refunds', day: '2026-01-01', costUsd: 100, tenant: 'acme' } }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(SeqConflictError);
      expect(await b.tenantSpend('acme', '2026-01-01')).toBeCloseTo(0.75, 10);
    });

    it('reports spend, tokens and calls from the model_called events, grouped by agent, model, day or tenant, unpriced calls counted apart', async () => {
      const store = await open();
      const call = (model: string, costUsd: number | null, inputTokens: number, outputTokens: number) =>
        event('model_called', { model, attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens, outputTokens }, costUsd, text: '', toolCalls: [], finishReason: 'stop', contextMessages: 1 });
      const thread = async (agent: string, tenant: string | undefined, calls: NewEvent[], copied: NewEvent[] = []) => {
        const id = newId();
        const old = '2020-01-01T00:00:00.000Z';
        await store.createThread({
          id,
          agent,
          releaseId: 'rel_one',
          input: 'x',
          ...(tenant ? { tenant } : {}),
          // Copies of another thread's events (a fork's, before its thread_forked) keep their first time: not counted again.
          events: [
            ...[event('thread_started', { agent, input: 'x' }), ...copied].map((e) => ({ ...e, releaseId: 'rel_one', at: old })),
            copied.length ? event('thread_forked', { from: 'th_origin', atSeq: 1 + copied.length, by: 'ops' }) : event('resumed', { by: 'ops' }),
          ],
          summary: runnable,
        });
        let seq = 2 + copied.length;
        for (const e of calls) await store.append(id, seq++, 'rel_one', [e], runnable);
        return id;
      };
      const before = new Date(Date.now() - 1000).toISOString();
      await thread('refunds', 'acme', [call('openai:a', 0.5, 100, 10), call('local:b', null, 50, 5)]);
      await thread('refunds', 'globex', [call('openai:a', 0.25, 20, 2)], [call('openai:a', 9, 900, 90)]);
      await thread('triage', undefined, [call('openai:a', 0.125, 8, 1)]);
      const after = new Date(Date.now() + 1000).toISOString();
      const today = new Date().toISOString().slice(0, 10);
      const totals = (row: { costUsd: number; inputTokens: number; outputTokens: number; calls: number; unpricedCalls: number }) => [
        Math.round(row.costUsd * 1000) / 1000, row.inputTokens, row.outputTokens, row.calls, row.unpricedCalls,
      ];

      expect((await store.costReport({ by: ['agent'] })).map((r) => [r.agent, ...totals(r)])).toEqual([
        ['refunds', 0.75, 170, 17, 3, 1],
        ['triage', 0.125, 8, 1, 1, 0],
      ]);
      expect((await store.costReport({ by: ['model'] })).map((r) => [r.model, ...totals(r)])).toEqual([
        ['local:b', 0, 50, 5, 1, 1],
        ['openai:a', 0.875, 128, 13, 3, 0],
      ]);
      expect((await store.costReport({ by: ['day'] })).map((r) => [r.day, ...totals(r)])).toEqual([[today, 0.875, 178, 18, 4, 1]]);
      const byTenant = await store.costReport({ by: ['tenant'] });
      expect(byTenant.map((r) => [r.tenant, ...totals(r)])).toEqual(
        expect.arrayContaining([
          ['acme', 0.5, 150, 15, 2, 1],
          ['globex', 0.25, 20, 2, 1, 0],
          [null, 0.125, 8, 1, 1, 0],
        ]),
      );
      expect(byTenant).toHaveLength(3);
      expect((await store.costReport({ by: ['day', 'agent'] })).map((r) => [r.day, r.agent, r.calls])).toEqual([
        [today, 'refunds', 3],
        [today, 'triage', 1],
      ]);
      // since is inclusive, until exclusive; filters by the thread's agent and tenant.
      expect((await store.costReport({ by: ['agent'], since: before, until: after })).map((r) => r.calls)).toEqual([3, 1]);
      expect(await store.costReport({ by: ['agent'], since: after })).toEqual([]);
      expect(await store.costReport({ by: ['agent'], until: before })).toEqual([]);
      expect((await store.costReport({ by: ['model'], agent: 'triage' })).map((r) => [r.model, r.calls])).toEqual([['openai:a', 1]]);
      expect((await store.costReport({ by: ['agent'], tenant: 'acme' })).map((r) => [r.agent, r.calls, r.unpricedCalls])).toEqual([['refunds', 2, 1]]);
      expect(await store.costReport({ by: ['agent'], agent: 'nobody' })).toEqual([]);
    });

    it('writes proposals with the correcting event (a repeat is ignored, a lost race writes none) and lets exactly one decision stand', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);
      const draft = { id: 'rejected-refund', input: 'refund A-1001', expect: { tools: { never: ['issue_refund'] } }, fixtures: { tools: [{ tool: 'lookup_order', result: { orderId: 'A-1001' } }] } };
      const proposal = { id: `prop_${id}_2`, threadId: id, agent: 'refunds', seq: 2, kind: 'rejection' as const, draft };
      await a.append(id, 1, 'rel_one', [event('resumed', { by: 'ops', comment: 'do not refund digital goods' })], runnable, { proposals: [proposal] });
      const lost = await b.append(id, 1, 'rel_one', [event('resumed', { by: 'ops' })], runnable, { proposals: [{ ...proposal, id: 'prop_lost', seq: 2 }] }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(SeqConflictError);
      await a.append(id, 2, 'rel_one', [event('resumed', { by: 'ops' })], runnable, { proposals: [{ ...proposal, id: 'prop_repeat' }] });

      const pending = await b.listProposals({ status: 'pending' });
      expect(pending.map((p) => p.id)).toEqual([proposal.id]);
      expect(pending[0]).toMatchObject({ threadId: id, agent: 'refunds', seq: 2, kind: 'rejection', status: 'pending', draft, decidedBy: null, suite: null });
      expect(await b.listProposals({ threadId: 'th_other' })).toEqual([]);
      expect(await b.getProposal('prop_missing')).toBeUndefined();

      const decided = await Promise.allSettled([
        a.decideProposal(proposal.id, { status: 'accepted', by: 'alice', suite: 'evals/refunds.jsonl' }),
        b.decideProposal(proposal.id, { status: 'dismissed', by: 'bob' }),
      ]);
      expect(decided.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = decided.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'conflict' });
      expect(refused.reason.message).toMatch(/already (accepted|dismissed) by (alice|bob)/);
      expect(await a.decideProposal('prop_missing', { status: 'dismissed', by: 'bob' })).toBeUndefined();
      expect((await b.listProposals({ status: 'pending' })).length).toBe(0);
    });

    it('stores blobs once with the events that refer to them (a lost race stores none) and reads them back by hash', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);
      const request = toBlob({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'refund A-1001 \u00e9' }] }], temperature: 0 });
      const result = toBlob({ rows: 'x'.repeat(2000) });
      const lost = toBlob({ never: 'stored' });
      await a.append(id, 1, 'rel_one', [{ ...modelCalled('hi'), data: { ...modelCalled('hi').data, request: { ref: request.hash, bytes: request.bytes } } } as NewEvent], runnable, { blobs: [request, result] });
      const race = await b.append(id, 1, 'rel_one', [modelCalled('late')], runnable, { blobs: [lost] }).catch((e: unknown) => e);
      expect(race).toBeInstanceOf(SeqConflictError);
      // The same request again (the next step of a thread, another thread): kept once, no error.
      await b.append(id, 2, 'rel_one', [modelCalled('again')], runnable, { blobs: [request] });

      expect(await b.getBlob(request.hash)).toEqual(request);
      expect(await b.getBlob(lost.hash)).toBeUndefined();
      const both = await a.getBlobs([result.hash, request.hash, lost.hash, request.hash]);
      expect(both.sort((x, y) => x.hash.localeCompare(y.hash))).toEqual([request, result].sort((x, y) => x.hash.localeCompare(y.hash)));
      expect(await a.getBlobs([])).toEqual([]);
      const events = await b.loadEvents(id);
      expect(events[1]!.data).toMatchObject({ request: { ref: request.hash, bytes: request.bytes } });
    });

    it('stores eval runs and lists them newest first, by agent, suite and release', async () => {
      const store = await open();
      const summary = { cases: 2, passed: 1, failed: 1, score: 0.5, costUsd: 0.01, tokens: 300, steps: 2, durationMs: 40 };
      const results = [{ id: 'case-1', pass: true, score: 1, scores: [{ name: 'status', pass: true, score: 1 }], status: 'completed' as const, output: { label: 'billing' }, costUsd: 0.005, tokens: 150, steps: 1, latencyMs: 20 }];
      await store.saveEvalRun({ id: 'ev_1', suite: 'refunds', agent: 'refunds', releaseId: 'rel_a', model: null, baselineReleaseId: null, createdAt: '2026-12-01T10:00:00.000Z', summary, results });
      await store.saveEvalRun({ id: 'ev_2', suite: 'refunds', agent: 'refunds', releaseId: 'rel_b', model: 'openai:gpt-4o-2024-11-20', baselineReleaseId: 'rel_a', createdAt: '2026-12-01T11:00:00.000Z', summary, results });
      await store.saveEvalRun({ id: 'ev_3', suite: 'triage', agent: 'triage', releaseId: 'rel_c', model: null, baselineReleaseId: null, createdAt: '2026-12-01T12:00:00.000Z', summary, results });
      expect((await store.listEvalRuns()).map((r) => r.id)).toEqual(['ev_3', 'ev_2', 'ev_1']);
      expect((await store.listEvalRuns({ agent: 'refunds', limit: 1 })).map((r) => r.id)).toEqual(['ev_2']);
      expect((await store.listEvalRuns({ releaseId: 'rel_a' })).map((r) => r.id)).toEqual(['ev_1']);
      expect(await store.getEvalRun('ev_2')).toEqual({ id: 'ev_2', suite: 'refunds', agent: 'refunds', releaseId: 'rel_b', model: 'openai:gpt-4o-2024-11-20', baselineReleaseId: 'rel_a', createdAt: '2026-12-01T11:00:00.000Z', summary, results });
      expect(await store.getEvalRun('ev_missing')).toBeUndefined();
    });

    it('keeps the completed output’s confidence and counts it per agent into histogram buckets', async () => {
      const store = await open();
      for (const [agent, confidence] of [['refunds', 0.95], ['refunds', 0.4], ['triage', 0.7]] as const) {
        const { id } = await createThread(store, { agent });
        await store.append(id, 1, 'rel_one', [event('thread_completed', { output: 'ok', confidence })], { ...runnable, status: 'completed', output: 'ok', confidence });
        expect((await store.getThread(id))!.confidence).toBe(confidence);
      }
      await createThread(store, { agent: 'refunds' });
      const histogram = await store.confidenceHistogram([0.5, 0.9, 1]);
      expect(histogram).toEqual([
        { agent: 'refunds', counts: [1, 1, 2], count: 2, sum: 1.35 },
        { agent: 'triage', counts: [0, 1, 1], count: 1, sum: 0.7 },
      ]);
    });

    it('keeps calls with no known price out of the spend: the cost is unknown (null), never $0, and counted in stats', async () => {
      const store = await open();
      const { id: fresh } = await createThread(store);
      expect(await store.getThread(fresh)).toMatchObject({ costUsd: 0, pricedCostUsd: 0, unpricedCalls: 0 });

      const { id } = await createThread(store);
      const unpriced = { ...(modelCalled('local') as Extract<NewEvent, { type: 'model_called' }>) };
      unpriced.data = { ...unpriced.data, model: 'openai-compatible:llama3.1-8b', costUsd: null };
      await store.append(id, 1, 'rel_one', [unpriced], { ...runnable, modelSteps: 1, inputTokens: 10, outputTokens: 2, costUsd: 0, unpricedCalls: 1 });
      expect(await store.getThread(id)).toMatchObject({ modelSteps: 1, costUsd: null, pricedCostUsd: 0, unpricedCalls: 1 });
      await store.append(id, 2, 'rel_one', [modelCalled('priced')], { ...runnable, modelSteps: 2, inputTokens: 20, outputTokens: 4, costUsd: 0.001, unpricedCalls: 1 });
      const thread = await store.getThread(id);
      expect(thread).toMatchObject({ modelSteps: 2, costUsd: null, unpricedCalls: 1 });
      expect(thread!.pricedCostUsd).toBeCloseTo(0.001, 10);
      const listed = new Map((await store.listThreads()).map((t) => [t.id, [t.costUsd, t.unpricedCalls]]));
      expect(listed).toEqual(new Map([[id, [null, 1]], [fresh, [0, 0]]]));
      const stats = await store.stats();
      expect(stats.unpricedCalls).toBe(1);
      expect(stats.costUsd).toBeCloseTo(0.001, 10);
    });

    const notification = (threadId: string, seq: number, kind: NotificationPayload['kind'] = 'approval'): NotificationPayload => ({
      id: `${threadId}:${seq}`,
      threadId,
      agent: 'refunds',
      seq,
      kind,
      summary: 'Approve issue_refund? refund of 25000 cents is above the 10000-cent approval threshold',
      data: { tool: 'issue_refund', args: { orderId: 'A-1005', amountCents: 25_000 } },
      at: '2026-01-01T00:00:00.000Z',
    });
    const attempt = (notificationId: string, n: number, ok: boolean): DeliveryAttempt => ({
      notificationId,
      attempt: n,
      url: 'https://hooks.example.com/twelve',
      at: new Date().toISOString(),
      ok,
      status: ok ? 200 : 503,
      error: ok ? null : 'HTTP 503',
      durationMs: 12.5,
    });

    it('writes notifications with the events that start a wait, and hands each out once per lease until delivered', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);
      const claimOptions = { limit: 10, leaseMs: 60_000, maxAttempts: 5 };
      expect(await a.claimDueNotifications(claimOptions)).toEqual([]);

      const sent = notification(id, 2);
      await a.append(id, 1, 'rel_one', [event('resumed', { by: 'test' })], { ...runnable, status: 'awaiting_approval', waitingReason: 'approval' }, { notifications: [sent] });
      // A losing append enqueues nothing.
      const lost = await b.append(id, 1, 'rel_one', [event('resumed', { by: 'late' })], runnable, { notifications: [notification(id, 99)] }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(SeqConflictError);

      expect(await b.claimDueNotifications(claimOptions)).toEqual([{ id: sent.id, payload: sent, attempts: 0 }]);
      // Leased: neither connection gets it again while the lease lasts.
      expect(await a.claimDueNotifications(claimOptions)).toEqual([]);
      expect(await b.claimDueNotifications(claimOptions)).toEqual([]);

      // A failed attempt with its retry time already passed: due again, with the attempt counted.
      await b.recordDeliveryAttempt(attempt(sent.id, 1, false), { delivered: false, retryAt: Date.now() - 1 });
      expect(await a.claimDueNotifications(claimOptions)).toEqual([{ id: sent.id, payload: sent, attempts: 1 }]);
      // A failed attempt with its retry time ahead: not due yet.
      await a.recordDeliveryAttempt(attempt(sent.id, 2, false), { delivered: false, retryAt: Date.now() + 3_600_000 });
      expect(await b.claimDueNotifications(claimOptions)).toEqual([]);
      expect((await b.listDeliveryAttempts(sent.id)).map((x) => [x.attempt, x.ok])).toEqual([
        [1, false],
        [2, false],
      ]);

      // Delivered: never handed out again, and every attempt is on record.
      await b.recordDeliveryAttempt(attempt(sent.id, 3, true), { delivered: true, retryAt: null });
      expect(await a.claimDueNotifications(claimOptions)).toEqual([]);
      const attempts = await a.listDeliveryAttempts(sent.id);
      expect(attempts.map((x) => [x.attempt, x.ok, x.status, x.error])).toEqual([
        [1, false, 503, 'HTTP 503'],
        [2, false, 503, 'HTTP 503'],
        [3, true, 200, null],
      ]);
      expect(attempts[2]).toMatchObject({ notificationId: sent.id, url: 'https://hooks.example.com/twelve', durationMs: 12.5 });
      expect(await a.listDeliveryAttempts('th_missing:1')).toEqual([]);
    });

    it('stops handing out a notification after maxAttempts, and honours the claim limit', async () => {
      const store = await open();
      const { id } = await createThread(store);
      const first = notification(id, 2);
      const second = notification(id, 3, 'question');
      const third = notification(id, 4, 'budget');
      await store.append(id, 1, 'rel_one', [event('resumed', { by: 'test' })], { ...runnable, status: 'awaiting_human' }, { notifications: [first, second, third] });

      const claimed = await store.claimDueNotifications({ limit: 2, leaseMs: 60_000, maxAttempts: 3 });
      expect(claimed).toHaveLength(2);
      const rest = await store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 3 });
      expect(new Set([...claimed, ...rest].map((item) => item.id))).toEqual(new Set([first.id, second.id, third.id]));
      expect(rest).toHaveLength(1);

      for (let n = 1; n <= 2; n++) await store.recordDeliveryAttempt(attempt(first.id, n, false), { delivered: false, retryAt: Date.now() - 1 });
      expect((await store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 3 })).map((item) => [item.id, item.attempts])).toEqual([[first.id, 2]]);
      await store.recordDeliveryAttempt(attempt(first.id, 3, false), { delivered: false, retryAt: Date.now() - 1 });
      // Three attempts made, three allowed: it is dead, whatever its retry time says.
      expect(await store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 3 })).toEqual([]);
      expect((await store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 4 })).map((item) => [item.id, item.attempts])).toEqual([[first.id, 3]]);
    });

    it('keeps broker replies apart from notifications in the outbox: each claim hands out only its own kind', async () => {
      const [a, b] = [await open(), await open()];
      const { id } = await createThread(a);
      const note = notification(id, 2);
      const reply = { id: `reply:${id}`, threadId: id, channel: 'nats' as const, subject: 'replies.here', body: { threadId: id, messageId: 'm-1', status: 'completed', output: 'ok' }, at: '2026-01-01T00:00:00.000Z' };
      await a.append(id, 1, 'rel_one', [event('resumed', { by: 'test' })], runnable, { notifications: [note], replies: [reply] });
      const options = { limit: 10, leaseMs: 60_000, maxAttempts: 5 };
      expect(await b.claimDueReplies(options)).toEqual([{ id: reply.id, payload: reply, attempts: 0 }]);
      expect(await b.claimDueNotifications(options)).toEqual([{ id: note.id, payload: note, attempts: 0 }]);
      expect(await a.claimDueReplies(options)).toEqual([]);
      await b.recordDeliveryAttempt({ ...attempt(reply.id, 1, false), url: 'nats:replies.here' }, { delivered: false, retryAt: Date.now() - 1 });
      expect(await a.claimDueNotifications(options)).toEqual([]);
      expect(await a.claimDueReplies(options)).toEqual([{ id: reply.id, payload: reply, attempts: 1 }]);
      await a.recordDeliveryAttempt({ ...attempt(reply.id, 2, true), url: 'nats:replies.here' }, { delivered: true, retryAt: null });
      expect(await b.claimDueReplies({ ...options, leaseMs: 1 })).toEqual([]);
      expect((await b.listDeliveryAttempts(reply.id)).map((x) => [x.attempt, x.ok, x.url])).toEqual([
        [1, false, 'nats:replies.here'],
        [2, true, 'nats:replies.here'],
      ]);
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
      const three = await createThread(store, { agent: 'triage', status: 'awaiting_human' });
      await sleep(3);
      const four = await createThread(store, { agent: 'triage' });

      expect((await store.listThreads()).map((t) => t.id)).toEqual([four.id, three.id, two.id, one.id]);
      expect((await store.listThreads({ agent: 'refunds' })).map((t) => t.id)).toEqual([two.id, one.id]);
      expect((await store.listThreads({ status: ['runnable'] })).map((t) => t.id)).toEqual([four.id, one.id]);
      expect((await store.listThreads({ status: ['completed', 'awaiting_human'] })).map((t) => t.id)).toEqual([three.id, two.id]);
      expect((await store.listThreads({ status: ['runnable'], agent: 'triage' })).map((t) => t.id)).toEqual([four.id]);
      expect((await store.listThreads({ limit: 2 })).map((t) => t.id)).toEqual([four.id, three.id]);
      expect(await store.listThreads({ agent: 'nobody' })).toEqual([]);
    });

    it('never claims a thread last written by a newer release of its agent than the claimer runs', async () => {
      const [store, other] = [await open(), await open()];
      // Ordinals: rel_old < rel_new (refunds), then rel_triage (another agent: never compared with refunds').
      for (const [id, agent] of [['rel_old', 'refunds'], ['rel_new', 'refunds'], ['rel_triage', 'triage']] as const) await store.saveRelease({ id, agent, manifest: {} });
      const make = async (id: string, agent: string, releaseId: string) => {
        await store.createThread({ id, agent, releaseId, input: 'x', events: [event('thread_started', { agent, input: 'x' })], summary: runnable });
      };
      await make('th_on_old', 'refunds', 'rel_old');
      await make('th_on_new', 'refunds', 'rel_new');
      await make('th_on_unknown', 'refunds', 'rel_never_saved');
      await make('th_triage', 'triage', 'rel_triage');
      await make('th_moved', 'refunds', 'rel_old');
      // Launched on the old release, stepped by the new one: now the new release's.
      await store.append('th_moved', 1, 'rel_new', [event('paused', { by: 'x' }), event('resumed', { by: 'x' })], runnable);
      await make('th_done_new', 'refunds', 'rel_new');
      await store.append('th_done_new', 1, 'rel_new', [event('thread_completed', { output: 'ok' })], { ...runnable, status: 'completed', output: 'ok' });
      const old = { refunds: 'rel_old', triage: 'rel_triage' };

      // A named thread: refused to the old release, claimable without the check or by the new release.
      expect(await store.claim({ owner: 'old', leaseMs: 60_000, threadId: 'th_on_new', releases: old })).toBeUndefined();
      expect(await other.claim({ owner: 'new', leaseMs: 60_000, threadId: 'th_on_new', releases: { refunds: 'rel_new' } })).toMatchObject({ id: 'th_on_new' });
      await other.releaseLease('th_on_new', 'new');
      // An expired lease of a newer thread is not taken over by an old worker either.
      const lease = await other.claim({ owner: 'gone', leaseMs: 1, threadId: 'th_on_new' });
      while (Date.now() <= lease!.leaseUntil!) await sleep(5);

      expect(await store.threadsOnNewerReleases(['rel_old', 'rel_triage'])).toEqual([{ agent: 'refunds', releaseId: 'rel_new', threads: 2 }]);
      expect(await store.threadsOnNewerReleases(['rel_new', 'rel_triage'])).toEqual([]);
      expect(await store.threadsOnNewerReleases([])).toEqual([]);

      const claimedByOld: string[] = [];
      for (let i = 0; i < 6; i++) {
        // Every other claim with a per-agent cap: the capped path filters too.
        const claimed = await store.claim({ owner: 'old', leaseMs: 60_000, releases: old, ...(i % 2 ? { agentCaps: { refunds: 10 } } : {}) });
        if (!claimed) break;
        claimedByOld.push(claimed.id);
      }
      expect(claimedByOld.sort()).toEqual(['th_on_old', 'th_on_unknown', 'th_triage']);
      // The new release's worker takes what the old one left, the expired lease included.
      const claimedByNew: string[] = [];
      for (let i = 0; i < 3; i++) {
        const claimed = await other.claim({ owner: 'new', leaseMs: 60_000, releases: { refunds: 'rel_new' } });
        if (claimed) claimedByNew.push(claimed.id);
      }
      expect(claimedByNew.sort()).toEqual(['th_moved', 'th_on_new']);

      // A rollback: promoting the old release makes it the newer one, and the roles swap.
      for (const id of claimedByNew) await other.releaseLease(id, 'new');
      await store.promoteRelease('rel_old');
      expect(await other.claim({ owner: 'new', leaseMs: 60_000, threadId: 'th_moved', releases: { refunds: 'rel_new' } })).toMatchObject({ id: 'th_moved' }); // rel_new wrote it last: still its own
      await other.releaseLease('th_moved', 'new');
      await store.append('th_moved', 3, 'rel_old', [event('paused', { by: 'x' })], { ...runnable, status: 'paused' });
      await store.append('th_moved', 4, 'rel_old', [event('resumed', { by: 'x' })], runnable);
      expect(await other.claim({ owner: 'new', leaseMs: 60_000, threadId: 'th_moved', releases: { refunds: 'rel_new' } })).toBeUndefined();
      expect(await store.threadsOnNewerReleases(['rel_new'])).toEqual([{ agent: 'refunds', releaseId: 'rel_old', threads: expect.any(Number) }]);
    });

    it('saves releases once and reads them back', async () => {
      const [a, b] = [await open(), await open()];
      const manifest = { agent: 'refunds', prompt: 'You refund orders.', models: ['openai:gpt-4o-2024-08-06'], limits: { maxSteps: 20 } };
      await a.saveRelease({ id: 'rel_abc', agent: 'refunds', manifest });
      await b.saveRelease({ id: 'rel_abc', agent: 'refunds', manifest: { changed: true } });

      const release = await b.getRelease('rel_abc');
      expect(release).toEqual({ id: 'rel_abc', agent: 'refunds', manifest, createdAt: expect.any(String), ordinal: expect.any(Number) });
      expect(await a.getRelease('rel_missing')).toBeUndefined();
    });

    it('orders releases by first save and counts the threads each one wrote last', async () => {
      const store = await open();
      // Saved out of id order, and one saved twice: the order is the first save's.
      for (const id of ['rel_new', 'rel_old']) await store.saveRelease({ id, agent: 'refunds', manifest: {} });
      await store.saveRelease({ id: 'rel_triage', agent: 'triage', manifest: {} });
      await store.saveRelease({ id: 'rel_new', agent: 'refunds', manifest: { again: true } });
      const [first, second] = [(await store.getRelease('rel_new'))!, (await store.getRelease('rel_old'))!];
      expect(second.ordinal).toBeGreaterThan(first.ordinal);
      expect(first.manifest).toEqual({});

      for (const id of ['th_a', 'th_b']) {
        await store.createThread({ id, agent: 'refunds', releaseId: 'rel_old', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x' })], summary: runnable });
      }
      await store.append('th_b', 1, 'rel_new', [event('thread_completed', { output: 'ok' })], { ...runnable, status: 'completed', output: 'ok' });

      const listed = await store.listReleases({ agent: 'refunds' });
      expect(listed.map((r) => r.id)).toEqual(['rel_old', 'rel_new']);
      expect(listed[0]).toEqual({ id: 'rel_old', agent: 'refunds', createdAt: expect.any(String), ordinal: second.ordinal, threadsByStatus: { runnable: 1 } });
      expect(listed[1]!.threadsByStatus).toEqual({ completed: 1 });
      expect((await store.listReleases()).map((r) => r.id)).toEqual(['rel_triage', 'rel_old', 'rel_new']);
      expect((await store.listReleases({ limit: 1 })).map((r) => r.id)).toEqual(['rel_triage']);
      expect(await store.listReleases({ agent: 'nobody' })).toEqual([]);
    });

    it('lists finished threads to prune oldest first (keyset, agent, cut-off) and prunes them with their events and notifications, skipping unfinished ones', async () => {
      const [a, b] = [await open(), await open()];
      const finish = async (agent: string, status: 'completed' | 'failed' | 'cancelled') => {
        const { id } = await createThread(a, { agent });
        await a.append(id, 1, 'rel_one', [event('resumed', { by: 'test' })], { ...runnable, status: 'awaiting_human' }, { notifications: [notification(id, 2)] });
        await a.append(id, 2, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...runnable, status });
        return id;
      };
      const done = [await finish('refunds', 'completed'), await finish('triage', 'failed'), await finish('refunds', 'cancelled')];
      const proposal = { id: `prop_${done[0]}_9`, threadId: done[0]!, agent: 'refunds', seq: 9, kind: 'rejection' as const, draft: { id: 'case', input: 'x' } };
      await a.append(done[0]!, 3, 'rel_one', [event('resumed', { by: 'test' })], { ...runnable, status: 'completed' }, { proposals: [proposal] });
      const { id: running } = await createThread(a);
      const future = new Date(Date.now() + 60_000).toISOString();

      const all = await b.listPrunable({ before: future });
      expect(new Set(all.map((t) => t.id))).toEqual(new Set(done));
      expect(all.map((t) => t.updatedAt)).toEqual([...all.map((t) => t.updatedAt)].sort());
      expect(await b.listPrunable({ before: '2000-01-01T00:00:00.000Z' })).toEqual([]);
      expect((await b.listPrunable({ before: future, agent: 'triage' })).map((t) => [t.id, t.status])).toEqual([[done[1], 'failed']]);
      const first = await b.listPrunable({ before: future, limit: 2 });
      const rest = await b.listPrunable({ before: future, limit: 2, after: { updatedAt: first[1]!.updatedAt, id: first[1]!.id } });
      expect([...first, ...rest].map((t) => t.id)).toEqual(all.map((t) => t.id));

      const archived = await b.loadArchiveEvents([done[0]!, done[1]!]);
      expect(archived.map((e) => [e.threadId, e.seq])).toEqual([...[done[0]!, done[1]!]].sort().flatMap((id) => (id === done[0] ? [[id, 1], [id, 2], [id, 3], [id, 4]] : [[id, 1], [id, 2], [id, 3]])));
      expect(archived[0]).toHaveProperty('hash');
      expect(archived[0]!.data).toMatchObject({ agent: expect.any(String) });

      // Signed heads go with their threads (the archive keeps them); a running thread's stay.
      const doneEvents = await a.loadEvents(done[0]!);
      const runningEvents = await a.loadEvents(running);
      await a.saveAuditHead({ id: 'h_done', threadId: done[0]!, seq: 1, hash: doneEvents[0]!.hash!, signature: 'c2ln', keyId: 'k1', signedAt: new Date(0).toISOString() });
      await a.saveAuditHead({ id: 'h_running', threadId: running, seq: 1, hash: runningEvents[0]!.hash!, signature: 'c2ln', keyId: 'k1', signedAt: new Date(0).toISOString() });
      const counts = await b.pruneThreads([...done, running, 'th_missing']);
      expect(counts).toEqual({ threads: 3, events: 10, notifications: 3, skipped: [running, 'th_missing'] });
      expect((await a.loadAuditHeads([done[0]!, running])).map((h) => h.id)).toEqual(['h_running']);
      expect(await a.loadAuditOrphans()).toEqual({ heads: [], threads: [] });
      expect(await a.chainStartedAt()).toEqual(expect.any(String));
      for (const id of done) {
        expect(await a.getThread(id)).toBeUndefined();
        expect(await a.loadEvents(id)).toEqual([]);
      }
      expect((await a.getThread(running))?.status).toBe('runnable');
      expect(await a.loadEvents(running)).toHaveLength(1);
      // Eval proposals are cases in their own right: kept.
      expect((await a.getProposal(proposal.id))?.threadId).toBe(done[0]);
      expect(await b.listPrunable({ before: future })).toEqual([]);
      expect(await b.pruneThreads(done)).toEqual({ threads: 0, events: 0, notifications: 0, skipped: done });
      // The running thread still appends: no grant is left behind for it or anyone.
      await a.append(running, 1, 'rel_one', [event('thread_completed', { output: 'ok' })], { ...runnable, status: 'completed' });
      expect(await a.loadEvents(running)).toHaveLength(2);
    });

    it('promotes an older release to the newest (a rollback), once, and says when there is no such release', async () => {
      const store = await open();
      for (const id of ['rel_a', 'rel_b']) await store.saveRelease({ id, agent: 'refunds', manifest: {} });
      const before = (await store.getRelease('rel_b'))!.ordinal;
      const promoted = (await store.promoteRelease('rel_a'))!;
      expect(promoted.ordinal).toBeGreaterThan(before);
      expect((await store.listReleases({ agent: 'refunds' })).map((r) => r.id)).toEqual(['rel_a', 'rel_b']);
      expect((await store.promoteRelease('rel_a'))!.ordinal).toBe(promoted.ordinal); // already the newest
      expect(await store.promoteRelease('rel_missing')).toBeUndefined();
      // A release saved again keeps its (promoted) place.
      await store.saveRelease({ id: 'rel_b', agent: 'refunds', manifest: {} });
      expect((await store.listReleases({ agent: 'refunds' })).map((r) => r.id)).toEqual(['rel_a', 'rel_b']);
    });

    it('links a child thread to its parent (parent_id) and lists a thread\'s children, oldest first', async () => {
      const store = await open();
      const { id: parent } = await createThread(store);
      const child = async (id: string, launchKey: string) =>
        store.createThread({
          id,
          agent: 'refunder',
          releaseId: 'rel_one',
          launchKey,
          parentId: parent,
          input: { orderId: 'A-1001' },
          events: [event('thread_started', { agent: 'refunder', input: { orderId: 'A-1001' }, parent: { threadId: parent, callId: 'call_1', limits: { maxCostUsd: 0.1 } } })],
          summary: runnable,
        });
      await child('th_c1', `child|${parent}:call_1`);
      await sleep(5);
      await child('th_c2', `child|${parent}:call_2`);
      expect((await store.getThread('th_c1'))!.parentThreadId).toBe(parent);
      expect((await store.getThread(parent))!.parentThreadId).toBeNull();
      expect((await store.listChildren(parent)).map((t) => t.id)).toEqual(['th_c1', 'th_c2']);
      expect(await store.listChildren('th_c1')).toEqual([]);
      expect((await store.loadEvents('th_c1'))[0]!.data).toMatchObject({ parent: { threadId: parent, callId: 'call_1', limits: { maxCostUsd: 0.1 } } });
      // The same launch again (its id is derived from its key) is a conflict on either, never a second child.
      await expect(child('th_c1', `child|${parent}:call_1`)).rejects.toMatchObject({ code: 'conflict' });
      await expect(child('th_c1', `child|${parent}:call_9`)).rejects.toMatchObject({ code: 'conflict' });
    });

    it('wakes a thread that waits for a child (now or at a time), and no other (finished, paused)', async () => {
      const store = await open();
      const { id } = await createThread(store);
      const checkAt = Date.now() + 60_000;
      await store.append(id, 1, 'rel_one', [modelCalled('hand over')], { ...runnable, status: 'awaiting_child', waitingReason: 'waiting for child thread th_c', wakeAt: checkAt });
      expect(await store.claim({ owner: 'w', leaseMs: 10_000 })).toBeUndefined();
      expect((await store.getThread(id))!.status).toBe('awaiting_child');
      await store.wakeThread(id);
      expect(await store.claim({ owner: 'w', leaseMs: 10_000 })).toMatchObject({ id });
      await store.wakeThread(id, Date.now() + 60_000);
      await store.releaseLease(id, 'w');
      expect(await store.claim({ owner: 'w', leaseMs: 10_000 })).toBeUndefined();
      const { id: done } = await createThread(store, { status: 'completed' });
      await store.wakeThread(done);
      const { id: paused } = await createThread(store, { status: 'paused' });
      await store.wakeThread(paused);
      expect(await store.claim({ owner: 'w', leaseMs: 10_000 })).toBeUndefined();
      await store.wakeThread('th_nobody');
    });
  });
}
