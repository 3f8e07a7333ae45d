/**
 * Real provider adapters (@ai-sdk/openai chat, @ai-sdk/openai-compatible) over real HTTP
 * to the scripted OpenAI-compatible server, with a real SQLite store: tool calls, bad tool
 * calls, retries, fallbacks, escalation and resume, structured output, limits and cost.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, TwelveError } from '../src/index.js';
import { lookupOrderTool, supportAgent } from './support/agents.js';
import { eventsOfType, makeRuntime, messagesOf, startServer, testApiKey, typesOf } from './support/runtime.js';

const localKey = 'sk-local-7d1e0c9b55aa';
const providerModels = [
  ['openai:gpt-4o-2024-08-06', 'gpt-4o-2024-08-06', `Bearer ${testApiKey}`],
  ['openai-compatible:llama3.1-8b', 'llama3.1-8b', `Bearer ${localKey}`],
] as const;

describe.each(providerModels)('an agent on %s', (model, wireModel, authorization) => {
  it('completes a tool-using conversation, sending tools as JSON Schema and tool results in the next request', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent({ model });
    const { runtime } = makeRuntime({ agents: [agent], server, env: { TWELVE_OPENAI_COMPATIBLE_API_KEY: localKey } });
    server.enqueue(
      { text: 'Let me look that up.', toolCalls: [{ id: 'call_a', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
      { text: 'Order A-1001 was delivered.' },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'Where is order A-1001?' });
    const { outcome, thread: finished } = await runtime.runThread(thread.id);

    expect(outcome).toBe('completed');
    expect(finished.output).toBe('Order A-1001 was delivered.');
    expect(lookup.runs.map((run) => run.input)).toEqual([{ orderId: 'A-1001' }]);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed']);
    expect(eventsOfType(events, 'model_called')[0]!.data).toMatchObject({ model, attempt: 1, fallbackIndex: 0, toolCalls: [{ callId: 'call_a', tool: 'lookup_order' }], finishReason: 'tool-calls' });

    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect(first!.path).toBe('/v1/chat/completions');
    expect(first!.model).toBe(wireModel);
    expect(first!.headers.authorization).toBe(authorization);
    expect(first!.body?.tools).toEqual([
      {
        type: 'function',
        function: expect.objectContaining({
          name: 'lookup_order',
          description: 'Find an order by its id',
          parameters: expect.objectContaining({
            type: 'object',
            properties: { orderId: expect.objectContaining({ type: 'string', pattern: '^[A-Z]-\\d{4}$' }) },
            required: ['orderId'],
          }),
        }),
      },
    ]);
    expect(messagesOf(first).map((m) => m.role)).toEqual(['system', 'user']);
    expect(messagesOf(first)[0]!.content).toContain('- lookup_order: Find an order by its id');
    expect(messagesOf(first)[1]!.content).toBe('Where is order A-1001?');

    const followUp = messagesOf(second);
    expect(followUp.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(followUp[2]!.tool_calls).toEqual([{ id: 'call_a', type: 'function', function: { name: 'lookup_order', arguments: '{"orderId":"A-1001"}' } }]);
    expect(followUp[3]).toMatchObject({ role: 'tool', tool_call_id: 'call_a' });
    expect(JSON.parse(followUp[3]!.content)).toEqual({ orderId: 'A-1001', amount: 42.5, status: 'delivered' });
  });
});

describe('bad tool calls', () => {
  it('turns malformed tool-call JSON into one compact tool_failed (invalid_json) that the model sees next', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    const long = `{"orderId": "A-1001", "note": "${'n'.repeat(5_000)}" "end": 1}`;
    server.enqueue(
      {
        toolCalls: [
          { id: 'call_bad', name: 'lookup_order', arguments: '{"orderId": "A-10' },
          { id: 'call_long', name: 'lookup_order', arguments: long },
        ],
      },
      { text: 'Sorry, let me answer directly.' },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const events = await runtime.loadEvents(thread.id);
    const failures = eventsOfType(events, 'tool_failed');
    expect(failures.map((f) => [f.data.callId, f.data.error.code])).toEqual([
      ['call_bad', 'invalid_json'],
      ['call_long', 'invalid_json'],
    ]);
    // A long malformed text is stored clipped in the middle: the start and the end (where it broke) stay.
    const longText = eventsOfType(events, 'tool_requested')[1]!.data.argsText!;
    expect(longText.length).toBeLessThanOrEqual(2_000);
    expect(longText.startsWith('{"orderId": "A-1001", "note": "nnn')).toBe(true);
    expect(longText.endsWith('nnn" "end": 1}')).toBe(true);
    expect(failures[0]!.data.error.code).toBe('invalid_json');
    expect(failures[0]!.data.error.message).not.toContain('\n');
    expect(failures[0]!.data.error.message.length).toBeLessThanOrEqual(400);
    expect(eventsOfType(events, 'tool_requested')[0]!.data).toMatchObject({ args: null, argsText: '{"orderId": "A-10' });
    expect(eventsOfType(events, 'tool_started')).toHaveLength(0);
    expect(lookup.runs).toHaveLength(0);

    const toolMessage = messagesOf(server.requests[1]).find((m) => m.role === 'tool' && m.tool_call_id === 'call_bad');
    expect(toolMessage).toMatchObject({ tool_call_id: 'call_bad' });
    expect(toolMessage!.content).toContain('invalid_json');
    expect(toolMessage!.content).toContain('not valid JSON');
    // The model sees what it sent (not `{}`), so it can see where its JSON broke.
    expect(toolMessage!.content).toMatch(/^invalid_json: arguments are not valid JSON \(.+\); send one JSON object\nThe arguments you sent \(17 characters\): \{"orderId": "A-10$/);
    const call = messagesOf(server.requests[1]).find((m) => m.role === 'assistant')!.tool_calls[0];
    expect(call).toMatchObject({ id: 'call_bad', function: { name: 'lookup_order', arguments: '{}' } });
  });

  it('answers a call to an unknown tool with unknown_tool, listing the tools that exist', async () => {
    const server = await startServer();
    const extra = defineTool({ name: 'refund_order', description: 'Refund an order', input: z.object({ orderId: z.string() }), run: () => 'ok' });
    const { agent } = supportAgent({ tools: [lookupOrderTool().tool, extra] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_x', name: 'cancel_order', arguments: { orderId: 'A-1001' } }] }, { text: 'done' });

    const thread = await runtime.launch({ agent: 'support', input: 'Cancel A-1001' });
    await runtime.runThread(thread.id);

    const [failure] = eventsOfType(await runtime.loadEvents(thread.id), 'tool_failed');
    expect(failure!.data.error).toEqual({ code: 'unknown_tool', message: 'there is no tool "cancel_order"; available: lookup_order, refund_order' });
    expect(messagesOf(server.requests[1]).find((m) => m.role === 'tool')!.content).toContain('unknown_tool');
  });

  it('rejects arguments that fail the zod schema with invalid_arguments and never runs the tool', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: { orderId: 'not-an-id' } }] }, { text: 'done' });

    const thread = await runtime.launch({ agent: 'support', input: 'Look up not-an-id' });
    await runtime.runThread(thread.id);

    const [failure] = eventsOfType(await runtime.loadEvents(thread.id), 'tool_failed');
    expect(failure!.data.error.code).toBe('invalid_arguments');
    expect(failure!.data.error.message).toContain('orderId: must look like A-1001');
    expect(lookup.runs).toHaveLength(0);
    expect(messagesOf(server.requests[1]).find((m) => m.role === 'tool')!.content).toContain('invalid_arguments');
  });

  it('records a tool that throws as tool_error, bracketed by tool_started', async () => {
    const server = await startServer();
    const failing = defineTool({
      name: 'lookup_order',
      description: 'Find an order by its id',
      input: z.object({ orderId: z.string() }),
      run: () => {
        throw new Error('orders database is down\nstack trace line');
      },
    });
    const { agent } = supportAgent({ tools: [failing] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'The order system is down.' });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events).slice(2, 5)).toEqual(['tool_requested', 'tool_started', 'tool_failed']);
    expect(eventsOfType(events, 'tool_failed')[0]!.data.error).toEqual({ code: 'tool_error', message: 'lookup_order: orders database is down' });
  });
});

describe('retries and fallbacks', () => {
  it('retries an HTTP 500 and records one model_called with attempt 2 and the failure', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ status: 500 }, { text: 'All good.' });

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.data).toMatchObject({ attempt: 2, fallbackIndex: 0, text: 'All good.' });
    expect(calls[0]!.data.failures).toEqual([{ model: 'openai:gpt-4o-2024-08-06', attempt: 1, status: 500, error: expect.stringContaining('HTTP 500'), latencyMs: expect.any(Number) }]);
    expect(calls[0]!.data.totalLatencyMs).toBeGreaterThanOrEqual(calls[0]!.data.latencyMs + calls[0]!.data.failures![0]!.latencyMs!);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 429 that says retry-after: 0', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server, retryBaseMs: 60_000 });
    server.enqueue({ status: 429, headers: { 'retry-after': '0' } }, { text: 'ok' });

    const started = Date.now();
    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    // retry-after wins over the (huge) backoff.
    expect(Date.now() - started).toBeLessThan(5_000);
    const [call] = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(call!.data.attempt).toBe(2);
    expect(call!.data.failures?.[0]).toMatchObject({ status: 429 });
  });

  it('takes the fallback model when the primary hangs past its timeout', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ fallbackModels: ['openai-compatible:llama3.1-8b'], modelSettings: { timeoutMs: 300, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ hang: true }, { text: 'answer from the fallback' });

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const { outcome, thread: finished } = await runtime.runThread(thread.id);

    expect(outcome).toBe('completed');
    expect(finished.output).toBe('answer from the fallback');
    const [call] = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(call!.data).toMatchObject({ model: 'openai-compatible:llama3.1-8b', fallbackIndex: 1, attempt: 1 });
    expect(call!.data.failures).toEqual([{ model: 'openai:gpt-4o-2024-08-06', attempt: 1, error: 'timed out after 300 ms', latencyMs: expect.any(Number) }]);
    expect(call!.data.failures![0]!.latencyMs).toBeGreaterThanOrEqual(300);
    expect(server.requests.map((r) => r.model)).toEqual(['gpt-4o-2024-08-06', 'llama3.1-8b']);
  });

  it('escalates after 3 consecutive failed model calls, and a resume with a comment carries the thread to completion', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ fallbackModels: ['openai-compatible:llama3.1-8b'], modelSettings: { maxRetries: 1 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    // No steps queued: every request gets the server's default HTTP 500.

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    const first = await runtime.runThread(thread.id);

    expect(first.outcome).toBe('awaiting_human');
    expect(first.thread.status).toBe('awaiting_human');
    expect(first.thread.waitingReason).toMatch(/^escalated: 3 consecutive errors/);
    expect(first.thread.leaseOwner).toBeNull();
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_failed', 'model_failed', 'model_failed', 'escalated']);
    expect(eventsOfType(events, 'escalated')[0]!.data).toMatchObject({ kind: 'errors', consecutiveErrors: 3 });
    const [failed] = eventsOfType(events, 'model_failed');
    expect(failed!.data.error.code).toBe('model_call_failed');
    // Two attempts on the primary, two on the fallback, for each failed step.
    expect(failed!.data.failures.map((f) => [f.model, f.attempt, f.status])).toEqual([
      ['openai:gpt-4o-2024-08-06', 1, 500],
      ['openai:gpt-4o-2024-08-06', 2, 500],
      ['openai-compatible:llama3.1-8b', 1, 500],
      ['openai-compatible:llama3.1-8b', 2, 500],
    ]);
    expect(server.requests).toHaveLength(12);
    expect(await runtime.listWaiting()).toMatchObject([{ id: thread.id, status: 'awaiting_human' }]);
    // Running an escalated thread again does nothing until a human resumes it.
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(12);

    server.enqueue({ text: 'A-1001 was delivered.' });
    const resumed = await runtime.resume(thread.id, { by: 'ana@example.com', comment: 'The provider is back; please answer briefly.' });
    expect(resumed.status).toBe('runnable');
    const second = await runtime.runThread(thread.id);

    expect(second.outcome).toBe('completed');
    expect(second.thread.output).toBe('A-1001 was delivered.');
    const last = messagesOf(server.requests.at(-1));
    expect(last.at(-1)).toEqual({ role: 'user', content: 'A human operator (ana@example.com) says: The provider is back; please answer briefly.' });
    const after = await runtime.loadEvents(thread.id);
    expect(typesOf(after).slice(5)).toEqual(['resumed', 'model_called', 'thread_completed']);
    expect(eventsOfType(after, 'resumed')[0]!.data).toEqual({ by: 'ana@example.com', comment: 'The provider is back; please answer briefly.' });
  });

  it('refuses to resume a thread that already completed, and leaves a runnable one as it is', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    const runnable = await runtime.launch({ agent: 'support', input: 'not run yet' });
    const untouched = await runtime.resume(runnable.id, { by: 'ops', comment: 'go' });
    expect(untouched).toMatchObject({ id: runnable.id, status: 'runnable', seq: 1 });
    expect(typesOf(await runtime.loadEvents(runnable.id))).toEqual(['thread_started']);

    server.enqueue({ text: 'done' });
    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    await runtime.runThread(thread.id);

    const error = await runtime.resume(thread.id, { by: 'ops' }).catch((e: unknown) => e);
    expect(TwelveError.is(error, 'thread_not_runnable')).toBe(true);
    expect((error as Error).message).toContain('completed');
  });
});

describe('structured output', () => {
  const ticket = z.object({ label: z.enum(['billing', 'shipping', 'other']), confidence: z.number().min(0).max(1) });

  it('rejects an answer that fails the output schema, then completes with the corrected, parsed object', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ name: 'classifier', tools: [], output: ticket });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ text: '{"label":"refunds","confidence":2}' }, { text: '```json\n{"label":"billing","confidence":0.9}\n```' });

    const thread = await runtime.launch({ agent: 'classifier', input: 'I was charged twice' });
    const { outcome, thread: finished } = await runtime.runThread(thread.id);

    expect(outcome).toBe('completed');
    expect(finished.output).toEqual({ label: 'billing', confidence: 0.9 });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'model_output_invalid', 'model_called', 'thread_completed']);
    const [invalid] = eventsOfType(events, 'model_output_invalid');
    expect(invalid!.data.error.code).toBe('invalid_output');
    expect(invalid!.data.error.message).toMatch(/label: .*confidence: /);
    expect(eventsOfType(events, 'thread_completed')[0]!.data.output).toEqual({ label: 'billing', confidence: 0.9 });

    expect(server.requests[0]!.body?.response_format).toMatchObject({ type: 'json_schema' });
    const retry = messagesOf(server.requests[1]);
    expect(retry.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(retry[2]!.content).toBe('{"label":"refunds","confidence":2}');
    expect(retry[3]!.content).toMatch(/^Your answer was not accepted \(invalid_output\)/);
  });

  it('treats an answer that is not JSON at all as invalid_json', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ name: 'classifier', tools: [], output: ticket });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ text: 'It is about billing.' }, { text: '{"label":"other","confidence":0.1}' });

    const thread = await runtime.launch({ agent: 'classifier', input: 'hello' });
    expect((await runtime.runThread(thread.id)).thread.output).toEqual({ label: 'other', confidence: 0.1 });
    expect(eventsOfType(await runtime.loadEvents(thread.id), 'model_output_invalid')[0]!.data.error.code).toBe('invalid_json');
  });
});

describe('limits and cost', () => {
  it('stops before a model step over maxSteps and waits for a person, who can raise the limit', async () => {
    const server = await startServer();
    const { agent, lookup } = supportAgent({ limits: { maxSteps: 2 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.setFallback(() => ({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }));

    const thread = await runtime.launch({ agent: 'support', input: 'loop forever' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);

    expect(outcome).toBe('awaiting_human');
    expect(waiting).toMatchObject({ status: 'awaiting_human', waitingReason: 'budget: reached the limit of 2 model steps without a final answer', error: null, modelSteps: 2, leaseOwner: null });
    expect(server.requests).toHaveLength(2);
    expect(lookup.runs).toHaveLength(2);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events).at(-1)).toBe('budget_exceeded');
    expect(events.at(-1)!.data).toEqual({ limit: 'steps', used: 2, estimate: 1, max: 2, message: 'reached the limit of 2 model steps without a final answer' });
    // Waiting means waiting: running it again calls nothing.
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(2);

    const raised = await runtime.raiseBudget(thread.id, { by: 'ana@example.com', maxSteps: 3, comment: 'one more try' });
    expect(raised).toMatchObject({ applied: true, thread: { status: 'runnable', waitingReason: null } });
    const again = await runtime.runThread(thread.id);
    expect(again.outcome).toBe('awaiting_human');
    expect(again.thread.modelSteps).toBe(3);
    expect(server.requests).toHaveLength(3);
    const after = await runtime.loadEvents(thread.id);
    expect(typesOf(after).slice(events.length)).toEqual(['budget_raised', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded', 'budget_exceeded']);
    expect(eventsOfType(after, 'budget_raised')[0]!.data).toEqual({ by: 'ana@example.com', maxSteps: 3, comment: 'one more try', previous: { maxSteps: 2 } });
    expect(eventsOfType(after, 'budget_exceeded')[1]!.data).toMatchObject({ limit: 'steps', used: 3, max: 3 });
    // The raise's comment reaches the model.
    expect(messagesOf(server.requests[2]).at(-1)).toEqual({ role: 'user', content: 'A human operator (ana@example.com) says: one more try' });
  });

  it('ends a thread waiting on its budget when a person cancels it', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ limits: { maxSteps: 1 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.setFallback(() => ({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }));
    const thread = await runtime.launch({ agent: 'support', input: 'loop forever' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');

    const cancelled = await runtime.cancel(thread.id, { by: 'ana@example.com', reason: 'not worth it' });
    expect(cancelled).toMatchObject({ applied: true, thread: { status: 'cancelled', error: { code: 'cancelled', message: 'cancelled by ana@example.com: not worth it' } } });
    expect(await runtime.runThread(thread.id)).toMatchObject({ outcome: 'cancelled' });
    expect(typesOf(await runtime.loadEvents(thread.id)).slice(-2)).toEqual(['budget_exceeded', 'cancelled']);
    expect(server.requests).toHaveLength(1);
    // A finished thread takes no more decisions.
    const late = await runtime.raiseBudget(thread.id, { by: 'ana@example.com', maxSteps: 5 }).catch((e: unknown) => e);
    expect(TwelveError.is(late, 'conflict')).toBe(true);
    expect(TwelveError.is(await runtime.resume(thread.id, { by: 'ops' }).catch((e: unknown) => e), 'thread_not_runnable')).toBe(true);
  });

  it('stops before a model call that could take the thread over maxTokens, counting the request and the output cap', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ limits: { maxTokens: 1500 }, modelSettings: { maxOutputTokens: 100 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage: { prompt_tokens: 1300, completion_tokens: 100 } },
      { text: 'Delivered.', usage: { prompt_tokens: 1400, completion_tokens: 10 } },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);

    // 1,400 tokens used; the next call's worst case (its prompt plus 100 output tokens) does not fit in 1,500.
    expect(outcome).toBe('awaiting_human');
    expect(waiting.waitingReason).toMatch(/^budget: the next call could use up to \d+ tokens; 1400 of 1500 are used$/);
    expect(server.requests).toHaveLength(1);
    const [breach] = eventsOfType(await runtime.loadEvents(thread.id), 'budget_exceeded');
    expect(breach!.data).toMatchObject({ limit: 'tokens', used: 1400, max: 1500 });
    expect(breach!.data.estimate).toBeGreaterThan(100);
    expect(breach!.data.used + breach!.data.estimate).toBeGreaterThan(1500);

    await runtime.raiseBudget(thread.id, { by: 'ana@example.com', maxTokens: 5000 });
    const { outcome: done, thread: finished } = await runtime.runThread(thread.id);
    expect(done).toBe('completed');
    expect(finished).toMatchObject({ output: 'Delivered.', inputTokens: 2700, outputTokens: 110 });
  });

  it('records usage tokens and the cost of a priced model on model_called and the thread', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage: { prompt_tokens: 1000, completion_tokens: 100 } },
      { text: 'done', usage: { prompt_tokens: 2000, completion_tokens: 50 } },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const { thread: finished } = await runtime.runThread(thread.id);

    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    // gpt-4o-2024-08-06: $2.50 per 1M input tokens, $10 per 1M output tokens.
    expect(calls.map((c) => c.data.usage)).toEqual([
      { inputTokens: 1000, outputTokens: 100 },
      { inputTokens: 2000, outputTokens: 50 },
    ]);
    expect(calls[0]!.data.costUsd).toBeCloseTo(0.0035, 10);
    expect(calls[1]!.data.costUsd).toBeCloseTo(0.0055, 10);
    expect(finished).toMatchObject({ inputTokens: 3000, outputTokens: 150, modelSteps: 2 });
    expect(finished.costUsd).toBeCloseTo(0.009, 10);
  });

  it('uses TWELVE_MODEL_PRICES over the built-in price, and records null cost for an unpriced model', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ fallbackModels: ['openai-compatible:llama3.1-8b'], modelSettings: { maxRetries: 0 } });
    const { runtime } = makeRuntime({
      agents: [agent],
      server,
      env: { TWELVE_MODEL_PRICES: JSON.stringify({ 'openai:gpt-4o-2024-08-06': { input: 1, output: 2 } }) },
    });
    server.enqueue(
      { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage: { prompt_tokens: 1000, completion_tokens: 100 } },
      { status: 400 },
      { text: 'from the unpriced fallback', usage: { prompt_tokens: 10, completion_tokens: 10 } },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const { thread: finished } = await runtime.runThread(thread.id);

    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(calls[0]!.data.costUsd).toBeCloseTo(0.0012, 10);
    expect(calls[1]!.data).toMatchObject({ model: 'openai-compatible:llama3.1-8b', costUsd: null });
    // The thread's spend is unknown, not $0.0012: one call had no price.
    expect(finished).toMatchObject({ costUsd: null, unpricedCalls: 1 });
    expect(finished.pricedCostUsd).toBeCloseTo(0.0012, 10);
  });

  it('stops before a model call that could take the spend over maxCostUsd, and waits for a person', async () => {
    const server = await startServer();
    // gpt-4o-2024-08-06: $2.50 / 1M input, $10 / 1M output. The first call's worst case (a short
    // prompt, 100 output tokens) is about $0.0013: it fits. Its answer costs $0.0035.
    const { agent } = supportAgent({ limits: { maxCostUsd: 0.003 }, modelSettings: { maxOutputTokens: 100 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage: { prompt_tokens: 1000, completion_tokens: 100 } },
      { text: 'Delivered.', usage: { prompt_tokens: 1200, completion_tokens: 10 } },
    );

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const { outcome, thread: waiting } = await runtime.runThread(thread.id);

    expect(outcome).toBe('awaiting_human');
    expect(waiting).toMatchObject({ status: 'awaiting_human', error: null });
    expect(waiting.waitingReason).toMatch(/^budget: the next call could cost up to \$0\.00\d+; \$0\.0035 of \$0\.003 is spent$/);
    expect(waiting.costUsd).toBeCloseTo(0.0035, 10);
    expect(server.requests).toHaveLength(1);
    const [breach] = eventsOfType(await runtime.loadEvents(thread.id), 'budget_exceeded');
    expect(breach!.data).toMatchObject({ limit: 'cost', max: 0.003 });
    expect(breach!.data.used).toBeCloseTo(0.0035, 10);
    expect(breach!.data.estimate).toBeGreaterThan(0);

    await runtime.raiseBudget(thread.id, { by: 'ana@example.com', maxCostUsd: 0.05 });
    const { outcome: done, thread: finished } = await runtime.runThread(thread.id);
    expect(done).toBe('completed');
    expect(finished.costUsd).toBeCloseTo(0.0035 + 0.0031, 10);
    expect(server.requests).toHaveLength(2);
  });

  it('refuses even the first model call when its worst case alone is over maxCostUsd', async () => {
    const server = await startServer();
    // No maxOutputTokens: the worst case counts 4,096 output tokens, about $0.04 on gpt-4o.
    const { agent } = supportAgent({ limits: { maxCostUsd: 0.01 } });
    const { runtime } = makeRuntime({ agents: [agent], server });

    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const { outcome } = await runtime.runThread(thread.id);

    expect(outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(0);
    const [breach] = eventsOfType(await runtime.loadEvents(thread.id), 'budget_exceeded');
    expect(breach!.data).toMatchObject({ limit: 'cost', used: 0, max: 0.01 });
    expect(breach!.data.estimate).toBeGreaterThan(0.04);
  });
});
