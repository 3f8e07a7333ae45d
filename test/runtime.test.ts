/**
 * The runtime contract, end to end on a real SQLite file and real HTTP: input validation,
 * the tool bracket and its idempotency key, crash recovery, prefetch, release ids, custom
 * context rendering, and the background worker.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, TwelveError, type ThreadEvent } from '../src/index.js';
import { event } from '../src/thread/events.js';
import { lookupOrderTool, supportAgent } from './support/agents.js';
import { eventsOfType, makeRuntime, messagesOf, startServer, typesOf } from './support/runtime.js';

const orderInput = z.object({ orderId: z.string().regex(/^[A-Z]-\d{4}$/, 'must look like A-1001'), note: z.string().optional() });

describe('launch', () => {
  it('validates the input against the agent’s input schema and creates nothing when it is invalid', async () => {
    const { agent } = supportAgent({ input: orderInput });
    const { runtime } = makeRuntime({ agents: [agent] });

    const error = await runtime.launch({ agent: 'support', input: { orderId: 42 } }).catch((e: unknown) => e);

    expect(TwelveError.is(error, 'input_invalid')).toBe(true);
    expect((error as Error).message).toBe('input for agent support is invalid: orderId: Invalid input: expected string, received number');
    expect((error as TwelveError).exitCode).toBe(2);
    const bad = await runtime.launch({ agent: 'support', input: { orderId: 'nope' } }).catch((e: unknown) => e);
    expect((bad as Error).message).toContain('orderId: must look like A-1001');
    expect(await runtime.listThreads()).toEqual([]);

    const thread = await runtime.launch({ agent: 'support', input: { orderId: 'A-1001' }, metadata: { ticket: 7 } });
    expect(thread).toMatchObject({ agent: 'support', status: 'runnable', seq: 1, input: { orderId: 'A-1001' }, leaseOwner: null });
  });

  it('requires a non-empty string by default and names unknown agents', async () => {
    const { runtime } = makeRuntime({ agents: [supportAgent().agent] });
    expect((await runtime.launch({ agent: 'support', input: '' }).catch((e: unknown) => e) as Error).message).toContain('input must not be empty');
    expect((await runtime.launch({ agent: 'support', input: ' \n\t ' }).catch((e: unknown) => e) as Error).message).toContain('input must not be only whitespace');
    const unknown = await runtime.launch({ agent: 'billing', input: 'x' }).catch((e: unknown) => e);
    expect(TwelveError.is(unknown, 'agent_not_found')).toBe(true);
    expect((unknown as Error).message).toBe('unknown agent "billing" (known: support)');
    expect(TwelveError.is(await runtime.runThread('th_nope').catch((e: unknown) => e), 'thread_not_found')).toBe(true);
  });
});

describe('tool runs', () => {
  it('are bracketed by tool_started and tool_succeeded, with idempotency key threadId:callId', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_q', name: 'lookup_order', arguments: { orderId: 'B-2002' } }] }, { text: 'Shipped.' });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is B-2002?' });
    await runtime.runThread(thread.id);

    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
    expect(eventsOfType(events, 'tool_started')[0]!.data).toEqual({ callId: 'call_q', idempotencyKey: `${thread.id}:call_q`, attempt: 1 });
    expect(eventsOfType(events, 'tool_succeeded')[0]!.data).toMatchObject({ callId: 'call_q', result: { orderId: 'B-2002', status: 'shipped' }, durationMs: expect.any(Number) });
    expect(lookup.runs).toHaveLength(1);
    expect(lookup.runs[0]!.ctx).toMatchObject({ threadId: thread.id, callId: 'call_q', idempotencyKey: `${thread.id}:call_q`, attempt: 1, agent: 'support' });
    expect(lookup.runs[0]!.ctx.signal).toBeInstanceOf(AbortSignal);
  });

  it('gives each call of a thread its own id even when the provider reuses call ids', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      { toolCalls: [{ id: 'call_0', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
      { toolCalls: [{ id: 'call_0', name: 'lookup_order', arguments: { orderId: 'B-2002' } }] },
      { text: 'Both found.' },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'Look up A-1001 then B-2002' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const keys = eventsOfType(await runtime.loadEvents(thread.id), 'tool_started').map((e) => e.data.idempotencyKey);
    expect(new Set(keys).size).toBe(2);
    expect(lookup.runs.map((r) => r.input.orderId)).toEqual(['A-1001', 'B-2002']);
    const last = messagesOf(server.requests[2]);
    const toolCallIds = last.flatMap((m) => (m.tool_calls ?? []).map((c: { id: string }) => c.id));
    expect(new Set(toolCallIds).size).toBe(2);
    expect(last.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(toolCallIds);
  });

  it('gives parallel calls of one response distinct ids when the provider repeats the same id', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      {
        toolCalls: [
          { id: 'call_0', name: 'lookup_order', arguments: { orderId: 'A-1001' } },
          { id: 'call_0', name: 'lookup_order', arguments: { orderId: 'B-2002' } },
        ],
      },
      { text: 'Both found.' },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'Look up A-1001 and B-2002' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const events = await runtime.loadEvents(thread.id);
    const callIds = eventsOfType(events, 'tool_requested').map((e) => e.data.callId);
    expect(new Set(callIds).size).toBe(2);
    expect(eventsOfType(events, 'model_called')[0]!.data.toolCalls.map((c) => c.callId)).toEqual(callIds);
    expect(lookup.runs.map((r) => r.input.orderId)).toEqual(['A-1001', 'B-2002']);
    const toolMessages = messagesOf(server.requests[1]).filter((m) => m.role === 'tool');
    expect(toolMessages.map((m) => JSON.parse(m.content).orderId)).toEqual(['A-1001', 'B-2002']);
  });

  it('fails a tool whose result breaks its own output schema', async () => {
    const server = await startServer();
    const typed = defineTool({
      name: 'count_orders',
      description: 'Counts orders',
      input: z.object({}),
      output: z.object({ count: z.number().int() }),
      run: () => ({ count: 'many' }) as never,
    });
    const { agent } = supportAgent({ tools: [typed] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'count_orders', arguments: {} }] }, { text: 'unknown' });

    const thread = await runtime.launch({ agent: 'support', input: 'how many?' });
    await runtime.runThread(thread.id);

    const [failure] = eventsOfType(await runtime.loadEvents(thread.id), 'tool_failed');
    expect(failure!.data.error.code).toBe('tool_error');
    expect(failure!.data.error.message).toContain('count_orders returned a result that fails its output schema: count:');
  });

  it('fails a tool that outlives its timeout with tool_timeout', async () => {
    const server = await startServer();
    const slow = defineTool({ name: 'slow', description: 'Never finishes', input: z.object({}), timeoutMs: 50, run: () => new Promise(() => {}) });
    const { agent } = supportAgent({ tools: [slow] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'slow', arguments: {} }] }, { text: 'gave up' });

    const thread = await runtime.launch({ agent: 'support', input: 'go' });
    await runtime.runThread(thread.id);

    expect(eventsOfType(await runtime.loadEvents(thread.id), 'tool_failed')[0]!.data.error).toEqual({ code: 'tool_timeout', message: 'slow: timed out after 50 ms' });
  });
});

/** Appends, through the store, what a worker that died in the middle of a tool run would have left. */
async function crashMidTool(runtime: ReturnType<typeof makeRuntime>['runtime'], threadId: string, starts: number): Promise<void> {
  const releaseId = runtime.release('support').releaseId;
  const events = [
    event('model_called', {
      model: 'openai:gpt-4o-2024-08-06',
      attempt: 1,
      fallbackIndex: 0,
      latencyMs: 5,
      usage: { inputTokens: 10, outputTokens: 5 },
      costUsd: null,
      text: '',
      toolCalls: [{ callId: 'call_crash', tool: 'lookup_order' }],
      finishReason: 'tool-calls',
      contextMessages: 2,
    }),
    event('tool_requested', { callId: 'call_crash', tool: 'lookup_order', args: { orderId: 'A-1001' }, source: 'model' }),
    ...Array.from({ length: starts }, (_, i) => event('tool_started', { callId: 'call_crash', idempotencyKey: `${threadId}:call_crash`, attempt: i + 1 })),
  ];
  await runtime.store.append(threadId, 1, releaseId, events, { status: 'runnable', modelSteps: 1, inputTokens: 10, outputTokens: 5, costUsd: 0 });
}

describe('crash recovery', () => {
  it('re-runs a tool whose tool_started has no outcome, as attempt 2 with the same idempotency key', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await crashMidTool(runtime, thread.id, 1);
    server.enqueue({ text: 'Delivered.' });

    const { outcome } = await runtime.runThread(thread.id);

    expect(outcome).toBe('completed');
    expect(lookup.runs).toHaveLength(1);
    expect(lookup.runs[0]!.ctx).toMatchObject({ attempt: 2, idempotencyKey: `${thread.id}:call_crash` });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
    expect(eventsOfType(events, 'tool_started').map((e) => e.data)).toEqual([
      { callId: 'call_crash', idempotencyKey: `${thread.id}:call_crash`, attempt: 1 },
      { callId: 'call_crash', idempotencyKey: `${thread.id}:call_crash`, attempt: 2 },
    ]);
    // The model is called once, after the re-run, and sees its result.
    expect(server.requests).toHaveLength(1);
    const toolMessage = messagesOf(server.requests[0]).find((m) => m.role === 'tool');
    expect(JSON.parse(toolMessage!.content)).toMatchObject({ orderId: 'A-1001', status: 'delivered' });
  });

  it('stops re-running an external call that was interrupted three times and asks a person whether it happened', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await crashMidTool(runtime, thread.id, 3);

    await runtime.runThread(thread.id);

    expect(lookup.runs).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
    expect(eventsOfType(await runtime.loadEvents(thread.id), 'human_asked')[0]!.data).toMatchObject({ callId: 'call_crash', about: 'interrupted_tool' });
    expect((await runtime.getThread(thread.id))!).toMatchObject({ status: 'awaiting_human', waitingReason: expect.stringMatching(/^unconfirmed: did lookup_order\(orderId: "A-1001"\) happen\?/) });
  });

  it('stops re-running an idempotent call with three recorded interrupted starts and tells the model', async () => {
    const server = await startServer();
    const runs: unknown[] = [];
    const lookup = defineTool({ name: 'lookup_order', description: 'Find an order by its id', input: z.object({ orderId: z.string() }), effect: 'idempotent', run: (input) => runs.push(input) });
    const { agent } = supportAgent({ tools: [lookup] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    // Starts recorded before the tool was declared idempotent (it writes none itself).
    await crashMidTool(runtime, thread.id, 3);
    server.enqueue({ text: 'The lookup keeps crashing.' });

    await runtime.runThread(thread.id);

    expect(runs).toHaveLength(0);
    expect(eventsOfType(await runtime.loadEvents(thread.id), 'tool_failed')[0]!.data.error.code).toBe('tool_interrupted');
    expect(messagesOf(server.requests[0]).find((m) => m.role === 'tool')!.content).toContain('tool_interrupted');
  });

  it('takes over at once a lease held by a process that no longer exists, but not one held by a live worker', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'hi' });

    const live = `${hostname()}:${process.pid}:another-runtime`;
    await runtime.store.claim({ owner: live, leaseMs: 60_000, threadId: thread.id });
    const busy = await runtime.runThread(thread.id).catch((e: unknown) => e);
    expect(TwelveError.is(busy, 'thread_not_runnable')).toBe(true);
    expect((busy as Error).message).toContain(live);
    await runtime.store.releaseLease(thread.id, live);

    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    await runtime.store.claim({ owner: `${hostname()}:${deadPid}:gone`, leaseMs: 60_000, threadId: thread.id });
    server.enqueue({ text: 'recovered' });
    const { outcome, thread: finished } = await runtime.runThread(thread.id);
    expect(outcome).toBe('completed');
    expect(finished.leaseOwner).toBeNull();
  });
});

describe('concurrent workers', () => {
  it('let only one of two runtimes driving the same thread append the step; the other drops its result', async () => {
    const server = await startServer();
    const a = makeRuntime({ agents: [supportAgent().agent], server });
    const b = makeRuntime({ agents: [supportAgent().agent], server, dir: a.dir });
    const thread = await a.runtime.launch({ agent: 'support', input: 'hi' });
    server.enqueue({ text: 'answer A', delayMs: 20 }, { text: 'answer B', delayMs: 60 });

    // drive() skips the lease, as two workers would after a lease expired under a stalled one.
    const record = (await a.runtime.getThread(thread.id))!;
    const outcomes = await Promise.all([a.runtime.drive(record), b.runtime.drive(record)]);

    // Whichever request reached the server first got the faster answer and won.
    expect([...outcomes].sort()).toEqual(['completed', 'interrupted']);
    expect(server.requests).toHaveLength(2);
    const events = await b.runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'thread_completed']);
    expect((await b.runtime.getThread(thread.id))!.output).toBe('answer A');
  });
});

describe('event listeners', () => {
  it('see every appended event in order, and one that throws does not stop the thread', async () => {
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const seen: string[] = [];
    runtime.subscribe(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = runtime.subscribe((e) => seen.push(`${e.seq}:${e.type}`));
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'done' });

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    unsubscribe();

    expect(seen).toEqual((await runtime.loadEvents(thread.id)).map((e) => `${e.seq}:${e.type}`));
  });
});

describe('prefetch', () => {
  it('runs before the first model call and appears in the first request as tool calls with results', async () => {
    const server = await startServer();
    const lookup = lookupOrderTool();
    let requestsWhenToolRan = -1;
    const spy = defineTool({
      ...lookup.tool,
      run: async (input, ctx) => {
        requestsWhenToolRan = server.requests.length;
        return lookup.tool.run(input, ctx);
      },
    });
    const { agent } = supportAgent({
      input: orderInput,
      tools: [spy],
      prefetch: [{ tool: 'lookup_order', args: (input: z.output<typeof orderInput>) => ({ orderId: input.orderId }) }],
    });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ text: 'Your order was delivered.' });

    const thread = await runtime.launch({ agent: 'support', input: { orderId: 'A-1001' } });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(requestsWhenToolRan).toBe(0);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'tool_requested', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
    expect(eventsOfType(events, 'tool_requested')[0]!.data).toEqual({ callId: 'prefetch_1', tool: 'lookup_order', args: { orderId: 'A-1001' }, source: 'prefetch' });

    expect(server.requests).toHaveLength(1);
    const messages = messagesOf(server.requests[0]);
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(messages[2]!.tool_calls).toEqual([{ id: 'prefetch_1', type: 'function', function: { name: 'lookup_order', arguments: '{"orderId":"A-1001"}' } }]);
    expect(messages[3]).toMatchObject({ role: 'tool', tool_call_id: 'prefetch_1' });
    expect(JSON.parse(messages[3]!.content)).toEqual({ orderId: 'A-1001', amount: 42.5, status: 'delivered' });
  });
});

describe('releases', () => {
  it('stamps every event with the release id, and a changed prompt gives a different one', async () => {
    const server = await startServer();
    const first = makeRuntime({ agents: [supportAgent().agent], server });
    const releaseId = first.runtime.release('support').releaseId;
    expect(releaseId).toMatch(/^rel_[0-9a-f]{16}$/);
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] });

    const thread = await first.runtime.launch({ agent: 'support', input: 'hi' });
    // Stop after the tool result, as if this worker were shut down mid-thread.
    const stop = new AbortController();
    const off = first.runtime.subscribe((e) => {
      if (e.type === 'tool_succeeded') stop.abort();
    });
    expect((await first.runtime.runThread(thread.id, { stop: stop.signal })).outcome).toBe('interrupted');
    off();
    const before = await first.runtime.loadEvents(thread.id);
    expect(before.length).toBe(5);
    expect(before.every((e) => e.releaseId === releaseId)).toBe(true);
    expect((await first.runtime.store.getRelease(releaseId))?.manifest).toMatchObject({ agent: 'support', prompt: 'You help with orders. Tools:\n{{tools}}' });
    await first.runtime.close();

    // A new deployment with a changed prompt picks the thread up: its steps carry its own release.
    const second = makeRuntime({ agents: [supportAgent({ prompt: { text: 'You help with orders, briefly.' } }).agent], server, dir: first.dir });
    const changedId = second.runtime.release('support').releaseId;
    expect(changedId).not.toBe(releaseId);
    server.enqueue({ text: 'Delivered.' });
    const { thread: finished } = await second.runtime.runThread(thread.id);

    const events = await second.runtime.loadEvents(thread.id);
    expect(events.slice(0, 5)).toEqual(before);
    // The move comes first (a prompt change: compatible, so it goes on), then the steps.
    expect(events.slice(5).map((e) => [e.type, e.releaseId])).toEqual([
      ['release_changed', changedId],
      ['model_called', changedId],
      ['thread_completed', changedId],
    ]);
    expect(events[5]!.data).toMatchObject({ from: releaseId, to: changedId, compatible: true, decision: 'continue', changes: [{ kind: 'prompt', detail: expect.stringMatching(/^prompt text changed/) }] });
    expect(finished.releaseId).toBe(changedId);
    expect(messagesOf(server.requests[1])[0]!.content).toBe('You help with orders, briefly.');
    // Every release id in the log resolves to a stored manifest.
    for (const id of new Set(events.map((e) => e.releaseId))) expect(await second.runtime.store.getRelease(id), id).toBeDefined();
  });
});

describe('custom renderContext', () => {
  it('is what the model sees, at every step, given all events so far', async () => {
    const server = await startServer();
    const seen: number[] = [];
    const { agent } = supportAgent({
      renderContext: ({ events, defaultMessages }) => {
        seen.push(events.length);
        return [{ role: 'system', content: `You have seen ${events.length} events.` }, ...defaultMessages.filter((m) => m.role !== 'system')];
      },
    });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'done' });

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    await runtime.runThread(thread.id);

    expect(seen).toEqual([1, 5]);
    expect(messagesOf(server.requests[0])).toEqual([
      { role: 'system', content: 'You have seen 1 events.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(messagesOf(server.requests[1])[0]).toEqual({ role: 'system', content: 'You have seen 5 events.' });
    expect(messagesOf(server.requests[1]).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
  });
});

describe('the background worker', () => {
  it('picks up launched threads and runs them to completion', async () => {
    const server = await startServer();
    server.setFallback((request) => ({ text: `answered ${JSON.stringify(request.body?.messages?.at(-1)?.content)}` }));
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const seen: ThreadEvent[] = [];
    runtime.subscribe((e) => seen.push(e));
    const worker = runtime.startWorker({ concurrency: 2, pollMs: 10_000 });

    // Launching nudges the idle worker, so it does not wait out its 10 s poll.
    const ids = await Promise.all(['one', 'two', 'three'].map(async (input) => (await runtime.launch({ agent: 'support', input })).id));
    await expect.poll(async () => (await runtime.listThreads({ status: ['completed'] })).length, { timeout: 5_000, interval: 10 }).toBe(3);
    await worker.stop();

    expect(worker.processed).toBe(3);
    for (const id of ids) {
      const thread = await runtime.getThread(id);
      expect(thread).toMatchObject({ status: 'completed', leaseOwner: null });
      expect(thread!.output).toBe(`answered ${JSON.stringify(thread!.input)}`);
    }
    expect(seen.filter((e) => e.type === 'thread_completed')).toHaveLength(3);
  });

  it('drains on stop(): the step in flight finishes and is recorded, the lease is released', async () => {
    const server = await startServer();
    let toolStarted!: () => void;
    const started = new Promise<void>((resolve) => (toolStarted = resolve));
    let finishTool!: () => void;
    const slow = defineTool({
      name: 'slow_lookup',
      description: 'A lookup that takes a while',
      input: z.object({}),
      run: () => {
        toolStarted();
        return new Promise((resolve) => (finishTool = () => resolve({ found: true })));
      },
    });
    const { agent } = supportAgent({ tools: [slow] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ name: 'slow_lookup', arguments: {} }] });
    const worker = runtime.startWorker({ pollMs: 10 });
    const thread = await runtime.launch({ agent: 'support', input: 'look it up' });

    await started;
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    finishTool();
    await stopping;

    const afterStop = await runtime.getThread(thread.id);
    expect(afterStop).toMatchObject({ status: 'runnable', leaseOwner: null });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events).at(-1)).toBe('tool_succeeded');
    expect(server.requests).toHaveLength(1);

    // Nothing was lost: a later run carries on from the recorded step.
    server.enqueue({ text: 'Found it.' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
  });

  it('runUntilIdle runs every runnable thread, including ones launched meanwhile', async () => {
    const server = await startServer();
    server.setFallback(() => ({ text: 'ok' }));
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    await runtime.launch({ agent: 'support', input: 'a' });
    let launchedMore = false;
    runtime.subscribe((e) => {
      if (e.type === 'thread_completed' && !launchedMore) {
        launchedMore = true;
        void runtime.launch({ agent: 'support', input: 'b' });
      }
    });

    expect(await runtime.runUntilIdle()).toBe(2);
    expect((await runtime.listThreads({ status: ['completed'] })).length).toBe(2);
  });
});
