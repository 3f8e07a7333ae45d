/**
 * refunds: handles one customer refund request. Looks the order up (never trusting the
 * customer's numbers), refunds through an idempotent ledger when the policy allows,
 * declines otherwise, and answers with a structured decision.
 */
import { z } from 'zod';
import { defineAgent } from 'twelve-agents';
import { issueRefund, lookupOrder } from './tools.js';

export default defineAgent({
  name: 'refunds',
  purpose: 'Decide and execute one customer refund request within the store refund policy.',
  model: 'openai:gpt-4o-2024-08-06',
  fallbackModels: ['anthropic:claude-sonnet-4-5-20250929'],
  prompt: new URL('./prompt.md', import.meta.url),
  tools: [lookupOrder, issueRefund],
  output: z.object({
    decision: z.enum(['refunded', 'declined']),
    orderId: z.string(),
    amountCents: z.number().int().positive().optional(),
    refundId: z.string().optional(),
    reason: z.string().min(1),
  }),
  modelSettings: { temperature: 0, maxOutputTokens: 500, timeoutMs: 30_000 },
  limits: { maxSteps: 8, maxCostUsd: 0.25, maxConsecutiveErrors: 3 },
  recordings: new URL('./recordings', import.meta.url),
});
