/**
 * An MCP server as the project config declares it: a command Twelve starts and speaks to over
 * stdio, or a Streamable HTTP endpoint. Checked once, every problem named with its place.
 *
 *   mcpServers: {
 *     files: { command: 'node', args: ['server.js'], env: { ROOT: '/data' } },
 *     search: { url: 'https://search.example.com/mcp', headers: { authorization: 'Bearer ...' } },
 *   }
 */
import { z } from 'zod';
import { TwelveError } from '../errors.js';

export interface McpStdioServer {
  command: string;
  args?: string[];
  /** Added to a minimal default environment (PATH, HOME...): the server does not see all of this process's variables. */
  env?: Record<string, string>;
  cwd?: string;
  /** How long to wait for the server to answer initialize and tools/list (default 10 000 ms). */
  connectTimeoutMs?: number;
}

export interface McpHttpServer {
  url: string;
  headers?: Record<string, string>;
  connectTimeoutMs?: number;
}

export type McpServerConfig = McpStdioServer | McpHttpServer;

const timeout = z.number().int().positive().optional();
const stdio = z.object({ command: z.string().min(1), args: z.array(z.string()).optional(), env: z.record(z.string(), z.string()).optional(), cwd: z.string().min(1).optional(), connectTimeoutMs: timeout }).strict();
const http = z.object({ url: z.url({ protocol: /^https?$/ }), headers: z.record(z.string(), z.string()).optional(), connectTimeoutMs: timeout }).strict();

export const defaultConnectTimeoutMs = 10_000;

/** The servers of a config, or a config error listing every problem ("mcpServers.files.command: ..."). */
export function parseMcpServers(value: unknown, where = 'mcpServers'): Record<string, McpServerConfig> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TwelveError('config_invalid', `${where} must be an object of server name -> { command, args } or { url }`);
  const problems: string[] = [];
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, spec] of Object.entries(value)) {
    if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/.test(name)) problems.push(`${where}.${name}: a server name uses letters, digits, _ and - and starts with a letter`);
    const schema = spec && typeof spec === 'object' && 'url' in spec ? http : stdio;
    const parsed = schema.safeParse(spec);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${where}.${name}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
      continue;
    }
    servers[name] = parsed.data as McpServerConfig;
  }
  if (problems.length > 0) {
    throw new TwelveError('config_invalid', `invalid MCP server configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  }
  return servers;
}

/** The server in words, for errors: "node server.js" or its URL. */
export function describeServer(config: McpServerConfig): string {
  return 'url' in config ? config.url : [config.command, ...(config.args ?? [])].join(' ');
}
