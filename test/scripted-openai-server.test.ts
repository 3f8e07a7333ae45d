import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3FunctionTool,
  type LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import { startScriptedOpenAIServer, type ScriptedServer } from './support/scripted-openai-server.js';

const API_KEY = 'sk-test-123';

const prompt: LanguageModelV3CallOptions['prompt'] = [
  { role: 'system', content: 'You are a refunds agent.' },
  { role: 'user', content: [{ type: 'text', text: 'hi' }] },
];

const lookupOrder: LanguageModelV3FunctionTool = {
  type: 'function',
  name: 'lookup_order',
  description: 'Look up an order by id',
  inputSchema: {
    type: 'object',
    properties: { orderId: { type: 'string' } },
    required: ['orderId'],
    additionalProperties: false,
  },
};

let server: ScriptedServer;
beforeEach(async () => {
  server = await startScriptedOpenAIServer({ apiKey: API_KEY });
});
afterEach(async () => {
  await server.close();
});

const providers: Array<[string, (baseURL: string) => LanguageModelV3]> = [
  ['@ai-sdk/openai', (baseURL) => createOpenAI({ baseURL, apiKey: API_KEY }).chat('gpt-4o-2024-08-06')],
  [
    '@ai-sdk/openai-compatible',
    (baseURL) => createOpenAICompatible({ name: 'local', baseURL, apiKey: API_KEY, includeUsage: true })('llama3.1-8b'),
  ],
];

/** Captures a rejection so several properties can be asserted on it. */
async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe.each(providers)('scripted OpenAI server via %s', (_name, makeModel) => {
  it('returns a text reply with the scripted usage', async () => {
    const model = makeModel(server.baseURL);
    server.enqueue({ text: 'Hello there', usage: { prompt_tokens: 12, completion_tokens: 3 } });

    const result = await model.doGenerate({ prompt });

    expect(result.content).toEqual([{ type: 'text', text: 'Hello there' }]);
    expect(result.finishReason.unified).toBe('stop');
    expect(result.usage.inputTokens.total).toBe(12);
    expect(result.usage.outputTokens.total).toBe(3);
    expect(result.response?.modelId).toBe(model.modelId);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.model).toBe(model.modelId);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('estimates usage when none is scripted', async () => {
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: {} }], text: 'abcdefgh' });

    const result = await makeModel(server.baseURL).doGenerate({ prompt, tools: [lookupOrder] });

    expect(result.usage.inputTokens.total).toBe(Math.ceil(server.requests[0]!.rawBody.length / 4));
    expect(result.usage.outputTokens.total).toBe(2 + 10);
  });

  it('returns tool calls as tool-call content parts and records tools and messages', async () => {
    server.enqueue({
      toolCalls: [
        { name: 'lookup_order', arguments: { orderId: 'A-1' } },
        { id: 'call_custom', name: 'lookup_order', arguments: '{"orderId":"B-2"}' },
      ],
    });

    const result = await makeModel(server.baseURL).doGenerate({ prompt, tools: [lookupOrder] });

    expect(result.finishReason.unified).toBe('tool-calls');
    const calls = result.content.filter((part) => part.type === 'tool-call');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ toolName: 'lookup_order', input: '{"orderId":"A-1"}' });
    expect(calls[0]?.toolCallId).toMatch(/^call_\d+$/);
    expect(calls[1]).toMatchObject({ toolCallId: 'call_custom', toolName: 'lookup_order', input: '{"orderId":"B-2"}' });

    const body = server.requests[0]?.body;
    expect(body?.tools).toEqual([
      {
        type: 'function',
        function: expect.objectContaining({ name: 'lookup_order', parameters: lookupOrder.inputSchema }),
      },
    ]);
    expect(body?.messages).toEqual([
      { role: 'system', content: 'You are a refunds agent.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('delivers malformed tool-call arguments verbatim', async () => {
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: '{"orderId": ' }] });

    const result = await makeModel(server.baseURL).doGenerate({ prompt, tools: [lookupOrder] });

    expect(result.content).toContainEqual(expect.objectContaining({ type: 'tool-call', input: '{"orderId": ' }));
  });

  it.each([
    [500, {}],
    [429, { 'retry-after': '0' }],
  ])('surfaces HTTP %i as a retryable APICallError', async (status, headers) => {
    server.enqueue({ status, headers });

    const err = await rejectionOf(makeModel(server.baseURL).doGenerate({ prompt }));

    expect(APICallError.isInstance(err)).toBe(true);
    const apiError = err as APICallError;
    expect(apiError.statusCode).toBe(status);
    expect(apiError.isRetryable).toBe(true);
    expect(apiError.message).toContain(`HTTP ${status}`);
    if (status === 429) expect(apiError.responseHeaders?.['retry-after']).toBe('0');
  });

  it('lets a client timeout abort a hanging request and keeps serving', async () => {
    const model = makeModel(server.baseURL);
    server.enqueue({ hang: true }, { text: 'still alive' });

    const err = await rejectionOf(model.doGenerate({ prompt, abortSignal: AbortSignal.timeout(200) }));
    expect((err as Error).name).toMatch(/Abort|Timeout/);

    const result = await model.doGenerate({ prompt });
    expect(result.content).toEqual([{ type: 'text', text: 'still alive' }]);
    expect(server.requests).toHaveLength(2);
  });

  it('streams text, tool calls and usage', async () => {
    server.enqueue({
      text: 'Let me check.',
      toolCalls: [{ id: 'call_s', name: 'lookup_order', arguments: { orderId: 'C-3' } }],
      usage: { prompt_tokens: 7, completion_tokens: 5 },
    });

    const { stream } = await makeModel(server.baseURL).doStream({ prompt, tools: [lookupOrder] });
    const parts: LanguageModelV3StreamPart[] = [];
    for await (const part of stream) parts.push(part);

    const text = parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
    expect(text).toBe('Let me check.');
    expect(parts).toContainEqual(
      expect.objectContaining({ type: 'tool-call', toolCallId: 'call_s', toolName: 'lookup_order', input: '{"orderId":"C-3"}' }),
    );
    const finish = parts.find((p) => p.type === 'finish');
    expect(finish).toMatchObject({ finishReason: { unified: 'tool-calls' }, usage: { inputTokens: { total: 7 } } });
    expect(server.requests[0]?.body?.stream).toBe(true);
  });
});

describe('scripted OpenAI server protocol details', () => {
  const post = (path: string, body: unknown, apiKey = API_KEY) =>
    fetch(`${server.baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
    });

  it('rejects a wrong API key with 401 in the OpenAI error shape', async () => {
    server.enqueue({ text: 'never sent' });
    const res = await post('/chat/completions', { model: 'm', messages: [] }, 'wrong');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(server.pendingSteps()).toBe(1);
  });

  it('answers 500 "script exhausted" by default and uses a fallback when set', async () => {
    const exhausted = await post('/chat/completions', { model: 'm', messages: [] });
    expect(exhausted.status).toBe(500);
    expect(((await exhausted.json()) as { error: { message: string } }).error.message).toContain('script exhausted');

    server.setFallback((req) => ({ text: `echo ${req.model}` }));
    const res = await post('/chat/completions', { model: 'echo-model', messages: [] });
    expect(await res.json()).toMatchObject({
      object: 'chat.completion',
      model: 'echo-model',
      choices: [{ message: { role: 'assistant', content: 'echo echo-model' }, finish_reason: 'stop' }],
    });
  });

  it('lists seen models and 404s unknown routes', async () => {
    server.enqueue({ text: 'ok' });
    await post('/chat/completions', { model: 'seen-model', messages: [] });

    const models = await fetch(`${server.baseURL}/models`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(await models.json()).toMatchObject({ object: 'list', data: [{ id: 'seen-model', object: 'model' }] });

    const missing = await post('/embeddings', { model: 'x', input: 'y' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('survives a client aborting mid-delay', async () => {
    server.enqueue({ text: 'too late', delayMs: 150 }, { text: 'next' });
    const aborted = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ model: 'm', messages: [] }),
      signal: AbortSignal.timeout(30),
    }).catch((err: unknown) => err);
    expect(aborted).toBeInstanceOf(Error);

    // Let the delay elapse: the server must not write to (or crash on) the dead socket.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const res = await post('/chat/completions', { model: 'm', messages: [] });
    expect(await res.json()).toMatchObject({ choices: [{ message: { content: 'next' } }] });
  });

  it('closes promptly even with a delayed request in flight', async () => {
    server.enqueue({ text: 'late', delayMs: 60_000 });
    const inFlight = post('/chat/completions', { model: 'm', messages: [] }).catch((err: unknown) => err);
    await expect.poll(() => server.requests.length).toBe(1);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await inFlight).toBeInstanceOf(Error);
  });
});
