/**
 * USD per million tokens for known pinned models (list prices as published by the
 * vendors; check before relying on them). Override or extend with TWELVE_MODEL_PRICES,
 * a JSON object: {"openai:gpt-4o-2024-08-06": {"input": 2.5, "output": 10, "cachedInput": 1.25}}.
 * An override replaces the model's whole entry: a rate it leaves out is not taken from the
 * built-in one.
 *
 * Prompt caching: the input tokens a provider read from its cache are billed at `cachedInput`
 * (OpenAI: half the input rate or less; Anthropic: a tenth), the ones it wrote to it at
 * `cacheWrite` (Anthropic: 1.25x the input rate for the 5-minute cache; OpenAI does not bill
 * writes). A rate that is not given is never a discount nobody published: `cachedInput`
 * defaults to the input rate, and `cacheWrite` to the input rate, or to Anthropic's published
 * 1.25x of it for an `anthropic:` model.
 *
 * A model without a price is never counted as free: its calls record costUsd null
 * ("price unknown"), and an agent with a cost limit refuses to start with one in its
 * chain (config/cost-limits.ts), because its spend could not be checked.
 */
export interface ModelPrice {
  /** USD per 1M input tokens (not read from a cache). */
  input: number;
  /** USD per 1M output tokens. */
  output: number;
  /** USD per 1M input tokens read from the provider's prompt cache (default: `input`). */
  cachedInput?: number;
  /** USD per 1M input tokens written to the provider's prompt cache (default: `input`). */
  cacheWrite?: number;
}

/** A call's tokens as priced: `inputTokens` counts every input token, the cached and cache-written ones included. */
export interface PricedUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
}

export const defaultPrices: Record<string, ModelPrice> = {
  'openai:gpt-4o-2024-08-06': { input: 2.5, output: 10, cachedInput: 1.25 },
  'openai:gpt-4o-2024-11-20': { input: 2.5, output: 10, cachedInput: 1.25 },
  'openai:gpt-4o-mini-2024-07-18': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'openai:gpt-4.1-2025-04-14': { input: 2, output: 8, cachedInput: 0.5 },
  'openai:gpt-4.1-mini-2025-04-14': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'openai:gpt-4.1-nano-2025-04-14': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'openai:o4-mini-2025-04-16': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'anthropic:claude-sonnet-4-5-20250929': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'anthropic:claude-haiku-4-5-20251001': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  'anthropic:claude-opus-4-1-20250805': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'anthropic:claude-3-5-haiku-20241022': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
};

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;

  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.prices = new Map(Object.entries({ ...defaultPrices, ...overrides }).map(([model, price]) => [model, withPublishedRates(model, price)]));
  }

  price(model: string): ModelPrice | undefined {
    return this.prices.get(model);
  }

  /** The models of `models` that have no price, each once. */
  unpriced(models: readonly string[]): string[] {
    return [...new Set(models.filter((model) => !this.prices.has(model)))];
  }

  /**
   * Cost of one call, or null when the model has no known price. Cached and cache-written input
   * tokens are priced at their own rates; a usage without them is priced as if nothing were
   * cached (what the budget check assumes before a call: no discount it cannot be sure of).
   */
  cost(model: string, usage: PricedUsage): number | null {
    const price = this.prices.get(model);
    if (!price) return null;
    return costAt(price, usage);
  }
}

/** The cost of `usage` at `price`, USD. Cache counts beyond the input total (a provider's rounding) are capped by it. */
export function costAt(price: ModelPrice, usage: PricedUsage): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  const uncached = usage.inputTokens - cached - written;
  return (
    (uncached * price.input + cached * (price.cachedInput ?? price.input) + written * (price.cacheWrite ?? price.input) + usage.outputTokens * price.output) /
    1_000_000
  );
}

/** Anthropic bills a 5-minute cache write at 1.25x the input rate (its published pricing). */
export const anthropicCacheWriteFactor = 1.25;

/** A price with the cache-write rate a provider publishes filled in where none was given. */
function withPublishedRates(model: string, price: ModelPrice): ModelPrice {
  if (price.cacheWrite !== undefined || !model.startsWith('anthropic:')) return price;
  return { ...price, cacheWrite: price.input * anthropicCacheWriteFactor };
}

/** How to give `model` a price, as a line a person can copy and edit (the figures are placeholders). */
export function priceExample(model: string): string {
  // With the cache rates where the provider bills them (its own servers cache); plain elsewhere.
  const example: ModelPrice = model.startsWith('anthropic:')
    ? { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 }
    : model.startsWith('openai:')
      ? { input: 2.5, output: 10, cachedInput: 1.25 }
      : { input: 2.5, output: 10 };
  return `TWELVE_MODEL_PRICES='${JSON.stringify({ [model]: example })}'`;
}
