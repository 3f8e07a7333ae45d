/**
 * Hard budgets over real HTTP (a priced OpenAI model id on the scripted server) and real
 * SQLite: the check happens before the request is sent, a limit is overshot by at most one
 * call's estimate error, token and step limits, the per-agent daily cap shared by every
 * process on the store, breaches that wait for a person who raises the budget, and what a
 * person may set (never below what is used, never above the operator's bound).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventFormatter } from '../src/cli/format.js';
import { createRelease, createRuntime, defaultRenderContext, defineAgent, defineTool, loadConfig, TwelveError, version, type Runtime, type ThreadEvent } from '../src/index.js';
import { buildRequest } from '../src/model/call-model.js';
import { countInputTokens } from '../src/model/estimate.js';
import { defaultPrices } from '../src/model/prices.js';
import { supportAgent } from './support/agents.js';
import { expectTwelveError, ofType, scriptedAgent } from './support/hitl.js';
import { makeRuntime, startServer } from './support/runtime.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';

const model = 'openai:gpt-4o-2024-08-06';
const price = defaultPrices[model]!;
const costOf = (input: number, output: number) => (input * price.input + output * price.output) / 1_000_000;

/**
 * What the runtime estimated before each model call, recomputed from the log: the context it
 * sent (every earlier event through the default renderer), input counted, output at its cap.
 */
function callEstimates(runtime: Runtime, events: ThreadEvent[]) {
  const release = runtime.release(events[0]!.type === 'thread_started' ? events[0]!.data.agent : '');
  const maxOutput = release.settings.maxOutputTokens!;
  const calls: Array<{ costBefore: number; tokensBefore: number; estimateUsd: number; estimateTokens: number; actualUsd: number; actualTokens: number }> = [];
  let costBefore = 0;
  let tokensBefore = 0;
  events.forEach((e, index) => {
    if (e.type !== 'model_called') return;
    const input = countInputTokens(model, buildRequest(release, defaultRenderContext(release, events.slice(0, index))));
    const actualTokens = e.data.usage.inputTokens + e.data.usage.outputTokens;
    calls.push({
      costBefore,
      tokensBefore,
      estimateUsd: costOf(input, maxOutput),
      estimateTokens: input + maxOutput,
      actualUsd: e.data.costUsd!,
      actualTokens,
    });
    costBefore += e.data.costUsd!;
    tokensBefore += actualTokens;
  });
  // The same reconstruction for the call that was refused, to check it against the recorded breach.
  const breachAt = events.findIndex((e) => e.type === 'budget_exceeded');
  const refusedInput = breachAt < 0 ? 0 : countInputTokens(model, buildRequest(release, defaultRenderContext(release, events.slice(0, breachAt))));
  return { calls, refused: { estimateUsd: costOf(refusedInput, maxOutput), estimateTokens: refusedInput + maxOutput } };
}

function loopForever(server: ScriptedServer, usage?: { prompt_tokens: number; completion_tokens: number }) {
  server.setFallback(() => ({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], ...(usage ? { usage } : {}) }));
}

describe('budgets are checked before the call', () => {
  it('records the breach before any request is sent when the worst case does not fit, then continues once raised', async () => {
    const server = await startServer();
    const maxOutputTokens = 1_000;
    const realUsage = { prompt_tokens: 100, completion_tokens: 10 };
    const realCost = costOf(realUsage.prompt_tokens, realUsage.completion_tokens); // $0.00035
    const maxCostUsd = 0.001;
    const { agent } = supportAgent({ limits: { maxCostUsd }, modelSettings: { maxOutputTokens, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ text: 'A-1001 was delivered.', usage: realUsage });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);

    expect(outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(0);
    const breach = ofType(await runtime.loadEvents(thread.id), 'budget_exceeded')[0]!.data;
    expect(breach).toMatchObject({ limit: 'cost', used: 0, max: maxCostUsd });
    // The limit sits between one call's real cost and its worst case: only a pre-call check catches it.
    expect(realCost).toBeLessThan(maxCostUsd);
    expect(breach.estimate).toBeGreaterThan(maxCostUsd);
    expect(breach.estimate).toBeGreaterThanOrEqual(costOf(0, maxOutputTokens));
    expect(breach.message).toMatch(/^the next call could cost up to \$0\.01\d{2}; \$0\.0000 of \$0\.001 is spent$/);
    expect(waiting.waitingReason).toBe(`budget: ${breach.message}`);
    expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);

    // It waits: running again neither calls the model nor records another breach.
    expect(await runtime.runUntilIdle()).toBe(0);
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(0);
    expect(ofType(await runtime.loadEvents(thread.id), 'budget_exceeded')).toHaveLength(1);

    // Raised, but not enough for the worst case: a second breach, still no request.
    await runtime.raiseBudget(thread.id, { by: 'alice', maxCostUsd: 0.002 });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(0);
    expect(ofType(await runtime.loadEvents(thread.id), 'budget_exceeded').map((e) => e.data.max)).toEqual([0.001, 0.002]);

    await runtime.raiseBudget(thread.id, { by: 'alice', maxCostUsd: 0.05, comment: 'approved by finance' });
    const done = await runtime.runThread(thread.id);
    expect(done.outcome).toBe('completed');
    expect(server.requests).toHaveLength(1);
    expect(done.thread.costUsd).toBeCloseTo(realCost, 10);
    // The raise's comment reaches the model.
    expect(JSON.stringify(server.requests[0]!.body!.messages)).toContain('A human operator (alice) says: approved by finance');
  });

  for (const variant of [
    { name: 'honest usage', usage: undefined },
    { name: 'usage above every estimate', usage: { prompt_tokens: 3_000, completion_tokens: 150 } },
  ]) {
    it(`never overshoots maxCostUsd by more than the last call's estimate error (${variant.name})`, async () => {
      const server = await startServer();
      const maxCostUsd = 0.05;
      const { agent } = supportAgent({ limits: { maxCostUsd, maxSteps: 200, maxConsecutiveErrors: 50 }, modelSettings: { maxOutputTokens: 200, maxRetries: 0 } });
      const { runtime } = makeRuntime({ agents: [agent], server });
      loopForever(server, variant.usage);

      const thread = await runtime.launch({ agent: 'support', input: 'Keep looking A-1001 up' });
      const { outcome, thread: stopped } = await runtime.runThread(thread.id);
      expect(outcome).toBe('awaiting_human');

      const events = await runtime.loadEvents(thread.id);
      const { calls, refused } = callEstimates(runtime, events);
      expect(calls.length).toBeGreaterThan(2);
      expect(server.requests).toHaveLength(calls.length);
      // Every call that was made passed the check with the estimate the runtime had.
      for (const call of calls) expect(call.costBefore + call.estimateUsd).toBeLessThanOrEqual(maxCostUsd + 1e-12);
      const last = calls.at(-1)!;
      const estimateError = Math.max(0, last.actualUsd - last.estimateUsd);
      expect(stopped.costUsd).toBeLessThanOrEqual(maxCostUsd + estimateError + 1e-12);
      if (variant.usage) expect(estimateError).toBeGreaterThan(0);
      else expect(stopped.costUsd).toBeLessThanOrEqual(maxCostUsd);
      // ...and it stopped only when the next call's worst case no longer fit.
      const breach = ofType(events, 'budget_exceeded')[0]!.data;
      expect(breach.limit).toBe('cost');
      expect(breach.used).toBeCloseTo(stopped.costUsd!, 12);
      expect(breach.used + breach.estimate).toBeGreaterThan(maxCostUsd);
      expect(breach.estimate, 'the estimates above are the runtime’s own').toBeCloseTo(refused.estimateUsd, 12);
      expect(events.at(-1)!.type).toBe('budget_exceeded');
    });
  }

  it('never overshoots maxTokens by more than the last call’s estimate error', async () => {
    const server = await startServer();
    const maxTokens = 6_000;
    const { agent } = supportAgent({ limits: { maxTokens, maxSteps: 200, maxConsecutiveErrors: 50 }, modelSettings: { maxOutputTokens: 150, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    loopForever(server);

    const thread = await runtime.launch({ agent: 'support', input: 'Keep looking A-1001 up' });
    const { outcome, thread: stopped } = await runtime.runThread(thread.id);
    expect(outcome).toBe('awaiting_human');

    const events = await runtime.loadEvents(thread.id);
    const { calls, refused } = callEstimates(runtime, events);
    expect(calls.length).toBeGreaterThan(2);
    for (const call of calls) expect(call.tokensBefore + call.estimateTokens).toBeLessThanOrEqual(maxTokens);
    const last = calls.at(-1)!;
    const used = stopped.inputTokens + stopped.outputTokens;
    expect(used).toBeLessThanOrEqual(maxTokens + Math.max(0, last.actualTokens - last.estimateTokens));
    const breach = ofType(events, 'budget_exceeded')[0]!.data;
    expect(breach).toMatchObject({ limit: 'tokens', used, max: maxTokens });
    expect(breach.used + breach.estimate).toBeGreaterThan(maxTokens);
    expect(breach.estimate, 'the estimates above are the runtime’s own').toBe(refused.estimateTokens);
    expect(stopped.waitingReason).toMatch(new RegExp(`^budget: the next call could use up to ${breach.estimate} tokens; ${used} of ${maxTokens} are used$`));
    expect(server.requests).toHaveLength(calls.length);

    await runtime.raiseBudget(thread.id, { by: 'alice', maxTokens: used + 10_000 });
    server.setFallback(() => ({ text: 'Found it.' }));
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
  });

  it('waits at the step limit instead of failing, and continues with more steps', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ limits: { maxSteps: 1 }, modelSettings: { maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'Delivered.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });

    const { outcome, thread: waiting } = await runtime.runThread(thread.id);
    expect(outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
    expect(ofType(await runtime.loadEvents(thread.id), 'budget_exceeded')[0]!.data).toMatchObject({ limit: 'steps', used: 1, max: 1 });
    expect(waiting.waitingReason).toBe('budget: reached the limit of 1 model steps without a final answer');

    await runtime.raiseBudget(thread.id, { by: 'alice', maxSteps: 2 });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(server.requests).toHaveLength(2);
  });
});

describe('the per-agent daily cap', () => {
  it('is shared by two runtimes on one database: spend in one blocks the other before it sends anything', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: { maxOutputTokens: 100, maxRetries: 0 } });
    const env = { TWELVE_AGENT_SUPPORT_DAILY_COST_USD: '0.005' };
    const a = makeRuntime({ agents: [agent], server, env });
    const b = makeRuntime({ agents: [agent], server, env, dir: a.dir });
    expect(a.runtime.release('support').limits.dailyCostUsd).toBe(0.005);

    // Runtime A: one call whose worst case fits ($0.0014 or so), but which really costs $0.006.
    server.enqueue({ text: 'Delivered.', usage: { prompt_tokens: 2_000, completion_tokens: 100 } });
    const first = await a.runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await a.runtime.runThread(first.id)).outcome).toBe('completed');
    const today = new Date().toISOString().slice(0, 10);
    expect(await b.runtime.store.dailySpend('support', today)).toBeCloseTo(costOf(2_000, 100), 12);

    // Runtime B (its own connection, as another process would have) sees that spend and stops before calling.
    const second = await b.runtime.launch({ agent: 'support', input: 'Where is B-2002?' });
    const { outcome, thread: waiting } = await b.runtime.runThread(second.id);
    expect(outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
    const breach = ofType(await b.runtime.loadEvents(second.id), 'budget_exceeded')[0]!.data;
    expect(breach).toMatchObject({ limit: 'daily_cost', max: 0.005 });
    expect(breach.used).toBeCloseTo(costOf(2_000, 100), 12);
    expect(waiting.waitingReason).toMatch(/^budget: agent support has spent \$0\.0060 of its \$0\.005 daily cap; the next call could cost up to \$0\.00\d+$/);

    // A thread's own budget cannot lift the agent's daily cap: raising it leads to the same wait, not to a call.
    await b.runtime.raiseBudget(second.id, { by: 'alice', maxCostUsd: 10 });
    expect((await b.runtime.runThread(second.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
    expect(ofType(await b.runtime.loadEvents(second.id), 'budget_exceeded').map((e) => e.data.limit)).toEqual(['daily_cost', 'daily_cost']);

    // And runtime A is blocked by its own earlier spend as well.
    const third = await a.runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await a.runtime.runThread(third.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
  });
});

describe('a model with no known price fails closed', () => {
  const local = 'openai-compatible:llama3.1-8b';
  const localPrices = { TWELVE_MODEL_PRICES: JSON.stringify({ [local]: { input: 0.1, output: 0.2 } }) };

  function startupError(fn: () => unknown): TwelveError {
    try {
      fn();
    } catch (error) {
      if (TwelveError.is(error)) return error;
      throw error;
    }
    throw new Error('expected a configuration error');
  }

  it('refuses to start an agent with a cost limit and an unpriced model in its chain, listing every one with the line that prices it', async () => {
    const { agent: support } = supportAgent({ fallbackModels: [local], limits: { maxCostUsd: 0.5 } });
    const triage = defineAgent({ name: 'triage', purpose: 'Sort mail', model: 'openai-compatible:qwen2.5-7b', prompt: { text: 'Sort {{input}}' } });
    const free = defineAgent({ name: 'free', purpose: 'No limit, no price', model: local, prompt: { text: 'x' } });
    const env = { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_AGENT_TRIAGE_DAILY_COST_USD: '3' };

    const error = startupError(() => createRuntime({ agents: [support, triage, free], env }));
    expect(error.code).toBe('config_invalid');
    expect(error.exitCode).toBe(2);
    expect(error.details.problems).toEqual([
      `agent support: model ${local} (fallback 1) has no known price, so its cost limit (limits.maxCostUsd 0.5 (in code)) could not be enforced.` +
        ` Give it a price in USD per million input and output tokens, e.g. TWELVE_MODEL_PRICES='{"${local}":{"input":2.5,"output":10}}' with its real prices, or remove the limit`,
      `agent triage: model openai-compatible:qwen2.5-7b (primary) has no known price, so its cost limit (TWELVE_AGENT_TRIAGE_DAILY_COST_USD=3) could not be enforced.` +
        ` Give it a price in USD per million input and output tokens, e.g. TWELVE_MODEL_PRICES='{"openai-compatible:qwen2.5-7b":{"input":2.5,"output":10}}' with its real prices, or remove the limit`,
    ]);

    // A limit from the environment counts too, and the hint says to extend the prices already set.
    const fromEnv = startupError(() => createRuntime({ agents: [free], env: { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_AGENT_FREE_MAX_COST_USD: '1', TWELVE_MODEL_PRICES: '{"openai-compatible:other":{"input":1,"output":1}}' } }));
    expect(fromEnv.details.problems).toEqual([expect.stringMatching(/^agent free: model openai-compatible:llama3\.1-8b \(primary\) has no known price, so its cost limit \(TWELVE_AGENT_FREE_MAX_COST_USD=1\) could not be enforced\..* \(add the entry to the JSON object TWELVE_MODEL_PRICES already holds\), or remove the limit$/)]);

    // Priced, they start.
    const prices = JSON.stringify({ [local]: { input: 0.1, output: 0.2 }, 'openai-compatible:qwen2.5-7b': { input: 0.1, output: 0.2 } });
    const runtime = createRuntime({ agents: [support, triage, free], env: { ...env, TWELVE_MODEL_PRICES: prices } });
    expect(runtime.release('triage').limits.dailyCostUsd).toBe(3);
    await runtime.close();
  });

  it('refuses the next call when a person sets a cost limit on a thread whose model has no price, and goes on once it has one', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ model: local, limits: { maxSteps: 1 }, modelSettings: { maxRetries: 0 } });
    const a = makeRuntime({ agents: [agent], server }); // no cost limit: it starts
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] });
    const thread = await a.runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    const first = await a.runtime.runThread(thread.id);
    expect(first.outcome).toBe('awaiting_human'); // its step limit
    expect(first.thread).toMatchObject({ modelSteps: 1, costUsd: null, pricedCostUsd: 0, unpricedCalls: 1 });
    expect(server.requests).toHaveLength(1);

    await a.runtime.raiseBudget(thread.id, { by: 'alice', maxSteps: 5, maxCostUsd: 1 });
    const refused = await a.runtime.runThread(thread.id);
    expect(refused.outcome).toBe('awaiting_human');
    expect(server.requests, 'no call whose cost cannot be checked').toHaveLength(1);
    const breach = ofType(await a.runtime.loadEvents(thread.id), 'budget_exceeded').at(-1)!.data;
    expect(breach).toMatchObject({ limit: 'cost', max: 1, estimate: 0, unpricedModels: [local] });
    expect(refused.thread.waitingReason).toBe(
      `budget: price unknown: ${local} has no known price, so the next call could not be checked against the thread's cost limit ($1); ` +
        `price it (TWELVE_MODEL_PRICES='{"${local}":{"input":2.5,"output":10}}' with real prices), restart the workers, then resume the thread, or cancel it`,
    );
    // Resuming changes nothing while the price is still unknown.
    await a.runtime.resume(thread.id, { by: 'alice' });
    expect((await a.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);

    // A worker that knows the price goes on once a person resumes the thread.
    const b = makeRuntime({ agents: [agent], server, dir: a.dir, env: localPrices });
    await b.runtime.resume(thread.id, { by: 'alice' });
    server.enqueue({ text: 'Delivered.', usage: { prompt_tokens: 100, completion_tokens: 10 } });
    const done = await b.runtime.runThread(thread.id);
    expect(done.outcome).toBe('completed');
    expect(server.requests).toHaveLength(2);
    expect(done.thread).toMatchObject({ modelSteps: 2, costUsd: null, unpricedCalls: 1 });
    expect(done.thread.pricedCostUsd).toBeCloseTo((100 * 0.1 + 10 * 0.2) / 1_000_000, 12);
  });

  it('does not take earlier calls of unknown price as $0: a cost limit that comes later waits until a person accepts the unknown spend', async () => {
    const server = await startServer();
    const gatedLookup = defineTool({ name: 'lookup_order', description: 'Find an order', input: z.object({ orderId: z.string() }), approval: 'always', run: async () => ({ status: 'delivered' }) });
    const { agent } = supportAgent({ model: local, tools: [gatedLookup], modelSettings: { maxRetries: 0 } });
    const a = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] });
    const thread = await a.runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await a.runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    await a.runtime.decide(thread.id, { by: 'alice', approved: true });

    // The next release has a cost limit, and the model now has a price; the first call still has none.
    const b = makeRuntime({ agents: [agent], server, dir: a.dir, env: { ...localPrices, TWELVE_AGENT_SUPPORT_MAX_COST_USD: '1' } });
    const stopped = await b.runtime.runThread(thread.id);
    expect(stopped.outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
    const breach = ofType(await b.runtime.loadEvents(thread.id), 'budget_exceeded').at(-1)!.data;
    expect(breach).toMatchObject({ limit: 'cost', max: 1, used: 0, unpricedCalls: 1 });
    expect(stopped.thread.waitingReason).toBe(
      "budget: price unknown: 1 earlier model call of this thread had no known price, so its spend (at least $0.0000) could not be checked against the thread's cost limit ($1); resume or raise the budget to go on anyway, or cancel",
    );

    await b.runtime.resume(thread.id, { by: 'alice', comment: 'the local model is free' });
    server.enqueue({ text: 'Delivered.' });
    expect((await b.runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(server.requests).toHaveLength(2);
  });
});

describe('what a person may set with `twelve budget`', () => {
  it('refuses a limit at or below what the thread already used, saying what is used; a lowering above it is recorded as one', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ limits: { maxSteps: 2, maxCostUsd: 1 }, modelSettings: { maxOutputTokens: 100, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    loopForever(server, { prompt_tokens: 1_000, completion_tokens: 100 });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    const { outcome, thread: stopped } = await runtime.runThread(thread.id);
    expect(outcome).toBe('awaiting_human');
    expect(stopped).toMatchObject({ modelSteps: 2, inputTokens: 2_000, outputTokens: 200 });
    const spent = stopped.costUsd!;
    expect(spent).toBeCloseTo(2 * costOf(1_000, 100), 12);
    const seq = stopped.seq;

    const steps = await expectTwelveError(runtime.raiseBudget(thread.id, { by: 'alice', maxSteps: 2 }), 'conflict');
    expect(steps.message).toBe(
      `thread ${thread.id} cannot take a limit of 2 model steps when 2 are already taken: it could never take another step. Set a limit above what is used to let it go on, or stop it with cancel (or pause)`,
    );
    const all = await expectTwelveError(runtime.raiseBudget(thread.id, { by: 'alice', maxCostUsd: spent / 2, maxTokens: 2_200, maxSteps: 1 }), 'conflict');
    expect(all.message).toBe(
      `thread ${thread.id} cannot take a cost limit of $${spent / 2} when $${spent.toFixed(4)} is already spent, nor a limit of 2200 tokens when 2200 are already used, nor a limit of 1 model steps when 2 are already taken: it could never take another step. Set a limit above what is used to let it go on, or stop it with cancel (or pause)`,
    );
    expect(all.details).toEqual({ used: { maxCostUsd: spent, maxTokens: 2_200, maxSteps: 2 } });
    // Nothing was recorded, and the thread still waits on its budget.
    expect((await runtime.loadEvents(thread.id)).length).toBe(seq);
    expect((await runtime.getThread(thread.id))!.status).toBe('awaiting_human');

    // Above the use, a lower limit is a real lowering, recorded with what it replaced.
    await runtime.raiseBudget(thread.id, { by: 'alice', maxSteps: 3, maxCostUsd: 0.5 });
    await runtime.raiseBudget(thread.id, { by: 'bob', maxCostUsd: 0.25, maxTokens: 50_000 });
    const changes = ofType(await runtime.loadEvents(thread.id), 'budget_raised');
    expect(changes.map((e) => e.data)).toEqual([
      { by: 'alice', maxSteps: 3, maxCostUsd: 0.5, previous: { maxSteps: 2, maxCostUsd: 1 } },
      { by: 'bob', maxCostUsd: 0.25, maxTokens: 50_000, previous: { maxCostUsd: 0.5, maxTokens: null } },
    ]);
    const formatter = new EventFormatter();
    expect(changes.map((e) => formatter.format(e).replace(/^ +\d+ {2}/, ''))).toEqual([
      'budget       changed by alice: max cost $0.5 (was $1), max steps 3 (was 2)',
      'budget       changed by bob: max cost $0.25 (was $0.5), max tokens 50000 (was none)',
    ]);
    await runtime.raiseBudget(thread.id, { by: 'bob', maxSteps: 2 + 1 + 5 });
    await runtime.raiseBudget(thread.id, { by: 'bob', maxSteps: 4 });
    const [raised, lowered] = ofType(await runtime.loadEvents(thread.id), 'budget_raised').slice(2);
    expect(formatter.format(raised!)).toMatch(/budget +raised by bob: max steps 8 \(was 3\)$/);
    expect(formatter.format(lowered!)).toMatch(/budget +lowered by bob: max steps 4 \(was 8\)$/);

    server.setFallback(() => ({ text: 'Delivered.', usage: { prompt_tokens: 1_000, completion_tokens: 100 } }));
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
  });

  it('refuses a cost limit above TWELVE_MAX_BUDGET_RAISE_USD (or the agent’s own bound) as forbidden, naming the bound and its variable', async () => {
    const payer = scriptedAgent({ name: 'payer' });
    const asker = scriptedAgent({ name: 'asker' });
    const { runtime } = makeRuntime({ agents: [payer, asker], env: { TWELVE_MAX_BUDGET_RAISE_USD: '5', TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD: '2' } });
    expect(runtime.release('payer').budgetRaiseCap).toEqual({ maxCostUsd: 2, variable: 'TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD' });
    expect(runtime.release('asker').budgetRaiseCap).toEqual({ maxCostUsd: 5, variable: 'TWELVE_MAX_BUDGET_RAISE_USD' });
    // Operational, like a concurrency cap: the bound is not part of what the release id hashes.
    expect(runtime.release('payer').releaseId).toBe(createRelease(payer, {}, version).releaseId);

    const t1 = await runtime.launch({ agent: 'payer', input: 'pay' });
    const over = await expectTwelveError(runtime.raiseBudget(t1.id, { by: 'alice', maxCostUsd: 3 }), 'forbidden');
    expect(over.message).toBe(`alice may not give thread ${t1.id} a cost limit of $3: the highest allowed is $2 (TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD)`);
    expect(over.details).toEqual({ maxCostUsd: 3, cap: 2, variable: 'TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD' });
    await runtime.raiseBudget(t1.id, { by: 'alice', maxCostUsd: 2, maxSteps: 1_000 });

    const t2 = await runtime.launch({ agent: 'asker', input: 'ask' });
    const global = await expectTwelveError(runtime.raiseBudget(t2.id, { by: 'alice', maxCostUsd: 5.01 }), 'forbidden');
    expect(global.message).toBe(`alice may not give thread ${t2.id} a cost limit of $5.01: the highest allowed is $5 (TWELVE_MAX_BUDGET_RAISE_USD)`);
    await runtime.raiseBudget(t2.id, { by: 'alice', maxCostUsd: 5 });
    expect(ofType(await runtime.loadEvents(t2.id), 'budget_raised').map((e) => e.data.maxCostUsd)).toEqual([5]);

    // Validated at start like every other variable.
    const invalid = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env, [payer]);
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a config_invalid error');
    };
    expect(invalid({ TWELVE_MAX_BUDGET_RAISE_USD: 'lots' }).message).toContain('TWELVE_MAX_BUDGET_RAISE_USD: must be a positive number of US dollars (got "lots")');
    expect(invalid({ TWELVE_MAX_BUDGET_RAISE_USD: '0' }).message).toContain('TWELVE_MAX_BUDGET_RAISE_USD: must be a positive number of US dollars (got "0")');
    expect(invalid({ TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD: '-1' }).message).toContain('TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD: must be a positive number of US dollars (got "-1")');
  });
});
