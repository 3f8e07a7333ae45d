/**
 * Hard budgets, checked BEFORE each model call: recorded spend plus the worst case of
 * the call about to be made (input tokens counted, at the dearer of the input and cache-write
 * rates when caching is on, nothing assumed cached; output at its cap), so a limit is
 * never overshot by more than one call's estimate error. A breach does not stop the
 * thread silently: it waits for a person, who can raise the limit or cancel. A spend that
 * cannot be priced counts as a breach, never as $0 (unknownSpend).
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import { countInputTokens, defaultMaxOutputTokens } from '../model/estimate.js';
import { priceExample, type PriceTable } from '../model/prices.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';

export interface BudgetContext {
  release: AgentRelease;
  state: ThreadState;
  request: LanguageModelV3CallOptions;
  prices: PriceTable;
  /** The agent's spend today (UTC), across every process; only read when a daily cap is set. */
  dailySpend: () => Promise<number>;
  /** The thread's tenant and its daily cap (costs/tenants.ts), when it has both; spend read only then. */
  tenant?: { name: string; cap: number; spend: () => Promise<number> };
}

export async function checkBudget({ release, state, request, prices, dailySpend, tenant }: BudgetContext): Promise<NewEvent | undefined> {
  // Steps count per turn (a conversation's turn is bounded like a one-shot thread); tokens and cost per thread.
  const maxSteps = state.limits.maxSteps ?? release.limits.maxSteps;
  const steps = state.modelSteps - state.turnStartSteps;
  if (steps >= maxSteps) {
    return breach('steps', steps, 1, maxSteps, `reached the limit of ${maxSteps} model steps without a final answer`);
  }
  const maxTokens = state.limits.maxTokens ?? release.limits.maxTokens;
  const maxCostUsd = state.limits.maxCostUsd ?? release.limits.maxCostUsd;
  const dailyCap = release.limits.dailyCostUsd;
  if (maxTokens === undefined && maxCostUsd === undefined && dailyCap === undefined && tenant === undefined) return undefined;

  // Fallbacks may be dearer than the primary: budget for the most expensive model that could answer.
  const inputTokens = Math.max(...release.models.map((model) => countInputTokens(model, request)));
  const outputTokens = request.maxOutputTokens ?? defaultMaxOutputTokens;
  const used = state.inputTokens + state.outputTokens;
  if (maxTokens !== undefined && used + inputTokens + outputTokens > maxTokens) {
    return breach('tokens', used, inputTokens + outputTokens, maxTokens, `the next call could use up to ${inputTokens + outputTokens} tokens; ${used} of ${maxTokens} are used`);
  }
  const unknown = maxCostUsd !== undefined || dailyCap !== undefined ? await unknownSpend(release, state, prices, maxCostUsd, dailyCap, dailySpend) : undefined;
  if (unknown) return unknown;
  const unpricedForTenant = tenant ? await unpricedTenantCall(release, prices, tenant) : undefined;
  if (unpricedForTenant) return unpricedForTenant;
  // Every model of the chain has a price by now (or no cost limit applies). The worst case assumes
  // no cache read and, with caching on, every input token written to the cache: Anthropic bills a
  // write at 1.25x the input rate, and a thread's first call writes nearly its whole prompt.
  const costs = release.models.map((model) => {
    const plain = prices.cost(model, { inputTokens, outputTokens });
    const written = release.cache === 'auto' ? prices.cost(model, { inputTokens, outputTokens, cacheWriteTokens: inputTokens }) : null;
    return plain === null ? null : Math.max(plain, written ?? plain);
  });
  const estimate = Math.max(0, ...costs.map((cost) => cost ?? 0));
  if (maxCostUsd !== undefined && state.costUsd + estimate > maxCostUsd) {
    const unpriced = state.unpricedCalls > 0 ? ` (plus ${state.unpricedCalls} call${state.unpricedCalls === 1 ? '' : 's'} of unknown price)` : '';
    return breach('cost', state.costUsd, estimate, maxCostUsd, `the next call could cost up to $${estimate.toFixed(4)}; $${state.costUsd.toFixed(4)}${unpriced} of $${maxCostUsd} is spent`);
  }
  if (dailyCap !== undefined) {
    const today = await dailySpend();
    if (today + estimate > dailyCap) {
      return breach('daily_cost', today, estimate, dailyCap, `agent ${release.agent.name} has spent $${today.toFixed(4)} of its $${dailyCap} daily cap; the next call could cost up to $${estimate.toFixed(4)}`);
    }
  }
  if (tenant) {
    const today = await tenant.spend();
    if (today + estimate > tenant.cap) {
      return breach('tenant_daily_cost', today, estimate, tenant.cap, `tenant ${tenant.name} has spent $${today.toFixed(4)} of its $${tenant.cap} daily cap; the next call could cost up to $${estimate.toFixed(4)}`);
    }
  }
  return undefined;
}

/** A tenant's daily cap fails closed like the agent's: a call of unknown price is refused, never counted as $0. */
async function unpricedTenantCall(release: AgentRelease, prices: PriceTable, tenant: NonNullable<BudgetContext['tenant']>): Promise<NewEvent | undefined> {
  const unpricedModels = prices.unpriced(release.models);
  if (unpricedModels.length === 0) return undefined;
  const message =
    `price unknown: ${unpricedModels.join(', ')} ${unpricedModels.length === 1 ? 'has' : 'have'} no known price, so the next call could not be checked against tenant ${tenant.name}'s daily cap ($${tenant.cap}); ` +
    `price ${unpricedModels.length === 1 ? 'it' : 'them'} (${priceExample(unpricedModels[0]!)} with real prices), restart the workers, then resume the thread, or cancel it`;
  return event('budget_exceeded', { limit: 'tenant_daily_cost', used: await tenant.spend(), estimate: 0, max: tenant.cap, message, unpricedModels });
}

/**
 * Fail closed: a cost limit is only checked against what can be priced. Start-up refuses an
 * agent with a cost limit and an unpriced model (config/cost-limits.ts), so this is the
 * backstop for what start-up cannot see: a limit a person set on one thread, prices that
 * differ between processes, calls recorded by an earlier release without a limit.
 */
async function unknownSpend(
  release: AgentRelease,
  state: ThreadState,
  prices: PriceTable,
  maxCostUsd: number | undefined,
  dailyCap: number | undefined,
  dailySpend: () => Promise<number>,
): Promise<NewEvent | undefined> {
  const limit = maxCostUsd !== undefined ? 'cost' : 'daily_cost';
  const max = (maxCostUsd ?? dailyCap)!;
  const what = maxCostUsd !== undefined ? `the thread's cost limit ($${maxCostUsd})` : `agent ${release.agent.name}'s daily cap ($${dailyCap})`;
  const unpricedModels = prices.unpriced(release.models);
  if (unpricedModels.length > 0) {
    const message =
      `price unknown: ${unpricedModels.join(', ')} ${unpricedModels.length === 1 ? 'has' : 'have'} no known price, so the next call could not be checked against ${what}; ` +
      `price ${unpricedModels.length === 1 ? 'it' : 'them'} (${priceExample(unpricedModels[0]!)} with real prices), restart the workers, then resume the thread, or cancel it`;
    const used = limit === 'cost' ? state.costUsd : await dailySpend();
    return event('budget_exceeded', { limit, used, estimate: 0, max, message, unpricedModels });
  }
  const unaccepted = state.unpricedCalls - state.unpricedCallsAccepted;
  if (maxCostUsd !== undefined && unaccepted > 0) {
    const message =
      `price unknown: ${state.unpricedCalls} earlier model call${state.unpricedCalls === 1 ? '' : 's'} of this thread had no known price, so its spend` +
      ` (at least $${state.costUsd.toFixed(4)}) could not be checked against ${what}; resume or raise the budget to go on anyway, or cancel`;
    return event('budget_exceeded', { limit: 'cost', used: state.costUsd, estimate: 0, max: maxCostUsd, message, unpricedCalls: state.unpricedCalls });
  }
  return undefined;
}

function breach(limit: 'cost' | 'tokens' | 'steps' | 'daily_cost' | 'tenant_daily_cost', used: number, estimate: number, max: number, message: string): NewEvent {
  return event('budget_exceeded', { limit, used, estimate, max, message });
}
