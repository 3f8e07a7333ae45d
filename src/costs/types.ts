/** What a cost report asks for and what it returns (Store.costReport, `twelve costs`, GET /v1/costs). */

/** What spend can be grouped by: the thread's agent or tenant, the call's model, its UTC day. */
export const costDimensions = ['agent', 'model', 'day', 'tenant'] as const;
export type CostDimension = (typeof costDimensions)[number];

export interface CostReportOptions {
  /** One or two dimensions (e.g. ['day', 'agent'] for a chart of spend per day per agent). */
  by: CostDimension[];
  /** ISO times: model calls at or after / strictly before. */
  since?: string;
  until?: string;
  agent?: string;
  tenant?: string;
}

/** One group's totals, from the model_called events. */
export interface CostRow {
  /** The group's value per dimension of `by` (tenant: null for threads with none). */
  agent?: string;
  model?: string;
  day?: string;
  tenant?: string | null;
  /** USD of the calls with a known price. */
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those read from / written to a provider's prompt cache (priced at their own rates). */
  cachedInputTokens: number;
  cacheWriteTokens: number;
  /** Model calls (each model_called event). */
  calls: number;
  /** Calls with no known price: their spend is unknown, not $0, and costUsd leaves them out. */
  unpricedCalls: number;
}
