// What a provider's prompt cache would bill for a thread's requests: a model of each provider's
// published cache rules, applied to the requests Twelve recorded (tools, then messages, the
// order providers cache in). Token counts are Twelve's own pre-call estimate
// (src/model/estimate.ts: o200k_base, x1.3 plus the tool-use system prompt for Anthropic).
//
// OpenAI (automatic, "Prompt caching" guide): a prompt of 1,024 tokens or more is cached; a
//   later request that starts with a cached prefix reads it, in 1,024 + 128*k token steps. No
//   charge for writing. Modelled: each request reads the prefix it shares with the thread's
//   previous request (whole messages), rounded down to that step.
// Anthropic ("Prompt caching" docs): only what a cache_control breakpoint marks is cached, and
//   only a prefix of at least the model's minimum (1,024 tokens for Sonnet 4.5 and Opus 4.1,
//   2,048 for Haiku 3.5, 4,096 for Haiku 4.5). A request reads the longest of its breakpoint prefixes written
//   earlier, writes (1.25x the input price) from there to its last breakpoint, and pays the input
//   price for the rest. Modelled exactly so, breakpoints at message ends.
import { countInputTokens } from '../../dist/model/estimate.js';

/** Tokens of the request cut after `messages` messages (tools and the response format always in). */
export function prefixTokens(model, request, messages) {
  return countInputTokens(model, { ...request, prompt: request.prompt.slice(0, messages) });
}

/** How many leading messages two requests share, byte for byte (their tools and response format must match too). */
export function sharedMessages(previous, request) {
  if (!previous || head(previous) !== head(request)) return 0;
  let n = 0;
  while (n < previous.prompt.length && n < request.prompt.length && JSON.stringify(previous.prompt[n]) === JSON.stringify(request.prompt[n])) n++;
  return n;
}

/** The part of a request providers cache before the messages: tools and the response format. */
export function head(request) {
  return JSON.stringify({ tools: request.tools ?? null, responseFormat: request.responseFormat ?? null });
}

/** OpenAI: { cachedInputTokens, inputTokens } for `request` after `previous` (same thread). */
export function openaiUsage(model, previous, request) {
  const inputTokens = countInputTokens(model, request);
  const shared = sharedMessages(previous, request);
  const prefix = shared > 0 ? prefixTokens(model, request, shared) : 0;
  const cachedInputTokens = prefix >= 1024 ? 1024 + Math.floor((prefix - 1024) / 128) * 128 : 0;
  return { inputTokens, cachedInputTokens, cacheWriteTokens: 0 };
}

/** The Anthropic minimum cacheable prefix per model (tokens). */
export function anthropicMinimum(model) {
  if (/haiku-4/.test(model)) return 4096;
  return /haiku/.test(model) ? 2048 : 1024;
}

/**
 * Anthropic: { inputTokens, cachedInputTokens, cacheWriteTokens } for `request` with breakpoints
 * after the messages listed in `breakpoints` (message counts: 2 = after the second message), given
 * the prefixes earlier requests wrote (`written`, a Set of prefix texts it adds this request's to).
 */
export function anthropicUsage(model, request, breakpoints, written) {
  const inputTokens = countInputTokens(model, request);
  const minimum = anthropicMinimum(model);
  const keyOf = (count) => head(request) + JSON.stringify(request.prompt.slice(0, count));
  let read = 0;
  let readTokens = 0;
  for (const count of breakpoints) {
    if (count > read && written.has(keyOf(count))) {
      read = count;
      readTokens = prefixTokens(model, request, count);
    }
  }
  const last = Math.max(0, ...breakpoints);
  const lastTokens = last > 0 ? prefixTokens(model, request, last) : 0;
  let cacheWriteTokens = 0;
  if (last > read && lastTokens >= minimum) {
    cacheWriteTokens = lastTokens - readTokens;
    for (const count of breakpoints) if (prefixTokens(model, request, count) >= minimum) written.add(keyOf(count));
  }
  return { inputTokens, cachedInputTokens: readTokens >= minimum ? readTokens : 0, cacheWriteTokens };
}
