/**
 * The MCP tools an agent becomes: `<agent>` launches a thread and waits for its output,
 * `<agent>_launch` launches without waiting, and one `thread_status` tool polls any thread.
 * Agent names never hold an underscore, so these names never collide. An agent whose input is
 * an object takes its input schema as the tool's; any other input (a string by default) is
 * the tool's one argument `input`. The answer's schema is one envelope for every outcome:
 * { threadId, agent, status, output?, waitingReason?, pending?, error? }.
 */
import { z } from 'zod';
import type { AgentRelease } from '../agent/release.js';
import { threadStatuses } from '../thread/state.js';

export type ToolTarget = { kind: 'run' | 'launch'; release: AgentRelease; wrapsInput: boolean } | { kind: 'status' };

export interface McpToolSpec {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown> & { type: 'object' };
  outputSchema: Record<string, unknown> & { type: 'object' };
  annotations: Record<string, boolean | string>;
  target: ToolTarget;
}

export const statusToolName = 'thread_status';
export const launchSuffix = '_launch';

/** Every tool these agents make, by name. */
export function mcpTools(releases: readonly AgentRelease[], waitSeconds: number): Map<string, McpToolSpec> {
  const tools = new Map<string, McpToolSpec>();
  for (const release of releases) {
    const { agent } = release;
    const inputJson = jsonSchemaOf(agent.inputSchema, 'input');
    const wrapsInput = inputJson.type !== 'object';
    const inputSchema = wrapsInput
      ? { type: 'object' as const, properties: { input: { ...inputJson, description: inputJson.description ?? `The ${agent.name} agent's input` } }, required: ['input'] }
      : (inputJson as McpToolSpec['inputSchema']);
    const outputSchema = envelope(release.outputJsonSchema ?? { type: 'string' });
    tools.set(agent.name, {
      name: agent.name,
      title: `${agent.name} agent`,
      description:
        `${agent.purpose} Runs the ${agent.name} agent as a durable thread and returns its output (progress notifications as it goes). ` +
        `If the thread waits for a person (an approval, a question, a review) or runs longer than ${waitSeconds} s, returns its threadId and status instead: poll with ${statusToolName}.`,
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: false, openWorldHint: true },
      target: { kind: 'run', release, wrapsInput },
    });
    tools.set(`${agent.name}${launchSuffix}`, {
      name: `${agent.name}${launchSuffix}`,
      title: `launch ${agent.name}`,
      description: `Launches the ${agent.name} agent (${agent.purpose}) as a durable thread and returns its threadId at once, without waiting: poll with ${statusToolName}.`,
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: false, openWorldHint: true },
      target: { kind: 'launch', release, wrapsInput },
    });
  }
  tools.set(statusToolName, {
    name: statusToolName,
    title: 'thread status',
    description:
      `A thread's status, and its output once completed (or its error, or what it waits for). ` +
      `With waitSeconds (at most ${waitSeconds}), waits up to that long for the thread to finish or to wait for a person, with progress notifications.`,
    inputSchema: {
      type: 'object',
      properties: {
        threadId: { type: 'string', minLength: 1, description: 'The threadId an agent tool returned' },
        waitSeconds: { type: 'number', minimum: 0, maximum: waitSeconds, description: 'Wait up to this long for the thread to stop moving (default 0: answer at once)' },
      },
      required: ['threadId'],
    },
    outputSchema: envelope({}),
    annotations: { readOnlyHint: true, openWorldHint: false },
    target: { kind: 'status' },
  });
  return tools;
}

/** The status tool's arguments, checked. */
export const statusArguments = z.object({ threadId: z.string().min(1, 'threadId must not be empty'), waitSeconds: z.number().min(0).optional() }).strict();

function envelope(output: Record<string, unknown>): McpToolSpec['outputSchema'] {
  return {
    type: 'object',
    properties: {
      threadId: { type: 'string' },
      agent: { type: 'string' },
      status: { type: 'string', enum: [...threadStatuses] },
      output,
      waitingReason: { type: 'string', description: 'What the thread waits for (a person, a deadline), when it waits' },
      pending: { type: 'array', items: { type: 'object' }, description: 'What people are asked for right now (approvals, questions, reviews)' },
      error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
    },
    required: ['threadId', 'agent', 'status'],
  };
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  try {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete json.$schema;
    return json;
  } catch {
    return {};
  }
}
