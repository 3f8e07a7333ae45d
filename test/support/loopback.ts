/** An HTTP server of a test, listening on 127.0.0.1 (a free port), and a close that does not wait for open connections. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenOnLoopback(server: Server, beforeClose?: () => void): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      beforeClose?.();
      server.close(() => resolve());
      // server.close() alone waits for keep-alive and hanging requests; destroy them.
      server.closeAllConnections();
    }));
  return { port, close };
}

/**
 * An HTTP server that reads each request's whole body, then hands it to `handle`; a throw in
 * `handle` is the script's bug, answered by `onBug` (when nothing was sent yet).
 */
export function bodyServer(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void, onBug: (res: ServerResponse, error: unknown) => void): Server {
  return createServer((req, res) => {
    // Client aborts surface as ECONNRESET on these streams; without listeners they would crash the test process.
    req.on('error', () => {});
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        if (!res.headersSent) onBug(res, error);
      }
    });
  });
}
