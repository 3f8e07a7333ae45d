import { createRequire } from 'node:module';
import type { LanguageModelV3CallOptions, LanguageModelV3FunctionTool, LanguageModelV3Message } from '@ai-sdk/provider';
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import {
  countInputTokens,
  countTextTokens,
  defaultMaxOutputTokens,
  estimateCallCost,
  tokenizerSafetyFactor,
} from '../src/model/estimate.js';
import { PriceTable } from '../src/model/prices.js';

// An independent encoder: expected values come from the library's own encode on raw strings.
const require = createRequire(import.meta.url);
const { Tiktoken: TiktokenClass } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
const reference: Tiktoken = new TiktokenClass(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE);
const enc = (text: string) => reference.encode(text, [], []).length;

const gpt4o = 'openai:gpt-4o-2024-08-06';
const system = (content: string): LanguageModelV3Message => ({ role: 'system', content });
const user = (text: string): LanguageModelV3Message => ({ role: 'user', content: [{ type: 'text', text }] });
/** OpenAI: 3 per message + the role (one token for each role) + content; +3 reply priming. */
const perMessage = 4;
const priming = 3;

const weatherTool: LanguageModelV3FunctionTool = {
  type: 'function',
  name: 'get_current_weather',
  description: 'Get the current weather in a given location',
  inputSchema: {
    type: 'object',
    properties: {
      location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
      unit: { type: 'string', description: 'The unit of temperature to return', enum: ['celsius', 'fahrenheit'] },
    },
    required: ['location'],
  },
};

describe('countTextTokens', () => {
  it('gives the o200k counts published for known strings', () => {
    // OpenAI cookbook, "How to count tokens with tiktoken", o200k_base column.
    expect(countTextTokens('2 + 2 = 4')).toBe(7);
    expect(countTextTokens('お誕生日おめでとう')).toBe(8);
    expect(countTextTokens('')).toBe(0);
  });

  it('matches the library on raw strings, special-token text included', () => {
    const samples = [
      'Hello, world!',
      'The refund policy allows returns within 30 days of delivery.',
      JSON.stringify({ orderId: 'A-1001', totalCents: 4999, status: 'delivered', tags: ['a', 'b'] }),
      'Ünïcödé — emoji 🦊🦊 and 漢字かな交じり文',
      'user text that contains <|endoftext|> literally',
      '  indented\n\tcode();\r\n',
    ];
    for (const text of samples) expect(countTextTokens(text), text).toBe(enc(text));
    expect(countTextTokens('user text that contains <|endoftext|> literally')).toBeGreaterThan(1);
  });

  it('counts long runs in pieces: linear time, exact for letters', () => {
    const started = performance.now();
    // Unguarded, js-tiktoken takes ~2 minutes on this (its merge is quadratic per pre-token).
    expect(countTextTokens('a'.repeat(50_000))).toBe(6_250);
    expect(performance.now() - started).toBeLessThan(5_000);
    // A long whitespace run over-counts a little, never under-counts.
    const spaces = ' '.repeat(1_000);
    expect(countTextTokens(spaces)).toBeGreaterThanOrEqual(enc(spaces));
    // Surrogate pairs are never split.
    const emoji = '𝒜'.repeat(200);
    expect(countTextTokens(emoji)).toBeGreaterThanOrEqual(enc(emoji));
  });
});

describe('countInputTokens', () => {
  it('adds the per-message overhead and reply priming', () => {
    const a = 'You are a helpful assistant.';
    const b = 'What is 2 + 2?';
    expect(countInputTokens(gpt4o, { prompt: [system(a), user(b)] })).toBe(perMessage + enc(a) + perMessage + enc(b) + priming);
    expect(countInputTokens(gpt4o, { prompt: [] })).toBe(priming);
  });

  it('matches the OpenAI-verified message arithmetic', () => {
    // The cookbook's example, for which the API returned 124 prompt tokens on gpt-4o. The
    // V3 prompt has no `name` field, so the names' tokens (+1 each) are added back here.
    const example: Array<[role: 'system' | 'user', content: string, name?: string]> = [
      ['system', 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.'],
      ['system', 'New synergies will help drive top-line growth.', 'example_user'],
      ['system', 'Things working well together will increase revenue.', 'example_assistant'],
      ['system', "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.", 'example_user'],
      ['system', "Let's talk later when we're less busy about how to do better.", 'example_assistant'],
      ['user', "This late pivot means we don't have time to boil the ocean for the client deliverable."],
    ];
    const prompt = example.map(([role, content]) => (role === 'system' ? system(content) : user(content)));
    const names = example.reduce((sum, [, , name]) => sum + (name ? enc(name) + 1 : 0), 0);
    expect(countInputTokens(gpt4o, { prompt }) + names).toBe(124);
  });

  it('counts tool calls and tool results as the provider serialises them', () => {
    const input = { orderId: 'A-1001', reason: 'arrived damaged' };
    const value = { orderId: 'A-1001', totalCents: 4999, status: 'delivered' };
    const prompt: LanguageModelV3Message[] = [
      { role: 'assistant', content: [{ type: 'text', text: 'Looking it up.' }, { type: 'tool-call', toolCallId: 'call_1', toolName: 'lookup_order', input }] },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'call_1', toolName: 'lookup_order', output: { type: 'json', value } },
          { type: 'tool-result', toolCallId: 'call_2', toolName: 'lookup_order', output: { type: 'text', value: 'not found' } },
        ],
      },
    ];
    const toolCall = 6 + enc('lookup_order') + enc(JSON.stringify(input));
    const assistant = perMessage + enc('Looking it up.') + toolCall;
    // Each result is a `tool` message of its own at OpenAI.
    const results = perMessage + enc('lookup_order') + enc(JSON.stringify(value)) + perMessage + enc('lookup_order') + enc('not found');
    expect(countInputTokens(gpt4o, { prompt })).toBe(assistant + results + priming);

    // A JSON string input is sent as is.
    const asString: LanguageModelV3Message = {
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'c', toolName: 'lookup_order', input: JSON.stringify(input) }],
    };
    expect(countInputTokens(gpt4o, { prompt: [asString] })).toBe(perMessage + toolCall + priming);
  });

  it('grows with content', () => {
    const short = countInputTokens(gpt4o, { prompt: [user('refund please')] });
    const longer = countInputTokens(gpt4o, { prompt: [user('refund please, the headphones arrived damaged and the box was open')] });
    const more = countInputTokens(gpt4o, { prompt: [user('refund please'), user('also the charger is missing')] });
    expect(longer).toBeGreaterThan(short);
    expect(more).toBeGreaterThan(short);
    const big = countInputTokens(gpt4o, { prompt: [user('word '.repeat(10_000))] });
    expect(big).toBeGreaterThan(10_000);
  });

  it('counts tool definitions', () => {
    const prompt = [user('What is the weather like in San Francisco?')];
    const without = countInputTokens(gpt4o, { prompt });
    const withTool = countInputTokens(gpt4o, { prompt, tools: [weatherTool] });
    const schema = JSON.stringify(weatherTool.inputSchema);
    expect(withTool - without).toBe(12 + 7 + enc(weatherTool.name) + enc(weatherTool.description!) + enc(schema));
    const second: LanguageModelV3FunctionTool = { ...weatherTool, name: 'get_forecast' };
    expect(countInputTokens(gpt4o, { prompt, tools: [weatherTool, second] })).toBeGreaterThan(withTool);
  });

  it('over-estimates, never under-estimates, the OpenAI-verified tool example', () => {
    // The cookbook's weather example: 101 prompt tokens by the API on gpt-4o.
    const prompt = [system('You are a helpful assistant that can answer to questions about the weather.'), user("What's the weather like in San Francisco?")];
    const counted = countInputTokens(gpt4o, { prompt, tools: [weatherTool] });
    expect(counted).toBeGreaterThanOrEqual(101);
    expect(counted).toBeLessThanOrEqual(101 * 1.3);
  });

  it('counts the response format schema', () => {
    const prompt = [user('Classify this email.')];
    const schema = { type: 'object', properties: { category: { type: 'string', enum: ['billing', 'login', 'other'] } }, required: ['category'] } as const;
    const plain = countInputTokens(gpt4o, { prompt });
    const structured = countInputTokens(gpt4o, { prompt, responseFormat: { type: 'json', schema, name: 'final_answer' } });
    expect(structured - plain).toBe(10 + enc(JSON.stringify(schema)) + enc('final_answer'));
  });

  it('reuses the cached count of a reused message object', () => {
    const part = { type: 'text' as const, text: 'The order A-1001 arrived damaged.' };
    const message: LanguageModelV3Message = { role: 'user', content: [part] };
    const first = countInputTokens(gpt4o, { prompt: [message] });
    expect(countInputTokens(gpt4o, { prompt: [message] })).toBe(first);

    // Proof the cache answered: an in-place edit of a part is (by contract) not noticed...
    part.text = 'The order A-1001 arrived damaged, and so did the replacement, and the one after that.';
    expect(countInputTokens(gpt4o, { prompt: [message] })).toBe(first);
    // ...while an equal but new object is counted afresh.
    const fresh: LanguageModelV3Message = { role: 'user', content: [{ ...part }] };
    expect(countInputTokens(gpt4o, { prompt: [fresh] })).toBeGreaterThan(first);

    // Appending a part (as the context builder does with tool calls) re-counts the message.
    const assistant: LanguageModelV3Message = { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }] };
    const before = countInputTokens(gpt4o, { prompt: [assistant] });
    assistant.content.push({ type: 'tool-call', toolCallId: 'call_9', toolName: 'lookup_order', input: { orderId: 'A-1001' } });
    expect(countInputTokens(gpt4o, { prompt: [assistant] })).toBeGreaterThan(before);

    // The cached count is provider-independent: other models reuse it with their factor.
    const base = countInputTokens('scripted:any', { prompt: [fresh] });
    expect(countInputTokens('anthropic:claude-sonnet-4-5-20250929', { prompt: [fresh] })).toBe(Math.ceil(base * tokenizerSafetyFactor.anthropic!));
  });

  it('applies a safety factor to non-OpenAI providers', () => {
    const request: LanguageModelV3CallOptions = { prompt: [system('Be brief.'), user('Summarise the refund policy in one line.')] };
    const base = countInputTokens(gpt4o, request);
    expect(countInputTokens('scripted:refunds', request)).toBe(base);
    expect(countInputTokens('anthropic:claude-haiku-4-5-20251001', request)).toBe(Math.ceil(base * 1.3));
    expect(countInputTokens('openai-compatible:llama3.1:8b', request)).toBe(Math.ceil(base * 1.3));
    expect(countInputTokens('mystery:model', request)).toBe(Math.ceil(base * 1.3));
    // Anthropic injects a tool-use system prompt (up to 346 tokens) when tools are given.
    const withTools = { ...request, tools: [weatherTool] };
    expect(countInputTokens('anthropic:claude-haiku-4-5-20251001', withTools)).toBe(Math.ceil(countInputTokens('scripted:x', withTools) * 1.3) + 346);
  });

  it('prices images per model rather than by their bytes', () => {
    const image: LanguageModelV3Message = {
      role: 'user',
      content: [{ type: 'file', mediaType: 'image/png', data: 'iVBORw0KGgo='.repeat(10_000) }],
    };
    const base = countInputTokens('scripted:x', { prompt: [image] });
    expect(base).toBe(perMessage + priming + 1_600);
    expect(countInputTokens('openai:gpt-4o-mini-2024-07-18', { prompt: [image] })).toBe(perMessage + priming + 2_833 + 8 * 5_667);
  });
});

describe('estimateCallCost', () => {
  const prices = new PriceTable();

  it('prices the input plus the full output allowance', () => {
    const estimate = estimateCallCost({ modelId: gpt4o, inputTokens: 1_000, maxOutputTokens: 500, prices });
    expect(estimate.inputTokens).toBe(1_000);
    expect(estimate.outputTokens).toBe(500);
    expect(estimate.costUsd).toBeCloseTo((1_000 * 2.5 + 500 * 10) / 1_000_000, 12);
  });

  it('assumes defaultMaxOutputTokens when the call sets no cap', () => {
    expect(defaultMaxOutputTokens).toBe(4096);
    const estimate = estimateCallCost({ modelId: 'anthropic:claude-haiku-4-5-20251001', inputTokens: 2_000, maxOutputTokens: undefined, prices });
    expect(estimate.outputTokens).toBe(4096);
    expect(estimate.costUsd).toBeCloseTo((2_000 * 1 + 4096 * 5) / 1_000_000, 12);
  });

  it('returns null cost for a model with no known price', () => {
    const estimate = estimateCallCost({ modelId: 'openai-compatible:llama3.1:8b', inputTokens: 10, maxOutputTokens: 20, prices });
    expect(estimate).toEqual({ inputTokens: 10, outputTokens: 20, costUsd: null });
    const overridden = new PriceTable({ 'openai-compatible:llama3.1:8b': { input: 0.1, output: 0.2 } });
    expect(estimateCallCost({ modelId: 'openai-compatible:llama3.1:8b', inputTokens: 10, maxOutputTokens: 20, prices: overridden }).costUsd).toBeCloseTo(
      (10 * 0.1 + 20 * 0.2) / 1_000_000,
      15,
    );
  });
});
