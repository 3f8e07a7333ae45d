/**
 * The MCP connections a process opened (src/mcp/connect.ts registers each), so that the CLI can
 * close them all before it exits: a stdio server is a child process, and an open one would keep
 * the process alive or outlive it. Kept apart from connect.ts so that importing it loads no SDK.
 */
const open = new Set<{ close(): Promise<void> }>();

export function trackConnection(connection: { close(): Promise<void> }): () => void {
  open.add(connection);
  return () => open.delete(connection);
}

/** Closes every connection still open (each once; errors are ignored: the process is ending). */
export async function closeOpenMcpConnections(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((connection) => connection.close().catch(() => undefined)));
}
