/**
 * A parent (triage) that hands refund requests to a child agent (refunder) through agentTool,
 * both on a priced OpenAI model id, and a scripted-server router that answers each agent by its
 * system prompt (stateless, so any worker, in any order, gets the same answers).
 */
import { z } from 'zod';
import { agentTool, defineAgent, defineTool, type AgentOptions } from '../../src/index.js';
import type { RecordedRequest, ScriptStep, ScriptedServer } from './scripted-openai-server.js';

export const model = 'openai:gpt-4o-2024-08-06';

export function agentToolAgents(options: { childApproval?: boolean; parent?: Partial<AgentOptions<any, any>>; child?: Partial<AgentOptions<any, any>> } = {}) {
  const refunds: Array<{ orderId: string; key: string }> = [];
  const refund = defineTool({
    name: 'refund',
    description: 'Refund an order',
    input: z.object({ orderId: z.string() }),
    approval: options.childApproval ? 'always' : 'never',
    effect: 'idempotent',
    run: ({ orderId }, ctx) => {
      if (!refunds.some((r) => r.key === ctx.idempotencyKey)) refunds.push({ orderId, key: ctx.idempotencyKey });
      return { refunded: orderId };
    },
  });
  const child = defineAgent({
    name: 'refunder',
    purpose: 'Refund one order',
    model,
    prompt: { text: 'ROLE: refunder. Refund the order in the request.' },
    input: z.object({ orderId: z.string(), reason: z.string() }),
    output: z.object({ refunded: z.boolean(), orderId: z.string() }),
    tools: [refund],
    ...options.child,
  } as AgentOptions<any, any>);
  const parent = defineAgent({
    name: 'triage',
    purpose: 'Route a customer message',
    model,
    prompt: { text: 'ROLE: triage. Route the message.' },
    tools: [agentTool(child, { name: 'handle_refund', description: 'Hand a refund request to the refunds agent' })],
    ...options.parent,
  } as AgentOptions<any, any>);
  return { parent, child, refunds };
}

const usage = { prompt_tokens: 100, completion_tokens: 10 };

/** The reply each agent gets for a request, judged from the request itself. */
export function routeByRole(request: RecordedRequest): ScriptStep {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content?: unknown }>;
  const system = String(messages.find((m) => m.role === 'system')?.content ?? '');
  const toolResults = messages.filter((m) => m.role === 'tool');
  if (system.includes('ROLE: refunder')) {
    if (toolResults.length === 0) return { toolCalls: [{ name: 'refund', arguments: { orderId: 'A-1001' } }], usage };
    return { text: JSON.stringify({ refunded: true, orderId: 'A-1001' }), usage };
  }
  if (toolResults.length === 0) return { toolCalls: [{ name: 'handle_refund', arguments: { orderId: 'A-1001', reason: 'damaged' } }], usage };
  return { text: `Done: ${String(toolResults[0]!.content)}`, usage };
}

export function routeAgents(server: ScriptedServer): void {
  server.setFallback(routeByRole);
}
