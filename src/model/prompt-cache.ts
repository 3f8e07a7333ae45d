/**
 * Asks the provider to cache the prompt's prefix: the request a model of the chain is SENT,
 * derived from the one Twelve records (which stays provider-neutral, and is never mutated:
 * model/request-record.ts and the context builder share message objects by identity).
 *
 * A thread's context only grows at its end (thread/render-context.ts), so step N+1 starts
 * with every byte step N sent. What each provider needs to discount that repeated prefix:
 *
 * - Anthropic caches only up to the blocks a request marks with `cache_control`, in the order
 *   tools, system, messages. Three breakpoints (see anthropicBreakpoints):
 *   the end of the system prompt (tools + system, the same for every step of the agent),
 *   the end of the previous request (this step reads what that one wrote), and the end of this
 *   request (the next step reads it). Writes cost 1.25x the input rate, reads 0.1x.
 * - OpenAI caches prefixes of 1,024+ tokens by itself and routes a request by a hash of its first
 *   tokens, combined with `prompt_cache_key` when given. Without a key every thread of an agent
 *   hashes alike (same system prompt), and past roughly 15 requests a minute per prefix and key
 *   OpenAI spills them onto machines that miss. Keyed by thread, a thread's steps go to the
 *   machine holding that thread's prefix, and busy agents spread by thread instead of spilling.
 * - OpenAI-compatible servers get nothing extra (a strict server refuses unknown fields); the
 *   byte-stable prefix is what their own prefix caches (vLLM, llama.cpp) key on. Scripted: nothing.
 */
import type { LanguageModelV3CallOptions, LanguageModelV3Message, SharedV3ProviderOptions } from '@ai-sdk/provider';
import { sha256Hex } from '../util/sha256.js';

/** Anthropic's limit per request; @ai-sdk/anthropic drops a fifth with a warning. */
export const maxAnthropicBreakpoints = 4;

const ephemeral = { type: 'ephemeral' } as const;

export interface PromptCacheOptions {
  /** The request as recorded (not modified). */
  request: LanguageModelV3CallOptions;
  /** `provider:model-id` of the model of the chain about to be called. */
  model: string;
  /** The release's `cache`. */
  cache: 'auto' | 'off';
  /** OpenAI's prompt_cache_key (promptCacheKey below); undefined: none is sent. */
  cacheKey?: string | undefined;
}

/**
 * The options to send to `model`: a copy of `request` with the provider's cache options, or
 * `request` itself when there are none to add.
 *
 * @example
 * const sent = withPromptCache({ request, model: 'anthropic:claude-sonnet-4-5-20250929', cache: 'auto', cacheKey: promptCacheKey(threadId) });
 */
export function withPromptCache({ request, model, cache, cacheKey }: PromptCacheOptions): LanguageModelV3CallOptions {
  if (cache === 'off') return request;
  const provider = model.slice(0, model.indexOf(':'));
  if (provider === 'anthropic') return withAnthropicBreakpoints(request);
  if (provider === 'openai' && cacheKey !== undefined) {
    const openai = request.providerOptions?.openai;
    if (openai?.promptCacheKey !== undefined) return request; // The caller's own key wins.
    return { ...request, providerOptions: { ...request.providerOptions, openai: { ...openai, promptCacheKey: cacheKey } } };
  }
  return request;
}

/**
 * A thread's OpenAI prompt_cache_key. OpenAI refuses keys over 64 characters; Twelve's own
 * thread ids (`th_` + 22) fit as they are (readable in OpenAI's logs), longer ones are hashed.
 */
export function promptCacheKey(threadId: string): string {
  const key = `twelve-${threadId}`;
  return key.length <= 64 ? key : `twelve-${sha256Hex(threadId).slice(0, 40)}`;
}

/**
 * Indexes of the prompt messages that get a breakpoint, at most `budget`, most valuable first:
 * 1. the last message (written now, read by the next step),
 * 2. the message just before the prompt's last assistant message: where the previous request
 *    ended (its last message then; the assistant's answer and what followed are new),
 * 3. the last of the leading system messages (tools + system: shared by every step and every
 *    thread with the same rendered system prompt).
 * Duplicates count once; a message with no content to carry the marker is skipped.
 */
export function anthropicBreakpoints(prompt: readonly LanguageModelV3Message[], budget = maxAnthropicBreakpoints): number[] {
  const candidates: number[] = [];
  const last = prompt.length - 1;
  candidates.push(last);
  let lastAssistant = -1;
  for (let i = last; i >= 0; i--) {
    if (prompt[i]!.role === 'assistant') {
      lastAssistant = i;
      break;
    }
  }
  if (lastAssistant > 0) candidates.push(lastAssistant - 1);
  let system = -1;
  while (prompt[system + 1]?.role === 'system') system++;
  if (system >= 0) candidates.push(system);
  const chosen: number[] = [];
  for (const index of candidates) {
    if (chosen.length >= budget) break;
    if (index < 0 || chosen.includes(index) || !canCarryMarker(prompt[index]!)) continue;
    chosen.push(index);
  }
  return chosen.sort((a, b) => a - b);
}

function withAnthropicBreakpoints(request: LanguageModelV3CallOptions): LanguageModelV3CallOptions {
  // Markers the caller already set (tools, messages, parts) count against Anthropic's limit; a
  // message already marked is a breakpoint as it is.
  const budget = maxAnthropicBreakpoints - existingBreakpoints(request);
  const marked = anthropicBreakpoints(request.prompt, budget).filter((index) => !hasMarker(request.prompt[index]!.providerOptions));
  if (marked.length === 0) return request;
  const prompt = request.prompt.slice();
  for (const index of marked) {
    const message = prompt[index]!;
    const options = message.providerOptions;
    prompt[index] = { ...message, providerOptions: { ...options, anthropic: { ...options?.anthropic, cacheControl: ephemeral } } } as LanguageModelV3Message;
  }
  return { ...request, prompt };
}

/** Message-level options apply to a message's last content part (@ai-sdk/anthropic), so one is needed. */
function canCarryMarker(message: LanguageModelV3Message): boolean {
  return typeof message.content === 'string' ? message.content !== '' : message.content.length > 0;
}

function hasMarker(options: SharedV3ProviderOptions | undefined): boolean {
  const anthropic = options?.anthropic;
  return anthropic?.cacheControl !== undefined || anthropic?.cache_control !== undefined;
}

function existingBreakpoints(request: LanguageModelV3CallOptions): number {
  let count = 0;
  for (const tool of request.tools ?? []) if (tool.type === 'function' && hasMarker(tool.providerOptions)) count++;
  for (const message of request.prompt) {
    if (hasMarker(message.providerOptions)) count++;
    if (typeof message.content === 'string') continue;
    for (const part of message.content) if (hasMarker(part.providerOptions)) count++;
  }
  return count;
}
