/**
 * What prompt caching does to money: the cached and cache-write rates (costAt), their
 * TWELVE_MODEL_PRICES form, and budgets, whose pre-call worst case assumes no discount while
 * recorded spend is what the provider billed (tested over real HTTP, scripted Anthropic server).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { buildRequest, usageOf } from '../src/model/call-model.js';
import { countInputTokens } from '../src/model/estimate.js';
import { costAt, defaultPrices, PriceTable, priceExample } from '../src/model/prices.js';
import { defaultRenderContext } from '../src/thread/render-context.js';
import { TwelveError } from '../src/index.js';
import { supportAgent } from './support/agents.js';
import { eventsOfType, makeRuntime } from './support/runtime.js';
import { startScriptedAnthropicServer, type AnthropicUsage } from './support/scripted-anthropic-server.js';

const sonnet = 'anthropic:claude-sonnet-4-5-20250929';

describe('costAt', () => {
  const price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };

  it('prices plain, cached and written input tokens at their own rates', () => {
    // 1,000 x 3 + 6,000 x 0.30 + 3,000 x 3.75 + 500 x 15 = 3,000 + 1,800 + 11,250 + 7,500 micro-dollars.
    expect(costAt(price, { inputTokens: 10_000, cachedInputTokens: 6_000, cacheWriteTokens: 3_000, outputTokens: 500 })).toBeCloseTo(0.02355, 12);
    expect(costAt(price, { inputTokens: 10_000, outputTokens: 500 })).toBeCloseTo(0.0375, 12);
  });

  it('caps the cache counts at the input total: reads first, then writes', () => {
    expect(costAt(price, { inputTokens: 10_000, cachedInputTokens: 12_000, outputTokens: 500 })).toBeCloseTo((10_000 * 0.3 + 500 * 15) / 1e6, 12);
    expect(costAt(price, { inputTokens: 10_000, cachedInputTokens: 6_000, cacheWriteTokens: 8_000, outputTokens: 500 })).toBeCloseTo((6_000 * 0.3 + 4_000 * 3.75 + 500 * 15) / 1e6, 12);
  });

  it('falls back to the input rate for a model with no cachedInput or cacheWrite rate', () => {
    expect(costAt({ input: 2, output: 8 }, { inputTokens: 1_000, cachedInputTokens: 400, cacheWriteTokens: 100, outputTokens: 10 })).toBeCloseTo((1_000 * 2 + 10 * 8) / 1e6, 12);
    expect(costAt({ input: 2, output: 8, cachedInput: 0.5 }, { inputTokens: 1_000, cachedInputTokens: 400, cacheWriteTokens: 100, outputTokens: 10 })).toBeCloseTo(
      (500 * 2 + 400 * 0.5 + 100 * 2 + 10 * 8) / 1e6,
      12,
    );
  });

  it('has built-in cached rates for the pinned OpenAI and Anthropic models', () => {
    expect(defaultPrices[sonnet]).toEqual({ input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 });
    expect(defaultPrices['openai:gpt-4o-2024-08-06']).toEqual({ input: 2.5, output: 10, cachedInput: 1.25 });
  });
});

describe('usageOf: a provider\'s usage as model_called records it', () => {
  const usage = (input: Record<string, number | undefined>, output?: number) => ({
    inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined, ...input },
    outputTokens: { total: output, text: undefined, reasoning: undefined },
  });

  it('keeps the cache counts only when there are some, the total counting them', () => {
    expect(usageOf(usage({ total: 1_200, noCache: 26, cacheRead: 1_024, cacheWrite: 150 }, 30))).toEqual({ inputTokens: 1_200, outputTokens: 30, cachedInputTokens: 1_024, cacheWriteTokens: 150 });
    expect(usageOf(usage({ total: 300, cacheRead: 0 }, 5))).toEqual({ inputTokens: 300, outputTokens: 5 });
    // Only the parts reported: summed.
    expect(usageOf(usage({ noCache: 100, cacheRead: 900 }, 5))).toEqual({ inputTokens: 1_000, outputTokens: 5, cachedInputTokens: 900 });
  });

  it('turns an inconsistent server\'s counts into whole, nonnegative ones, never fewer input tokens than cached', () => {
    expect(usageOf(usage({ total: 500, cacheRead: 800 }, 5))).toEqual({ inputTokens: 800, outputTokens: 5, cachedInputTokens: 800 });
    expect(usageOf(usage({ total: -3, cacheRead: Number.NaN, cacheWrite: 10.6 }, -1))).toEqual({ inputTokens: 11, outputTokens: 0, cacheWriteTokens: 11 });
  });
});

describe('TWELVE_MODEL_PRICES', () => {
  it('takes cachedInput and cacheWrite rates, which the price table then uses', () => {
    const prices = JSON.stringify({ 'openai-compatible:llama3.1-8b': { input: 0.2, output: 0.4, cachedInput: 0.05, cacheWrite: 0.25 } });
    const config = loadConfig({ TWELVE_MODEL_PRICES: prices });
    expect(config.prices['openai-compatible:llama3.1-8b']).toEqual({ input: 0.2, output: 0.4, cachedInput: 0.05, cacheWrite: 0.25 });
    const table = new PriceTable(config.prices);
    // 100 x 0.2 + 800 x 0.05 + 100 x 0.25 + 10 x 0.4 = 20 + 40 + 25 + 4 micro-dollars.
    expect(table.cost('openai-compatible:llama3.1-8b', { inputTokens: 1_000, cachedInputTokens: 800, cacheWriteTokens: 100, outputTokens: 10 })).toBeCloseTo(0.000089, 12);
  });

  it.each([
    ['an unknown key', { input: 1, output: 2, cachedRead: 0.1 }, '"openai:gpt-4o-2024-08-06": unknown field cachedRead (input, output, cachedInput, cacheWrite)'],
    ['a negative cached rate', { input: 1, output: 2, cachedInput: -0.1 }, '"openai:gpt-4o-2024-08-06".cachedInput: Too small'],
    ['a negative cache-write rate', { input: 1, output: 2, cacheWrite: -1 }, '"openai:gpt-4o-2024-08-06".cacheWrite: Too small'],
    ['a rate given as a string', { input: 1, output: 2, cachedInput: '0.5' }, '"openai:gpt-4o-2024-08-06".cachedInput: Invalid input: expected number, received string'],
    ['a missing output rate', { input: 1, cachedInput: 0.5 }, '"openai:gpt-4o-2024-08-06".output: Invalid input: expected number'],
    ['a cached rate above the input rate', { input: 3, output: 15, cachedInput: 30 }, '"openai:gpt-4o-2024-08-06".cachedInput: 30 is above its input rate 3'],
    ['a cache-write rate below the input rate', { input: 2.5, output: 10, cacheWrite: 0 }, '"openai:gpt-4o-2024-08-06".cacheWrite: 0 is below its input rate 2.5'],
  ])('refuses %s, naming TWELVE_MODEL_PRICES, the model and the field', (_, price, where) => {
    let error: unknown;
    try {
      loadConfig({ TWELVE_MODEL_PRICES: JSON.stringify({ 'openai:gpt-4o-2024-08-06': price }) });
    } catch (thrown) {
      error = thrown;
    }
    expect(TwelveError.is(error, 'config_invalid')).toBe(true);
    expect((error as TwelveError).message).toContain('- TWELVE_MODEL_PRICES: ');
    expect((error as TwelveError).message).toContain(where);
  });

  it('refuses a price whose key is not a model id (it would never apply, and the built-in price would be billed)', () => {
    const message = (() => {
      try {
        loadConfig({ TWELVE_MODEL_PRICES: JSON.stringify({ 'gpt-4o': { input: 1, output: 1 }, 'opneai:gpt-4o-2024-08-06': { input: 1, output: 1 } }) });
      } catch (thrown) {
        return (thrown as Error).message;
      }
      return 'no error';
    })();
    expect(message).toContain('"gpt-4o": not a model id, so it would never apply ("gpt-4o" is not of the form provider:model-id');
    expect(message).toContain('"opneai:gpt-4o-2024-08-06": not a model id, so it would never apply (unknown provider "opneai"');
  });

  it('prices an Anthropic cache write at the published 1.25x of the input rate when cacheWrite is left out, and says so in its hint', () => {
    const table = new PriceTable({ 'anthropic:claude-sonnet-4-20250514': { input: 3, output: 15 } });
    expect(table.price('anthropic:claude-sonnet-4-20250514')).toEqual({ input: 3, output: 15, cacheWrite: 3.75 });
    expect(table.cost('anthropic:claude-sonnet-4-20250514', { inputTokens: 1_836, cacheWriteTokens: 1_836, outputTokens: 1 })).toBeCloseTo((1_836 * 3.75 + 15) / 1e6, 12);
    // Other providers bill no writes: the input rate.
    expect(new PriceTable({ 'openai-compatible:m': { input: 1, output: 2 } }).price('openai-compatible:m')).toEqual({ input: 1, output: 2 });
    expect(priceExample('anthropic:claude-sonnet-4-20250514')).toBe(
      `TWELVE_MODEL_PRICES='{"anthropic:claude-sonnet-4-20250514":{"input":3,"output":15,"cachedInput":0.3,"cacheWrite":3.75}}'`,
    );
  });
});

describe('budgets with a prompt cache', () => {
  const maxOutputTokens = 100;
  /** Each call: 100 new input tokens, 20,000 read from the cache, 20 output. */
  const cached: AnthropicUsage = { input_tokens: 100, cache_read_input_tokens: 20_000, cache_creation_input_tokens: 0, output_tokens: 20 };
  /** The same tokens billed with no cache. */
  const uncached: AnthropicUsage = { input_tokens: 20_100, output_tokens: 20 };
  const cachedCost = (100 * 3 + 20_000 * 0.3 + 20 * 15) / 1e6; // $0.0066
  const uncachedCost = (20_100 * 3 + 20 * 15) / 1e6; // $0.0606

  async function budgetRuntime(maxCostUsd: number, cache: 'auto' | 'off' = 'auto') {
    const anthropic = await startScriptedAnthropicServer();
    onTestFinished(() => anthropic.close());
    const { agent } = supportAgent({ model: sonnet, cache, limits: { maxCostUsd }, modelSettings: { maxOutputTokens, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], env: { ANTHROPIC_BASE_URL: anthropic.baseURL, ANTHROPIC_API_KEY: 'sk-ant-test-93b1c0d7e2f4' } });
    return { runtime, anthropic };
  }

  const threeSteps = (usage: AnthropicUsage) => [
    { toolCalls: [{ name: 'lookup_order', input: { orderId: 'A-1001' } }], usage },
    { toolCalls: [{ name: 'lookup_order', input: { orderId: 'B-2002' } }], usage },
    { text: 'A-1001 was delivered; B-2002 has shipped.', usage },
  ];

  it('lets a thread finish on its discounted spend where the same tokens uncached would stop it', async () => {
    const maxCostUsd = 0.03;
    const { runtime, anthropic } = await budgetRuntime(maxCostUsd);
    anthropic.enqueue(...threeSteps(cached), ...threeSteps(uncached));

    const withCache = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    const done = await runtime.runThread(withCache.id);
    expect(done.outcome).toBe('completed');
    expect(done.thread.costUsd).toBeCloseTo(3 * cachedCost, 12); // $0.0198, under $0.03
    expect(3 * uncachedCost).toBeGreaterThan(maxCostUsd); // $0.1818 had nothing been cached

    const withoutCache = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    const stopped = await runtime.runThread(withoutCache.id);
    expect(stopped.outcome).toBe('awaiting_human');
    expect(stopped.thread.costUsd).toBeCloseTo(uncachedCost, 12);
    expect(eventsOfType(await runtime.loadEvents(withoutCache.id), 'budget_exceeded')[0]!.data).toMatchObject({ limit: 'cost', max: maxCostUsd });
    expect(anthropic.requests).toHaveLength(4);
  });

  it.each([
    ['auto', 3.75],
    ['off', 3],
  ] as const)('checks the next call (cache %s) with every input token at the dearest rate it may cost ($%s/M: a cache write when caching is on), output at its cap, against the discounted spend', async (cache, inputRate) => {
    const maxCostUsd = 0.014;
    const { runtime, anthropic } = await budgetRuntime(maxCostUsd, cache);
    anthropic.enqueue(...threeSteps(cached));

    const thread = await runtime.launch({ agent: 'support', input: 'Where are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');

    const events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'model_called').map((call) => call.data.costUsd)).toEqual([expect.closeTo(cachedCost, 12), expect.closeTo(cachedCost, 12)]);
    const breachAt = events.findIndex((e) => e.type === 'budget_exceeded');
    const breach = eventsOfType(events, 'budget_exceeded')[0]!.data;
    // The refused call's context, as the runtime rendered it: every input token at the dearest rate, 100 output at $15/M.
    const release = runtime.release('support');
    const input = countInputTokens(sonnet, buildRequest(release, defaultRenderContext(release, events.slice(0, breachAt))));
    expect(breach.estimate).toBeCloseTo((input * inputRate + maxOutputTokens * 15) / 1e6, 12);
    expect(breach.used).toBeCloseTo(2 * cachedCost, 12); // $0.0132: what was billed, not $0.1212
    expect(breach.used + breach.estimate).toBeGreaterThan(maxCostUsd);
    expect(anthropic.requests).toHaveLength(2);
  });
});
