/**
 * MCP client: tools from MCP servers (stdio and Streamable HTTP) declared in config, used by
 * agents through mcpTools(...), pinned in the release, checked for drift at start. The public
 * surface; the SDK itself loads only when something connects.
 *   server-config.ts  what a config declares          tool-set.ts   mcpTools() placeholders
 *   connect.ts        servers -> real tools           drift.ts      servers vs twelve.lock.json
 *   open-connections.ts  what the CLI closes before it exits
 */
import type { Agent } from '../agent/define-agent.js';
import type { McpConnections } from './connect.js';
import type { McpServerConfig } from './server-config.js';

export { mcpTools, isMcpToolSet, type McpToolSet, type McpToolsOptions } from './tool-set.js';
export type { McpServerConfig, McpStdioServer, McpHttpServer } from './server-config.js';
export type { McpConnections, ListedTool } from './connect.js';

/**
 * Connects the servers the agents' mcpTools(...) name and returns the agents with real tools.
 * @example
 * const mcp = await connectMcpTools([agent], { files: { command: 'node', args: ['server.js'] } });
 * const runtime = createRuntime({ agents: mcp.agents, mcp });
 */
export async function connectMcpTools(agents: readonly Agent[], servers: Readonly<Record<string, McpServerConfig>>): Promise<McpConnections> {
  const [{ connectMcpTools: connect }, { parseMcpServers }] = await Promise.all([import('./connect.js'), import('./server-config.js')]);
  return connect(agents, parseMcpServers(servers));
}
