/**
 * Hard budgets, checked BEFORE each model call: recorded spend plus the worst case of
 * the call about to be made (input tokens counted, output at its cap), so a limit is
 * never overshot by more than one call's estimate error. A breach does not stop the
 * thread silently: it waits for a person, who can raise the limit or cancel.
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import { countInputTokens, defaultMaxOutputTokens } from '../model/estimate.js';
import type { PriceTable } from '../model/prices.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';

export interface BudgetContext {
  release: AgentRelease;
  state: ThreadState;
  request: LanguageModelV3CallOptions;
  prices: PriceTable;
  /** The agent's spend today (UTC), across every process; only read when a daily cap is set. */
  dailySpend: () => Promise<number>;
}

export async function checkBudget({ release, state, request, prices, dailySpend }: BudgetContext): Promise<NewEvent | undefined> {
  const maxSteps = state.limits.maxSteps ?? release.limits.maxSteps;
  if (state.modelSteps >= maxSteps) {
    return breach('steps', state.modelSteps, 1, maxSteps, `reached the limit of ${maxSteps} model steps without a final answer`);
  }
  const maxTokens = state.limits.maxTokens ?? release.limits.maxTokens;
  const maxCostUsd = state.limits.maxCostUsd ?? release.limits.maxCostUsd;
  const dailyCap = release.limits.dailyCostUsd;
  if (maxTokens === undefined && maxCostUsd === undefined && dailyCap === undefined) return undefined;

  // Fallbacks may be dearer than the primary: budget for the most expensive model that could answer.
  const inputTokens = Math.max(...release.models.map((model) => countInputTokens(model, request)));
  const outputTokens = request.maxOutputTokens ?? defaultMaxOutputTokens;
  const used = state.inputTokens + state.outputTokens;
  if (maxTokens !== undefined && used + inputTokens + outputTokens > maxTokens) {
    return breach('tokens', used, inputTokens + outputTokens, maxTokens, `the next call could use up to ${inputTokens + outputTokens} tokens; ${used} of ${maxTokens} are used`);
  }
  const costs = release.models.map((model) => prices.cost(model, { inputTokens, outputTokens }));
  // A model without a known price cannot be budgeted ahead; its recorded cost is 0 (see PriceTable).
  const estimate = Math.max(0, ...costs.map((cost) => cost ?? 0));
  if (maxCostUsd !== undefined && state.costUsd + estimate > maxCostUsd) {
    return breach('cost', state.costUsd, estimate, maxCostUsd, `the next call could cost up to $${estimate.toFixed(4)}; $${state.costUsd.toFixed(4)} of $${maxCostUsd} is spent`);
  }
  if (dailyCap !== undefined) {
    const today = await dailySpend();
    if (today + estimate > dailyCap) {
      return breach('daily_cost', today, estimate, dailyCap, `agent ${release.agent.name} has spent $${today.toFixed(4)} of its $${dailyCap} daily cap; the next call could cost up to $${estimate.toFixed(4)}`);
    }
  }
  return undefined;
}

function breach(limit: 'cost' | 'tokens' | 'steps' | 'daily_cost', used: number, estimate: number, max: number, message: string): NewEvent {
  return event('budget_exceeded', { limit, used, estimate, max, message });
}
