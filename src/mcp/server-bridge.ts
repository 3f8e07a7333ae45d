/**
 * `twelve mcp` with TWELVE_URL: stdio here, the server's /mcp there. JSON-RPC messages pass
 * through unchanged both ways (progress notifications included), so an MCP client that can
 * only start a command reaches a remote Twelve, as TWELVE_API_KEY's owner; the server's
 * workers run the threads. A request the server cannot be reached for gets a JSON-RPC error.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../errors.js';

export interface Bridge {
  /** Resolves when either side closes. */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function bridgeStdioToHttp(options: { url: string; apiKey: string }): Promise<Bridge> {
  const endpoint = new URL(`${options.url.replace(/\/+$/, '')}/mcp`);
  const upstream = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${options.apiKey}` } } });
  const local = new StdioServerTransport();
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  local.onmessage = (message: JSONRPCMessage) => {
    upstream.send(message).catch((error: unknown) => {
      if (!('method' in message) || !('id' in message)) return;
      void local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `twelve mcp: ${endpoint.href}: ${errorMessage(error)}` } }).catch(() => undefined);
    });
  };
  upstream.onmessage = (message) => void local.send(message).catch(() => undefined);
  upstream.onerror = (error) => process.stderr.write(`twelve mcp: ${endpoint.href}: ${errorMessage(error)}\n`);
  local.onclose = onClosed;
  upstream.onclose = onClosed;
  process.stdin.once('end', onClosed);
  await upstream.start();
  await local.start();
  return {
    closed,
    close: async () => {
      await upstream.close().catch(() => undefined);
      await local.close().catch(() => undefined);
    },
  };
}
