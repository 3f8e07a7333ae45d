/**
 * Cost limits fail closed. A limit in dollars (maxCostUsd, a daily cap) can only be held
 * if every model that may answer, fallbacks included, has a price: an unpriced call would
 * be estimated and recorded as nothing, and the limit would silently never apply. So an
 * agent with a cost limit and an unpriced model in its chain is a configuration error at
 * start, reported with every other problem and with the line that fixes it.
 */
import type { Agent } from '../agent/define-agent.js';
import { modelChain, type AgentOverrides } from '../agent/release.js';
import { PriceTable, priceExample, type ModelPrice } from '../model/prices.js';

export interface CostLimitCheck {
  agents: readonly Agent[];
  overrides: Record<string, AgentOverrides>;
  /** TWELVE_MODEL_PRICES, parsed. */
  priceOverrides: Record<string, ModelPrice>;
  /** TWELVE_AGENT_<NAME>_ for an agent name. */
  envPrefix: (agentName: string) => string;
}

/** One line per agent and unpriced model, saying which limit cannot be held and how to price the model. */
export function costLimitProblems({ agents, overrides, priceOverrides, envPrefix }: CostLimitCheck): string[] {
  const prices = new PriceTable(priceOverrides);
  const pricesSet = Object.keys(priceOverrides).length > 0;
  const problems: string[] = [];
  for (const agent of agents) {
    const own = overrides[agent.name] ?? {};
    const limits: string[] = [];
    if (own.maxCostUsd !== undefined) limits.push(`${envPrefix(agent.name)}MAX_COST_USD=${own.maxCostUsd}`);
    else if (agent.options.limits?.maxCostUsd !== undefined) limits.push(`limits.maxCostUsd ${agent.options.limits.maxCostUsd} (in code)`);
    if (own.dailyCostUsd !== undefined) limits.push(`${envPrefix(agent.name)}DAILY_COST_USD=${own.dailyCostUsd}`);
    if (limits.length === 0) continue;
    const chain = modelChain(agent, own);
    for (const model of prices.unpriced(chain)) {
      const index = chain.indexOf(model);
      problems.push(
        `agent ${agent.name}: model ${model} (${index === 0 ? 'primary' : `fallback ${index}`}) has no known price, so its cost limit` +
          ` (${limits.join('; ')}) could not be enforced. Give it a price in USD per million input and output tokens, e.g. ${priceExample(model)}` +
          ` with its real prices${pricesSet ? ' (add the entry to the JSON object TWELVE_MODEL_PRICES already holds)' : ''}, or remove the limit`,
      );
    }
  }
  return problems;
}
