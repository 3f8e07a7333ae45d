/**
 * The HTTP API under bad input: a few hundred seeded random requests (methods, paths,
 * headers, bodies) never crash the server or make it answer 5xx; and with TWELVE_LOG=json no
 * API key ever reaches the log, whatever the requests carry.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../src/config/redact.js';
import { createLogger } from '../src/log/logger.js';
import { parseApiKeys } from '../src/server/auth.js';
import { signWebhook } from '../src/notify/webhook.js';
import { hookSecret, keys, startApi } from './support/api.js';
import { eventually } from './support/cli.js';
import { prng } from './support/hitl.js';
import { testEnv } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

function lineSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

const keyValues = Object.values(keys).map((k) => k.key);

describe('bad input', () => {
  it('survives a few hundred random requests: no 5xx, no crash, /healthz still answers', async () => {
    const log = lineSink();
    // Unthrottled: the mix has many wrong keys, and past the authentication throttle every request would be 429.
    const api = await startApi({ logger: createLogger({ format: 'json', destination: log.stream }), server: { authThrottle: { burst: 100_000 } } });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'a real thread' } });
    const realId = launched.body.thread.id as string;
    await api.runtime.runThread(realId); // completed: its stream ends at once
    const random = prng(Number(process.env.TWELVE_FUZZ_SEED ?? 20261127)); // another seed: TWELVE_FUZZ_SEED=n
    const routes: Array<[string, string]> = [
      ['POST', '/v1/threads'],
      ['GET', '/v1/threads'],
      ['GET', `/v1/threads/${realId}`],
      ['GET', `/v1/threads/${realId}/events`],
      ['GET', `/v1/threads/${realId}/stream`],
      ['POST', `/v1/threads/${realId}/approvals`],
      ['POST', `/v1/threads/${realId}/answer`],
      ['POST', `/v1/threads/${realId}/budget`],
      ['POST', `/v1/threads/${realId}/pause`],
      ['POST', '/v1/threads/th_nope/resume'],
      ['POST', '/v1/threads/th_nope/cancel'],
      ['GET', '/v1/inbox'],
      ['GET', '/v1/agents'],
      ['GET', '/v1/me'],
      ['GET', '/v1/releases'],
      ['GET', '/v1/releases/rel_nope'],
      ['GET', '/v1/releases/current/diff/current'],
      ['POST', '/v1/hooks/echo'],
      ['POST', '/v1/hooks/structured'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/readyz'],
    ];
    const junk = ['%', '%E0%A4%A', '%00', '..', '../../etc/passwd', '\u00e9\u4e2d', '%2F', ';', '?', '#', 'x'.repeat(3000), '{id}', ' ', '%FF%FE'];
    const queries = ['', '?limit=-1', '?limit=1e309', '?after=99999999999999999999', '?status=,,,', '?cursor=%FF', '?cursor=W10', '?cursor=WyIiLCIiXQ', '?agent=%00', '?created_after=2026-01-01T00:00:00Z&created_before=x', '?a=1&a=2&a=3', '?access_token='];
    const bodies: Array<() => string | Uint8Array | undefined> = [
      () => undefined,
      () => '',
      () => 'null',
      () => '[]',
      () => '"just a string"',
      () => '{"agent":"echo","input":"hi"}',
      () => '{"agent":"echo"}',
      () => '{"agent":"structured","input":{"orderId":"A-1001","amount":1e400}}',
      () => '{"approved":true,"callId":{"$gt":""}}',
      () => '{"answer":"' + 'y'.repeat(20_000) + '"}',
      () => '{"maxCostUsd":"NaN","maxTokens":1e21}',
      () => '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"agent":"echo","input":"p"}',
      () => '['.repeat(5000) + ']'.repeat(5000),
      () => '{"a":' + '{"a":'.repeat(2000) + '1' + '}'.repeat(2001),
      () => '{"agent":"echo","input":"\\ud800"}',
      () => new Uint8Array(Array.from({ length: random.int(1, 400) }, () => random.int(0, 255))),
      () => JSON.stringify({ agent: random.pick(['echo', 'payer', 'nobody', '', 7]), input: random.pick(['x', 1, null, {}, [], true]), metadata: random.pick([undefined, {}, [], 'm', { deep: { er: [1, 2] } }]) }),
    ];
    const headerSets: Array<() => Record<string, string>> = [
      () => ({}),
      () => ({ authorization: `Bearer ${random.pick(keyValues)}` }),
      () => ({ authorization: `Bearer ${random.pick(keyValues)}`, 'content-type': random.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16']) }),
      () => ({ authorization: random.pick(['Bearer', 'Bearer ', 'bearer  x', `Basic ${keys.admin.key}`, 'Bearer \u0000', `Bearer ${'k'.repeat(8000)}`]) }),
      () => ({ authorization: `Bearer ${keys.admin.key}`, 'content-type': 'application/json', 'idempotency-key': random.pick(['', 'k', 'k'.repeat(300), '\u00e9']) }),
      () => ({ authorization: `Bearer ${keys.admin.key}`, 'last-event-id': random.pick(['', '-1', 'abc', '99999999999999999999999', '3', '1e3']) }),
      () => ({ 'content-type': 'application/json', 'x-twelve-delivery': random.pick(['', 'd', 'd'.repeat(300)]), 'x-twelve-signature': random.pick(['', 't=1,v1=00', 't=99999999999999,v1=' + 'a'.repeat(64), 'v1=' + 'b'.repeat(64), ',,,,', 'x'.repeat(5000)]), 'x-twelve-callback-url': random.pick(['http://127.0.0.1:1/cb', 'javascript:alert(1)', 'x']) }),
      () => ({ authorization: `Bearer ${keys.admin.key}`, 'content-length': String(random.int(0, 10)) }),
    ];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
    const statuses = new Map<number, number>();
    let requests = 0;
    for (let i = 0; i < 400; i++) {
      let [method, path] = random.pick(routes);
      if (random.chance(0.15)) method = random.pick(methods);
      if (random.chance(0.3)) {
        const parts = path.split('/');
        parts[random.int(1, parts.length - 1)] = random.pick(junk);
        path = parts.join('/');
      }
      path += random.pick(queries);
      const headers = random.pick(headerSets)();
      if (!('authorization' in headers) && random.chance(0.7)) headers.authorization = `Bearer ${random.pick(keyValues)}`;
      if (!('content-type' in headers) && random.chance(0.8)) headers['content-type'] = 'application/json';
      const body = method === 'GET' || method === 'HEAD' ? undefined : random.pick(bodies)();
      if (path.startsWith('/v1/hooks/') && typeof body === 'string' && random.chance(0.5)) {
        const delivery = headers['x-twelve-delivery'] || 'd';
        headers['x-twelve-delivery'] = delivery;
        const event = `launch.${path.split('/')[3]?.split('?')[0] ?? ''}`;
        headers['x-twelve-signature'] = signWebhook({ secret: hookSecret, body, direction: 'inbound', event, delivery, callbackUrl: headers['x-twelve-callback-url'] });
      }
      if (headers['content-length'] !== undefined && body !== undefined) delete headers['content-length'];
      if (headers['content-length'] !== undefined) delete headers['content-length']; // fetch sets it; a wrong one is refused client-side
      let status: number;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 5_000);
      try {
        const response = await fetch(`${api.url}${path.startsWith('/') ? path : `/${path}`}`, { method, headers, ...(body !== undefined ? { body } : {}), signal: abort.signal });
        status = response.status;
        // Streams of the (finished) real thread end at once; anything else is read to the end.
        await response.arrayBuffer();
      } catch (error) {
        // Only a request fetch itself refuses (an invalid header value) may fail client-side.
        expect(String((error as Error).cause ?? error), `${method} ${path.slice(0, 80)}`).toMatch(/invalid|header|ByteString|Headers/i);
        continue;
      } finally {
        clearTimeout(timer);
      }
      requests++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `${method} ${path.slice(0, 120)} ${JSON.stringify(headers).slice(0, 200)}`).toBeLessThan(500);
    }
    expect(requests).toBeGreaterThan(300);
    // The mix reached past authentication and validation, too.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404]));
    expect((await api.call('GET', '/healthz', { key: null })).status).toBe(200);
    expect((await api.call('GET', '/readyz', { key: null })).status).toBe(200);
    const after = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'still fine' } });
    expect(after.status).toBe(201);
    expect((await api.runtime.runThread(after.body.thread.id)).outcome).toBe('completed');
    expect(log.lines.filter((line) => JSON.parse(line).level === 'error')).toEqual([]);
  });
});

describe('API keys in logs', () => {
  it('never writes a key it received in a header or a query string, even with no redactor that knows the keys', async () => {
    const log = lineSink();
    // Keys given in code (not in the environment), so nothing would scrub them: the server itself must not log them.
    const api = await startApi({ env: { TWELVE_LOG: 'json' }, logger: createLogger({ format: 'json', level: 'debug', destination: log.stream }), worker: true });
    for (const key of ['ops', 'fiona', 'reader', 'admin'] as const) await api.call('GET', '/v1/threads', { key });
    await api.call('GET', `/v1/me?access_token=${keys.reader.key}`, { key: null });
    await api.call('GET', '/v1/me', { key: `${keys.admin.key}x` });
    await api.call('POST', '/v1/threads', { key: 'reader', body: { agent: 'echo', input: 'forbidden' } });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'payer', input: 'pay 300' } });
    await eventually(async () => (await api.runtime.getThreadOrThrow(launched.body.thread.id)).status === 'awaiting_approval');
    await api.call('POST', `/v1/threads/${launched.body.thread.id}/approvals`, { key: 'fiona', body: { approved: true } });
    await api.call('POST', `/v1/threads/${launched.body.thread.id}/approvals`, { key: 'fiona', body: { approved: true } }); // 409
    await eventually(async () => (await api.runtime.getThreadOrThrow(launched.body.thread.id)).status === 'completed');
    const stream = await fetch(`${api.url}/v1/threads/${launched.body.thread.id}/stream?access_token=${keys.reader.key}`);
    await stream.text();
    expect(log.lines.length).toBeGreaterThan(5);
    const text = log.lines.join('\n');
    expect(text).toContain('"type":"approval_decided"');
    for (const secret of keyValues) expect(text).not.toContain(secret);
    expect(text).not.toContain('[redacted]'); // nothing needed scrubbing
  });

  it('redacts keys people paste into inputs, metadata and comments (TWELVE_API_KEYS in the environment, as twelve serve runs)', async () => {
    const log = lineSink();
    // As `twelve serve` runs: TWELVE_API_KEYS in the environment, which the runtime's redactor also reads.
    const spec = Object.values(keys).map((k) => `${k.name}=${k.roles.join(',')}=${k.key}`).join(';');
    const dir = tempDir();
    const env = testEnv({ dbFile: join(dir, 'twelve.db'), extra: { TWELVE_API_KEYS: spec, TWELVE_HOOK_SECRETS: `echo=${hookSecret}`, TWELVE_LOG: 'json' } });
    const logger = createLogger({ format: 'json', redactor: Redactor.fromEnv(env), destination: log.stream });
    const api = await startApi({ dir, env: { TWELVE_API_KEYS: spec, TWELVE_LOG: 'json' }, logger, apiKeys: parseApiKeys(spec), worker: true });

    for (const key of ['ops', 'fiona', 'reader', 'admin'] as const) await api.call('GET', '/v1/me', { key });
    await api.call('GET', `/v1/me?access_token=${keys.reader.key}`, { key: null });
    await api.call('GET', '/v1/threads', { key: `${keys.admin.key}x` });
    // A key pasted into an input and into metadata (people do): redacted in the log and the store.
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: `my key is ${keys.fiona.key}`, metadata: { note: keys.admin.key } } });
    expect(launched.status).toBe(201);
    const payer = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'payer', input: 'pay 300' } });
    await eventually(async () => (await api.runtime.getThreadOrThrow(payer.body.thread.id)).status === 'awaiting_approval');
    await api.call('POST', `/v1/threads/${payer.body.thread.id}/approvals`, { key: 'fiona', body: { approved: true, comment: `approved with ${keys.fiona.key}` } });
    await api.call('POST', `/v1/threads/${payer.body.thread.id}/approvals`, { key: 'fiona', body: { approved: true } }); // 409
    const hookBody = JSON.stringify({ input: `hook ${hookSecret}` });
    const hookSignature = signWebhook({ secret: hookSecret, body: hookBody, direction: 'inbound', event: 'launch.echo', delivery: 'd1' });
    const hooked = await api.call('POST', '/v1/hooks/echo', { key: null, raw: hookBody, headers: { 'x-twelve-signature': hookSignature, 'x-twelve-delivery': 'd1' } });
    expect(hooked.status, hooked.text).toBe(202);
    await eventually(async () => (await api.runtime.listThreads({ status: ['completed'] })).length === 3);

    expect(log.lines.length).toBeGreaterThan(10);
    const text = log.lines.join('\n');
    expect(text).toContain('"type":"approval_decided"');
    expect(text).toContain('ops-bot'); // names are fine: they are the audit trail
    for (const secret of [...keyValues, hookSecret]) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    const stored = JSON.stringify(await api.runtime.loadEvents(launched.body.thread.id));
    for (const secret of keyValues) expect(stored).not.toContain(secret);
  });
});
