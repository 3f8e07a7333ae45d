/**
 * connectMcpTools: the MCP tool sets of agents (mcpTools(...)) made into real tools. Each server
 * an agent uses is connected once (stdio: a child process; Streamable HTTP: a URL), its tools
 * listed, and each chosen tool becomes a Tool like any other: the server's input JSON Schema is
 * what the model sees and what the release pins, approval and effect come from mcpTools'
 * options, and run calls the server with the call's idempotency key in `_meta`, the tool's
 * timeout and the step's abort signal. A server that cannot be reached, a tool it does not list,
 * a name that clashes: one config error naming each, and every connection opened is closed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import type { Agent } from '../agent/define-agent.js';
import { defineTool, type Tool, type ToolContext } from '../agent/define-tool.js';
import { TwelveError, errorMessage } from '../errors.js';
import { version } from '../version.js';
import { trackConnection } from './open-connections.js';
import { defaultConnectTimeoutMs, describeServer, type McpServerConfig } from './server-config.js';
import type { McpToolSet } from './tool-set.js';

/** A tool as the server lists it. */
export interface ListedTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface McpConnections {
  /** The agents, their MCP tool sets replaced by the servers' tools. */
  agents: Agent[];
  /** What each server listed when connected. */
  listed: ReadonlyMap<string, readonly ListedTool[]>;
  /** Closes every connection (stdio servers' processes end). Safe to call twice. */
  close(): Promise<void>;
}

/** One server's connection: opened at start, reopened on the next call if it dropped. */
class ServerConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private closed = false;
  private stderrTail = '';
  private readonly untrack: () => void;

  constructor(readonly name: string, readonly config: McpServerConfig) {
    this.untrack = trackConnection(this);
  }

  /** A connected client (connects on first use, and again after the connection dropped). */
  async connected(): Promise<Client> {
    if (this.closed) throw new Error(`the connection to MCP server "${this.name}" is closed (the runtime shut down)`);
    if (this.client) return this.client;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const config = this.config;
    const timeoutMs = config.connectTimeoutMs ?? defaultConnectTimeoutMs;
    const client = new Client({ name: 'twelve', version });
    let transport;
    if ('url' in config) {
      transport = new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} } });
    } else {
      const stdio = new StdioClientTransport({ command: config.command, args: config.args ?? [], env: { ...getDefaultEnvironment(), ...config.env }, ...(config.cwd ? { cwd: config.cwd } : {}), stderr: 'pipe' });
      // The server's last words, for the error when it dies at start.
      stdio.stderr?.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString()).slice(-1000)));
      transport = stdio;
    }
    client.onclose = () => {
      if (this.client === client) this.client = undefined;
    };
    try {
      await client.connect(transport, { timeout: timeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      const said = this.stderrTail.trim() ? ` (its stderr: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')})` : '';
      throw new Error(`MCP server "${this.name}" (${describeServer(config)}) is not reachable: ${errorMessage(error)}${said}`, { cause: error });
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new Error(`the connection to MCP server "${this.name}" is closed (the runtime shut down)`);
    }
    this.client = client;
    return client;
  }

  async listTools(): Promise<ListedTool[]> {
    const client = await this.connected();
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.config.connectTimeoutMs ?? defaultConnectTimeoutMs });
      for (const tool of page.tools) tools.push({ name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), inputSchema: { ...(tool.inputSchema as Record<string, unknown>) } });
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.untrack();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}

/**
 * @example
 * const mcp = await connectMcpTools(agents, { files: { command: 'node', args: ['server.js'] } });
 * const runtime = createRuntime({ agents: mcp.agents, mcp }); // closed with the runtime
 */
export async function connectMcpTools(agents: readonly Agent[], servers: Readonly<Record<string, McpServerConfig>>): Promise<McpConnections> {
  const used = new Map<string, string[]>();
  for (const agent of agents) for (const set of agent.mcpToolSets ?? []) used.set(set.server, [...(used.get(set.server) ?? []), agent.name]);
  const problems: string[] = [];
  for (const [server, users] of used) {
    if (!Object.hasOwn(servers, server)) problems.push(`agent ${users.join(', ')} uses MCP server "${server}", which the config's mcpServers does not declare (declared: ${Object.keys(servers).join(', ') || 'none'})`);
  }
  if (problems.length > 0) throw configError(problems);
  const connections = new Map([...used.keys()].map((server) => [server, new ServerConnection(server, servers[server]!)]));
  const closeAll = async () => {
    await Promise.all([...connections.values()].map((c) => c.close()));
  };
  const listed = new Map<string, ListedTool[]>();
  await Promise.all(
    [...connections].map(async ([server, connection]) => {
      try {
        listed.set(server, await connection.listTools());
      } catch (error) {
        problems.push(errorMessage(error));
      }
    }),
  );
  const resolved: Agent[] = [];
  if (problems.length === 0) {
    for (const agent of agents) resolved.push(resolveAgent(agent, connections, listed, problems));
  }
  if (problems.length > 0) {
    await closeAll();
    throw configError(problems);
  }
  return { agents: resolved, listed, close: closeAll };
}

function configError(problems: string[]): TwelveError {
  return new TwelveError('config_invalid', `MCP tools cannot be used (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, { details: { problems } });
}

/** The agent with its tool sets replaced by tools, in the order `tools` listed them. */
function resolveAgent(agent: Agent, connections: Map<string, ServerConnection>, listed: Map<string, ListedTool[]>, problems: string[]): Agent {
  const sets = agent.mcpToolSets ?? [];
  if (sets.length === 0) return agent;
  const tools = new Map<string, Tool>();
  const add = (tool: Tool, from: string) => {
    if (tools.has(tool.name)) problems.push(`agent ${agent.name}: two tools are named "${tool.name}" (${from})`);
    else tools.set(tool.name, tool);
  };
  for (const entry of agent.options.tools ?? []) {
    if ((entry as McpToolSet).kind !== 'twelve.mcp-tools') {
      add(entry as Tool, 'one in code');
      continue;
    }
    const set = entry as McpToolSet;
    const offered = listed.get(set.server)!;
    const byName = new Map(offered.map((tool) => [tool.name, tool]));
    const wanted = set.options.tools ?? offered.map((tool) => tool.name);
    for (const name of wanted) {
      const tool = byName.get(name);
      if (!tool) {
        problems.push(`agent ${agent.name}: MCP server "${set.server}" has no tool "${name}" (it lists ${offered.map((t) => t.name).join(', ') || 'none'})`);
        continue;
      }
      try {
        add(mcpTool(connections.get(set.server)!, set, tool), `one from MCP server "${set.server}"`);
      } catch (error) {
        problems.push(`agent ${agent.name}: MCP server "${set.server}", tool ${name}: ${errorMessage(error)}`);
      }
    }
  }
  for (const [index, step] of (agent.options.prefetch ?? []).entries()) {
    if (!tools.has(step.tool)) problems.push(`agent ${agent.name}: prefetch[${index}] names tool "${step.tool}", which is not in tools`);
  }
  const { mcpToolSets: _sets, ...rest } = agent;
  return { ...rest, tools };
}

function mcpTool(connection: ServerConnection, set: McpToolSet, listed: ListedTool): Tool {
  const { options, server } = set;
  const timeoutMs = typeof options.timeoutMs === 'number' ? options.timeoutMs : options.timeoutMs?.[listed.name];
  const tool = defineTool({
    name: listed.name,
    description: listed.description?.trim() || `${listed.name} (a tool of MCP server ${server})`,
    // The server validates arguments against its own schema; its error comes back as the call's failure.
    input: z.looseObject({}),
    ...(options.approval?.[listed.name] !== undefined ? { approval: options.approval[listed.name] } : {}),
    ...(options.approvers?.[listed.name] !== undefined ? { approvers: options.approvers[listed.name] } : {}),
    ...(options.effect?.[listed.name] !== undefined ? { effect: options.effect[listed.name] } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    run: (input, ctx) => callTool(connection, listed.name, input, ctx, timeoutMs ?? 60_000),
  });
  const inputJsonSchema = { ...listed.inputSchema };
  delete inputJsonSchema.$schema;
  return { ...tool, inputJsonSchema, mcp: { server, tool: listed.name } } as unknown as Tool;
}

async function callTool(connection: ServerConnection, name: string, args: Record<string, unknown>, ctx: ToolContext, timeoutMs: number): Promise<unknown> {
  const client = await connection.connected();
  const result = await client.callTool(
    { name, arguments: args, _meta: { idempotencyKey: ctx.idempotencyKey, attempt: ctx.attempt } },
    undefined,
    { signal: ctx.signal, timeout: timeoutMs },
  );
  const content = (result.content ?? []) as Array<{ type: string; text?: string }>;
  const text = content.every((part) => part.type === 'text') ? content.map((part) => part.text ?? '').join('\n') : undefined;
  if (result.isError) throw new Error(`MCP server "${connection.name}": ${text || 'the tool reported an error'}`);
  if (result.structuredContent !== undefined) return result.structuredContent;
  return text ?? content;
}
