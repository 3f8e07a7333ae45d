/**
 * POST /v1/hooks/{agent} over real HTTP: launches from signed webhooks (HMAC over the
 * direction, event, delivery id, callback URL, time and body; secret per hook), deduplicated
 * by x-twelve-delivery, and the signed result posted to a callback URL (a real node:http
 * receiver on 127.0.0.1) when the thread ends, only where the destination policy allows.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { DestinationPolicy, addressKind, parseDestinationRules } from '../src/notify/destination.js';
import { signWebhook, verifyWebhook, type WebhookDirection } from '../src/notify/webhook.js';
import { eventually } from './support/cli.js';
import { hookSecret, startApi, type TestApi } from './support/api.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

interface Signing {
  secret?: string;
  timestamp?: number;
  /** The hook the signature is for (default: the one posted to). */
  agent?: string;
  /** The delivery id the signature is for (default: the header's). */
  delivery?: string;
  /** The callback URL the signature is for (default: the header's). */
  callbackUrl?: string;
  direction?: WebhookDirection;
}

/** Posts a trigger signed the way a sender following the docs would, unless `sign` says otherwise. */
function postHook(api: TestApi, agent: string, body: string, headers: Record<string, string | undefined> = {}, sign: Signing = {}) {
  const delivery = 'x-twelve-delivery' in headers ? headers['x-twelve-delivery'] : `dlv_${Math.random().toString(36).slice(2)}`;
  const callbackUrl = sign.callbackUrl ?? headers['x-twelve-callback-url'];
  const signature = signWebhook({
    secret: sign.secret ?? hookSecret,
    body,
    direction: sign.direction ?? 'inbound',
    event: `launch.${sign.agent ?? agent}`,
    delivery: sign.delivery ?? delivery ?? 'none',
    callbackUrl,
    ...(sign.timestamp !== undefined ? { timestamp: sign.timestamp } : {}),
  });
  const defaults: Record<string, string | undefined> = { 'content-type': 'application/json', 'x-twelve-signature': signature, 'x-twelve-delivery': delivery };
  const merged = Object.fromEntries(Object.entries({ ...defaults, ...headers }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return api.call('POST', `/v1/hooks/${agent}`, { key: null, raw: body, headers: merged });
}

async function receiver() {
  const r = await startWebhookReceiver();
  onTestFinished(() => r.close());
  return r;
}

/** The receiver's URL prefix, as a TWELVE_HOOK_CALLBACK_URLS entry. */
const originOf = (url: string) => `${new URL(url).origin}/`;

describe('POST /v1/hooks/{agent}', () => {
  it('launches from a validly signed request (202), and a repeated delivery returns the same thread', async () => {
    const api = await startApi();
    const body = JSON.stringify({ input: 'ticket 42: printer on fire' });
    const first = await postHook(api, 'echo', body, { 'x-twelve-delivery': 'dlv_1' });
    expect(first.status, first.text).toBe(202);
    expect(first.body).toEqual({ threadId: expect.stringMatching(/^th_/), created: true });
    const thread = await api.runtime.getThreadOrThrow(first.body.threadId);
    expect(thread).toMatchObject({ agent: 'echo', input: 'ticket 42: printer on fire', launchKey: 'hook:echo:dlv_1' });
    expect((await api.runtime.loadEvents(thread.id))[0]!.data).toMatchObject({ metadata: { trigger: 'webhook', delivery: 'dlv_1' } });

    // The sender retries the same delivery (a new signature, same body): same thread, nothing new.
    const retry = await postHook(api, 'echo', body, { 'x-twelve-delivery': 'dlv_1' });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ threadId: thread.id, created: false });
    // A different delivery id, signed by the sender, is a different launch.
    const other = await postHook(api, 'echo', body, { 'x-twelve-delivery': 'dlv_2' });
    expect(other.body.created).toBe(true);
    expect(other.body.threadId).not.toBe(thread.id);
    // The same delivery id with another body is a conflict, not a silent second thread.
    const reused = await postHook(api, 'echo', JSON.stringify({ input: 'something else' }), { 'x-twelve-delivery': 'dlv_1' });
    expect(reused.status).toBe(409);
    expect(await api.runtime.listThreads()).toHaveLength(2);
  });

  it('takes the whole body as the input when it has no `input` field (JSON text for a text agent)', async () => {
    const api = await startApi();
    const structured = await postHook(api, 'structured', JSON.stringify({ orderId: 'A-1001', amount: 12 }));
    expect(structured.status, structured.text).toBe(202);
    expect((await api.runtime.getThreadOrThrow(structured.body.threadId)).input).toEqual({ orderId: 'A-1001', amount: 12 });
    const text = await postHook(api, 'echo', JSON.stringify({ subject: 'hello', from: 'a@example.com' }));
    expect(text.status).toBe(202);
    expect((await api.runtime.getThreadOrThrow(text.body.threadId)).input).toBe('{"subject":"hello","from":"a@example.com"}');
    const invalid = await postHook(api, 'structured', JSON.stringify({ orderId: 'nope' }));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('input_invalid');
  });

  it('refuses bad signatures (401), a missing delivery id (400), bad JSON (400) and unknown hooks (404)', async () => {
    const api = await startApi();
    const body = JSON.stringify({ input: 'hi' });
    const cases: Array<[string, Record<string, string | undefined>, Signing]> = [
      ['no signature', { 'x-twelve-signature': undefined }, {}],
      ['wrong secret', {}, { secret: 'whsec_someone_elses_secret' }],
      ['signed another body', { 'x-twelve-signature': signWebhook({ secret: hookSecret, body: JSON.stringify({ input: 'hello' }), direction: 'inbound', event: 'launch.echo', delivery: 'd' }), 'x-twelve-delivery': 'd' }, {}],
      ['too old', {}, { timestamp: Math.floor(Date.now() / 1000) - 3600 }],
      ['garbage header', { 'x-twelve-signature': 't=abc,v2=xyz' }, {}],
      ['v1 (body only)', { 'x-twelve-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'a'.repeat(64)}` }, {}],
    ];
    for (const [what, headers, sign] of cases) {
      const response = await postHook(api, 'echo', body, headers, sign);
      expect(response.status, what).toBe(401);
      expect(response.body.error.code, what).toBe('unauthorized');
      expect(response.body.error.message, what).toMatch(/^webhook signature rejected: /);
    }
    const bearerInstead = await api.call('POST', '/v1/hooks/echo', { key: 'admin', raw: body, headers: { 'content-type': 'application/json', 'x-twelve-delivery': 'd' } });
    expect(bearerInstead.status).toBe(401);

    const noDelivery = await postHook(api, 'echo', body, { 'x-twelve-delivery': undefined });
    expect(noDelivery.status).toBe(400);
    expect(noDelivery.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/x-twelve-delivery/) });
    const longDelivery = await postHook(api, 'echo', body, { 'x-twelve-delivery': 'd'.repeat(201) });
    expect(longDelivery.status).toBe(400);
    const notJson = await postHook(api, 'echo', '{"input": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const badCallback = await postHook(api, 'echo', JSON.stringify({ input: 'x', callbackUrl: 'file:///etc/passwd' }));
    expect(badCallback.status).toBe(400);
    const badCallbackHeader = await postHook(api, 'echo', body, { 'x-twelve-callback-url': 'not a url' });
    expect(badCallbackHeader.status).toBe(400);
    const deep = await postHook(api, 'echo', `{"input":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(deep.status).toBe(400);

    const noHook = await postHook(api, 'payer', body); // a real agent, but no hook secret for it
    expect(noHook.status).toBe(404);
    expect(noHook.body.error.message).toMatch(/no webhook is configured for agent "payer"/);
    expect((await postHook(api, 'nobody', body)).status).toBe(404);
    expect(await api.runtime.listThreads()).toHaveLength(0);
  });

  it('refuses a captured request replayed under a new delivery id, at another hook, with another callback URL, or as a result', async () => {
    const callbacks = await receiver();
    const api = await startApi({ worker: true, callbackUrls: [originOf(callbacks.url)] });
    // The sender signs one request; an attacker captures it.
    const body = JSON.stringify({ input: 'refund 42' });
    const signature = signWebhook({ secret: hookSecret, body, direction: 'inbound', event: 'launch.echo', delivery: 'dlv_real', callbackUrl: callbacks.url });
    const captured = { 'x-twelve-delivery': 'dlv_real', 'x-twelve-callback-url': callbacks.url, 'x-twelve-signature': signature };
    const original = await postHook(api, 'echo', body, captured);
    expect(original.status, original.text).toBe(202);
    const replay = (agent: string, headers: Record<string, string | undefined>) =>
      api.call('POST', `/v1/hooks/${agent}`, { key: null, raw: body, headers: Object.fromEntries(Object.entries({ 'content-type': 'application/json', ...captured, ...headers }).filter((e): e is [string, string] => e[1] !== undefined)) });

    // Replayed as it is: deduplicated, no new thread.
    expect((await replay('echo', {})).body).toEqual({ threadId: original.body.threadId, created: false });
    // Under a new delivery id (to get past deduplication): refused.
    expect((await replay('echo', { 'x-twelve-delivery': 'dlv_replayed' })).status).toBe(401);
    // At another hook that shares the secret: refused.
    expect((await replay('structured', {})).status).toBe(401);
    // With the result sent somewhere else, or nowhere: refused.
    expect((await replay('echo', { 'x-twelve-callback-url': 'https://attacker.example/collect' })).status).toBe(401);
    expect((await replay('echo', { 'x-twelve-callback-url': undefined })).status).toBe(401);
    expect(await api.runtime.listThreads()).toHaveLength(1);

    // The result Twelve posts back is signed with the same hook secret, but outbound: posted
    // to the hook as a trigger, it does not launch anything.
    await callbacks.waitFor(1, 15_000);
    const result = callbacks.requests[0]!;
    expect(result.headers['x-twelve-event']).toBe('thread.finished');
    const bounced = await api.call('POST', '/v1/hooks/echo', {
      key: null,
      raw: result.rawBody,
      headers: { 'content-type': 'application/json', 'x-twelve-signature': result.headers['x-twelve-signature'] as string, 'x-twelve-delivery': result.headers['x-twelve-delivery'] as string },
    });
    expect(bounced.status).toBe(401);
    expect(await api.runtime.listThreads()).toHaveLength(1);
  });

  it('posts the signed result (x-twelve-event: thread.finished) to an allowed callback URL when the thread completes, retrying a failed delivery', async () => {
    const callbacks = await receiver();
    const api = await startApi({ worker: true, callbackUrls: [originOf(callbacks.url)] });
    callbacks.script({ status: 503 }); // the first attempt fails; the retry succeeds
    const launched = await postHook(api, 'echo', JSON.stringify({ input: 'call me back', callbackUrl: callbacks.url }));
    expect(launched.status, launched.text).toBe(202);
    const threadId = launched.body.threadId as string;
    await callbacks.waitFor(2, 10_000);
    const delivered = callbacks.requests[1]!;
    expect(delivered.method).toBe('POST');
    expect(delivered.headers['x-twelve-event']).toBe('thread.finished');
    expect(verifyWebhook({ secret: hookSecret, body: delivered.rawBody, headers: delivered.headers, direction: 'outbound' })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: hookSecret, body: delivered.rawBody, headers: delivered.headers, direction: 'inbound' }).ok).toBe(false);
    expect(verifyWebhook({ secret: 'whsec_someone_elses_secret', body: delivered.rawBody, headers: delivered.headers, direction: 'outbound' }).ok).toBe(false);
    expect(delivered.headers['x-twelve-delivery']).toBe(`${threadId}:result`);
    expect(delivered.body).toMatchObject({ id: `${threadId}:result`, threadId, agent: 'echo', kind: 'result', status: 'completed', output: 'echo: call me back', error: null });
    expect(callbacks.requests[0]!.rawBody.equals(delivered.rawBody)).toBe(true);

    // The callback URL may come as a header instead.
    const byHeader = await postHook(api, 'echo', JSON.stringify({ input: 'header callback' }), { 'x-twelve-callback-url': callbacks.url });
    await callbacks.waitFor(3, 10_000);
    expect(callbacks.requests[2]!.body).toMatchObject({ threadId: byHeader.body.threadId, status: 'completed', output: 'echo: header callback' });
    await eventually(async () => (await api.runtime.getThreadOrThrow(byHeader.body.threadId)).status === 'completed');
    expect(callbacks.requests).toHaveLength(3);
  });

  it('refuses callback URLs on loopback, private and link-local addresses unless TWELVE_HOOK_CALLBACK_URLS names them', async () => {
    const callbacks = await receiver();
    const open = await startApi(); // no allow-list: public addresses only
    for (const url of [callbacks.url, 'http://localhost:9/x', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/x', 'http://[::1]:9/x', 'http://[::ffff:127.0.0.1]:9/x', 'http://0.0.0.0:9/x']) {
      const refused = await postHook(open, 'echo', JSON.stringify({ input: 'x', callbackUrl: url }));
      expect(refused.status, url).toBe(400);
      expect(refused.body.error.message, url).toMatch(/^callbackUrl .* is not allowed: .* resolves to a (loopback|private|link-local|reserved) address/);
    }
    expect(await open.runtime.listThreads()).toHaveLength(0);

    // With an allow-list, only URLs under an entry; an entry naming the address reaches it.
    const allowed = await startApi({ worker: true, callbackUrls: [`${originOf(callbacks.url)}hooks/`, 'https://*.example.com/'] });
    const elsewhere = await postHook(allowed, 'echo', JSON.stringify({ input: 'x', callbackUrl: `${originOf(callbacks.url)}other` }));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.message).toMatch(/not under any entry of TWELVE_HOOK_CALLBACK_URLS/);
    const ok = await postHook(allowed, 'echo', JSON.stringify({ input: 'allowed', callbackUrl: callbacks.url }));
    expect(ok.status, ok.text).toBe(202);
    await callbacks.waitFor(1, 10_000);
    expect(callbacks.requests[0]!.body).toMatchObject({ threadId: ok.body.threadId, status: 'completed' });
  });

  it('connects only to the addresses it checked: a name that resolves elsewhere at delivery time is refused, and redirects are not followed', async () => {
    const callbacks = await receiver();
    const port = new URL(callbacks.url).port;
    // A resolver standing in for DNS: "rebind.test" answers a public address when the trigger
    // arrives and 127.0.0.1 when the result is delivered; "callback.test" always 127.0.0.1.
    let rebindLookups = 0;
    const resolve = async (host: string) => {
      if (host === 'rebind.test') return rebindLookups++ === 0 ? ['93.184.216.34'] : ['127.0.0.1'];
      if (host === 'callback.test') return ['127.0.0.1'];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    const rules = parseDestinationRules(`http://*.test:${port}/,http://callback.test:${port}/`);
    const api = await startApi({ worker: true, server: { callbackPolicy: new DestinationPolicy({ rules, resolve }) } });

    const rebind = await postHook(api, 'echo', JSON.stringify({ input: 'rebind', callbackUrl: `http://rebind.test:${port}/hooks/twelve` }));
    expect(rebind.status, rebind.text).toBe(202);
    // An exact entry may reach a private or loopback address, and the connection goes to the
    // address the check saw (callback.test is in no real DNS): it arrives at the receiver.
    const exact = await postHook(api, 'echo', JSON.stringify({ input: 'exact', callbackUrl: `http://callback.test:${port}/hooks/twelve` }));
    expect(exact.status, exact.text).toBe(202);
    await callbacks.waitFor(1, 10_000);
    expect(callbacks.requests[0]!.body).toMatchObject({ threadId: exact.body.threadId });
    expect(callbacks.requests[0]!.headers.host).toBe(`callback.test:${port}`);
    await eventually(async () => (await api.runtime.getThreadOrThrow(rebind.body.threadId)).status === 'completed');
    await eventually(() => rebindLookups >= 2, 45_000); // the delivery looked again, and was refused
    expect(callbacks.requests.map((r) => r.body.threadId)).not.toContain(rebind.body.threadId);

    // A 3xx is an answer, not an instruction: the target it names is never contacted.
    const other = await receiver();
    callbacks.script({ status: 307, headers: { location: other.url } }, 10);
    const redirected = await postHook(api, 'echo', JSON.stringify({ input: 'redirect', callbackUrl: `http://callback.test:${port}/r` }));
    expect(redirected.status).toBe(202);
    await eventually(() => callbacks.requests.filter((r) => r.path === '/r').length >= 2, 45_000);
    expect(other.requests).toHaveLength(0);
  });
});

describe('the destination policy', () => {
  it('classifies addresses, IPv4 inside IPv6 included', () => {
    const cases: Record<string, string> = {
      '93.184.216.34': 'public',
      '2606:4700::1111': 'public',
      '127.0.0.1': 'loopback',
      '127.8.9.10': 'loopback',
      '::1': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '192.168.1.1': 'private',
      '100.64.0.1': 'private',
      'fd00::1': 'private',
      '169.254.169.254': 'link-local',
      'fe80::1': 'link-local',
      '0.0.0.0': 'reserved',
      '::': 'reserved',
      '224.0.0.1': 'reserved',
      '255.255.255.255': 'reserved',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:7f00:1': 'loopback',
      '64:ff9b::a9fe:a9fe': 'link-local',
      '2002:a00:1::': 'private',
      'not-an-address': 'reserved',
    };
    for (const [address, kind] of Object.entries(cases)) expect(addressKind(address), address).toBe(kind);
  });

  it('checks every address a name resolves to, and what each kind of entry may reach', async () => {
    const answers: Record<string, string[]> = {
      'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
      'public.example.com': ['93.184.216.34'],
      'ci.internal': ['10.0.0.5'],
      'metadata.internal': ['169.254.169.254'],
    };
    const resolve = async (host: string) => answers[host] ?? [];
    const open = new DestinationPolicy({ resolve });
    expect(await open.check('https://public.example.com/x')).toMatchObject({ ok: true });
    expect(await open.check('https://mixed.example.com/x')).toMatchObject({ ok: false, reason: expect.stringMatching(/private address \(10\.0\.0\.5\)/) });
    expect(await open.check('https://nowhere.example.com/x')).toMatchObject({ ok: false, reason: expect.stringMatching(/does not resolve/) });
    expect(await open.check('https://user:pw@public.example.com/x')).toMatchObject({ ok: false, reason: expect.stringMatching(/credentials/) });
    expect(await open.check('ftp://public.example.com/x')).toMatchObject({ ok: false });

    const listed = new DestinationPolicy({ resolve, rules: parseDestinationRules('https://*.example.com/hooks,https://ci.internal/,http://metadata.internal/') });
    expect(await listed.check('https://public.example.com/hooks/a')).toMatchObject({ ok: true });
    expect(await listed.check('https://public.example.com/hooks')).toMatchObject({ ok: true });
    expect(await listed.check('https://public.example.com/hooksevil')).toMatchObject({ ok: false });
    expect(await listed.check('https://example.com/hooks/a')).toMatchObject({ ok: false }); // the wildcard is for names below it
    expect(await listed.check('http://public.example.com/hooks/a')).toMatchObject({ ok: false }); // another scheme
    expect(await listed.check('https://public.example.com:8443/hooks/a')).toMatchObject({ ok: false }); // another port
    expect(await listed.check('https://mixed.example.com/hooks/a')).toMatchObject({ ok: false }); // wildcard: public only
    expect(await listed.check('https://ci.internal/done')).toMatchObject({ ok: true }); // named exactly: private is fine
    expect(await listed.check('http://metadata.internal/latest')).toMatchObject({ ok: false, reason: expect.stringMatching(/link-local/) });

    expect(() => parseDestinationRules('not a url,ftp://x/,https://a:b@x/')).toThrow(/TWELVE_HOOK_CALLBACK_URLS: "not a url" is not a URL.*"ftp:\/\/x\/" must be http\(s\).*credentials/);
  });
});
