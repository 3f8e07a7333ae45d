/**
 * A parent (lead) that hands work to a child (helper) through agentTool, both on scripted
 * models whose calls read and write a prompt cache, with prices that include a cached rate:
 * for the tests that check cached / written tokens wherever a person looks.
 */
import { agentTool, defineAgent, scriptedModel, type ScriptedUsage } from '../../src/index.js';
import { stepOf } from './hitl.js';

/** Per call: the parent's first (a cache write and a read), the child's only call (a write), the parent's answer (a read). */
export const cachedUsage = {
  leadFirst: { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 1024, cacheWriteTokens: 150 },
  helper: { inputTokens: 500, outputTokens: 10, cacheWriteTokens: 400 },
  leadAnswer: { inputTokens: 1300, outputTokens: 20, cachedInputTokens: 1200 },
} satisfies Record<string, ScriptedUsage>;

/** The parent thread's totals: its own calls and its child's. */
export const leadTotals = { inputTokens: 3000, outputTokens: 330, cachedInputTokens: 2224, cacheWriteTokens: 550 };

/** USD per million tokens; cached reads at a tenth, writes at 1.25x the input rate (Anthropic's shape). */
export const cachedPrices = {
  'scripted:lead': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'scripted:helper': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
};

/** The environment that prices the scripted models. */
export const cachedPricesEnv = { TWELVE_MODEL_PRICES: JSON.stringify(cachedPrices) };

export function cachedAgents() {
  const helper = defineAgent({ name: 'helper', purpose: 'Helps the lead, for tests', model: 'scripted:helper', prompt: { text: 'You help.' } });
  const lead = defineAgent({
    name: 'lead',
    purpose: 'Hands work to the helper, for tests',
    model: 'scripted:lead',
    prompt: { text: 'You lead. Tools:\n{{tools}}' },
    tools: [agentTool(helper)],
  });
  const models = {
    'scripted:lead': scriptedModel((request) =>
      stepOf(request) === 0
        ? { toolCalls: [{ tool: 'helper', args: { input: 'look it up' } }], usage: cachedUsage.leadFirst }
        : { text: 'all done', usage: cachedUsage.leadAnswer },
    ),
    'scripted:helper': scriptedModel(() => ({ text: 'found it', usage: cachedUsage.helper })),
  };
  return { agents: [lead, helper], models };
}
