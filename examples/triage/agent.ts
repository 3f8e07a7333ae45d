/**
 * triage: reads one customer message and routes it. Refund requests go to the refunds agent
 * (examples/refunds) through agentTool: a child thread of its own, with its own tools,
 * approvals and budget (capped by what triage has left), whose answer comes back as the
 * tool's result. Anything else gets a short reply here.
 */
import { z } from 'zod';
import { agentTool, defineAgent } from 'twelve-agents';
import refunds from '../refunds/agent.js';

export default defineAgent({
  name: 'triage',
  purpose: 'Route one customer message: refund requests to the refunds agent, a short reply for anything else.',
  model: 'openai:gpt-4o-mini-2024-07-18',
  prompt: new URL('./prompt.md', import.meta.url),
  tools: [
    agentTool(refunds, {
      name: 'handle_refund',
      description: "Hand a refund request to the refunds agent. Pass the customer's message as it is; it answers with its decision.",
    }),
  ],
  output: z.object({
    route: z.enum(['refunds', 'reply']),
    reply: z.string().min(1).max(600),
  }),
  modelSettings: { temperature: 0, maxOutputTokens: 300 },
  // The refunds child spends from this too: it gets at most what is left when it starts.
  limits: { maxSteps: 4, maxCostUsd: 0.3 },
  recordings: new URL('./recordings', import.meta.url),
});
