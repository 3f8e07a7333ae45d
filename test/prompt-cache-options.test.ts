/**
 * withPromptCache as a pure function: where the Anthropic breakpoints go in the shapes a thread
 * renders, that it merges with options a message has and respects Anthropic's limit of four, that
 * the given request is never changed, and the OpenAI cache key's length.
 */
import type { LanguageModelV3CallOptions, LanguageModelV3Message } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { anthropicBreakpoints, promptCacheKey, withPromptCache } from '../src/model/prompt-cache.js';

const system: LanguageModelV3Message = { role: 'system', content: 'You help with orders.' };
const user = (text: string): LanguageModelV3Message => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): LanguageModelV3Message => ({ role: 'assistant', content: [{ type: 'text', text }] });
const call: LanguageModelV3Message = { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup_order', input: '{}' }] };
const result: LanguageModelV3Message = { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'lookup_order', output: { type: 'text', value: 'ok' } }] };
const sonnet = 'anthropic:claude-sonnet-4-5-20250929';

/** The indexes of the messages withPromptCache marked. */
function marked(request: LanguageModelV3CallOptions): number[] {
  return request.prompt.flatMap((message, index) => (message.providerOptions?.anthropic?.cacheControl ? [index] : []));
}

describe('Anthropic breakpoints', () => {
  it('mark the system prompt and the last message on a first step', () => {
    expect(anthropicBreakpoints([system, user('hi')])).toEqual([0, 1]);
  });

  it('mark where the previous request ended: the message before the last assistant message', () => {
    expect(anthropicBreakpoints([system, user('hi'), call, result])).toEqual([0, 1, 3]);
    expect(anthropicBreakpoints([system, user('hi'), call, result, call, result])).toEqual([0, 3, 5]);
    // A conversation's next turn: the previous request ended at the first question.
    expect(anthropicBreakpoints([system, user('hi'), assistant('hello'), user('and?')])).toEqual([0, 1, 3]);
  });

  it('work without a system prompt, and keep the most useful ones when fewer are allowed', () => {
    expect(anthropicBreakpoints([user('hi'), call, result])).toEqual([0, 2]);
    expect(anthropicBreakpoints([system, user('hi'), call, result], 2)).toEqual([1, 3]);
    expect(anthropicBreakpoints([system, user('hi'), call, result], 1)).toEqual([3]);
  });

  it('are added to a copy, merged with the options a message has, leaving the request and its messages as they were', () => {
    const tagged: LanguageModelV3Message = { ...user('hi'), providerOptions: { anthropic: { other: 1 }, openai: { x: 2 } } };
    const request: LanguageModelV3CallOptions = { prompt: [system, tagged, call, result] };
    const before = JSON.stringify(request);

    const sent = withPromptCache({ request, model: sonnet, cache: 'auto', cacheKey: 'twelve-th_1' });

    expect(JSON.stringify(request)).toBe(before);
    expect(sent.prompt[2]).toBe(call); // Unmarked messages are the same objects.
    expect(marked(sent)).toEqual([0, 1, 3]);
    expect(sent.prompt[1]!.providerOptions).toEqual({ anthropic: { other: 1, cacheControl: { type: 'ephemeral' } }, openai: { x: 2 } });
    expect(sent.providerOptions).toBeUndefined(); // No OpenAI key for Anthropic.
  });

  it('never make more than four with the markers a request already has', () => {
    const marker = { anthropic: { cacheControl: { type: 'ephemeral' } } };
    const request: LanguageModelV3CallOptions = {
      prompt: [system, user('hi'), call, result],
      tools: [
        { type: 'function', name: 'a', inputSchema: {}, providerOptions: marker },
        { type: 'function', name: 'b', inputSchema: {}, providerOptions: marker },
      ],
    };
    // Two already: room for the last message and the end of the previous request.
    expect(marked(withPromptCache({ request, model: sonnet, cache: 'auto' }))).toEqual([1, 3]);
  });
});

describe('other providers and cache off', () => {
  const request: LanguageModelV3CallOptions = { prompt: [system, user('hi')], providerOptions: { openai: { user: 'u1' } } };

  it('give OpenAI the key, merged with its options, and nothing else', () => {
    const sent = withPromptCache({ request, model: 'openai:gpt-4o-2024-08-06', cache: 'auto', cacheKey: 'twelve-th_1' });
    expect(sent.providerOptions).toEqual({ openai: { user: 'u1', promptCacheKey: 'twelve-th_1' } });
    expect(sent.prompt).toBe(request.prompt);
    expect(request.providerOptions).toEqual({ openai: { user: 'u1' } });
  });

  it.each([
    ['openai-compatible:llama3.1-8b', 'auto'],
    ['scripted:test', 'auto'],
    [sonnet, 'off'],
    ['openai:gpt-4o-2024-08-06', 'off'],
  ] as const)('send %s (cache %s) the request unchanged', (model, cache) => {
    expect(withPromptCache({ request, model, cache, cacheKey: 'twelve-th_1' })).toBe(request);
  });
});

describe('promptCacheKey', () => {
  it('is the thread id, hashed to 64 characters or fewer when it is longer', () => {
    expect(promptCacheKey('th_mipx3k2a9f3c1d2e4b5a')).toBe('twelve-th_mipx3k2a9f3c1d2e4b5a');
    const long = promptCacheKey(`th_${'x'.repeat(100)}`);
    expect(long).toMatch(/^twelve-[0-9a-f]{40}$/);
    expect(long).toBe(promptCacheKey(`th_${'x'.repeat(100)}`));
    expect(long).not.toBe(promptCacheKey(`th_${'x'.repeat(101)}`));
  });
});
