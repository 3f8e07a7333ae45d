/**
 * A real HTTP webhook receiver for tests, on 127.0.0.1 and an ephemeral port. It records every
 * request with its raw body (signatures are over the exact bytes) and answers from a script of
 * behaviours (a status, a hang, a dropped socket), then 200 once the script is used up.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverBehaviour = { status: number; headers?: Record<string, string> } | { hang: true } | { destroy: true };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: any;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Queue `behaviour` for the next `times` requests. */
  script(behaviour: ReceiverBehaviour, times?: number): void;
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const queue: ReceiverBehaviour[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body });
      const behaviour = queue.shift() ?? { status: 200 };
      if ('hang' in behaviour) return; // never answer; the client must time out
      if ('destroy' in behaviour) return void req.socket.destroy();
      res.writeHead(behaviour.status, behaviour.headers).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/twelve`,
    requests,
    script(behaviour, times = 1) {
      for (let i = 0; i < times; i++) queue.push(behaviour);
    },
    async waitFor(count, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} webhook requests, got ${requests.length}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      // Hanging requests and keep-alive sockets would otherwise hold close() (and the test file) open.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
