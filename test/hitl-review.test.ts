/**
 * Output review, end to end on real SQLite files (and one PostgreSQL case): a final answer
 * that needs review waits, durably, instead of completing; reviewers approve, edit (validated
 * against the output schema), send back with feedback the model reads as its next input, or
 * reject; only reviewers decide, the first decision stands, and deadlines apply their default.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ThreadEvent } from '../src/index.js';
import { createRelease } from '../src/agent/release.js';
import { diffManifests } from '../src/release/diff.js';
import { diffLocks, formatDrift } from '../src/release/lock-diff.js';
import { buildLock } from '../src/release/lockfile.js';
import { renderContext } from '../src/thread/render-context.js';
import { replayThread } from '../src/replay/replay-thread.js';
import { expectTwelveError, ofType, openRuntime, scriptedAgent, sleep, stepModel, userTexts } from './support/hitl.js';
import { makeRuntime, typesOf } from './support/runtime.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';

const Decision = z.object({ decision: z.enum(['refunded', 'denied']), amountCents: z.number().int().nonnegative(), confidence: z.number() });
type Decision = z.infer<typeof Decision>;

/** A refund desk whose answers are the given decisions, one per model step (so it survives restarts). */
function refundDesk(options: Record<string, unknown> = {}) {
  return scriptedAgent({ name: 'refund-desk', output: Decision, confidence: 'confidence', ...options });
}
const answering = (...decisions: Decision[]) =>
  stepModel((step) => {
    const decision = decisions[step];
    if (!decision) throw new Error(`no answer scripted for step ${step}`);
    return { text: JSON.stringify(decision) };
  });
const refund = (confidence: number, amountCents = 4500): Decision => ({ decision: 'refunded', amountCents, confidence });
const deny = (confidence = 0.95): Decision => ({ decision: 'denied', amountCents: 0, confidence });

/** Review every refund decision below 0.8 (the issue's example). */
const lowConfidenceRefunds = (output: Decision, ctx: { confidence: number | undefined }) =>
  output.decision === 'refunded' && (ctx.confidence ?? 0) < 0.8 ? { required: true, reason: `refund with confidence ${ctx.confidence} (below 0.8)` } : false;

async function awaitingReview(options: { agent?: Record<string, unknown>; answers?: Decision[]; env?: NodeJS.ProcessEnv } = {}) {
  const model = answering(...(options.answers ?? [refund(0.6)]));
  const { runtime, dbFile } = makeRuntime({ agents: [refundDesk({ review: 'always', ...options.agent })], models: { 'scripted:refund-desk': model }, ...(options.env ? { env: options.env } : {}) });
  const thread = await runtime.launch({ agent: 'refund-desk', input: 'Refund order A-1001, it arrived broken' });
  const { outcome } = await runtime.runThread(thread.id);
  expect(outcome).toBe('awaiting_review');
  return { runtime, model, thread, dbFile };
}

describe('the review gate', () => {
  it('"always": the answer waits for review instead of completing, and approving it completes the thread with who reviewed it', async () => {
    const { runtime, thread, model } = await awaitingReview();
    const waiting = await runtime.getThreadOrThrow(thread.id);
    expect(waiting.status).toBe('awaiting_review');
    expect(waiting.waitingReason).toBe('review: this agent has every answer reviewed');
    expect(waiting.output).toBeNull();
    expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'review_requested']);
    expect(ofType(events, 'review_requested')[0]!.data).toEqual({ output: refund(0.6), confidence: 0.6, source: 'model', reason: 'this agent has every answer reviewed', reviewers: [], people: [], onTimeout: 'fail' });

    // Running it again (a worker, a restart) changes nothing: it waits for a person.
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
    expect(model.calls).toHaveLength(1);

    const done = await runtime.review(thread.id, { by: 'alice', decision: 'approved', comment: 'matches the photos' });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual(refund(0.6));
    const after = await runtime.loadEvents(thread.id);
    expect(typesOf(after).slice(3)).toEqual(['review_decided', 'thread_completed']);
    expect(ofType(after, 'review_decided')[0]!.data).toEqual({ decision: 'approved', by: 'alice', comment: 'matches the photos' });
    expect(ofType(after, 'thread_completed')[0]!.data).toEqual({ output: refund(0.6), confidence: 0.6, reviewedBy: 'alice' });
  });

  it('a confidence-based predicate: refunds below 0.8 wait for review, confident refunds and denials complete at once', async () => {
    const model = stepModel((_step, request) => {
      const input = userTexts(request)[0] ?? '';
      if (input.includes('unsure')) return { text: JSON.stringify(refund(0.55)) };
      if (input.includes('deny')) return { text: JSON.stringify(deny(0.4)) };
      return { text: JSON.stringify(refund(0.93)) };
    });
    const { runtime } = makeRuntime({ agents: [refundDesk({ review: lowConfidenceRefunds })], models: { 'scripted:refund-desk': model } });
    const outcomes: Record<string, string> = {};
    for (const input of ['unsure refund', 'clear refund', 'deny it']) {
      const thread = await runtime.launch({ agent: 'refund-desk', input });
      outcomes[input] = (await runtime.runThread(thread.id)).outcome;
      if (input === 'unsure refund') {
        const requested = ofType(await runtime.loadEvents(thread.id), 'review_requested')[0]!;
        expect(requested.data.reason).toBe('refund with confidence 0.55 (below 0.8)');
        expect(requested.data.confidence).toBe(0.55);
      }
    }
    expect(outcomes).toEqual({ 'unsure refund': 'awaiting_review', 'clear refund': 'completed', 'deny it': 'completed' });
    expect(runtime.release('refund-desk').manifest.review).toEqual({ policy: 'predicate', reviewers: [], people: [], timeoutMs: null, onTimeout: 'fail' });
  });

  it('a predicate gets the thread id, the input, the confidence and who answered', async () => {
    const seen: unknown[] = [];
    const { runtime, thread } = await awaitingReview({
      agent: {
        review: (output: Decision, ctx: unknown) => {
          seen.push({ output, ctx });
          return { required: true };
        },
      },
    });
    expect(seen).toEqual([{ output: refund(0.6), ctx: { threadId: thread.id, input: 'Refund order A-1001, it arrived broken', confidence: 0.6, source: 'model' } }]);
    expect((await runtime.getThreadOrThrow(thread.id)).waitingReason).toBe('review: the review policy requires it for this answer');
  });

  it('a predicate that throws requires review (fail closed), naming the error', async () => {
    const { runtime, thread } = await awaitingReview({
      agent: {
        review: () => {
          throw new Error('limits table missing');
        },
      },
    });
    expect((await runtime.getThreadOrThrow(thread.id)).waitingReason).toBe('review: the review policy failed (limits table missing), so review is required');
  });

  it('defineAgent refuses bad review options, each named', () => {
    const attempt = (options: Record<string, unknown>) => () => refundDesk(options);
    expect(attempt({ review: 'sometimes' })).toThrow(/review must be "always", "never" or a function/);
    expect(attempt({ reviewers: 'finance' })).toThrow(/reviewers must be a list of roles/);
    expect(attempt({ reviewers: { roles: [''] } })).toThrow(/reviewers\.roles must be a list of non-empty names/);
    expect(attempt({ reviewTimeoutMs: 0 })).toThrow(/reviewTimeoutMs must be a positive number/);
    expect(attempt({ onReviewTimeout: 'reject' })).toThrow(/onReviewTimeout must be "approve" or "fail"/);
  });
});

describe('review decisions', () => {
  it('an edit ships the corrected output (source review, confidence recomputed); the original stays in review_requested', async () => {
    const { runtime, thread } = await awaitingReview();
    const corrected = { decision: 'denied', amountCents: 0, confidence: 0.99 };
    const done = await runtime.review(thread.id, { by: 'alice', decision: 'edited', output: corrected, comment: 'outside the return window' });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual(corrected);
    const events = await runtime.loadEvents(thread.id);
    expect(ofType(events, 'review_requested')[0]!.data.output).toEqual(refund(0.6));
    expect(ofType(events, 'review_decided')[0]!.data).toEqual({ decision: 'edited', by: 'alice', comment: 'outside the return window', output: corrected });
    expect(ofType(events, 'thread_completed')[0]!.data).toEqual({ output: corrected, confidence: 0.99, source: 'review', reviewedBy: 'alice' });
  });

  it('refuses an edit that fails the output schema, listing the issues, and records nothing', async () => {
    const { runtime, thread } = await awaitingReview();
    const error = await expectTwelveError(runtime.review(thread.id, { by: 'alice', decision: 'edited', output: { decision: 'maybe', amountCents: -1 } }), 'usage');
    expect(error.message).toMatch(/^the edited output does not match the output schema of agent refund-desk: decision: .*; amountCents: .*; confidence: /);
    expect(error.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'decision' }), expect.objectContaining({ path: 'confidence' })]));
    await expectTwelveError(runtime.review(thread.id, { by: 'alice', decision: 'edited' }), 'usage');
    await expectTwelveError(runtime.review(thread.id, { by: 'alice', decision: 'approved', output: refund(0.9) }), 'usage');
    expect(typesOf(await runtime.loadEvents(thread.id))).toEqual(['thread_started', 'model_called', 'review_requested']);
  });

  it('an agent without an output schema takes a non-empty string as the edit', async () => {
    const model = stepModel(() => ({ text: 'Dear customer, no.' }));
    const agent = scriptedAgent({ name: 'writer', review: 'always' });
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:writer': model } });
    const thread = await runtime.launch({ agent: 'writer', input: 'Write the reply' });
    await runtime.runThread(thread.id);
    const error = await expectTwelveError(runtime.review(thread.id, { by: 'bob', decision: 'edited', output: { text: 'x' } }), 'usage');
    expect(error.message).toBe('agent writer answers in text: the edited output must be a non-empty string');
    const done = await runtime.review(thread.id, { by: 'bob', decision: 'edited', output: 'Dear customer, we are sorry: here is a refund.' });
    expect(done.output).toBe('Dear customer, we are sorry: here is a refund.');
  });

  it('sending back needs feedback; the model reads it after its answer and answers again, and the new answer is reviewed again', async () => {
    const { runtime, thread, model } = await awaitingReview({ answers: [refund(0.6), refund(0.7, 2000)] });
    await expectTwelveError(runtime.review(thread.id, { by: 'alice', decision: 'sent_back' }), 'usage');
    const back = await runtime.review(thread.id, { by: 'alice', decision: 'sent_back', feedback: 'The order shipped partially; refund only the broken item (20 EUR).' });
    expect(back.status).toBe('runnable');

    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
    expect(model.calls).toHaveLength(2);
    // What the model received: its own answer, then the reviewer's feedback as the last user message.
    const prompt = model.calls[1]!.prompt;
    const [answer, feedback] = prompt.slice(-2);
    expect(answer).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: JSON.stringify(refund(0.6)) }] });
    expect(feedback).toEqual({ role: 'user', content: [{ type: 'text', text: 'A reviewer (alice) sent your answer back: The order shipped partially; refund only the broken item (20 EUR). Answer again.' }] });

    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'review_requested', 'review_decided', 'model_called', 'review_requested']);
    const done = await runtime.review(thread.id, { by: 'alice', decision: 'approved' });
    expect(done.output).toEqual(refund(0.7, 2000));
  });

  it('a rejection fails the thread with who rejected it and why', async () => {
    const { runtime, thread } = await awaitingReview();
    const failed = await runtime.review(thread.id, { by: 'alice', decision: 'rejected', comment: 'fraud pattern' });
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'review_rejected', message: 'the answer was rejected in review by alice: fraud pattern' });
  });

  it('only reviewers decide: roles from TWELVE_HUMANS, or people by name', async () => {
    const { runtime, thread } = await awaitingReview({ agent: { reviewers: { roles: ['quality'], people: ['carol'] } }, env: { TWELVE_HUMANS: 'alice=quality;bob=support' } });
    const refused = await expectTwelveError(runtime.review(thread.id, { by: 'bob', decision: 'approved' }), 'forbidden');
    expect(refused.message).toBe('bob may not review the answers of refund-desk: allowed are anyone with the role quality, and carol (by name); bob has the roles support');
    await expectTwelveError(runtime.review(thread.id, { by: 'timeout', decision: 'approved' }), 'forbidden');
    expect((await runtime.review(thread.id, { by: 'carol', decision: 'approved' })).status).toBe('completed');
  });

  it('two reviewers racing from two runtimes: exactly one decision is recorded, the other is told who got there first', async () => {
    const { runtime, thread, dbFile } = await awaitingReview();
    const other = openRuntime({ dbFile, agents: [refundDesk({ review: 'always' })], models: { 'scripted:refund-desk': answering(refund(0.6)) } });
    try {
      const results = await Promise.allSettled([
        runtime.review(thread.id, { by: 'alice', decision: 'approved' }),
        other.review(thread.id, { by: 'bob', decision: 'rejected', comment: 'no' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason.code).toBe('conflict');
      const decided = ofType(await runtime.loadEvents(thread.id), 'review_decided');
      expect(decided).toHaveLength(1);
      expect(lost[0]!.reason.message).toBe(`the answer of thread ${thread.id} was already ${decided[0]!.data.decision} by ${decided[0]!.data.by}; the first decision stands`);
    } finally {
      await other.close();
    }
  });
});

describe('review deadlines', () => {
  for (const onReviewTimeout of ['approve', 'fail'] as const) {
    it(`applies "${onReviewTimeout}" when nobody reviews in time, and refuses a late decision while recording the default`, async () => {
      const before = Date.now();
      const { runtime, thread } = await awaitingReview({ agent: { reviewTimeoutMs: 150, onReviewTimeout } });
      const after = Date.now();
      const requested = ofType(await runtime.loadEvents(thread.id), 'review_requested')[0]!;
      const deadline = requested.data.deadline!;
      // 150 ms from the moment the answer came, bounded on both sides (never by the gap to the commit's timestamp).
      expect(Date.parse(deadline)).toBeGreaterThanOrEqual(before + 150);
      expect(Date.parse(deadline)).toBeLessThanOrEqual(after + 150);
      expect((await runtime.getThreadOrThrow(thread.id)).wakeAt).toBe(Date.parse(deadline));
      await sleep(Date.parse(deadline) - Date.now() + 5); // no worker looked meanwhile: the thread still says awaiting_review

      const late = await expectTwelveError(runtime.review(thread.id, { by: 'alice', decision: 'approved' }), 'conflict');
      expect(late.message).toBe(`too late: the review deadline of thread ${thread.id} passed at ${deadline}, and the policy default (${onReviewTimeout}) was applied; your decision was not recorded`);
      const events = await runtime.loadEvents(thread.id);
      expect(ofType(events, 'review_decided').map((e) => e.data)).toEqual([
        { decision: onReviewTimeout === 'approve' ? 'approved' : 'rejected', by: 'timeout', comment: `nobody reviewed the answer before the deadline; the policy default (${onReviewTimeout}) applies` },
      ]);
      const settled = await runtime.getThreadOrThrow(thread.id);
      if (onReviewTimeout === 'approve') {
        expect(settled.status).toBe('completed');
        expect(ofType(events, 'thread_completed')[0]!.data).toEqual({ output: refund(0.6), confidence: 0.6, reviewedBy: 'timeout' });
      } else {
        expect(settled.status).toBe('failed');
        expect(settled.error?.code).toBe('review_timeout');
      }
      // Another late reviewer hears the same.
      expect((await expectTwelveError(runtime.review(thread.id, { by: 'bob', decision: 'rejected' }), 'conflict')).message).toMatch(/^too late: the review deadline of thread/);
    });
  }

  it('a worker applies the default once the deadline passes', async () => {
    const { runtime, thread } = await awaitingReview({ agent: { reviewTimeoutMs: 100, onReviewTimeout: 'fail' } });
    const deadline = ofType(await runtime.loadEvents(thread.id), 'review_requested')[0]!.data.deadline!;
    await sleep(Date.parse(deadline) - Date.now() + 5);
    expect(await runtime.runUntilIdle()).toBe(1);
    const failed = await runtime.getThreadOrThrow(thread.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'review_timeout', message: `nobody reviewed the answer before its deadline (${deadline}); an unreviewed answer does not ship` });
  });
});

describe('durability and visibility', () => {
  it('a review survives a restart: a new runtime on the same SQLite file takes the decision', async () => {
    const dir = tempDir();
    const dbFile = `${dir}/twelve.db`;
    const agents = [refundDesk({ review: 'always' })];
    const first = openRuntime({ dbFile, agents, models: { 'scripted:refund-desk': answering(refund(0.6)) } });
    const thread = await first.launch({ agent: 'refund-desk', input: 'Refund A-1' });
    expect((await first.runThread(thread.id)).outcome).toBe('awaiting_review');
    await first.close();

    const second = openRuntime({ dbFile, agents, models: { 'scripted:refund-desk': answering(refund(0.6)) } });
    try {
      expect((await second.listWaiting()).map((t) => t.status)).toEqual(['awaiting_review']);
      const done = await second.review(thread.id, { by: 'alice', decision: 'edited', output: refund(0.9, 100) });
      expect(done.output).toEqual(refund(0.9, 100));
    } finally {
      await second.close();
    }
  });

  it('a shadow (replay) thread stops at a review like at an approval, and a cut at a review stops at once; nobody is notified', async () => {
    const { runtime, thread } = await awaitingReview();
    const shadow = await runtime.fork(thread.id, { atSeq: 1, shadow: {} });
    const { outcome, thread: stopped } = await runtime.runThread(shadow.id);
    expect(outcome).toBe('failed');
    expect(stopped.error).toEqual({ code: 'replay_stopped', message: 'needs a person (review: this agent has every answer reviewed); a replay stops there' });
    expect(typesOf(await runtime.loadEvents(shadow.id)).slice(-3)).toEqual(['model_called', 'review_requested', 'thread_failed']);
    const cut = await runtime.fork(thread.id, { atSeq: 3, shadow: {} });
    expect(cut.status).toBe('failed');
    const notified = await runtime.store.claimDueNotifications({ limit: 10, leaseMs: 1_000, maxAttempts: 5 });
    expect(notified.map((n) => n.payload.threadId)).toEqual([thread.id]);
  });

  it('replays a reviewed thread (sent back, then edited) as "same" on its release, and names an output change of the candidate', async () => {
    const { runtime, thread } = await awaitingReview({ answers: [refund(0.6), refund(0.7, 2000)] });
    await runtime.review(thread.id, { by: 'alice', decision: 'sent_back', feedback: 'Only the broken item' });
    await runtime.runThread(thread.id);
    await runtime.review(thread.id, { by: 'alice', decision: 'edited', output: deny() });
    const same = await replayThread({ store: runtime.store, threadId: thread.id, candidate: runtime.release('refund-desk') });
    expect([same.outcome, same.stepsCompared, same.stepsRecorded]).toEqual(['same', 2, 2]);
    const stricter = createRelease(refundDesk({ review: 'always', output: Decision.extend({ amountCents: z.number().int().max(1000) }) }));
    const changed = await replayThread({ store: runtime.store, threadId: thread.id, candidate: stricter });
    expect(changed.outcome).toBe('diverged');
    expect(changed.divergence).toMatchObject({ step: 1, kind: 'output' });
  });

  it('a fallback answer sent back is quoted to the model (it never wrote it), with the feedback', () => {
    const release = createRelease(refundDesk({ review: 'always' }));
    const at = new Date().toISOString();
    const base = { threadId: 'th_1', at, releaseId: release.releaseId };
    const events = [
      { ...base, seq: 1, type: 'thread_started', data: { agent: 'refund-desk', input: 'Refund A-1' } },
      { ...base, seq: 2, type: 'review_requested', data: { output: deny(0.3), confidence: 0.3, source: 'fallback', reason: 'r', reviewers: [], people: [], onTimeout: 'fail' } },
      { ...base, seq: 3, type: 'review_decided', data: { decision: 'sent_back', by: 'alice', feedback: 'It is a refund.' } },
    ] as ThreadEvent[];
    const last = renderContext(release, events).at(-1)!;
    expect(last).toEqual({ role: 'user', content: [{ type: 'text', text: `A reviewer (alice) sent the answer ${JSON.stringify(deny(0.3))} back: It is a refund. Answer again.` }] });
  });

  it('resume refuses a thread that waits for review, pointing at twelve review', async () => {
    const { runtime, thread } = await awaitingReview();
    const error = await expectTwelveError(runtime.resume(thread.id, { by: 'alice' }), 'conflict');
    expect(error.message).toContain(`review it instead: twelve review show ${thread.id}`);
  });

  it('the release manifest records the review policy, and a predicate by its code hash', () => {
    const always = createRelease(refundDesk({ review: 'always', reviewers: ['quality'], reviewTimeoutMs: 60_000, onReviewTimeout: 'approve' }));
    expect(always.manifest.review).toEqual({ policy: 'always', reviewers: ['quality'], people: [], timeoutMs: 60_000, onTimeout: 'approve' });
    const never = createRelease(refundDesk());
    // The default (never) is left out of the manifest: agents without review kept their release ids.
    expect(never.manifest.review).toBeUndefined();
    expect(never.releaseId).not.toBe(always.releaseId);
    const predicate = createRelease(refundDesk({ review: lowConfidenceRefunds }));
    expect((predicate.manifest.code as Record<string, string>).review).toMatch(/^[0-9a-f]{16}$/);
    const edited = createRelease(refundDesk({ review: (output: Decision) => output.amountCents > 100 }));
    expect((edited.manifest.code as Record<string, string>).review).not.toBe((predicate.manifest.code as Record<string, string>).review);
  });

  it('a change of review policy shows in the release diff (tighter or looser) and in the lock drift', () => {
    const before = createRelease(refundDesk());
    const after = createRelease(refundDesk({ review: 'always', reviewers: ['quality'] }));
    expect(diffManifests(before.manifest, after.manifest).filter((c) => c.kind === 'review').map((c) => c.detail)).toEqual(['review policy never → always (tighter)', 'review reviewers [] → ["quality"]']);
    // A manifest from before output review existed reads as "never".
    const { review: _review, ...old } = before.manifest;
    expect(diffManifests(old, before.manifest).filter((c) => c.kind === 'review')).toEqual([]);
    const dir = tempDir();
    const lock = (release: ReturnType<typeof createRelease>) => buildLock({ releases: [release], env: {}, projectDir: dir, lockDir: dir });
    const drift = diffLocks(lock(before), lock(after)).filter((d) => d.kind === 'review').map(formatDrift);
    expect(drift).toEqual(['refund-desk: review policy never → always', 'refund-desk: review reviewers [] → [quality]']);
  });

  it('a notification goes out when an answer waits for review', async () => {
    const { runtime, thread } = await awaitingReview();
    const due = await runtime.store.claimDueNotifications({ limit: 10, leaseMs: 1_000, maxAttempts: 5 });
    expect(due.map((n) => [n.payload.kind, n.payload.threadId, n.payload.summary])).toEqual([['review', thread.id, 'Review the answer: this agent has every answer reviewed']]);
  });
});

describe('output review on PostgreSQL', () => {
  it('waits for review, is sent back, and completes with an edit', async () => {
    const database = await freshPostgresDatabase();
    const store = database.open();
    const model = answering(refund(0.6), refund(0.65));
    const { runtime } = makeRuntime({ agents: [refundDesk({ review: 'always' })], models: { 'scripted:refund-desk': model }, store });
    try {
      const thread = await runtime.launch({ agent: 'refund-desk', input: `Refund A-${Date.now()}` });
      expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
      await runtime.review(thread.id, { by: 'alice', decision: 'sent_back', feedback: 'Check the order total' });
      expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
      const done = await runtime.review(thread.id, { by: 'alice', decision: 'edited', output: deny() });
      expect(done.status).toBe('completed');
      expect(typesOf(await runtime.loadEvents(thread.id))).toEqual([
        'thread_started', 'model_called', 'review_requested', 'review_decided', 'model_called', 'review_requested', 'review_decided', 'thread_completed',
      ] satisfies ThreadEvent['type'][]);
    } finally {
      await runtime.close();
      await store.close();
      await database.cleanup();
    }
  });
});
