/**
 * The HTTP API's defences over real HTTP (node:http clients, so each test controls the
 * Host and Origin headers and every connection): the `twelve dev` key is handed out and
 * accepted only for requests from this machine that name it; response headers (CSP,
 * nosniff, Referrer-Policy, no-store); bodies nested too deep; every /v1 path answers JSON;
 * a failing /readyz names no host; and the limits: failed-authentication throttling,
 * connection cap, header and request timeouts.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRuntime } from '../src/index.js';
import { startServer } from '../src/server/serve.js';
import { apiAgents, keys, startApi, type TestApi } from './support/api.js';
import { eventually } from './support/cli.js';
import { testEnv } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

/** One request on its own connection (no pooling), with exactly the headers given (Host included). */
function raw(options: { port: number; path: string; method?: string; headers?: Record<string, string>; body?: string; address?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.address ?? '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        agent: false,
        setHost: false,
        headers: { host: `127.0.0.1:${options.port}`, connection: 'close', ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const devKey = 'tw_test_dev_boot_5a8e1f0c2b7d9e41';

async function devApi(extra: Parameters<typeof startApi>[0] = {}): Promise<TestApi> {
  return startApi({ apiKeys: [], console: true, ...extra, server: { bootKey: { key: devKey, name: 'dev' }, ...extra.server } });
}

describe('the twelve dev key', () => {
  it('is handed only to a request from this machine that names it: loopback peer, loopback Host with the port, same-origin', async () => {
    const api = await devApi();
    const port = api.server.port;
    const session = (headers: Record<string, string> = {}) => raw({ port, path: '/dev/session', headers });
    expect((await session()).body).toEqual({ apiKey: devKey, user: 'dev' });
    expect((await session({ host: `localhost:${port}` })).status).toBe(200);
    expect((await session({ host: `LOCALHOST:${port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // DNS rebinding: the victim's browser reaches 127.0.0.1, but the page's name is the attacker's.
    const rebound = await session({ host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.message).toMatch(/the dev key is handed only to this machine: its Host header is not 127\.0\.0\.1:\d+/);
    expect(rebound.text).not.toContain(devKey);
    expect((await session({ host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await session({ host: '127.0.0.1' })).status).toBe(403);
    expect((await session({ host: `127.0.0.1.evil.example:${port}` })).status).toBe(403);
    // Another site's page asking (a cross-site fetch or a <script src>).
    expect((await session({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await session({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await session({ origin: `http://127.0.0.1:${port}` })).status).toBe(200);

    // The console page itself never carries the key, and runs no inline script.
    const page = await raw({ port, path: '/', headers: { host: `evil.example:${port}` } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Twelve</title>');
    expect(page.text).not.toContain(devKey);
    for (const tag of page.text.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc=/);
  });

  it('is accepted only on requests from this machine that name it, and never for a cross-site write', async () => {
    const api = await devApi();
    const port = api.server.port;
    const auth = { authorization: `Bearer ${devKey}` };
    expect((await raw({ port, path: '/v1/me', headers: auth })).body).toEqual({ name: 'dev', roles: ['reader', 'operator', 'approver'] });
    const rebound = await raw({ port, path: '/v1/threads', headers: { ...auth, host: `evil.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.message).toMatch(/the twelve dev key is accepted only from this machine/);
    const body = JSON.stringify({ agent: 'echo', input: 'hi' });
    const crossSite = await raw({ port, path: '/v1/threads', method: 'POST', body, headers: { ...auth, origin: 'http://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.message).toMatch(/Origin \(http:\/\/evil\.example\) is not this server/);
    expect(await api.runtime.listThreads()).toHaveLength(0);
    const sameOrigin = await raw({ port, path: '/v1/threads', method: 'POST', body, headers: { ...auth, origin: `http://localhost:${port}` } });
    expect(sameOrigin.status).toBe(201);
    const noOrigin = await raw({ port, path: '/v1/threads', method: 'POST', body, headers: auth }); // curl, the CLI
    expect(noOrigin.status).toBe(201);
  });

  it('is refused to a peer on another address even with a loopback Host, when the server listens beyond loopback', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const api = await devApi({ server: { bootKey: { key: devKey, name: 'dev' }, host: '0.0.0.0' } });
    const port = api.server.port;
    expect((await raw({ port, path: '/dev/session' })).status).toBe(200); // over loopback
    if (!external) return; // a machine with no other interface has no other peer to test with
    const remote = await raw({ port, path: '/dev/session', address: external });
    expect(remote.status).toBe(403);
    expect(remote.body.error.message).toMatch(/it does not come from this machine/);
    expect((await raw({ port, path: '/v1/me', address: external, headers: { authorization: `Bearer ${devKey}` } })).status).toBe(403);
  });

  it('is never served alongside configured keys, and only twelve dev has one', async () => {
    const runtime = createRuntime({ ...apiAgents(), env: testEnv({ dbFile: join(tempDir(), 'twelve.db') }) });
    onTestFinished(() => runtime.close());
    await expect(startServer({ runtime, port: 0, apiKeys: [keys.admin], bootKey: { key: devKey, name: 'dev' } })).rejects.toThrow(/a dev console key cannot be served alongside TWELVE_API_KEYS/);
    const api = await startApi({ console: true });
    const none = await raw({ port: api.server.port, path: '/dev/session' });
    expect(none.status).toBe(404);
    expect(none.body.error.message).toMatch(/only `twelve dev` without TWELVE_API_KEYS/);
  });
});

describe('response headers', () => {
  it('sends CSP (no inline script, no framing), nosniff, Referrer-Policy, and no-store on the API', async () => {
    const api = await startApi({ console: true });
    const port = api.server.port;
    const thread = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'x' } });
    for (const [path, headers] of [
      ['/v1/threads', { authorization: `Bearer ${keys.reader.key}` }],
      ['/v1/threads', {}], // 401
      ['/v1/nothing', { authorization: `Bearer ${keys.reader.key}` }], // 404
      [`/v1/threads/${thread.body.thread.id}/events`, { authorization: `Bearer ${keys.reader.key}` }],
      ['/metrics', { authorization: `Bearer ${keys.reader.key}` }],
    ] as const) {
      const response = await raw({ port, path, headers });
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['referrer-policy'], path).toBe('no-referrer');
      expect(response.headers['cache-control'], path).toBe('no-store');
      expect(response.headers['content-security-policy'], path).toMatch(/frame-ancestors 'none'/);
      expect(response.headers['x-frame-options'], path).toBe('DENY');
    }
    for (const path of ['/', '/app.js', '/styles.css']) {
      const response = await raw({ port, path });
      expect(response.status, path).toBe(200);
      const csp = response.headers['content-security-policy'] as string;
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['referrer-policy'], path).toBe('no-referrer');
    }
    const health = await raw({ port, path: '/healthz' });
    expect(health.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('request bodies and paths', () => {
  it('answers 400 (not 500) for JSON nested deeper than 64 levels, and takes reasonable nesting', async () => {
    const api = await startApi();
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    for (const body of [`{"agent":"echo","input":"x","metadata":{"a":${deep(10_000)}}}`, `{"agent":"structured","input":${deep(10_000)}}`, deep(100_000)]) {
      const response = await api.call('POST', '/v1/threads', { key: 'ops', raw: body, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_json', message: 'the JSON body nests deeper than 64 levels' });
    }
    const answer = await api.call('POST', '/v1/threads/th_x/answer', { key: 'fiona', raw: `{"answer":${deep(5000)}}`, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const text = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: '['.repeat(1000) } });
    expect(text.status).toBe(201);
    let nested: unknown = 'leaf';
    for (let i = 0; i < 60; i++) nested = { n: nested };
    const fine = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'x', metadata: { nested } } });
    expect(fine.status, fine.text).toBe(201);
    expect(await api.runtime.listThreads()).toHaveLength(2);
  });

  it('answers every unknown /v1 path with a JSON 404, even where the console serves its page for other paths', async () => {
    const api = await startApi({ console: true });
    for (const path of ['/v1', '/v1/', '/v1/nothing-here', '/v1/threads/th_1/nothing', '/v1/agents/x/y']) {
      const response = await api.call('GET', path, { key: 'reader' });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(response.body.error.code, path).toBe('not_found');
    }
    // The console's own routes still get its page.
    const page = await api.call('GET', '/threads/th_1', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('says only that the store is unavailable on a failing /readyz, never where it is', async () => {
    // A real PostgreSQL URL with nothing listening: every query fails to connect.
    const runtime = createRuntime({ ...apiAgents(), env: { ...testEnv({ dbFile: join(tempDir(), 'unused.db') }), TWELVE_DATABASE_URL: 'postgres://twelve:secret@127.0.0.1:9/twelve' } });
    onTestFinished(() => runtime.close().catch(() => undefined));
    const server = await startServer({ runtime, port: 0, apiKeys: [keys.admin] });
    onTestFinished(() => server.close());
    const ready = await raw({ port: server.port, path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, reason: 'store_unavailable' });
    expect(ready.text).not.toMatch(/127\.0\.0\.1|:9\b|twelve:secret|ECONNREFUSED/);
  });
});

describe('limits', () => {
  it('throttles failed authentication per address: 429 with Retry-After past the burst, for every key, until it refills', async () => {
    // A clock the test moves: how fast this machine sends 100 requests must not refill the bucket.
    let now = Date.parse('2026-12-01T12:00:00Z');
    const api = await startApi({ server: { authThrottle: { burst: 10, perSecond: 5, now: () => now } } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 100; i++) {
      const response = await api.call('GET', '/v1/me', { key: `tw_guess_${i.toString().padStart(20, '0')}` });
      statuses.push(response.status);
      if (response.status === 429) retryAfter ??= response.headers.get('retry-after');
    }
    expect(statuses.slice(0, 10)).toEqual(new Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(new Array(90).fill(429));
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // While throttled, a right key gets no answer either (else 429 vs 200 would still tell a guesser which key is right).
    const blocked = await api.call('GET', '/v1/me', { key: 'reader' });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toMatchObject({ code: 'too_many_requests', details: { retryAfterSeconds: expect.any(Number) } });
    // Signed webhooks share the throttle; unauthenticated endpoints do not.
    expect((await api.call('POST', '/v1/hooks/echo', { key: null, raw: '{}', headers: { 'x-twelve-delivery': 'd', 'x-twelve-signature': 't=1,v2=00' } })).status).toBe(429);
    expect((await api.call('GET', '/healthz', { key: null })).status).toBe(200);
    // The bucket refills: one failure is forgiven every 200 ms.
    now += 150;
    expect((await api.call('GET', '/v1/me', { key: 'reader' })).status).toBe(429);
    now += 100;
    expect((await api.call('GET', '/v1/me', { key: 'reader' })).status).toBe(200);
  });

  it('closes connections beyond the cap, and accepts again once one closes', async () => {
    const api = await startApi({ worker: true, server: { limits: { maxConnections: 2 } } });
    const port = api.server.port;
    // Two open event streams hold two connections.
    const launched = await raw({ port, path: '/v1/threads', method: 'POST', body: JSON.stringify({ agent: 'payer', input: 'pay 400' }), headers: { authorization: `Bearer ${keys.ops.key}` } });
    const threadId = launched.body.thread.id as string;
    const streams = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<import('node:http').ClientRequest>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path: `/v1/threads/${threadId}/stream`, agent: false, headers: { authorization: `Bearer ${keys.reader.key}` } }, (res) => {
              expect(res.statusCode).toBe(200);
              res.resume();
              resolve(req);
            });
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    await expect(raw({ port, path: '/healthz' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    streams[0]!.destroy();
    await eventually(async () => (await raw({ port, path: '/healthz' }).catch(() => undefined))?.status === 200);
    streams[1]!.destroy();
  });

  it('cuts a client that sends its headers too slowly, and one that never finishes its body', async () => {
    const api = await startApi({ server: { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } } });
    const port = api.server.port;
    const openSocket = (data: string) =>
      new Promise<{ closedAfterMs: number; received: string }>((resolve, reject) => {
        const started = Date.now();
        let received = '';
        const socket = connect(port, '127.0.0.1', () => socket.write(data));
        socket.on('data', (chunk) => (received += chunk.toString('utf8')));
        socket.on('close', () => resolve({ closedAfterMs: Date.now() - started, received }));
        socket.on('error', reject);
        // A generous deadline, not a timing assertion: without the limits Node waits minutes.
        setTimeout(() => {
          socket.destroy();
          reject(new Error('the server kept the slow connection open'));
        }, 20_000).unref();
      });
    const slowHeaders = await openSocket(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    expect(slowHeaders.received).toMatch(/^HTTP\/1\.1 408|^$/);
    const slowBody = await openSocket(`POST /v1/threads HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${keys.ops.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"agent":`);
    expect(slowBody.received).toMatch(/^HTTP\/1\.1 408|^$/);
    expect(await api.runtime.listThreads()).toHaveLength(0);
  });
});
