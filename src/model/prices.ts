/**
 * USD per million tokens for known pinned models (list prices as published by the
 * vendors; check before relying on them). Override or extend with TWELVE_MODEL_PRICES,
 * a JSON object: {"openai:gpt-4o-2024-08-06": {"input": 2.5, "output": 10}}.
 *
 * A model without a price is never counted as free: its calls record costUsd null
 * ("price unknown"), and an agent with a cost limit refuses to start with one in its
 * chain (config/cost-limits.ts), because its spend could not be checked.
 */
export interface ModelPrice {
  /** USD per 1M input tokens. */
  input: number;
  /** USD per 1M output tokens. */
  output: number;
}

export const defaultPrices: Record<string, ModelPrice> = {
  'openai:gpt-4o-2024-08-06': { input: 2.5, output: 10 },
  'openai:gpt-4o-2024-11-20': { input: 2.5, output: 10 },
  'openai:gpt-4o-mini-2024-07-18': { input: 0.15, output: 0.6 },
  'openai:gpt-4.1-2025-04-14': { input: 2, output: 8 },
  'openai:gpt-4.1-mini-2025-04-14': { input: 0.4, output: 1.6 },
  'openai:gpt-4.1-nano-2025-04-14': { input: 0.1, output: 0.4 },
  'openai:o4-mini-2025-04-16': { input: 1.1, output: 4.4 },
  'anthropic:claude-sonnet-4-5-20250929': { input: 3, output: 15 },
  'anthropic:claude-haiku-4-5-20251001': { input: 1, output: 5 },
  'anthropic:claude-opus-4-1-20250805': { input: 15, output: 75 },
  'anthropic:claude-3-5-haiku-20241022': { input: 0.8, output: 4 },
};

export class PriceTable {
  private readonly prices: Map<string, ModelPrice>;

  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.prices = new Map(Object.entries({ ...defaultPrices, ...overrides }));
  }

  price(model: string): ModelPrice | undefined {
    return this.prices.get(model);
  }

  /** The models of `models` that have no price, each once. */
  unpriced(models: readonly string[]): string[] {
    return [...new Set(models.filter((model) => !this.prices.has(model)))];
  }

  /** Cost of one call, or null when the model has no known price. */
  cost(model: string, usage: { inputTokens: number; outputTokens: number }): number | null {
    const price = this.prices.get(model);
    if (!price) return null;
    return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  }
}

/** How to give `model` a price, as a line a person can copy and edit (the figures are placeholders). */
export function priceExample(model: string): string {
  return `TWELVE_MODEL_PRICES='${JSON.stringify({ [model]: { input: 2.5, output: 10 } })}'`;
}
