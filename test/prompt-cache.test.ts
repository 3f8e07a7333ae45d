/**
 * Prompt caching over real HTTP: @ai-sdk/anthropic against the scripted Anthropic server (which
 * simulates Anthropic's cache from the breakpoints it receives) and @ai-sdk/openai against the
 * scripted OpenAI server, with a real SQLite store: what each provider is sent, what it reports,
 * what model_called and the thread row record, and what it costs at the built-in rates.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { stepRequests } from '../src/replay/step-requests.js';
import type { ThreadEvent } from '../src/thread/events.js';
import { supportAgent } from './support/agents.js';
import { eventsOfType, makeRuntime, startServer, type MakeRuntimeOptions } from './support/runtime.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';
import { breakpointsOf, startScriptedAnthropicServer, type AnthropicUsage } from './support/scripted-anthropic-server.js';

const sonnet = 'anthropic:claude-sonnet-4-5-20250929';
const gpt4o = 'openai:gpt-4o-2024-08-06';
const anthropicKey = 'sk-ant-test-93b1c0d7e2f4';

async function startAnthropic() {
  const server = await startScriptedAnthropicServer({ apiKey: anthropicKey });
  onTestFinished(() => server.close());
  return server;
}

/** A runtime with both providers on scripted servers. */
async function cachingRuntime(options: MakeRuntimeOptions & { extraEnv?: NodeJS.ProcessEnv }) {
  const anthropic = await startAnthropic();
  const openai = await startServer();
  const { extraEnv, ...rest } = options;
  // The scripted OpenAI server is not api.openai.com: the key is sent to it only when asked for.
  const made = makeRuntime({ server: openai, ...rest, env: { ANTHROPIC_BASE_URL: anthropic.baseURL, ANTHROPIC_API_KEY: anthropicKey, TWELVE_OPENAI_PROMPT_CACHE_KEY: 'on', ...extraEnv } });
  return { ...made, anthropic, openai };
}

/** A fresh PostgreSQL database for the runtime, dropped after the test. */
async function postgresDatabase(): Promise<NodeJS.ProcessEnv> {
  const database = await freshPostgresDatabase();
  onTestFinished(() => database.cleanup());
  return { TWELVE_DATABASE_URL: database.url };
}

/** The usage model_called should record for what the Anthropic server reported. */
function recordedUsage(usage: AnthropicUsage) {
  const read = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens + read + written,
    outputTokens: usage.output_tokens,
    ...(read > 0 ? { cachedInputTokens: read } : {}),
    ...(written > 0 ? { cacheWriteTokens: written } : {}),
  };
}

/** Claude Sonnet 4.5 at its built-in rates, USD per million: input 3, cached 0.30, cache write 3.75, output 15. */
function sonnetCost(usage: AnthropicUsage): number {
  const read = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return (usage.input_tokens * 3 + read * 0.3 + written * 3.75 + usage.output_tokens * 15) / 1_000_000;
}

const twoLookups = () => [
  { text: 'Let me look.', toolCalls: [{ id: 'toolu_a', name: 'lookup_order', input: { orderId: 'A-1001' } }] },
  { toolCalls: [{ id: 'toolu_b', name: 'lookup_order', input: { orderId: 'B-2002' } }] },
  { text: 'A-1001 was delivered; B-2002 has shipped.' },
];

describe('Anthropic prompt caching', () => {
  it.each(['SQLite', 'PostgreSQL'])('marks the system prompt, the end of the previous request and the last message, and records and prices the cache reads and writes (%s)', async (storeKind) => {
    const database = storeKind === 'PostgreSQL' ? await postgresDatabase() : {};
    const { runtime, anthropic } = await cachingRuntime({ agents: [supportAgent({ model: sonnet }).agent], extraEnv: database });
    anthropic.enqueue(...twoLookups());

    const thread = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(anthropic.requests.map((request) => breakpointsOf(request.body))).toEqual([
      ['system[0]', 'messages[0].content[0]'],
      // messages[0] ended the first request; messages[2] (the tool result) ends this one.
      ['system[0]', 'messages[0].content[0]', 'messages[2].content[0]'],
      ['system[0]', 'messages[2].content[0]', 'messages[4].content[0]'],
    ]);
    // The tools come before the system prompt: its breakpoint caches them too.
    expect(anthropic.requests[0]!.body!.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup_order']);
    const usages = anthropic.requests.map((request) => request.usage!);
    // Each step reads exactly what the step before wrote up to its last breakpoint, and writes what is new.
    expect(usages[0]!.cache_read_input_tokens).toBe(0);
    expect(usages[0]!.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(usages[1]!.cache_read_input_tokens).toBe(usages[0]!.cache_creation_input_tokens);
    expect(usages[2]!.cache_read_input_tokens).toBe(usages[1]!.cache_read_input_tokens! + usages[1]!.cache_creation_input_tokens!);
    expect(usages[2]!.cache_creation_input_tokens).toBeGreaterThan(0);

    const events = await runtime.loadEvents(thread.id);
    const calls = eventsOfType(events, 'model_called');
    expect(calls.map((call) => call.data.usage)).toEqual(usages.map(recordedUsage));
    calls.forEach((call, index) => expect(call.data.costUsd).toBeCloseTo(sonnetCost(usages[index]!), 12));
    // Recorded spend is below what the same tokens cost uncached (reads at a tenth outweigh writes at 1.25x).
    const uncached = usages.reduce((sum, u) => sum + (recordedUsage(u).inputTokens * 3 + u.output_tokens * 15) / 1_000_000, 0);

    const row = (await runtime.store.getThread(thread.id))!;
    expect(row.cachedInputTokens).toBe(usages.reduce((sum, u) => sum + u.cache_read_input_tokens!, 0));
    expect(row.cacheWriteTokens).toBe(usages.reduce((sum, u) => sum + u.cache_creation_input_tokens!, 0));
    expect(row.inputTokens).toBe(usages.reduce((sum, u) => sum + recordedUsage(u).inputTokens, 0));
    expect(row.costUsd).toBeCloseTo(usages.reduce((sum, u) => sum + sonnetCost(u), 0), 12);
    expect(row.costUsd!).toBeLessThan(uncached);

    // The thread keeps the provider-neutral request: the markers were added only to what was sent.
    const stored = await stepRequests(runtime.store, events);
    expect(stored.map((step) => step.source)).toEqual(['stored', 'stored', 'stored']);
    expect(JSON.stringify(stored.map((step) => step.request))).not.toMatch(/cacheControl|cache_control|providerOptions/);
  });

  it('lets a second thread of the agent read the tools and system prompt the first one wrote', async () => {
    const { runtime, anthropic } = await cachingRuntime({ agents: [supportAgent({ model: sonnet }).agent] });
    anthropic.enqueue({ text: 'A-1001 was delivered.' }, { text: 'B-2002 has shipped.' });

    for (const input of ['Where is A-1001?', 'Where is B-2002?']) {
      const thread = await runtime.launch({ agent: 'support', input });
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    }

    const [first, second] = anthropic.requests.map((request) => request.usage!);
    expect(first!.cache_read_input_tokens).toBe(0);
    // The system prompt (rendered without the input) and the tools are the same: the second thread reads them.
    expect(second!.cache_read_input_tokens).toBeGreaterThan(0);
    expect(second!.cache_read_input_tokens).toBeLessThan(first!.cache_creation_input_tokens!);
    expect(second!.cache_creation_input_tokens).toBeGreaterThan(0); // Its own question is new.
  });

  it('records the usage a provider reports as it is, with no simulation involved', async () => {
    const { runtime, anthropic } = await cachingRuntime({ agents: [supportAgent({ model: sonnet }).agent] });
    const usage = { input_tokens: 120, output_tokens: 30, cache_creation_input_tokens: 400, cache_read_input_tokens: 5_000 };
    anthropic.enqueue({ text: 'A-1001 was delivered.', usage });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const call = eventsOfType(await runtime.loadEvents(thread.id), 'model_called')[0]!;
    expect(call.data.usage).toEqual({ inputTokens: 5_520, outputTokens: 30, cachedInputTokens: 5_000, cacheWriteTokens: 400 });
    // 120 x 3 + 5,000 x 0.30 + 400 x 3.75 + 30 x 15 = 360 + 1,500 + 1,500 + 450 micro-dollars.
    expect(call.data.costUsd).toBeCloseTo(0.00381, 12);
  });

  it('keeps the cached counts of a streamed agent', async () => {
    const { runtime, anthropic } = await cachingRuntime({ agents: [supportAgent({ model: sonnet, stream: true }).agent] });
    anthropic.enqueue(...twoLookups());

    const thread = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(anthropic.requests.every((request) => request.body!.stream === true)).toBe(true);
    const usages = anthropic.requests.map((request) => request.usage!);
    expect(usages[2]!.cache_read_input_tokens).toBeGreaterThan(0);
    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(calls.map((call) => call.data.usage)).toEqual(usages.map(recordedUsage));
    expect((await runtime.store.getThread(thread.id))!.costUsd).toBeCloseTo(usages.reduce((sum, u) => sum + sonnetCost(u), 0), 12);
  });

  it.each([
    ['the agent says cache: off', { cache: 'off' as const }, {}],
    ['TWELVE_AGENT_SUPPORT_CACHE=off', {}, { TWELVE_AGENT_SUPPORT_CACHE: 'off' }],
  ])('sends no cache_control when %s', async (_, agentOptions, extraEnv) => {
    const { runtime, anthropic } = await cachingRuntime({ agents: [supportAgent({ model: sonnet, ...agentOptions }).agent], extraEnv });
    anthropic.enqueue(...twoLookups());

    const thread = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(anthropic.requests).toHaveLength(3);
    for (const request of anthropic.requests) {
      expect(breakpointsOf(request.body)).toEqual([]);
      expect(JSON.stringify(request.body)).not.toContain('cache_control');
      expect(request.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    }
    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(calls.every((call) => call.data.usage.cachedInputTokens === undefined && call.data.usage.cacheWriteTokens === undefined)).toBe(true);
  });
});

describe('OpenAI prompt caching', () => {
  it('sends one prompt_cache_key for every step of a thread, another for another thread, and prices cached_tokens at the cached rate', async () => {
    const { runtime, openai } = await cachingRuntime({ agents: [supportAgent({ model: gpt4o }).agent] });
    const usage = { prompt_tokens: 2_000, completion_tokens: 50, prompt_tokens_details: { cached_tokens: 1_536 } };
    openai.enqueue(
      { toolCalls: [{ id: 'call_a', name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage },
      { text: 'A-1001 was delivered.', usage },
      { text: 'B-2002 has shipped.', usage: { prompt_tokens: 900, completion_tokens: 20 } },
    );

    const first = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(first.id)).outcome).toBe('completed');
    const second = await runtime.launch({ agent: 'support', input: 'Where is B-2002?' });
    expect((await runtime.runThread(second.id)).outcome).toBe('completed');

    expect(openai.requests.map((request) => request.body!.prompt_cache_key)).toEqual([`twelve-${first.id}`, `twelve-${first.id}`, `twelve-${second.id}`]);
    expect(JSON.stringify(openai.requests.map((request) => request.body))).not.toContain('cache_control');
    const stored = await stepRequests(runtime.store, await runtime.loadEvents(first.id));
    expect(JSON.stringify(stored.map((step) => step.request))).not.toMatch(/promptCacheKey|providerOptions/);

    const calls = eventsOfType(await runtime.loadEvents(first.id), 'model_called');
    expect(calls.map((call) => call.data.usage)).toEqual([
      { inputTokens: 2_000, outputTokens: 50, cachedInputTokens: 1_536 },
      { inputTokens: 2_000, outputTokens: 50, cachedInputTokens: 1_536 },
    ]);
    // 464 x 2.5 + 1,536 x 1.25 + 50 x 10 = 1,160 + 1,920 + 500 micro-dollars.
    for (const call of calls) expect(call.data.costUsd).toBeCloseTo(0.00358, 12);
    const row = (await runtime.store.getThread(first.id))!;
    expect(row).toMatchObject({ inputTokens: 4_000, cachedInputTokens: 3_072, cacheWriteTokens: 0 });
    expect(row.costUsd).toBeCloseTo(0.00716, 12);
    expect((await runtime.store.getThread(second.id))!).toMatchObject({ inputTokens: 900, cachedInputTokens: 0 });
  });

  it('keeps the cached count of a streamed call', async () => {
    const { runtime, openai } = await cachingRuntime({ agents: [supportAgent({ model: gpt4o, stream: true }).agent] });
    openai.enqueue({ chunks: ['A-1001 ', 'was delivered.'], usage: { prompt_tokens: 1_800, completion_tokens: 6, prompt_tokens_details: { cached_tokens: 1_024 } } });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(openai.requests[0]!.body).toMatchObject({ stream: true, prompt_cache_key: `twelve-${thread.id}` });
    const call = eventsOfType(await runtime.loadEvents(thread.id), 'model_called')[0]!;
    expect(call.data.usage).toEqual({ inputTokens: 1_800, outputTokens: 6, cachedInputTokens: 1_024 });
    expect(call.data.costUsd).toBeCloseTo((776 * 2.5 + 1_024 * 1.25 + 6 * 10) / 1_000_000, 12);
  });

  it('sends an OpenAI-compatible server no prompt_cache_key, and records the cached_tokens it reports', async () => {
    const { runtime, openai } = await cachingRuntime({ agents: [supportAgent({ model: 'openai-compatible:llama3.1-8b' }).agent] });
    openai.enqueue({ text: 'A-1001 was delivered.', usage: { prompt_tokens: 1_000, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 768 } } });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(Object.keys(openai.requests[0]!.body!)).not.toContain('prompt_cache_key');
    expect(openai.requests[0]!.rawBody).not.toContain('cache');
    const call = eventsOfType(await runtime.loadEvents(thread.id), 'model_called')[0]!;
    expect(call.data.usage).toEqual({ inputTokens: 1_000, outputTokens: 8, cachedInputTokens: 768 });
  });
});

describe('a fallback chain', () => {
  it('gives each provider its own cache options: a prompt_cache_key to OpenAI, breakpoints to Anthropic, neither the other', async () => {
    const { agent } = supportAgent({ model: gpt4o, fallbackModels: [sonnet], modelSettings: { maxRetries: 0 } });
    const { runtime, openai, anthropic } = await cachingRuntime({ agents: [agent] });
    openai.enqueue({ status: 500 });
    anthropic.enqueue({ text: 'A-1001 was delivered.' });

    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(openai.requests).toHaveLength(1);
    expect(openai.requests[0]!.body!.prompt_cache_key).toBe(`twelve-${thread.id}`);
    expect(openai.requests[0]!.rawBody).not.toContain('cache_control');
    expect(anthropic.requests).toHaveLength(1);
    expect(breakpointsOf(anthropic.requests[0]!.body)).toEqual(['system[0]', 'messages[0].content[0]']);
    expect(JSON.stringify(anthropic.requests[0]!.body)).not.toMatch(/prompt_cache_key|promptCacheKey/);

    const call = eventsOfType(await runtime.loadEvents(thread.id), 'model_called')[0]!;
    expect(call.data).toMatchObject({ model: sonnet, fallbackIndex: 1, usage: recordedUsage(anthropic.requests[0]!.usage!) });
  });
});

describe('recordings', () => {
  it('keys a step the same with cache auto and off: recorded with caching, replayed without it', async () => {
    const recordings = join(tempDir(), 'recordings');
    const { runtime, anthropic } = await cachingRuntime({
      agents: [supportAgent({ model: sonnet }).agent],
      extraEnv: { TWELVE_MODEL_MODE: 'record', TWELVE_RECORDINGS_DIR: recordings },
    });
    anthropic.enqueue(...twoLookups());
    const recorded = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await runtime.runThread(recorded.id)).outcome).toBe('completed');
    expect(breakpointsOf(anthropic.requests[0]!.body)).not.toEqual([]);

    const replaying = makeRuntime({
      agents: [supportAgent({ model: sonnet, cache: 'off' }).agent],
      env: { TWELVE_MODEL_MODE: 'replay', TWELVE_RECORDINGS_DIR: recordings, ANTHROPIC_API_KEY: anthropicKey, ANTHROPIC_BASE_URL: anthropic.baseURL },
    }).runtime;
    const replayed = await replaying.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await replaying.runThread(replayed.id)).outcome).toBe('completed');

    expect(anthropic.requests).toHaveLength(3); // Every step answered from the recordings.
    const answers = (events: ThreadEvent[]) => eventsOfType(events, 'thread_completed').map((e) => e.data.output);
    expect(answers(await replaying.loadEvents(replayed.id))).toEqual(answers(await runtime.loadEvents(recorded.id)));
  });
});

describe('TWELVE_OPENAI_PROMPT_CACHE_KEY', () => {
  it("sends OpenAI's prompt_cache_key only to api.openai.com by default (a gateway may refuse the field); on and off decide for any endpoint", () => {
    const sends = (env: NodeJS.ProcessEnv) => loadConfig(env).providers.openai.promptCacheKey;
    expect(sends({})).toBe(true);
    expect(sends({ OPENAI_BASE_URL: 'https://api.openai.com/v1' })).toBe(true);
    expect(sends({ OPENAI_BASE_URL: 'https://my-gateway.example.com/openai/v1' })).toBe(false);
    expect(sends({ OPENAI_BASE_URL: 'https://my-gateway.example.com/openai/v1', TWELVE_OPENAI_PROMPT_CACHE_KEY: 'on' })).toBe(true);
    expect(sends({ TWELVE_OPENAI_PROMPT_CACHE_KEY: 'off' })).toBe(false);
    expect(() => loadConfig({ TWELVE_OPENAI_PROMPT_CACHE_KEY: 'yes' })).toThrow(/TWELVE_OPENAI_PROMPT_CACHE_KEY: must be auto, on or off/);
  });

  it('sends no prompt_cache_key over HTTP to an OPENAI_BASE_URL that is not OpenAI\'s, by default', async () => {
    const { runtime, openai } = await cachingRuntime({ agents: [supportAgent({ model: 'openai:gpt-4o-2024-08-06' }).agent], extraEnv: { TWELVE_OPENAI_PROMPT_CACHE_KEY: 'auto' } });
    openai.enqueue({ text: 'Fine.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Hello' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(Object.keys(openai.requests[0]!.body!)).not.toContain('prompt_cache_key');
  });
});
