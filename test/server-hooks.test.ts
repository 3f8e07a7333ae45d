/**
 * POST /v1/hooks/{agent} over real HTTP: launches from signed webhooks (HMAC over
 * `t.body`, secret per hook), deduplicated by x-twelve-delivery, and the signed result
 * posted to a callback URL (a real node:http receiver on 127.0.0.1) when the thread ends.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { signWebhook, verifyWebhook } from '../src/notify/webhook.js';
import { eventually } from './support/cli.js';
import { hookSecret, startApi, type TestApi } from './support/api.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

function postHook(api: TestApi, agent: string, body: string, headers: Record<string, string | undefined> = {}) {
  const defaults: Record<string, string> = {
    'content-type': 'application/json',
    'x-twelve-signature': signWebhook({ secret: hookSecret, body }),
    'x-twelve-delivery': `dlv_${Math.random().toString(36).slice(2)}`,
  };
  const merged = Object.fromEntries(Object.entries({ ...defaults, ...headers }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return api.call('POST', `/v1/hooks/${agent}`, { key: null, raw: body, headers: merged });
}

async function receiver() {
  const r = await startWebhookReceiver();
  onTestFinished(() => r.close());
  return r;
}

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
    // A different delivery id is a different launch.
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
    const cases: Array<[string, Record<string, string | undefined>, string?]> = [
      ['no signature', { 'x-twelve-signature': undefined }],
      ['wrong secret', { 'x-twelve-signature': signWebhook({ secret: 'whsec_someone_elses_secret', body }) }],
      ['signed another body', { 'x-twelve-signature': signWebhook({ secret: hookSecret, body: JSON.stringify({ input: 'hello' }) }) }],
      ['too old', { 'x-twelve-signature': signWebhook({ secret: hookSecret, body, timestamp: Math.floor(Date.now() / 1000) - 3600 }) }],
      ['garbage header', { 'x-twelve-signature': 't=abc,v1=xyz' }],
    ];
    for (const [what, headers] of cases) {
      const response = await postHook(api, 'echo', body, headers);
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

    const noHook = await postHook(api, 'payer', body); // a real agent, but no hook secret for it
    expect(noHook.status).toBe(404);
    expect(noHook.body.error.message).toMatch(/no webhook is configured for agent "payer"/);
    expect((await postHook(api, 'nobody', body)).status).toBe(404);
    expect(await api.runtime.listThreads()).toHaveLength(0);
  });

  it('posts the signed result to the callback URL when the thread completes, retrying a failed delivery', async () => {
    const api = await startApi({ worker: true });
    const callbacks = await receiver();
    callbacks.script({ status: 503 }); // the first attempt fails; the retry succeeds
    const launched = await postHook(api, 'echo', JSON.stringify({ input: 'call me back', callbackUrl: callbacks.url }));
    expect(launched.status).toBe(202);
    const threadId = launched.body.threadId as string;
    await callbacks.waitFor(2, 10_000);
    const delivered = callbacks.requests[1]!;
    expect(delivered.method).toBe('POST');
    expect(verifyWebhook({ secret: hookSecret, body: delivered.rawBody, header: delivered.headers['x-twelve-signature'] as string })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: 'whsec_someone_elses_secret', body: delivered.rawBody, header: delivered.headers['x-twelve-signature'] as string }).ok).toBe(false);
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
});
