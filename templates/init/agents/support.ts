/**
 * support: answers one customer question about an order. It looks the order up with a tool,
 * then answers with JSON that matches `output`. Change the prompt in support.prompt.md; keep it
 * the same for every thread and step (the customer's message comes after it, as the first user
 * message), so providers can cache it: see "Prompt caching" in Twelve's README.
 */
import { z } from 'zod';
import { defineAgent, defineTool } from 'twelve-agents';

// Stands in for your order system: replace findOrder with a call to its API.
const orders: Record<string, { status: 'processing' | 'shipped' | 'delivered'; shippedAt?: string; carrier?: string }> = {
  'A-1001': { status: 'shipped', shippedAt: '2026-11-28', carrier: 'DHL' },
  'A-1002': { status: 'processing' },
};

async function findOrder(orderId: string) {
  const order = orders[orderId];
  return order ? { orderId, ...order } : { orderId, error: 'no such order' };
}

export const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id: its status, shipping date and carrier.',
  effect: 'pure', // reads only, so replays and forks may run it again
  input: z.object({ orderId: z.string().describe('the order id, like A-1001') }),
  run: ({ orderId }) => findOrder(orderId),
  // Used where the tool must not act for real (replays, shadow threads): same shape, canned data.
  fake: ({ orderId }) => ({ orderId, status: 'shipped', shippedAt: '2026-11-28', carrier: 'DHL' }),
});

export default defineAgent({
  name: 'support',
  purpose: 'Answer one customer question about an order, from the order system.',
  model: 'openai:gpt-4o-mini-2024-07-18', // a dated pin: floating aliases like gpt-4o-mini are refused
  prompt: new URL('./support.prompt.md', import.meta.url),
  tools: [lookupOrder],
  output: z.object({
    answer: z.string().min(1).describe('the reply to the customer'),
    orderId: z.string().optional(),
    needsHuman: z.boolean().describe('true when a person should follow up'),
  }),
  modelSettings: { temperature: 0 },
  limits: { maxSteps: 6, maxCostUsd: 0.05 },
  // Recorded model responses: TWELVE_MODEL_MODE=record writes them, replay answers from them offline.
  recordings: new URL('./recordings/support', import.meta.url),
});
