/** Small agents and tools shared by the integration tests. */
import { z } from 'zod';
import { defineAgent, defineTool, type AgentOptions, type ToolContext } from '../../src/index.js';

export const orders: Record<string, { orderId: string; amount: number; status: string }> = {
  'A-1001': { orderId: 'A-1001', amount: 42.5, status: 'delivered' },
  'B-2002': { orderId: 'B-2002', amount: 7, status: 'shipped' },
};

/** A lookup tool that remembers every run (arguments and context) so tests can assert on them. */
export function lookupOrderTool(options: { fail?: string } = {}) {
  const runs: Array<{ input: { orderId: string }; ctx: ToolContext }> = [];
  const tool = defineTool({
    name: 'lookup_order',
    description: 'Find an order by its id',
    input: z.object({ orderId: z.string().regex(/^[A-Z]-\d{4}$/, 'must look like A-1001') }),
    run: async (input, ctx) => {
      runs.push({ input, ctx });
      if (options.fail) throw new Error(options.fail);
      return orders[input.orderId] ?? { error: 'no such order' };
    },
  });
  return { tool, runs };
}

/** An agent on a real provider model (talking to the scripted server), with one lookup tool by default. */
export function supportAgent(overrides: Partial<AgentOptions<any, any>> = {}) {
  const lookup = lookupOrderTool();
  const agent = defineAgent({
    name: 'support',
    purpose: 'Answer questions about one order',
    model: 'openai:gpt-4o-2024-08-06',
    prompt: { text: 'You help with orders. Tools:\n{{tools}}' },
    tools: [lookup.tool],
    ...overrides,
  } as AgentOptions<any, any>);
  return { agent, lookup };
}
