/**
 * Forks and shadow (replay) threads on a real SQLite file: the copied prefix keeps its
 * releases, the fork goes on on the current release, unsafe cuts are refused, and a shadow
 * thread never runs a tool that is not pure, never notifies anyone, and stops where it must.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool, scriptedModel, TwelveError, type ScriptedReply, type Tool } from '../src/index.js';
import { createClient } from '../src/client/index.js';
import { forkLinks } from '../src/server/present.js';
import { event } from '../src/thread/events.js';
import { keys, startApi } from './support/api.js';
import { runCli } from './support/cli.js';
import { readDb } from './support/hitl.js';
import { eventsOfType, makeRuntime, startServer, typesOf } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

/** Tools that count their real runs (and fake runs) so tests can assert nothing acted twice. */
function countingTools() {
  const runs = { lookup: 0, pay: 0, notify: 0, notifyFake: 0, refund: 0 };
  const lookup = defineTool({
    name: 'lookup',
    description: 'Read an order',
    effect: 'pure',
    input: z.object({ orderId: z.string() }),
    run: ({ orderId }) => (runs.lookup++, { orderId, amount: 5 }),
  });
  const pay = defineTool({
    name: 'pay',
    description: 'Pay money (acts on the world)',
    input: z.object({ amount: z.number() }),
    run: ({ amount }) => (runs.pay++, { paymentId: `pay_${runs.pay}`, amount }),
  });
  const notify = defineTool({
    name: 'notify',
    description: 'Tell the customer',
    effect: 'idempotent',
    input: z.object({ text: z.string() }),
    run: () => (runs.notify++, { sent: true }),
    fake: ({ text }) => (runs.notifyFake++, { sent: false, fake: text }),
  });
  const refund = defineTool({
    name: 'refund',
    description: 'Refund money (acts on the world)',
    input: z.object({ orderId: z.string() }),
    run: () => (runs.refund++, { refunded: true }),
  });
  const approve = defineTool({
    name: 'big_pay',
    description: 'Pay a lot: a person approves first',
    approval: 'always',
    approvers: ['finance'],
    input: z.object({ amount: z.number() }),
    run: () => ({ paid: true }),
  });
  return { runs, tools: [lookup, pay, notify, refund, approve] as Tool[] };
}

function shopAgent(tools: Tool[], prompt: string) {
  return defineAgent({ name: 'shop', purpose: 'Handles orders, for tests', model: 'scripted:shop', prompt: { text: prompt }, tools });
}

/** Two runtimes on one database: the origin's release (prompt v1), and the current one (prompt v2). */
function twoReleases(first: ScriptedReply[], second: ScriptedReply[]) {
  const dir = tempDir();
  const { runs, tools } = countingTools();
  const old = makeRuntime({ dir, agents: [shopAgent(tools, 'You run a shop (v1).')], models: { 'scripted:shop': scriptedModel(first) } });
  const current = makeRuntime({ dir, agents: [shopAgent(tools, 'You run a shop (v2).')], models: { 'scripted:shop': scriptedModel(second) } });
  return { runs, old: old.runtime, current: current.runtime, dbFile: current.dbFile };
}

/** Types, without the release_changed a fork's first step on a new release may append. */
const stepTypes = (events: Parameters<typeof typesOf>[0]) => typesOf(events).filter((type) => type !== 'release_changed');

describe('runtime.fork', () => {
  it('copies events 1..atSeq with their original release ids and times, links to the origin, and completes on the current release without re-running recorded tools', async () => {
    const { runs, old, current } = twoReleases([{ toolCalls: [{ tool: 'pay', args: { amount: 5 } }] }, { text: 'paid (v1)' }], [{ text: 'paid (v2)' }]);
    const origin = await old.launch({ agent: 'shop', input: 'pay 5' });
    await old.runThread(origin.id);
    const originEvents = await old.loadEvents(origin.id);
    expect(typesOf(originEvents)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
    expect(runs.pay).toBe(1);

    const fork = await current.fork(origin.id, { atSeq: 5, by: 'alice' });
    expect(fork).toMatchObject({ agent: 'shop', status: 'runnable', seq: 6, input: 'pay 5', releaseId: current.release('shop').releaseId });
    const { outcome } = await current.runThread(fork.id);

    expect(outcome).toBe('completed');
    const events = await current.loadEvents(fork.id);
    expect(events.slice(0, 5).map(({ type, data, releaseId, at }) => ({ type, data, releaseId, at }))).toEqual(
      originEvents.slice(0, 5).map(({ type, data, releaseId, at }) => ({ type, data, releaseId, at })),
    );
    expect(new Set(events.slice(0, 5).map((e) => e.releaseId))).toEqual(new Set([old.release('shop').releaseId]));
    expect(events[5]).toMatchObject({ seq: 6, type: 'thread_forked', data: { from: origin.id, atSeq: 5, by: 'alice' }, releaseId: current.release('shop').releaseId });
    expect(stepTypes(events.slice(6))).toEqual(['model_called', 'thread_completed']);
    expect(events.slice(6).every((e) => e.releaseId === current.release('shop').releaseId)).toBe(true);
    expect(eventsOfType(events, 'thread_completed')[0]!.data.output).toBe('paid (v2)');
    expect(runs.pay).toBe(1); // the recorded payment was copied, not made again
    expect(await current.getThread(origin.id)).toMatchObject({ status: 'completed', seq: 7 }); // the origin is untouched

    // A fork of the fork links to the fork (its copied thread_forked is history, not its own link).
    const again = await current.fork(fork.id, { atSeq: 6, by: 'bob' });
    expect((await forkLinks(current.store, [again.id])).get(again.id)).toEqual({ threadId: fork.id, seq: 6, by: 'bob', replayOf: null });
  });

  it('refuses a seq out of range, a cut inside a call of a tool that is not pure which the origin ran, a cut after the end, and another release, naming the seqs that work', async () => {
    const { old, current } = twoReleases([{ toolCalls: [{ tool: 'pay', args: { amount: 5 } }] }, { text: 'paid' }], []);
    const origin = await old.launch({ agent: 'shop', input: 'pay 5' });
    await old.runThread(origin.id);
    const refusal = (atSeq: number, release?: string) =>
      current.fork(origin.id, { atSeq, ...(release ? { release } : {}) }).then(() => expect.unreachable(`a fork at ${atSeq}`), (error: unknown) => error as TwelveError);

    for (const atSeq of [0, 8, 2.5]) {
      const error = await refusal(atSeq);
      expect(TwelveError.is(error, 'usage')).toBe(true);
      expect(error.message).toBe(`the seq to fork at must be a whole number from 1 to 7 (thread ${origin.id} has 7 events); got ${atSeq}`);
    }
    const inCall = await refusal(4);
    expect(TwelveError.is(inCall, 'conflict')).toBe(true);
    expect(inCall.message).toBe(
      `cannot fork thread ${origin.id} at seq 4: pay (call_1, effect external) ran in the origin (seq 4) and has no outcome at seq 4; running it again in the fork could repeat its side effect. Seqs that work: 1-2, 5-6`,
    );
    expect(inCall.details).toMatchObject({ validSeqs: [1, 2, 5, 6] });
    // Requested but not yet started at the cut: the origin ran it right after, so the fork would run it a second time.
    const beforeStart = await refusal(3);
    expect(beforeStart.message).toContain('pay (call_1, effect external) ran in the origin (seq 4) and has no outcome at seq 3');
    const ended = await refusal(7);
    expect(TwelveError.is(ended, 'conflict')).toBe(true);
    expect(ended.message).toContain('seq 7 is thread_completed: the thread ended there');
    const otherRelease = await refusal(3, old.release('shop').releaseId);
    expect(TwelveError.is(otherRelease, 'usage')).toBe(true);
    expect(otherRelease.message).toContain(`a fork continues on the current release (${current.release('shop').releaseId}`);
    expect(TwelveError.is(await current.fork('th_missing', { atSeq: 1 }).catch((e: unknown) => e), 'thread_not_found')).toBe(true);
    expect(await current.listThreads()).toHaveLength(1); // nothing was created
  });
});

describe('runtime.fork, cut inside a call', () => {
  it('allows a cut inside a started call of a pure tool, which the fork simply runs again', async () => {
    const { runs, current } = twoReleases([], [{ text: 'looked up' }]);
    const releaseId = current.release('shop').releaseId;
    const origin = 'th_interrupted';
    // A log left by a worker that died while running the pure lookup (no outcome recorded).
    await current.store.createThread({
      id: origin,
      agent: 'shop',
      releaseId,
      input: 'look up A-1',
      events: [
        event('thread_started', { agent: 'shop', input: 'look up A-1' }),
        event('tool_requested', { callId: 'c1', tool: 'lookup', args: { orderId: 'A-1' }, source: 'model' }),
        event('tool_started', { callId: 'c1', idempotencyKey: `${origin}:c1`, attempt: 1 }),
      ],
      summary: { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    });

    const fork = await current.fork(origin, { atSeq: 3 });
    expect((await current.runThread(fork.id)).outcome).toBe('completed');
    expect(runs.lookup).toBe(1);
    const forkEvents = await current.loadEvents(fork.id);
    // Only the copied bracket: a pure tool runs without one (two commits per tool step).
    expect(eventsOfType(forkEvents, 'tool_started').map((e) => e.data)).toEqual([{ callId: 'c1', idempotencyKey: `${origin}:c1`, attempt: 1 }]);
    expect(eventsOfType(forkEvents, 'tool_succeeded').map((e) => e.data.callId)).toEqual(['c1']);
  });
});

describe('shadow threads', () => {
  it('run pure tools, serve recorded results for the others, run fakes, and stop with replay_stopped rather than run a tool for real', async () => {
    const { runs, old, current } = twoReleases(
      [{ toolCalls: [{ tool: 'lookup', args: { orderId: 'A-1' } }, { tool: 'pay', args: { amount: 5 } }] }, { text: 'paid' }],
      [
        { toolCalls: [{ tool: 'lookup', args: { orderId: 'A-1' } }, { tool: 'pay', args: { amount: 5 } }, { tool: 'notify', args: { text: 'paid (v2)' } }] },
        { toolCalls: [{ tool: 'refund', args: { orderId: 'A-1' } }] },
      ],
    );
    const origin = await old.launch({ agent: 'shop', input: 'pay order A-1' });
    await old.runThread(origin.id);
    expect(runs).toMatchObject({ lookup: 1, pay: 1 });
    const recordedPay = eventsOfType(await old.loadEvents(origin.id), 'tool_succeeded')[1]!.data.result;

    const shadow = await current.fork(origin.id, { atSeq: 1, by: 'replay', shadow: { replayOf: origin.id } });
    const { outcome, thread } = await current.runThread(shadow.id);

    expect(outcome).toBe('failed');
    expect(thread.error).toEqual({
      code: 'replay_stopped',
      message: `refund is not pure (effect external), ${origin.id} recorded no result for these arguments, and it has no fake: a replay never runs it for real`,
    });
    expect(runs).toEqual({ lookup: 2, pay: 1, notify: 0, notifyFake: 1, refund: 0 });
    const events = await current.loadEvents(shadow.id);
    expect(events[1]).toMatchObject({ type: 'thread_forked', data: { from: origin.id, atSeq: 1, by: 'replay', shadow: { replayOf: origin.id } } });
    // Only the pure lookup ran for real (served results are marked `replayed`).
    expect(eventsOfType(events, 'tool_succeeded').filter((e) => !e.data.replayed).map((e) => e.data.callId)).toEqual(['call_1']);
    const results = eventsOfType(events, 'tool_succeeded').map((e) => e.data);
    expect(results).toEqual([
      { callId: 'call_1', result: { orderId: 'A-1', amount: 5 }, durationMs: expect.any(Number) },
      { callId: 'call_2', result: recordedPay, durationMs: 0, replayed: 'recorded' },
      { callId: 'call_3', result: { sent: false, fake: 'paid (v2)' }, durationMs: expect.any(Number), replayed: 'fake' },
    ]);
    expect(stepTypes(events).slice(-3)).toEqual(['model_called', 'tool_requested', 'thread_failed']);
  });

  it('stop where a person is needed, and never write a notification or a reply', async () => {
    const approval: ScriptedReply = { toolCalls: [{ tool: 'big_pay', args: { amount: 500 } }] };
    const { old, current, dbFile } = twoReleases([approval], [approval]);
    const origin = await old.launch({ agent: 'shop', input: 'pay 500' });
    expect((await old.runThread(origin.id)).outcome).toBe('awaiting_approval');

    const shadow = await current.fork(origin.id, { atSeq: 1, shadow: {} });
    const { outcome, thread } = await current.runThread(shadow.id);

    expect(outcome).toBe('failed');
    expect(thread.error?.code).toBe('replay_stopped');
    expect(thread.error?.message).toBe('needs a person (approval for big_pay: this tool always needs approval); a replay stops there');
    expect(stepTypes(await current.loadEvents(shadow.id)).slice(-4)).toEqual(['model_called', 'tool_requested', 'approval_requested', 'thread_failed']);
    // The origin's wait was announced; the shadow's was not.
    expect(readDb<{ thread_id: string }>(dbFile, 'SELECT thread_id FROM notifications').map((row) => row.thread_id)).toEqual([origin.id]);

    // Cut inside the origin's wait: the shadow is created already stopped.
    const atWait = await current.fork(origin.id, { atSeq: 4, shadow: {} });
    expect(atWait).toMatchObject({ status: 'failed', error: { code: 'replay_stopped' } });
    expect(readDb(dbFile, 'SELECT thread_id FROM notifications WHERE thread_id <> ?', origin.id)).toEqual([]);
  });
});

describe('POST /v1/threads/{id}/fork', () => {
  it('creates the fork as the API key (201), shows where it comes from in lists and details, and refuses bad cuts and readers', async () => {
    const api = await startApi();
    const origin = await api.runtime.launch({ agent: 'echo', input: 'hello' });
    expect((await api.runtime.runThread(origin.id)).outcome).toBe('completed');

    const created = await api.call('POST', `/v1/threads/${origin.id}/fork`, { key: 'ops', body: { atSeq: 1 } });
    expect(created.status).toBe(201);
    expect(created.body.thread).toMatchObject({ agent: 'echo', status: 'runnable', seq: 2, forkOf: { threadId: origin.id, seq: 1, by: 'ops-bot', replayOf: null } });
    const replay = await api.call('POST', `/v1/threads/${origin.id}/fork`, { key: 'ops', body: { atSeq: 2, shadow: true } });
    expect(replay.body.thread.forkOf).toEqual({ threadId: origin.id, seq: 2, by: 'ops-bot', replayOf: origin.id });

    const detail = await api.call('GET', `/v1/threads/${created.body.thread.id}`, { key: 'reader' });
    expect(detail.body.forkOf).toEqual(created.body.thread.forkOf);
    const list = await api.call('GET', '/v1/threads', { key: 'reader' });
    expect(Object.fromEntries(list.body.threads.map((t: { id: string; forkOf: unknown }) => [t.id, t.forkOf]))).toEqual({
      [origin.id]: null,
      [created.body.thread.id]: created.body.thread.forkOf,
      [replay.body.thread.id]: replay.body.thread.forkOf,
    });

    const outOfRange = await api.call('POST', `/v1/threads/${origin.id}/fork`, { key: 'ops', body: { atSeq: 9 } });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.error.message).toContain('from 1 to 3');
    const ended = await api.call('POST', `/v1/threads/${origin.id}/fork`, { key: 'ops', body: { atSeq: 3 } });
    expect(ended.status).toBe(409);
    expect(ended.body.error).toMatchObject({ code: 'conflict', details: { validSeqs: [1, 2] } });
    expect((await api.call('POST', `/v1/threads/${origin.id}/fork`, { key: 'reader', body: { atSeq: 1 } })).status).toBe(403);
    expect((await api.call('POST', '/v1/threads/th_missing/fork', { key: 'ops', body: { atSeq: 1 } })).status).toBe(404);

    // The TypeScript client, and `twelve fork` in remote mode (TWELVE_URL): the server records the key's owner.
    const viaClient = await createClient({ url: api.url, apiKey: keys.ops.key }).fork(origin.id, { atSeq: 1 });
    expect(viaClient.thread.forkOf).toEqual({ threadId: origin.id, seq: 1, by: 'ops-bot', replayOf: null });
    const remote = await runCli(['fork', origin.id, '--at', '2', '--detach'], { env: { TWELVE_URL: api.url, TWELVE_API_KEY: keys.ops.key } });
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    expect((await api.call('GET', `/v1/threads/${remote.stdout.trim()}`, { key: 'reader' })).body.forkOf).toEqual({ threadId: origin.id, seq: 2, by: 'ops-bot', replayOf: null });
  }, 30_000);
});

describe('twelve fork', () => {
  it('forks and runs the fork in the foreground, refuses bad cuts with exit 2 or 5, detaches, and twelve threads ls shows the origin', async () => {
    const server = await startServer();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/hitl-cli-agent.js')).default], server });
    server.enqueue({ text: 'first answer' });
    const origin = await runtime.launch({ agent: 'hitl-cli', input: 'say something' });
    expect((await runtime.runThread(origin.id)).outcome).toBe('completed');
    const cli = (...args: string[]) => runCli([...args, '--config', 'test/support/hitl-cli-agent.ts'], { env });

    server.enqueue({ text: 'second answer' });
    const ran = await cli('fork', origin.id, '--at', '1', '--as', 'alice');
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    const [header, ...lines] = ran.stdout.trim().split('\n');
    const forkId = /^(th_\w+)  forked from /.exec(header!)?.[1];
    expect(header).toBe(`${forkId}  forked from ${origin.id} at seq 1  release ${runtime.release('hitl-cli').releaseId}`);
    expect(lines[0]).toMatch(new RegExp(`^\\s+2  forked\\s+forked from ${origin.id} at seq 1  by alice$`));
    expect(lines.at(-1)).toMatch(/completed\s+"second answer"$/);
    expect(await runtime.getThread(forkId!)).toMatchObject({ status: 'completed', output: 'second answer' });

    const outOfRange = await cli('fork', origin.id, '--at', '7');
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toContain(`the seq to fork at must be a whole number from 1 to 3 (thread ${origin.id} has 3 events); got 7`);
    const ended = await cli('fork', origin.id, '--at', '3');
    expect(ended.code).toBe(5);
    expect(ended.stderr).toContain('Seqs that work: 1-2');
    const otherRelease = await cli('fork', origin.id, '--at', '1', '--release', 'rel_other');
    expect(otherRelease.code).toBe(2);
    expect(otherRelease.stderr).toContain('a fork continues on the current release');
    expect((await cli('fork', origin.id)).stderr).toContain('twelve fork needs --at <seq>');

    const detached = await cli('fork', origin.id, '--at', '2', '--detach');
    expect(detached.code).toBe(0);
    const detachedId = detached.stdout.trim();
    expect(await runtime.getThread(detachedId)).toMatchObject({ status: 'runnable', seq: 3 });

    const listed = await cli('threads', 'ls');
    expect(listed.stdout).toMatch(new RegExp(`^${detachedId} .* fork of ${origin.id} at seq 2$`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${origin.id} .*Z$`, 'm')); // no origin: not a fork
  }, 60_000);
});
