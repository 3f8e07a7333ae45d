/**
 * mcpTools(server, options): the tools of an MCP server, as an agent lists them in `tools`.
 * What the server offers is only known once connected, so this is a placeholder that
 * connectMcpTools (src/mcp/connect.ts) turns into real tools at start and at `twelve build`;
 * until then the agent cannot run (a runtime refuses it, saying so). No I/O here.
 */
import type { DeciderSpec } from '../agent/deciders.js';
import type { ApprovalPolicy, ToolEffect } from '../agent/define-tool.js';
import { toolEffects } from '../agent/define-tool.js';
import type { Agent } from '../agent/define-agent.js';
import { TwelveError } from '../errors.js';

export interface McpToolsOptions {
  /** The server's tools to use (default: every tool it lists). A name it does not list is an error at start. */
  tools?: string[];
  /** Approval per tool, as any tool's `approval` (default "never"). */
  approval?: Record<string, ApprovalPolicy<Record<string, unknown>>>;
  /** Who may approve, per tool. */
  approvers?: Record<string, DeciderSpec>;
  /** Effect class per tool, as any tool's `effect` (default "external"). */
  effect?: Record<string, ToolEffect>;
  /** Abort a call after this many milliseconds (default 60 000), per tool or for all. */
  timeoutMs?: number | Record<string, number>;
}

export interface McpToolSet {
  readonly kind: 'twelve.mcp-tools';
  readonly server: string;
  readonly options: McpToolsOptions;
}

/**
 * @example
 * defineAgent({ ..., tools: [mcpTools('files', { tools: ['read_file', 'delete_file'], approval: { delete_file: 'always' }, effect: { read_file: 'pure' } })] })
 */
export function mcpTools(server: string, options: McpToolsOptions = {}): McpToolSet {
  const where = `mcpTools('${server}')`;
  if (typeof server !== 'string' || !server) throw new TwelveError('agent_invalid', `mcpTools: the first argument is the server's name in the config's mcpServers`);
  const named = options.tools ? new Set(options.tools) : undefined;
  for (const field of ['approval', 'approvers', 'effect'] as const) {
    for (const tool of Object.keys(options[field] ?? {})) {
      if (named && !named.has(tool)) throw new TwelveError('agent_invalid', `${where}: ${field}.${tool} names a tool not in tools (${[...named].join(', ')})`);
    }
  }
  for (const [tool, effect] of Object.entries(options.effect ?? {})) {
    if (!toolEffects.includes(effect)) throw new TwelveError('agent_invalid', `${where}: effect.${tool} must be "pure", "idempotent" or "external" (got ${JSON.stringify(effect)})`);
  }
  return { kind: 'twelve.mcp-tools', server, options };
}

export function isMcpToolSet(value: unknown): value is McpToolSet {
  return typeof value === 'object' && value !== null && (value as McpToolSet).kind === 'twelve.mcp-tools';
}

/** A runtime runs only agents whose MCP tools were connected (connectMcpTools). */
export function assertMcpResolved(agent: Agent): void {
  const sets = agent.mcpToolSets ?? [];
  if (sets.length === 0) return;
  throw new TwelveError(
    'config_invalid',
    `agent ${agent.name} uses tools of MCP server${sets.length === 1 ? '' : 's'} ${sets.map((s) => `"${s.server}"`).join(', ')}: connect them first (const mcp = await connectMcpTools(agents, servers); createRuntime({ agents: mcp.agents, mcp })), or run it with the twelve CLI and the config's mcpServers`,
  );
}
