/**
 * MCP over Streamable HTTP, stateless: each POST gets a fresh Server and transport, so any
 * API process behind a load balancer answers any request (threads live in the store, not in
 * a session). A tool call's answer streams as SSE, carrying its progress notifications first.
 * GET (a server-initiated stream) and DELETE (ending a session) have nothing to offer here: 405.
 * The caller is authenticated before this runs (the API's bearer keys).
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createMcpServer, type McpServerOptions } from './server.js';

export async function handleMcpRequest(request: Request, options: McpServerOptions): Promise<Response> {
  if (request.method !== 'POST') {
    return Response.json(
      { jsonrpc: '2.0', error: { code: -32000, message: `${request.method} is not supported: this MCP endpoint is stateless, send JSON-RPC with POST` }, id: null },
      { status: 405, headers: { allow: 'POST' } },
    );
  }
  const server = createMcpServer(options);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return transport.handleRequest(request);
}
