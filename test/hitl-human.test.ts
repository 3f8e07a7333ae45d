/**
 * People and time, end to end on real SQLite files: every pause point (approval, question,
 * pause, sleep, budget) survives a restart and is then continued by a person; deadlines
 * that pass while no process runs are applied by the next one; pause, resume and cancel
 * (also while a tool runs); tools that sleep with callAgainAt; ask_human, its answerers,
 * and escalations after repeated errors.
 */
import { describe, expect, it } from 'vitest';
import { askHuman, callAgainAt, scriptedModel, type Agent, type ScriptedModel } from '../src/index.js';
import {
  dbFileIn,
  expectTwelveError,
  gate,
  openRuntime,
  ofType,
  payTool,
  scriptedAgent,
  sleep,
  stepModel,
  toolResults,
  userTexts,
} from './support/hitl.js';
import { eventually } from './support/cli.js';
import { makeRuntime, typesOf, type TestRuntime } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

/** Closes a runtime and opens a fresh one (a new process, as far as the store can tell) on the same file. */
async function restart(previous: TestRuntime, agents: Agent[], models: Record<string, ScriptedModel>): Promise<TestRuntime> {
  await previous.runtime.close();
  return makeRuntime({ agents, models, dir: previous.dir });
}

const askOnce = (question: string, extra: Record<string, unknown> = {}) =>
  stepModel((step, request) => {
    if (step === 0) return { toolCalls: [{ tool: 'ask_human', args: { question, ...extra }, callId: 'call_ask' }] };
    const answer = toolResults(request).find((r) => r.toolCallId === 'call_ask');
    return { text: `answered: ${JSON.stringify(answer?.value)}` };
  });

describe('every pause point survives a restart', () => {
  it('awaiting_approval: a new process sees the same wait, and an approval continues it', async () => {
    const pay = payTool({ approval: 'always' });
    const agents = [scriptedAgent({ tools: [pay.tool] })];
    const models = { 'scripted:payer': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 10 } }] } : { text: 'paid' })) };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'pay 10' });
    await first.runtime.runThread(thread.id);
    const before = (await first.runtime.getThread(thread.id))!;

    const second = await restart(first, agents, models);
    const after = (await second.runtime.getThread(thread.id))!;
    expect(after).toMatchObject({ status: 'awaiting_approval', seq: before.seq, waitingReason: before.waitingReason, wakeAt: null, leaseOwner: null });
    expect(await second.runtime.runUntilIdle()).toBe(0);
    expect((await second.runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);

    await second.runtime.decide(thread.id, { by: 'alice', approved: true });
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'completed', output: 'paid' });
    expect(pay.runs).toHaveLength(1);
  });

  it('awaiting_human (ask_human): the question waits across the restart and the answer continues it', async () => {
    const agents = [scriptedAgent({ tools: [askHuman()] })];
    const model = askOnce('Which account should receive the refund?', { urgency: 'high', options: ['card', 'wallet'] });
    const models = { 'scripted:payer': model };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'refund' });
    expect((await first.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');

    const second = await restart(first, agents, models);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'awaiting_human', waitingReason: 'question: Which account should receive the refund?' });
    expect(ofType(await second.runtime.loadEvents(thread.id), 'human_asked')[0]!.data).toEqual({
      callId: 'call_ask',
      question: 'Which account should receive the refund?',
      urgency: 'high',
      options: ['card', 'wallet'],
    });
    expect(await second.runtime.runUntilIdle()).toBe(0);

    await second.runtime.answer(thread.id, { by: 'alice', answer: 'wallet' });
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'completed', output: 'answered: {"answer":"wallet","answeredBy":"alice"}' });
  });

  it('paused: never claimed after the restart until someone resumes it', async () => {
    const model = stepModel([{ text: 'all done' }]);
    const agents = [scriptedAgent()];
    const models = { 'scripted:payer': model };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'hello' });
    const paused = await first.runtime.pause(thread.id, { by: 'alice', reason: 'checking something' });
    expect(paused).toMatchObject({ applied: true, thread: { status: 'paused', waitingReason: 'paused by alice: checking something' } });

    const second = await restart(first, agents, models);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'paused', waitingReason: 'paused by alice: checking something' });
    expect(await second.runtime.runUntilIdle()).toBe(0);
    expect(model.calls).toHaveLength(0);

    expect((await second.runtime.resume(thread.id, { by: 'alice' })).status).toBe('runnable');
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect((await second.runtime.getThread(thread.id))!.status).toBe('completed');
    expect(typesOf(await second.runtime.loadEvents(thread.id))).toEqual(['thread_started', 'paused', 'resumed', 'model_called', 'thread_completed']);
  });

  it('sleeping (callAgainAt): the wake-up time survives the restart and the call runs again after it', async () => {
    let until = new Date(0);
    const pay = payTool({
      run: (_input, ctx) => {
        if (ctx.attempt === 1) return callAgainAt((until = new Date(Date.now() + 400)), 'payout pending');
        return { settled: true };
      },
    });
    const agents = [scriptedAgent({ tools: [pay.tool] })];
    const models = { 'scripted:payer': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 3 }, callId: 'call_pay' }] } : { text: 'settled' })) };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'pay 3' });
    expect((await first.runtime.runThread(thread.id)).outcome).toBe('sleeping');

    const second = await restart(first, agents, models);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'sleeping', wakeAt: until.getTime(), waitingReason: `sleeping until ${until.toISOString()}` });
    expect(await second.runtime.runUntilIdle()).toBe(0); // not due yet
    await sleep(until.getTime() - Date.now() + 20);
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect((await second.runtime.getThread(thread.id))!.status).toBe('completed');
    expect(pay.runs.map((r) => [r.attempt, r.idempotencyKey])).toEqual([
      [1, `${thread.id}:call_pay`],
      [2, `${thread.id}:call_pay`],
    ]);
  });

  it('budget wait: the breach waits across the restart and a raised budget continues it', async () => {
    const model = stepModel((step) =>
      step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 1 } }], usage: { inputTokens: 5_000, outputTokens: 10 } } : { text: 'done', usage: { inputTokens: 10, outputTokens: 5 } },
    );
    const agents = [scriptedAgent({ tools: [payTool().tool], limits: { maxTokens: 5_500 }, modelSettings: { maxOutputTokens: 600 } })];
    const models = { 'scripted:payer': model };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'pay 1' });
    expect((await first.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(model.calls).toHaveLength(1);

    const second = await restart(first, agents, models);
    const waiting = (await second.runtime.getThread(thread.id))!;
    expect(waiting.status).toBe('awaiting_human');
    expect(waiting.waitingReason).toMatch(/^budget: the next call could use up to \d+ tokens; 5010 of 5500 are used$/);
    expect(await second.runtime.runUntilIdle()).toBe(0);

    await second.runtime.raiseBudget(thread.id, { by: 'alice', maxTokens: 20_000 });
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect((await second.runtime.getThread(thread.id))!).toMatchObject({ status: 'completed', output: 'done' });
    expect(model.calls).toHaveLength(2);
  });
});

describe('deadlines that pass while no process runs', () => {
  it('rejects an undecided approval by "timeout" in the next process, and the model re-plans', async () => {
    const pay = payTool({ approval: 'always', approvalTimeoutMs: 300 });
    const model = stepModel((step, request) =>
      step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 10 }, callId: 'call_pay' }] } : { text: `re-planned: ${toolResults(request)[0]?.value}` },
    );
    const agents = [scriptedAgent({ tools: [pay.tool] })];
    const models = { 'scripted:payer': model };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'pay 10' });
    const before = Date.now();
    await first.runtime.runThread(thread.id);
    const requested = ofType(await first.runtime.loadEvents(thread.id), 'approval_requested')[0]!;
    const deadline = Date.parse(requested.data.deadline!);
    // 300 ms from when the call was requested (taken a moment before the commit stamps `at`; on a
    // loaded machine that moment can be a few ms earlier, so bound it on both sides instead).
    expect(deadline).toBeGreaterThanOrEqual(before + 300);
    expect(deadline).toBeLessThanOrEqual(Date.parse(requested.at) + 300);
    expect((await first.runtime.getThread(thread.id))!.wakeAt).toBe(deadline);
    await first.runtime.close();

    await sleep(deadline - Date.now() + 30); // nobody is running
    const second = makeRuntime({ agents, models, dir: first.dir });
    expect(await second.runtime.runUntilIdle()).toBe(1);

    const events = await second.runtime.loadEvents(thread.id);
    expect(ofType(events, 'approval_decided')[0]!.data).toEqual({
      callId: 'call_pay',
      approved: false,
      by: 'timeout',
      comment: 'nobody decided before the deadline; the policy default (reject) applies',
    });
    expect(ofType(events, 'tool_started')).toHaveLength(0);
    expect(pay.runs).toHaveLength(0);
    const thread2 = (await second.runtime.getThread(thread.id))!;
    expect(thread2.status).toBe('completed');
    expect(thread2.output).toContain('nobody decided before the deadline');
    // A person who comes too late finds the first (timeout) decision standing.
    const late = await expectTwelveError(second.runtime.decide(thread.id, { by: 'alice', approved: true }), 'conflict');
    expect(late.message).toContain('completed');
  });

  it('approves by "timeout" when onApprovalTimeout is "approve", applied by a background worker', async () => {
    const pay = payTool({ approval: 'always', approvalTimeoutMs: 300, onApprovalTimeout: 'approve' });
    const agents = [scriptedAgent({ tools: [pay.tool] })];
    const models = { 'scripted:payer': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 10 }, callId: 'call_pay' }] } : { text: 'paid' })) };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'pay 10' });
    expect((await first.runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    await first.runtime.close();

    await sleep(350);
    const second = makeRuntime({ agents, models, dir: first.dir });
    const worker = second.runtime.startWorker({ pollMs: 25 });
    await eventually(async () => (await second.runtime.getThread(thread.id))!.status === 'completed', 45_000);
    await worker.stop();

    const events = await second.runtime.loadEvents(thread.id);
    const decided = ofType(events, 'approval_decided')[0]!;
    expect(decided.data).toMatchObject({ callId: 'call_pay', approved: true, by: 'timeout' });
    expect(events.findIndex((e) => e.type === 'approval_decided')).toBeLessThan(events.findIndex((e) => e.type === 'tool_started'));
    expect(pay.runs).toHaveLength(1);
  });

  it('gives the default answer to an unanswered ask_human by "timeout" in the next process', async () => {
    const model = askOnce('Refund to card or wallet?');
    const agents = [scriptedAgent({ tools: [askHuman({ timeoutMs: 300, defaultAnswer: 'card' })] })];
    const models = { 'scripted:payer': model };
    const first = makeRuntime({ agents, models });
    const thread = await first.runtime.launch({ agent: 'payer', input: 'refund' });
    expect((await first.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    const asked = ofType(await first.runtime.loadEvents(thread.id), 'human_asked')[0]!;
    expect(asked.data).toMatchObject({ defaultAnswer: 'card', deadline: expect.any(String) });
    expect((await first.runtime.getThread(thread.id))!.wakeAt).toBe(Date.parse(asked.data.deadline!));
    await first.runtime.close();

    await sleep(350);
    const second = makeRuntime({ agents, models, dir: first.dir });
    expect(await second.runtime.runUntilIdle()).toBe(1);
    expect(ofType(await second.runtime.loadEvents(thread.id), 'human_answered')[0]!.data).toEqual({ callId: 'call_ask', answer: 'card', by: 'timeout' });
    expect(toolResults(model.calls.at(-1))).toEqual([{ toolCallId: 'call_ask', toolName: 'ask_human', type: 'json', value: { answer: 'card', answeredBy: 'timeout' } }]);
    expect((await second.runtime.getThread(thread.id))!.status).toBe('completed');
    await expectTwelveError(second.runtime.answer(thread.id, { by: 'alice', answer: 'wallet' }), 'conflict');
  });

  it('refuses an answer that arrives after the deadline, recording the default answer in its place in the same commit', async () => {
    const model = askOnce('Refund to card or wallet?');
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [askHuman({ timeoutMs: 150, defaultAnswer: 'card' })] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'refund' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    const deadline = ofType(await runtime.loadEvents(thread.id), 'human_asked')[0]!.data.deadline!;
    await sleep(Date.parse(deadline) - Date.now() + 5); // no worker looks meanwhile
    const before = (await runtime.getThread(thread.id))!;
    expect(before.status).toBe('awaiting_human');

    const late = await expectTwelveError(runtime.answer(thread.id, { by: 'alice', answer: 'wallet' }), 'conflict');
    const message = `too late: the deadline of question call_ask passed at ${deadline}, and the default answer was given ("card"); your answer was not recorded`;
    expect(late.message).toBe(message);
    expect((await runtime.loadEvents(thread.id)).slice(before.seq).map((e) => [e.type, e.data])).toEqual([['human_answered', { callId: 'call_ask', answer: 'card', by: 'timeout' }]]);
    expect((await expectTwelveError(runtime.answer(thread.id, { by: 'bob', answer: 'wallet' }), 'conflict')).message).toBe(message);
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(toolResults(model.calls.at(-1))).toEqual([{ toolCallId: 'call_ask', toolName: 'ask_human', type: 'json', value: { answer: 'card', answeredBy: 'timeout' } }]);

    // Without a default answer, the refusal quotes the one the model gets.
    const bare = makeRuntime({ agents: [scriptedAgent({ tools: [askHuman({ timeoutMs: 100 })] })], models: { 'scripted:payer': askOnce('Anything else?') } });
    const t2 = await bare.runtime.launch({ agent: 'payer', input: 'x' });
    await bare.runtime.runThread(t2.id);
    await sleep(Date.parse(ofType(await bare.runtime.loadEvents(t2.id), 'human_asked')[0]!.data.deadline!) - Date.now() + 5);
    expect((await expectTwelveError(bare.runtime.answer(t2.id, { by: 'alice', answer: 'no' }), 'conflict')).message).toMatch(
      /and the default answer was given \("No answer came before the deadline; decide without it\."\); your answer was not recorded$/,
    );
  });

  it('tells the model when a question timed out without a default answer', async () => {
    const model = askOnce('Anything else?');
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [askHuman({ timeoutMs: 50 })] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'x' });
    await runtime.runThread(thread.id);
    await sleep(80);
    expect(await runtime.runUntilIdle()).toBe(1);
    expect(toolResults(model.calls.at(-1))[0]!.value).toEqual({ answer: 'No answer came before the deadline; decide without it.', answeredBy: 'timeout' });
  });
});

describe('pause, resume and cancel', () => {
  it('never claims a paused thread (runUntilIdle nor a worker), and resume continues it', async () => {
    const model = stepModel([{ text: 'finished' }]);
    const { runtime } = makeRuntime({ agents: [scriptedAgent()], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'hello' });
    await runtime.pause(thread.id, { by: 'alice' });
    await expectTwelveError(runtime.pause(thread.id, { by: 'bob' }), 'conflict');

    expect(await runtime.runUntilIdle()).toBe(0);
    const worker = runtime.startWorker({ pollMs: 20 });
    await sleep(300);
    await worker.stop();
    expect(worker.processed).toBe(0);
    expect(model.calls).toHaveLength(0);
    expect((await runtime.getThread(thread.id))!).toMatchObject({ status: 'paused', seq: 2, leaseOwner: null });
    // runThread on a paused thread does nothing either.
    expect((await runtime.runThread(thread.id)).outcome).toBe('paused');
    expect(model.calls).toHaveLength(0);

    await runtime.resume(thread.id, { by: 'alice', comment: 'go ahead' });
    expect(await runtime.runUntilIdle()).toBe(1);
    expect((await runtime.getThread(thread.id))!.status).toBe('completed');
    expect(userTexts(model.calls[0])).toContain('A human operator (alice) says: go ahead');
  });

  it('pauses a thread a worker is running after its current step', async () => {
    const release = gate();
    const started = gate();
    const pay = payTool({
      run: async () => {
        started.resolve();
        await release.promise;
        return { ok: true };
      },
    });
    const model = stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 1 } }] } : { text: 'done' }));
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    const running = runtime.runThread(thread.id);
    await started.promise;

    const paused = await runtime.pause(thread.id, { by: 'alice', reason: 'audit' });
    expect(paused.applied).toBe(false);
    expect(paused.thread.control).toEqual({ kind: 'pause', by: 'alice', reason: 'audit' });
    release.resolve();
    expect((await running).outcome).toBe('paused');
    expect(typesOf(await runtime.loadEvents(thread.id)).slice(-3)).toEqual(['tool_started', 'tool_succeeded', 'paused']);
    expect(model.calls).toHaveLength(1);
    expect((await runtime.getThread(thread.id))!.control).toBeNull();

    await runtime.resume(thread.id, { by: 'alice' });
    expect(await runtime.runUntilIdle()).toBe(1);
    expect((await runtime.getThread(thread.id))!.status).toBe('completed');
  });

  it('lets a tool run finish and be recorded when the thread is cancelled during it, then calls no model', async () => {
    const release = gate<{ ok: boolean }>();
    const started = gate();
    const pay = payTool({
      run: async () => {
        started.resolve();
        return release.promise;
      },
    });
    const model = stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 7 }, callId: 'call_pay' }] } : { text: 'should never be asked' }));
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay 7' });
    const running = runtime.runThread(thread.id);
    await started.promise;

    const cancel = await runtime.cancel(thread.id, { by: 'alice', reason: 'customer withdrew' });
    expect(cancel.applied).toBe(false);
    expect((await runtime.getThread(thread.id))!.status).toBe('runnable');
    release.resolve({ ok: true });

    const { outcome, thread: done } = await running;
    expect(outcome).toBe('cancelled');
    expect(done).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'cancelled by alice: customer withdrew' }, control: null });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'cancelled']);
    expect(ofType(events, 'tool_succeeded')[0]!.data.result).toEqual({ ok: true });
    expect(model.calls).toHaveLength(1);
    expect(await runtime.runUntilIdle()).toBe(0);
    await expectTwelveError(runtime.cancel(thread.id, { by: 'bob' }), 'conflict');
    await expectTwelveError(runtime.resume(thread.id, { by: 'bob' }), 'thread_not_runnable');
  });

  for (const action of ['cancel', 'pause'] as const) {
    it(`leaves a thread completed when a ${action} arrives while its final answer is being made`, async () => {
      const inCall = gate();
      const answer = gate();
      const model = scriptedModel(async () => {
        inCall.resolve();
        await answer.promise;
        return { text: 'the final answer' };
      });
      const { runtime } = makeRuntime({ agents: [scriptedAgent()], models: { 'scripted:payer': model } });
      const thread = await runtime.launch({ agent: 'payer', input: 'hello' });
      const running = runtime.runThread(thread.id);
      await inCall.promise;

      expect((await runtime[action](thread.id, { by: 'alice' })).applied).toBe(false); // requested: a worker holds the thread
      answer.resolve();
      const { outcome, thread: done } = await running;

      // The answer was recorded first: the thread is over, and a request that came too late changes nothing.
      expect(outcome).toBe('completed');
      expect(done).toMatchObject({ status: 'completed', output: 'the final answer', error: null, control: null });
      const events = await runtime.loadEvents(thread.id);
      expect(events.at(-1)!.type, `no event after thread_completed (log: ${typesOf(events).join(', ')})`).toBe('thread_completed');
    });
  }

  it('does not let a cancel left pending on a finished thread (its worker died right after the answer) block other threads', async () => {
    const dir = tempDir();
    const dbFile = dbFileIn(dir);
    const inCall = gate();
    const answer = gate();
    let calls = 0;
    const model = scriptedModel(async () => {
      if (calls++ === 0) {
        inCall.resolve();
        await answer.promise;
      }
      return { text: 'the final answer' };
    });
    const agents = [scriptedAgent()];
    const a = openRuntime({ agents, models: { 'scripted:payer': model }, dbFile, leaseMs: 100 });
    const first = await a.launch({ agent: 'payer', input: 'one' });
    // The process dies the moment its final answer is committed: nothing after that append runs.
    a.subscribe((e) => {
      if (e.type === 'thread_completed') void a.store.close();
    });
    const running = a.runThread(first.id).catch(() => 'died');
    await inCall.promise;
    expect((await a.cancel(first.id, { by: 'alice' })).applied).toBe(false);
    answer.resolve();
    expect(await running).toBe('died');
    await sleep(150); // its lease expires

    const b = openRuntime({ agents, models: { 'scripted:payer': model }, dbFile });
    try {
      expect((await b.getThread(first.id))!.status).toBe('completed');
      const second = await b.launch({ agent: 'payer', input: 'two' });
      expect(await b.runUntilIdle()).toBe(1);
      expect((await b.getThread(second.id))!.status).toBe('completed');
      expect((await b.getThread(first.id))!).toMatchObject({ status: 'completed', output: 'the final answer' });
    } finally {
      await b.close();
    }
  });

  it('cancels a waiting thread at once', async () => {
    const pay = payTool({ approval: 'always' });
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': stepModel([{ toolCalls: [{ tool: 'pay', args: { amount: 1 } }] }]) } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(thread.id);
    const result = await runtime.cancel(thread.id, { by: 'alice' });
    expect(result).toMatchObject({ applied: true, thread: { status: 'cancelled' } });
    await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: true }), 'conflict');
    expect(pay.runs).toHaveLength(0);
    expect(await runtime.listWaiting()).toEqual([]);
  });

  it('puts the thread to sleep when a tool returns callAgainAt, and runs it again after that with attempt 2 and the same key', async () => {
    let until = new Date(0);
    const pay = payTool({
      run: (_input, ctx) => (ctx.attempt === 1 ? callAgainAt((until = new Date(Date.now() + 300)), 'settlement window') : { settled: ctx.attempt }),
    });
    const model = stepModel((step, request) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 5 }, callId: 'call_pay' }] } : { text: JSON.stringify(toolResults(request)[0]?.value) }));
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay 5' });

    expect((await runtime.runThread(thread.id)).outcome).toBe('sleeping');
    const sleeping = (await runtime.getThread(thread.id))!;
    expect(sleeping).toMatchObject({ status: 'sleeping', wakeAt: until.getTime() });
    expect(ofType(await runtime.loadEvents(thread.id), 'tool_sleeping')[0]!.data).toEqual({ callId: 'call_pay', until: until.toISOString(), reason: 'settlement window' });
    expect(model.calls).toHaveLength(1);
    // Not in the inbox: nobody has to act.
    expect(await runtime.listWaiting()).toEqual([]);
    expect(await runtime.runUntilIdle()).toBe(0);

    const worker = runtime.startWorker({ pollMs: 25 });
    await eventually(async () => (await runtime.getThread(thread.id))!.status === 'completed', 45_000);
    await worker.stop();
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
    const started = ofType(await runtime.loadEvents(thread.id), 'tool_started');
    expect(started.map((e) => e.data)).toEqual([
      { callId: 'call_pay', idempotencyKey: `${thread.id}:call_pay`, attempt: 1 },
      { callId: 'call_pay', idempotencyKey: `${thread.id}:call_pay`, attempt: 2 },
    ]);
    expect(pay.runs.map((r) => r.attempt)).toEqual([1, 2]);
    expect((await runtime.getThread(thread.id))!.output).toBe('{"settled":2}');
  });
});

describe('ask_human', () => {
  it('waits for an answer, which the model then reads as the tool result', async () => {
    const model = askOnce('What is the customer’s account number?');
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [askHuman()] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'refund' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);
    expect(outcome).toBe('awaiting_human');
    expect(waiting.waitingReason).toBe('question: What is the customer’s account number?');
    expect(typesOf(await runtime.loadEvents(thread.id))).toEqual(['thread_started', 'model_called', 'tool_requested', 'human_asked']);
    expect(ofType(await runtime.loadEvents(thread.id), 'human_asked')[0]!.data).toEqual({ callId: 'call_ask', question: 'What is the customer’s account number?', urgency: 'normal' });
    expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);

    await runtime.answer(thread.id, { by: 'alice', answer: 'ACC-42' });
    await expectTwelveError(runtime.answer(thread.id, { by: 'bob', answer: 'ACC-43' }), 'conflict');
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(model.calls).toHaveLength(2);
    expect(toolResults(model.calls[1])).toEqual([{ toolCallId: 'call_ask', toolName: 'ask_human', type: 'json', value: { answer: 'ACC-42', answeredBy: 'alice' } }]);
    expect(ofType(await runtime.loadEvents(thread.id), 'tool_started')).toHaveLength(0);
  });

  it('lets only the answerers answer: plain strings are roles, people are named apart', async () => {
    const { runtime } = makeRuntime({
      agents: [scriptedAgent({ tools: [askHuman({ answerers: ['support-lead', 'support'] })] })],
      models: { 'scripted:payer': askOnce('May I refund?') },
      env: { TWELVE_HUMANS: 'sam=support' },
    });
    const thread = await runtime.launch({ agent: 'payer', input: 'refund' });
    await runtime.runThread(thread.id);

    const error = await expectTwelveError(runtime.answer(thread.id, { by: 'mallory', answer: 'yes' }), 'forbidden');
    expect(error.message).toBe('mallory may not answer this question: allowed are anyone with the role support-lead or support; mallory has no roles');
    await expectTwelveError(runtime.answer(thread.id, { by: { name: 'eve', roles: ['finance'] }, answer: 'yes' }), 'forbidden');
    await expectTwelveError(runtime.answer(thread.id, { by: 'support', answer: 'yes' }), 'forbidden'); // named like the role, without it
    await expectTwelveError(runtime.answer(thread.id, { by: 'timeout', answer: 'yes' }), 'forbidden');
    expect(ofType(await runtime.loadEvents(thread.id), 'human_answered')).toHaveLength(0);

    await runtime.answer(thread.id, { by: 'sam', answer: 'yes' });
    expect(ofType(await runtime.loadEvents(thread.id), 'human_answered')[0]!.data).toMatchObject({ answer: 'yes', by: 'sam' });

    // { roles, people }: a named person answers without any role.
    const named = makeRuntime({
      agents: [scriptedAgent({ tools: [askHuman({ answerers: { people: ['alice@example.com'] } })] })],
      models: { 'scripted:payer': askOnce('May I refund?') },
    });
    const t2 = await named.runtime.launch({ agent: 'payer', input: 'refund' });
    await named.runtime.runThread(t2.id);
    expect((await expectTwelveError(named.runtime.answer(t2.id, { by: { name: 'bob', roles: ['alice@example.com'] }, answer: 'no' }), 'forbidden')).message).toBe(
      'bob may not answer this question: allowed are alice@example.com (by name); bob has the roles alice@example.com',
    );
    await named.runtime.answer(t2.id, { by: 'alice@example.com', answer: 'no' });
    // A malformed list is an agent error at definition time.
    expect(() => askHuman({ answerers: { roles: ['ops'], people: [''] } })).toThrow(/askHuman: answerers.people must be a list of non-empty names/);
    expect(() => askHuman({ answerers: { role: ['ops'] } as never })).toThrow(/must be a list of roles \(\['finance'\]\) or \{ roles: \[...\], people: \[...\] \}/);
  });

  it('refuses an answer when nothing is asked', async () => {
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [askHuman()] })], models: { 'scripted:payer': stepModel([{ text: 'x' }]) } });
    const thread = await runtime.launch({ agent: 'payer', input: 'hello' });
    const error = await expectTwelveError(runtime.answer(thread.id, { by: 'alice', answer: 'hi' }), 'conflict');
    expect(error.message).toBe(`thread ${thread.id} has no call waiting for an answer (status runnable)`);
  });
});

describe('escalation after repeated errors', () => {
  function failingSetUp() {
    const broken = payTool({
      run: () => {
        throw new Error('ledger unavailable');
      },
    });
    const model = stepModel((step) => (step < 2 ? { toolCalls: [{ tool: 'pay', args: { amount: step + 1 } }] } : { text: 'I will tell the customer we call back.' }));
    const tr = makeRuntime({ agents: [scriptedAgent({ tools: [broken.tool, askHuman()], limits: { maxConsecutiveErrors: 2 } })], models: { 'scripted:payer': model } });
    return { ...tr, model, broken };
  }

  it('waits for a person after K consecutive errors; the answer is guidance the model reads', async () => {
    const { runtime, model } = failingSetUp();
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);
    expect(outcome).toBe('awaiting_human');
    const reason = '2 consecutive errors (limit 2); a human must look before the agent goes on. Last errors: tool_error: pay: ledger unavailable; tool_error: pay: ledger unavailable';
    expect(waiting.waitingReason).toBe(`escalated: ${reason}`);
    expect(ofType(await runtime.loadEvents(thread.id), 'escalated')[0]!.data).toEqual({
      reason,
      consecutiveErrors: 2,
      kind: 'errors',
    });
    expect(model.calls).toHaveLength(2);
    expect(await runtime.runUntilIdle()).toBe(0);
    expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);

    await runtime.answer(thread.id, { by: 'ops', answer: 'The ledger is down today; do not retry, tell the customer we will call back.' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(model.calls).toHaveLength(3);
    expect(userTexts(model.calls[2]).at(-1)).toBe('A human operator (ops) says: The ledger is down today; do not retry, tell the customer we will call back.');
  });

  it('accepts a raised budget and a cancel while escalated', async () => {
    const { runtime, model } = failingSetUp();
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(thread.id);

    const raised = await runtime.raiseBudget(thread.id, { by: 'ops', maxSteps: 50, maxTokens: 100_000 });
    expect(raised.applied).toBe(true);
    expect(ofType(await runtime.loadEvents(thread.id), 'budget_raised')[0]!.data).toEqual({ by: 'ops', maxSteps: 50, maxTokens: 100_000, previous: { maxSteps: 20, maxTokens: null } });
    // More budget does not answer an escalation about errors: it still waits for a person.
    expect((await runtime.getThread(thread.id))!.status).toBe('awaiting_human');
    expect(await runtime.runUntilIdle()).toBe(0);
    await expectTwelveError(runtime.raiseBudget(thread.id, { by: 'ops' }), 'usage');

    const cancelled = await runtime.cancel(thread.id, { by: 'ops', reason: 'handled by phone' });
    expect(cancelled).toMatchObject({ applied: true, thread: { status: 'cancelled' } });
    expect(await runtime.runUntilIdle()).toBe(0);
    expect(model.calls).toHaveLength(2);
  });

  it('continues with resume (and its comment) as well', async () => {
    const { runtime, model } = failingSetUp();
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(thread.id);
    expect((await runtime.resume(thread.id, { by: 'ops', comment: 'try once more, then stop' })).status).toBe('runnable');
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(userTexts(model.calls[2])).toContain('A human operator (ops) says: try once more, then stop');
  });
});
