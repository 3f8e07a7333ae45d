/**
 * agentTool: a whole agent offered to another as one tool. The parent's call launches a
 * durable child thread of that agent (its id derived from the call's idempotency key, so a
 * retry never launches two); the parent waits without holding a worker, and the child's
 * output, validated against its output schema, becomes the call's result
 * (runtime/child-threads.ts performs it).
 */
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import type { Agent } from './define-agent.js';
import { defineTool, type ApprovalPolicy, type Tool } from './define-tool.js';
import type { DeciderSpec } from './deciders.js';

export interface AgentToolOptions {
  /** The tool's name as the model sees it (default: the agent's name with dashes as underscores). */
  name?: string;
  /** What the model reads (default: the agent's purpose). */
  description?: string;
  /** Whether a person approves the hand-over before the child is launched (default "never"). */
  approval?: ApprovalPolicy;
  approvers?: DeciderSpec;
  approvalTimeoutMs?: number;
  onApprovalTimeout?: 'approve' | 'reject';
}

/** What the runtime needs to know of an agentTool beyond a tool: which agent it launches, and how its arguments become that agent's input. */
export interface ChildAgentSettings {
  agent: Agent;
  /** The child's input from the call's (validated) arguments. */
  inputOf: (args: unknown) => unknown;
}

export type AgentTool = Tool & { readonly child: ChildAgentSettings };

/** The child settings of a tool made by agentTool, or undefined for any other tool. */
export function childOf(tool: Tool | undefined): ChildAgentSettings | undefined {
  return (tool as Partial<AgentTool> | undefined)?.child;
}

/**
 * @example
 * const triage = defineAgent({
 *   name: 'triage',
 *   purpose: 'Route a customer message to the agent that handles it',
 *   model: 'openai:gpt-4o-mini-2024-07-18',
 *   prompt: 'Route this message: {{input}}',
 *   tools: [agentTool(refunds, { description: 'Hand a refund request to the refunds agent' })],
 * });
 * const runtime = createRuntime({ agents: [triage, refunds] }); // the child must be registered too
 */
export function agentTool(childAgent: Agent, options: AgentToolOptions = {}): AgentTool {
  if (childAgent?.kind !== 'twelve.agent') throw new TwelveError('agent_invalid', 'agentTool: the first argument must be an agent created with defineAgent');
  // Providers take an object of arguments: an agent whose input is an object takes them as they are,
  // any other input (a string, by default) is wrapped as { input }.
  const objectInput = isObjectSchema(childAgent.inputSchema);
  const input = objectInput ? childAgent.inputSchema : z.object({ input: childAgent.inputSchema });
  const tool = defineTool({
    name: options.name ?? childAgent.name.replace(/-/g, '_'),
    description: options.description ?? childAgent.purpose,
    input,
    // Launching is create-if-absent under the call's key: running the call twice launches one child.
    effect: 'idempotent',
    ...(options.approval !== undefined ? { approval: options.approval } : {}),
    ...(options.approvers !== undefined ? { approvers: options.approvers } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(options.onApprovalTimeout !== undefined ? { onApprovalTimeout: options.onApprovalTimeout } : {}),
    run: () => {
      throw new TwelveError('internal', `agentTool ${childAgent.name}: runs as a child thread, never as a function`);
    },
  });
  const child: ChildAgentSettings = { agent: childAgent, inputOf: objectInput ? (args) => args : (args) => (args as { input: unknown }).input };
  return Object.assign(tool, { child });
}

function isObjectSchema(schema: z.ZodType): boolean {
  try {
    return (z.toJSONSchema(schema, { io: 'input' }) as { type?: unknown }).type === 'object';
  } catch {
    return false;
  }
}
