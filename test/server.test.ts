/**
 * The HTTP API over real HTTP: the real server (startServer on 127.0.0.1, an ephemeral port)
 * over a runtime on a SQLite file, exercised with fetch. Authentication and roles, request
 * validation, launching (with Idempotency-Key), listing with filters and cursors, events,
 * decisions and their conflicts, the inbox, the agents' manifests, and the operational
 * endpoints. Streams are in server-stream.test.ts, webhooks in server-hooks.test.ts, bad
 * input fuzzing and logs in server-robustness.test.ts.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { createRuntime, defineAgent } from '../src/index.js';
import { verifyWebhook } from '../src/notify/webhook.js';
import { KeyRing } from '../src/server/auth.js';
import { askHuman } from '../src/index.js';
import { apiAgents, keys, startApi, waitForStatus, type TestApi } from './support/api.js';
import { payTool, scriptedAgent, stepModel } from './support/hitl.js';
import { testEnv } from './support/runtime.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

async function launch(api: TestApi, agent: string, input: unknown, options: { key?: string; headers?: Record<string, string> } = {}) {
  const response = await api.call('POST', '/v1/threads', { key: options.key ?? 'ops', body: { agent, input }, ...(options.headers ? { headers: options.headers } : {}) });
  expect(response.status, response.text).toBeLessThan(300);
  return response.body.thread as { id: string; status: string; seq: number; createdAt: string; agent: string };
}

/** A payer thread that waits for approval of a payment of `amount` (run in the test process, no worker). */
async function awaitingApproval(api: TestApi, amount = 250) {
  const thread = await launch(api, 'payer', `pay ${amount}`);
  const { outcome } = await api.runtime.runThread(thread.id);
  expect(outcome).toBe('awaiting_approval');
  return thread.id;
}

function issuePaths(body: any): string[] {
  return (body?.error?.details?.issues ?? []).map((issue: { path: string }) => issue.path);
}

describe('authentication and roles', () => {
  it('answers 401 without a key or with an unknown one, and 403 when the key lacks the role', async () => {
    const api = await startApi();
    const missing = await api.call('GET', '/v1/threads', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/missing API key/) });
    const wrong = await api.call('GET', '/v1/threads', { key: 'tw_test_not_a_key_at_all_0000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'unauthorized', message: 'unknown API key' });
    // A key that differs only in its last character, one of another length, and a non-bearer scheme.
    expect((await api.call('GET', '/v1/me', { key: `${keys.admin.key.slice(0, -1)}9` })).status).toBe(401);
    expect((await api.call('GET', '/v1/me', { key: `${keys.admin.key}0` })).status).toBe(401);
    expect((await api.call('GET', '/v1/me', { key: null, headers: { authorization: `Basic ${Buffer.from(`admin:${keys.admin.key}`).toString('base64')}` } })).status).toBe(401);
    // Unauthenticated writes are refused before anything else (even a bad body).
    expect((await api.call('POST', '/v1/threads', { key: null, body: { agent: 'echo', input: 'hi' } })).status).toBe(401);
    expect((await api.call('POST', '/v1/threads', { key: null, raw: '{not json' })).status).toBe(401);

    const readerLaunch = await api.call('POST', '/v1/threads', { key: 'reader', body: { agent: 'echo', input: 'hi' } });
    expect(readerLaunch.status).toBe(403);
    expect(readerLaunch.body.error).toMatchObject({ code: 'forbidden', details: { required: 'operator', roles: ['reader'] } });
    const thread = await launch(api, 'echo', 'hello');
    const operatorDecides = await api.call('POST', `/v1/threads/${thread.id}/approvals`, { key: 'ops', body: { approved: true } });
    expect(operatorDecides.status).toBe(403);
    expect(operatorDecides.body.error).toMatchObject({ code: 'forbidden', details: { required: 'approver' } });
    const approverPauses = await api.call('POST', `/v1/threads/${thread.id}/pause`, { key: 'fiona', body: {} });
    expect(approverPauses.status).toBe(403);
    expect(approverPauses.body.error.details.required).toBe('operator');
    // Every role may read.
    for (const key of ['reader', 'ops', 'fiona', 'admin']) expect((await api.call('GET', `/v1/threads/${thread.id}`, { key })).status).toBe(200);
  });

  it('says who the key belongs to, and takes a key only from the Authorization header, never from the URL', async () => {
    const api = await startApi();
    expect((await api.call('GET', '/v1/me', { key: 'fiona' })).body).toEqual({ name: 'fiona@example.com', roles: ['approver'] });
    // Keys in URLs end up in access logs and browser history: a query-string key is no key, the stream included.
    const viaQuery = await api.call('GET', `/v1/me?access_token=${keys.reader.key}`, { key: null });
    expect(viaQuery.status).toBe(401);
    const stream = await api.call('GET', `/v1/threads/th_missing/stream?access_token=${keys.reader.key}`, { key: null });
    expect(stream.status).toBe(401);
  });

  it('compares keys through KeyRing (fixed-length digests, timingSafeEqual over every entry)', () => {
    // The server authenticates with the KeyRing the server was started with, nothing else.
    const context = readFileSync(new URL('../src/server/context.ts', import.meta.url), 'utf8');
    expect(context).toMatch(/state\.keys\.authenticate\(token\)/);
    expect(context).not.toMatch(/===\s*token|token\s*===/);
    const serve = readFileSync(new URL('../src/server/serve.ts', import.meta.url), 'utf8');
    expect(serve).toMatch(/new KeyRing\(/);
    const auth = readFileSync(new URL('../src/server/auth.ts', import.meta.url), 'utf8');
    expect(auth).toMatch(/timingSafeEqual\(candidate, entry\.digest\)/);
    expect(auth).toMatch(/createHash\('sha256'\)/);
    const ring = new KeyRing(Object.values(keys));
    expect(ring.authenticate(keys.fiona.key)).toEqual({ name: 'fiona@example.com', roles: ['approver'] });
    expect(ring.authenticate(keys.fiona.key.toUpperCase())).toBeUndefined();
    expect(ring.authenticate('')).toBeUndefined();
    expect(ring.authenticate('x'.repeat(10_000))).toBeUndefined();
  });
});

describe('POST /v1/threads', () => {
  it('launches a thread (201) and records which key launched it', async () => {
    const api = await startApi();
    const response = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'hello there', metadata: { ticket: 'T-1' } } });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ created: true, thread: { agent: 'echo', status: 'runnable', seq: 1, input: 'hello there', output: null, error: null, running: false } });
    expect(response.body.thread.id).toMatch(/^th_/);
    const events = await api.runtime.loadEvents(response.body.thread.id);
    expect(events[0]).toMatchObject({ type: 'thread_started', data: { metadata: { ticket: 'T-1', launchedBy: 'ops-bot' } } });
    // The launcher cannot claim to be someone else through metadata.
    const spoof = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'x', metadata: { launchedBy: 'fiona@example.com' } } });
    expect((await api.runtime.loadEvents(spoof.body.thread.id))[0]!.data).toMatchObject({ metadata: { launchedBy: 'ops-bot' } });
  });

  it('answers 400 with the zod issue paths for bad bodies, 400 invalid_json, 413 and 404', async () => {
    const api = await startApi();
    const empty = await api.call('POST', '/v1/threads', { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_request');
    expect(issuePaths(empty.body)).toEqual(expect.arrayContaining(['agent', 'input']));
    const badTypes = await api.call('POST', '/v1/threads', { body: { agent: 42, input: 'x', metadata: 'nope' } });
    expect(badTypes.status).toBe(400);
    expect(issuePaths(badTypes.body).sort()).toEqual(['agent', 'metadata']);
    expect(badTypes.body.error.message).toMatch(/^(agent|metadata): /);
    const nested = await api.call('POST', '/v1/threads', { body: { agent: '', input: 'x' } });
    expect(issuePaths(nested.body)).toEqual(['agent']);
    const notObject = await api.call('POST', '/v1/threads', { body: ['echo', 'hi'] });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.code).toBe('invalid_request');

    const malformed = await api.call('POST', '/v1/threads', { raw: '{"agent": "echo", "input": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toEqual({ code: 'invalid_json', message: 'the request body is not valid JSON' });

    const huge = await api.call('POST', '/v1/threads', { body: { agent: 'echo', input: 'x'.repeat(1024 * 1024 + 10) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    // Far more than the socket buffers hold: the server answers without reading it and closes the
    // connection, and the client still gets the 413 (not a reset while it is sending).
    const enormous = await api.call('POST', '/v1/threads', { body: { agent: 'echo', input: 'x'.repeat(16 * 1024 * 1024) } });
    expect(enormous.status).toBe(413);
    expect(enormous.headers.get('connection')).toBe('close');
    expect(enormous.body.error.code).toBe('payload_too_large');
    // Without a content-length (chunked), the limit is enforced while reading.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)));
        controller.close();
      },
    });
    const chunked = await fetch(`${api.url}/v1/threads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ops.key}`, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);

    const unknownAgent = await api.call('POST', '/v1/threads', { body: { agent: 'nobody', input: 'x' } });
    expect(unknownAgent.status).toBe(404);
    expect(unknownAgent.body.error).toMatchObject({ code: 'agent_not_found', details: { agent: 'nobody' } });
    const badInput = await api.call('POST', '/v1/threads', { body: { agent: 'structured', input: { orderId: 'nope', amount: -1 } } });
    expect(badInput.status).toBe(400);
    expect(badInput.body.error.code).toBe('input_invalid');
    expect(badInput.body.error.details.issues.map((i: { path: unknown[] }) => i.path.join('.')).sort()).toEqual(['amount', 'orderId']);
    const good = await api.call('POST', '/v1/threads', { body: { agent: 'structured', input: { orderId: 'A-1001', amount: 5 } } });
    expect(good.status).toBe(201);
    expect(good.body.thread.input).toEqual({ orderId: 'A-1001', amount: 5 });
    // Nothing was created by the refused requests.
    expect(await api.runtime.listThreads()).toHaveLength(1);
  });

  it('returns the same thread for a repeated Idempotency-Key and body (200, created false), and 409 for the key with another agent, input or metadata', async () => {
    const api = await startApi();
    const headers = { 'idempotency-key': 'order-A-1001-refund' };
    const launchBody = { agent: 'echo', input: 'refund A-1001', metadata: { ticket: 'T-9' } };
    const first = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: launchBody });
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    const again = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: launchBody });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, thread: { id: first.body.thread.id } });
    const otherInput = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: { ...launchBody, input: 'refund A-1002' } });
    expect(otherInput.status).toBe(409);
    expect(otherInput.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/"order-A-1001-refund" was already used for thread th_\w+ with another agent or input, or other metadata/), details: { threadId: first.body.thread.id } });
    const otherAgent = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: { ...launchBody, agent: 'payer' } });
    expect(otherAgent.status).toBe(409);
    // The whole body counts: the same key with other (or no) metadata is not a retry of this launch.
    const otherMetadata = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: { ...launchBody, metadata: { ticket: 'T-10' } } });
    expect(otherMetadata.status).toBe(409);
    const noMetadata = await api.call('POST', '/v1/threads', { key: 'ops', headers, body: { agent: 'echo', input: 'refund A-1001' } });
    expect(noMetadata.status).toBe(409);
    const reordered = await api.call('POST', '/v1/threads', { key: 'ops', raw: '{"metadata":{"ticket":"T-9"},"input":"refund A-1001","agent":"echo"}', headers: { ...headers, 'content-type': 'application/json' } });
    expect(reordered.status).toBe(200);
    const tooLong = await api.call('POST', '/v1/threads', { key: 'ops', headers: { 'idempotency-key': 'k'.repeat(256) }, body: { agent: 'echo', input: 'x' } });
    expect(tooLong.status).toBe(400);
    expect(issuePaths(tooLong.body)).toEqual(['idempotency-key']);
    // The key in the body (a common slip) would be dropped and launch a second thread: refused, pointing at the header.
    const inBody = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'x', idempotencyKey: 'order-A-1001-refund' } });
    expect(inBody.status).toBe(400);
    expect(inBody.body.error.message).toBe('(body): unknown field "idempotencyKey"; the idempotency key goes in the Idempotency-Key header');

    // Keys belong to the API key that sent them: another caller using the same string neither
    // gets this thread (nor learns its id from a 409) nor is blocked by it.
    const otherCaller = await api.call('POST', '/v1/threads', { key: 'admin', headers, body: { agent: 'echo', input: 'something of mine' } });
    expect(otherCaller.status).toBe(201);
    expect(otherCaller.body.thread.id).not.toBe(first.body.thread.id);
    expect(JSON.stringify(otherCaller.body)).not.toContain(first.body.thread.id);
    expect((await api.call('POST', '/v1/threads', { key: 'admin', headers, body: { agent: 'echo', input: 'something of mine' } })).body.thread.id).toBe(otherCaller.body.thread.id);

    // Ten concurrent retries of one launch: one thread, created exactly once.
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => api.call('POST', '/v1/threads', { key: 'ops', headers: { 'idempotency-key': 'race-1' }, body: { agent: 'echo', input: 'race' } })),
    );
    expect(new Set(racing.map((r) => r.body.thread.id)).size).toBe(1);
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    expect(racing.filter((r) => r.status === 200)).toHaveLength(9);
    expect(await api.runtime.listThreads()).toHaveLength(3);
  });
});

describe('reading threads', () => {
  it('lists threads newest first with filters, and pages through them with cursors without duplicates or gaps', async () => {
    const api = await startApi();
    const launched: Array<{ id: string; agent: string; createdAt: string }> = [];
    for (let i = 0; i < 23; i++) {
      launched.push(await launch(api, i % 3 === 0 ? 'payer' : 'echo', i % 3 === 0 ? 'pay 5' : `message ${i}`));
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 3)); // several createdAt values, some shared
    }
    for (const thread of launched.filter((t) => t.agent === 'echo').slice(0, 5)) await api.runtime.runThread(thread.id);
    const newestFirst = [...launched].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).map((t) => t.id);

    const all = await api.call('GET', '/v1/threads?limit=200', { key: 'reader' });
    expect(all.status).toBe(200);
    expect(all.body.threads.map((t: { id: string }) => t.id)).toEqual(newestFirst);
    expect(all.body.nextCursor).toBeNull();

    for (const limit of [1, 5, 7, 23]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: any = await api.call('GET', `/v1/threads?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key: 'reader' });
        expect(page.status).toBe(200);
        expect(page.body.threads.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.threads.map((t: { id: string }) => t.id));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(newestFirst);
      expect(pages).toBe(Math.ceil(23 / limit));
    }

    const payers = await api.call('GET', '/v1/threads?agent=payer&limit=200', { key: 'reader' });
    expect(payers.body.threads.map((t: { id: string }) => t.id)).toEqual(newestFirst.filter((id) => launched.find((t) => t.id === id)!.agent === 'payer'));
    const completed = await api.call('GET', '/v1/threads?status=completed', { key: 'reader' });
    expect(completed.body.threads).toHaveLength(5);
    expect(completed.body.threads.every((t: { status: string; output: string }) => t.status === 'completed' && t.output.startsWith('echo:'))).toBe(true);
    const either = await api.call('GET', '/v1/threads?status=completed,runnable&agent=echo&limit=200', { key: 'reader' });
    expect(either.body.threads).toHaveLength(launched.filter((t) => t.agent === 'echo').length);

    // created_after is inclusive, created_before exclusive; both take an offset.
    const pivot = launched[10]!.createdAt;
    const after = await api.call('GET', `/v1/threads?limit=200&created_after=${encodeURIComponent(pivot)}`, { key: 'reader' });
    expect(after.body.threads.map((t: { id: string }) => t.id).sort()).toEqual(launched.filter((t) => t.createdAt >= pivot).map((t) => t.id).sort());
    const before = await api.call('GET', `/v1/threads?limit=200&created_before=${encodeURIComponent(pivot)}`, { key: 'reader' });
    expect(before.body.threads.map((t: { id: string }) => t.id).sort()).toEqual(launched.filter((t) => t.createdAt < pivot).map((t) => t.id).sort());
    expect(after.body.threads.length + before.body.threads.length).toBe(23);
    const shifted = new Date(Date.parse(pivot)).toISOString().replace('Z', '+00:00');
    const offset = await api.call('GET', `/v1/threads?limit=200&created_after=${encodeURIComponent(shifted)}`, { key: 'reader' });
    expect(offset.body.threads.length).toBe(after.body.threads.length);
    // Filters and cursors together: the second page of the echo threads.
    const echoPage1 = await api.call('GET', '/v1/threads?agent=echo&limit=4', { key: 'reader' });
    const echoPage2 = await api.call('GET', `/v1/threads?agent=echo&limit=4&cursor=${echoPage1.body.nextCursor}`, { key: 'reader' });
    const echoIds = newestFirst.filter((id) => launched.find((t) => t.id === id)!.agent === 'echo');
    expect([...echoPage1.body.threads, ...echoPage2.body.threads].map((t: { id: string }) => t.id)).toEqual(echoIds.slice(0, 8));

    for (const [query, path] of [
      ['status=running', 'status'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['created_after=yesterday', 'created_after'],
      ['created_before=2026-13-01T00:00:00Z', 'created_before'],
    ] as const) {
      const bad = await api.call('GET', `/v1/threads?${query}`, { key: 'reader' });
      expect(bad.status, query).toBe(400);
      expect(issuePaths(bad.body), query).toEqual([path]);
    }
    const badCursor = await api.call('GET', '/v1/threads?cursor=not-a-cursor', { key: 'reader' });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.message).toMatch(/cursor/);
  });

  it('reads one thread (404 for an unknown one) and its events from a sequence number', async () => {
    const api = await startApi();
    const thread = await launch(api, 'payer', 'pay 5');
    await api.runtime.runThread(thread.id);
    const detail = await api.call('GET', `/v1/threads/${thread.id}`, { key: 'reader' });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: thread.id, agent: 'payer', status: 'completed', output: 'paid', pending: [], modelSteps: 2 });
    // Scripted models have no price: the spend is unknown (null, with the count), never $0.
    expect(detail.body).toMatchObject({ costUsd: null, pricedCostUsd: 0, unpricedCalls: 2 });
    const listed = await api.call('GET', '/v1/threads', { key: 'reader' });
    expect(listed.body.threads[0]).toMatchObject({ id: thread.id, costUsd: null, unpricedCalls: 2 });
    const unknown = await api.call('GET', '/v1/threads/th_nope', { key: 'reader' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'thread_not_found', details: { threadId: 'th_nope' } });
    expect((await api.call('GET', '/v1/threads/th_nope/events', { key: 'reader' })).status).toBe(404);

    const events = await api.call('GET', `/v1/threads/${thread.id}/events`, { key: 'reader' });
    const stored = await api.runtime.loadEvents(thread.id);
    expect(events.body.events).toEqual(JSON.parse(JSON.stringify(stored)));
    expect(events.body.lastSeq).toBe(stored.length);
    const fromThree = await api.call('GET', `/v1/threads/${thread.id}/events?after=3`, { key: 'reader' });
    expect(fromThree.body.events.map((e: { seq: number }) => e.seq)).toEqual(stored.slice(3).map((e) => e.seq));
    const limited = await api.call('GET', `/v1/threads/${thread.id}/events?after=1&limit=2`, { key: 'reader' });
    expect(limited.body.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3]);
    expect(limited.body.lastSeq).toBe(3);
    const atEnd = await api.call('GET', `/v1/threads/${thread.id}/events?after=${stored.length}`, { key: 'reader' });
    expect(atEnd.body).toEqual({ events: [], lastSeq: stored.length });
    // A seq the thread never had (another thread's, a made-up one): reading on from it would skip events.
    const past = await api.call('GET', `/v1/threads/${thread.id}/events?after=999`, { key: 'reader' });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toBe(`after 999 is past the end of thread ${thread.id}: its last event is ${stored.length}`);
    for (const query of ['after=-1', 'after=x', 'limit=0', 'limit=1001']) {
      const bad = await api.call('GET', `/v1/threads/${thread.id}/events?${query}`, { key: 'reader' });
      expect(bad.status, query).toBe(400);
    }
  });
});

describe('decisions over HTTP', () => {
  it('approves as the key\'s name (never a name from the body), refuses a second decision (409) and decisions on finished threads (409)', async () => {
    const api = await startApi();
    const id = await awaitingApproval(api, 250);
    const waiting = await api.call('GET', `/v1/threads/${id}`, { key: 'reader' });
    expect(waiting.body.status).toBe('awaiting_approval');
    expect(waiting.body.pending).toEqual([
      expect.objectContaining({ kind: 'approval', tool: 'pay', args: { amount: 250 }, approvers: ['finance'], onTimeout: 'reject', deadline: null }),
    ]);
    const callId = waiting.body.pending[0].callId;

    // An approver key whose owner the tool's policy does not name: 403 from the policy, not the role.
    const notFinance = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'admin', body: { approved: true } });
    expect(notFinance.status).toBe(403);
    expect(notFinance.body.error.message).toBe('admin may not decide on pay: allowed are anyone with the role finance; admin has the roles reader, operator, approver');
    const badBody = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: 'yes', comment: 5 } });
    expect(badBody.status).toBe(400);
    expect(issuePaths(badBody.body).sort()).toEqual(['approved', 'comment']);
    const unknownCall = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: true, callId: 'call_nope' } });
    expect(unknownCall.status).toBe(409);

    // fiona@example.com has the finance role (TWELVE_HUMANS); the body's "by" is ignored.
    // Paused, the thread still shows the approval it waits for (it can still be decided).
    expect((await api.call('POST', `/v1/threads/${id}/pause`, { key: 'ops', body: { reason: 'a look first' } })).status).toBe(200);
    const paused = await api.call('GET', `/v1/threads/${id}`, { key: 'reader' });
    expect(paused.body).toMatchObject({ status: 'paused', pending: [{ kind: 'approval', callId }] });
    expect((await api.call('POST', `/v1/threads/${id}/resume`, { key: 'ops', body: {} })).status).toBe(200);
    expect((await api.call('GET', `/v1/threads/${id}`, { key: 'reader' })).body).toMatchObject({ status: 'awaiting_approval', pending: [{ kind: 'approval', callId }] });

    // A name in the body is refused outright: the decider is the key's owner.
    const spoofed = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: true, callId, comment: 'checked', by: 'mallory' } });
    expect(spoofed.status).toBe(400);
    expect(spoofed.body.error.message).toBe('(body): unknown field "by"; /openapi.json lists the fields');
    const approved = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: true, callId, comment: 'checked' } });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({ applied: true, thread: { id, status: 'runnable' } });
    const decided = (await api.runtime.loadEvents(id)).find((e) => e.type === 'approval_decided')!;
    expect(decided.data).toEqual({ callId, approved: true, by: 'fiona@example.com', comment: 'checked' });

    const twice = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: false } });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already approved by fiona@example.com; the first decision stands/) });

    await api.runtime.runThread(id);
    expect((await api.runtime.getThreadOrThrow(id)).status).toBe('completed');
    for (const [path, key, body] of [
      ['approvals', 'fiona', { approved: true }],
      ['answer', 'fiona', { answer: 'late' }],
      ['budget', 'fiona', { maxSteps: 10 }],
      ['pause', 'ops', {}],
      ['resume', 'ops', {}],
      ['cancel', 'ops', {}],
    ] as const) {
      const late = await api.call('POST', `/v1/threads/${id}/${path}`, { key, body });
      expect(late.status, path).toBe(409);
      expect(late.body.error.message, path).toMatch(/is completed/);
    }
    const missing = await api.call('POST', '/v1/threads/th_nope/approvals', { key: 'fiona', body: { approved: true } });
    expect(missing.status).toBe(404);
  });

  it('rejects with a comment the model then sees, recorded with the key\'s name', async () => {
    const api = await startApi();
    const id = await awaitingApproval(api, 500);
    const rejected = await api.call('POST', `/v1/threads/${id}/approvals`, { key: 'fiona', body: { approved: false, comment: 'too much' } });
    expect(rejected.status).toBe(200);
    await api.runtime.runThread(id);
    const events = await api.runtime.loadEvents(id);
    expect(events.find((e) => e.type === 'approval_decided')!.data).toMatchObject({ approved: false, by: 'fiona@example.com', comment: 'too much' });
    expect(api.pay.runs).toHaveLength(0);
  });

  it('answers a question as the key\'s name; a second answer is 409', async () => {
    const api = await startApi();
    const thread = await launch(api, 'asker', 'pick a colour');
    expect((await api.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    const detail = await api.call('GET', `/v1/threads/${thread.id}`, { key: 'reader' });
    expect(detail.body.pending).toEqual([expect.objectContaining({ kind: 'question', question: 'Which colour?', options: ['red', 'blue'], urgency: 'normal' })]);
    const empty = await api.call('POST', `/v1/threads/${thread.id}/answer`, { key: 'fiona', body: { answer: '' } });
    expect(empty.status).toBe(400);
    expect(issuePaths(empty.body)).toEqual(['answer']);
    expect((await api.call('POST', `/v1/threads/${thread.id}/answer`, { key: 'fiona', body: { answer: 'blue', by: 'someone-else' } })).status).toBe(400);
    const answered = await api.call('POST', `/v1/threads/${thread.id}/answer`, { key: 'fiona', body: { answer: 'blue' } });
    expect(answered.status).toBe(200);
    expect((await api.runtime.loadEvents(thread.id)).find((e) => e.type === 'human_answered')!.data).toMatchObject({ answer: 'blue', by: 'fiona@example.com' });
    const again = await api.call('POST', `/v1/threads/${thread.id}/answer`, { key: 'fiona', body: { answer: 'red' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('refuses an approval or an answer that comes after its deadline (409, saying so), with the default recorded instead', async () => {
    const pay = payTool({ approval: 'always', approvalTimeoutMs: 150 });
    const agents = [
      scriptedAgent({ name: 'payer', tools: [pay.tool] }),
      scriptedAgent({ name: 'asker', tools: [askHuman({ timeoutMs: 150, defaultAnswer: 'blue' })] }),
    ];
    const models = {
      'scripted:payer': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: 250 }, callId: 'call_pay' }] } : { text: 'not paid' })),
      'scripted:asker': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'ask_human', args: { question: 'Which colour?' }, callId: 'call_ask' }] } : { text: 'noted' })),
    };
    const api = await startApi({ agents, models, hookSecrets: new Map() });
    const payer = await launch(api, 'payer', 'pay 250');
    const asker = await launch(api, 'asker', 'pick');
    expect((await api.runtime.runThread(payer.id)).outcome).toBe('awaiting_approval');
    expect((await api.runtime.runThread(asker.id)).outcome).toBe('awaiting_human');
    const approvalDeadline = (await api.call('GET', `/v1/threads/${payer.id}`, { key: 'reader' })).body.pending[0].deadline as string;
    const questionDeadline = (await api.call('GET', `/v1/threads/${asker.id}`, { key: 'reader' })).body.pending[0].deadline as string;
    await new Promise((resolve) => setTimeout(resolve, Math.max(Date.parse(approvalDeadline), Date.parse(questionDeadline)) - Date.now() + 5));

    const approval = await api.call('POST', `/v1/threads/${payer.id}/approvals`, { key: 'fiona', body: { approved: true } });
    expect(approval.status).toBe(409);
    expect(approval.body.error).toEqual({
      code: 'conflict',
      message: `too late: the approval deadline of call call_pay (pay) passed at ${approvalDeadline}, and the policy default (reject) was applied; your decision was not recorded`,
      details: { callId: 'call_pay', deadline: approvalDeadline, applied: 'reject' },
    });
    const answer = await api.call('POST', `/v1/threads/${asker.id}/answer`, { key: 'fiona', body: { answer: 'red' } });
    expect(answer.status).toBe(409);
    expect(answer.body.error.message).toBe(`too late: the deadline of question call_ask passed at ${questionDeadline}, and the default answer was given ("blue"); your answer was not recorded`);
    // What the thread goes on with: the defaults, by "timeout", already recorded (no worker ran).
    const decided = (await api.call('GET', `/v1/threads/${payer.id}/events`, { key: 'reader' })).body.events.at(-1);
    expect(decided).toMatchObject({ type: 'approval_decided', data: { callId: 'call_pay', approved: false, by: 'timeout' } });
    const answered = (await api.call('GET', `/v1/threads/${asker.id}/events`, { key: 'reader' })).body.events.at(-1);
    expect(answered).toMatchObject({ type: 'human_answered', data: { callId: 'call_ask', answer: 'blue', by: 'timeout' } });
    expect((await api.call('GET', `/v1/threads/${payer.id}`, { key: 'reader' })).body.status).toBe('runnable');
    expect(pay.runs).toHaveLength(0);
  });

  it('tells roles from key names (403 for a key merely named like the role), bounds budget raises (403) and refuses limits below the use (409)', async () => {
    const financeNamed = { name: 'finance', roles: ['approver' as const], key: 'tw_test_finance_5e8a1c3d7b9f2046' };
    const api = await startApi({ apiKeys: [...Object.values(keys), financeNamed], env: { TWELVE_MAX_BUDGET_RAISE_USD: '5' } });
    const id = await awaitingApproval(api, 250);
    const named = await api.call('POST', `/v1/threads/${id}/approvals`, { key: financeNamed.key, body: { approved: true } });
    expect(named.status).toBe(403);
    expect(named.body.error.message).toBe('finance may not decide on pay: allowed are anyone with the role finance; finance has the roles approver');
    expect((await api.call('GET', `/v1/threads/${id}`, { key: 'reader' })).body.pending[0]).toMatchObject({ approvers: ['finance'], people: [] });

    const tooMuch = await api.call('POST', `/v1/threads/${id}/budget`, { key: 'fiona', body: { maxCostUsd: 50 } });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.error).toMatchObject({
      code: 'forbidden',
      message: `fiona@example.com may not give thread ${id} a cost limit of $50: the highest allowed is $5 (TWELVE_MAX_BUDGET_RAISE_USD)`,
    });
    const belowUse = await api.call('POST', `/v1/threads/${id}/budget`, { key: 'fiona', body: { maxSteps: 1 } });
    expect(belowUse.status).toBe(409);
    expect(belowUse.body.error.message).toMatch(/^thread \S+ cannot take a limit of 1 model steps when 1 are already taken: it could never take another step/);
    const fine = await api.call('POST', `/v1/threads/${id}/budget`, { key: 'fiona', body: { maxCostUsd: 5, maxSteps: 2 } });
    expect(fine.status, fine.text).toBe(200);
  });

  it('pauses, resumes, raises a budget and cancels, each as the key\'s name; impossible transitions are 409', async () => {
    const api = await startApi();
    const thread = await launch(api, 'echo', 'hold on');
    const resumeRunnable = await api.call('POST', `/v1/threads/${thread.id}/resume`, { key: 'ops', body: {} });
    expect(resumeRunnable.status).toBe(409);
    expect(resumeRunnable.body.error.message).toMatch(/not paused or escalated/);
    const paused = await api.call('POST', `/v1/threads/${thread.id}/pause`, { key: 'ops', body: { reason: 'checking' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ applied: true, thread: { status: 'paused' } });
    const pausedTwice = await api.call('POST', `/v1/threads/${thread.id}/pause`, { key: 'ops', body: {} });
    expect(pausedTwice.status).toBe(409);
    expect(pausedTwice.body.error.message).toMatch(/already paused by ops-bot/);
    const budget = await api.call('POST', `/v1/threads/${thread.id}/budget`, { key: 'fiona', body: { maxSteps: 12, comment: 'more room' } });
    expect(budget.status).toBe(200);
    const noLimit = await api.call('POST', `/v1/threads/${thread.id}/budget`, { key: 'fiona', body: { comment: 'nothing' } });
    expect(noLimit.status).toBe(400);
    expect(noLimit.body.error.message).toMatch(/at least one of maxCostUsd, maxTokens, maxSteps/);
    const negative = await api.call('POST', `/v1/threads/${thread.id}/budget`, { key: 'fiona', body: { maxCostUsd: -1, maxTokens: 1.5 } });
    expect(issuePaths(negative.body).sort()).toEqual(['maxCostUsd', 'maxTokens']);
    const resumed = await api.call('POST', `/v1/threads/${thread.id}/resume`, { key: 'ops', body: { comment: 'go' } });
    expect(resumed.status).toBe(200);
    expect(resumed.body.thread.status).toBe('runnable');
    const cancelled = await api.call('POST', `/v1/threads/${thread.id}/cancel`, { key: 'ops', body: { reason: 'not needed' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.thread.status).toBe('cancelled');
    expect((await api.call('POST', `/v1/threads/${thread.id}/cancel`, { key: 'ops', body: {} })).status).toBe(409);
    const events = await api.runtime.loadEvents(thread.id);
    expect(events.slice(1).map((e) => [e.type, (e.data as { by?: string }).by])).toEqual([
      ['paused', 'ops-bot'],
      ['budget_raised', 'fiona@example.com'],
      ['resumed', 'ops-bot'],
      ['cancelled', 'ops-bot'],
    ]);
  });
});

describe('the inbox and the agents', () => {
  it('lists waiting threads, oldest first, with what each waits for', async () => {
    const api = await startApi();
    const approval = await awaitingApproval(api, 300);
    const question = await launch(api, 'asker', 'pick');
    await api.runtime.runThread(question.id);
    const done = await launch(api, 'echo', 'done');
    await api.runtime.runThread(done.id);
    const inbox = await api.call('GET', '/v1/inbox', { key: 'reader' });
    expect(inbox.status).toBe(200);
    expect(inbox.body.items.map((item: any) => item.thread.id)).toEqual([approval, question.id]);
    expect(inbox.body.items[0].pending).toEqual([expect.objectContaining({ kind: 'approval', tool: 'pay', args: { amount: 300 } })]);
    expect(inbox.body.items[1].pending).toEqual([expect.objectContaining({ kind: 'question', question: 'Which colour?' })]);
    const onlyAsker = await api.call('GET', '/v1/inbox?agent=asker', { key: 'reader' });
    expect(onlyAsker.body.items.map((item: any) => item.thread.id)).toEqual([question.id]);
    expect((await api.call('GET', '/v1/inbox', { key: null })).status).toBe(401);
  });

  it('describes every agent: models, tools with JSON Schemas, approval policies, limits', async () => {
    const api = await startApi();
    const response = await api.call('GET', '/v1/agents', { key: 'reader' });
    expect(response.status).toBe(200);
    const byName = Object.fromEntries(response.body.agents.map((a: any) => [a.name, a]));
    expect(Object.keys(byName).sort()).toEqual(['asker', 'echo', 'gated', 'payer', 'structured']);
    const releases = new Map(api.runtime.agents.map((r) => [r.agent.name, r.releaseId]));
    expect(byName.payer).toMatchObject({ purpose: expect.any(String), releaseId: releases.get('payer'), models: ['scripted:payer'], outputSchema: null, limits: { maxSteps: 6 } });
    expect(byName.payer.tools).toEqual([
      {
        name: 'pay',
        description: 'Pays an amount of money to the customer',
        inputSchema: expect.objectContaining({ type: 'object', properties: { amount: expect.objectContaining({ type: 'number' }) }, required: ['amount'] }),
        approval: { policy: 'predicate', approvers: ['finance'], people: [], timeoutMs: null, onTimeout: 'reject' },
        binding: 'live',
        mcpServer: null,
      },
    ]);
    expect(byName.asker.tools[0]).toMatchObject({ name: 'ask_human', approval: { policy: 'never' }, inputSchema: { type: 'object', properties: { question: expect.any(Object) } } });
    expect(byName.echo.tools).toEqual([]);
    // Nothing set: no review, no non-LLM fallback, no confidence.
    expect(byName.echo).toMatchObject({ review: { policy: 'never', reviewers: [], people: [], timeoutMs: null, onTimeout: 'fail' }, fallback: null, confidence: null });
  });

  it('describes each agent\'s output review, non-LLM fallback and confidence, in the OpenAPI schema too', async () => {
    const { agents, models } = apiAgents();
    const echo = agents.find((a) => a.name === 'echo')!;
    const checked = defineAgent({
      ...(echo.options as any),
      name: 'checked',
      output: z.object({ answer: z.string(), score: z.number() }),
      review: (output: { score: number }) => output.score < 0.5,
      reviewers: { roles: ['finance'], people: ['ann'] },
      reviewTimeoutMs: 60_000,
      onReviewTimeout: 'approve',
      confidence: 'score',
      fallback: () => ({ answer: 'later', score: 0 }),
    });
    const byFunction = defineAgent({ ...(echo.options as any), name: 'by-function', confidence: () => 1, fallback: () => 'later', fallbackOn: ['budget'] });
    const api = await startApi({ agents: [checked, byFunction], models, hookSecrets: new Map() });
    const response = await api.call('GET', '/v1/agents', { key: 'reader' });
    expect(response.status).toBe(200);
    const [first, second] = response.body.agents;
    expect(first).toMatchObject({
      name: 'checked',
      review: { policy: 'predicate', reviewers: ['finance'], people: ['ann'], timeoutMs: 60_000, onTimeout: 'approve' },
      fallback: { on: ['models_failed', 'blocked'] },
      confidence: { field: 'score' },
    });
    expect(second).toMatchObject({ name: 'by-function', review: { policy: 'never' }, fallback: { on: ['budget'] }, confidence: { function: true } });
    const doc = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(doc.components.schemas.Agent.properties)).toEqual(expect.arrayContaining(['review', 'fallback', 'confidence']));
  });
});

describe('operations', () => {
  it('answers /healthz without a key, and /readyz 200 until drain() and 503 after', async () => {
    const api = await startApi();
    const health = await api.call('GET', '/healthz', { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version });
    expect((await api.call('GET', '/readyz', { key: null })).body).toEqual({ ready: true });
    api.server.drain();
    const draining = await api.call('GET', '/readyz', { key: null });
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({ ready: false, reason: 'draining' });
    // Draining only tells load balancers to stop: requests in the meantime still work.
    expect((await api.call('GET', '/v1/me', { key: 'reader' })).status).toBe(200);
    expect((await api.call('GET', '/healthz', { key: null })).status).toBe(200);
  });

  it('serves Prometheus metrics (with a key) with thread counts by status', async () => {
    const api = await startApi();
    for (let i = 0; i < 3; i++) await api.runtime.runThread((await launch(api, 'echo', `m${i}`)).id);
    await awaitingApproval(api, 999);
    await launch(api, 'echo', 'not run');
    expect((await api.call('GET', '/metrics', { key: null })).status).toBe(401);
    const metrics = await api.call('GET', '/metrics', { key: 'reader' });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.text;
    expect(text).toContain('# TYPE twelve_threads gauge');
    expect(text).toMatch(/^twelve_threads\{status="completed"\} 3$/m);
    expect(text).toMatch(/^twelve_threads\{status="awaiting_approval"\} 1$/m);
    expect(text).toMatch(/^twelve_threads\{status="runnable"\} 1$/m);
    expect(text).toMatch(/^twelve_threads\{status="cancelled"\} 0$/m);
    expect(text).toMatch(/^twelve_model_steps 4$/m);
    expect(text).toMatch(/^twelve_events_total\{type="thread_started"\} 5$/m);
    expect(text).toMatch(/^twelve_model_calls_total\{model="scripted:echo"\} 3$/m);
    // Scripted models have no price: counted apart, never added to the spend as $0.
    expect(text).toMatch(/^twelve_model_calls_unpriced_total\{model="scripted:echo"\} 3$/m);
    expect(text).toMatch(/^twelve_unpriced_model_calls 4$/m);
    expect(text).toMatch(/^twelve_cost_usd 0$/m);
    expect(text).toMatch(/^twelve_http_requests_total\{method="POST",status="201"\} 5$/m);
    expect(text).toMatch(/^twelve_http_requests_total\{method="GET",status="401"\} 1$/m);
    // Every sample line is `name{labels} value`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/);
  });

  it('publishes a valid OpenAPI 3.1 document listing every /v1 path with bearer security', async () => {
    const api = await startApi();
    const response = await api.call('GET', '/openapi.json', { key: null });
    expect(response.status).toBe(200);
    const doc = response.body;
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'POST /v1/threads',
        'GET /v1/threads',
        'GET /v1/threads/{id}',
        'GET /v1/threads/{id}/events',
        'GET /v1/threads/{id}/stream',
        'GET /v1/threads/{id}/ui-stream',
        'GET /v1/threads/{id}/requests',
        'GET /v1/threads/{id}/steps/{seq}/request',
        'GET /v1/threads/{id}/blobs/{hash}',
        'POST /v1/threads/{id}/fork',
        'POST /v1/threads/{id}/messages',
        'POST /v1/threads/{id}/approvals',
        'POST /v1/threads/{id}/answer',
        'POST /v1/threads/{id}/budget',
        'POST /v1/threads/{id}/pause',
        'POST /v1/threads/{id}/resume',
        'POST /v1/threads/{id}/cancel',
        'POST /v1/threads/{id}/review',
        'GET /v1/inbox',
        'GET /v1/agents',
        'GET /v1/costs',
        'GET /v1/me',
        'GET /v1/releases',
        'GET /v1/releases/{id}',
        'GET /v1/releases/{a}/diff/{b}',
        'POST /v1/hooks/{agent}',
        'GET /v1/evals/runs',
        'GET /v1/evals/runs/{id}',
        'GET /v1/evals/proposals',
        'POST /v1/evals/proposals/{id}/accept',
        'POST /v1/evals/proposals/{id}/dismiss',
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (path.startsWith('/v1/hooks/')) expect(operation.security, `${method} ${path}`).toBeUndefined();
        else expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      }
    }
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const pointer = ref.slice(8, -1);
      expect(pointer.startsWith('#/')).toBe(true);
      const target = pointer.slice(2).split('/').reduce((node: any, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect(target, pointer).toBeDefined();
    }
    expect(doc.components.schemas.Thread.properties.status).toEqual({ $ref: '#/components/schemas/ThreadStatus' });
    // A spend with calls of unknown price is null, and the schema says so.
    const thread = doc.components.schemas.Thread;
    expect(thread.properties.costUsd.type).toEqual(['number', 'null']);
    expect(thread.properties.unpricedCalls.type).toBe('integer');
    expect(thread.required).toEqual(expect.arrayContaining(['costUsd', 'pricedCostUsd', 'unpricedCalls']));
  });

  it('answers unknown routes with the error shape', async () => {
    const api = await startApi();
    const unknown = await api.call('GET', '/v1/nothing-here', { key: 'reader' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const wrongMethod = await api.call('DELETE', '/v1/threads', { key: 'admin' });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body).toEqual({ error: { code: 'not_found', message: 'no route for DELETE /v1/threads' } });
  });

  it('delivers notifications from the API process when only it has TWELVE_NOTIFY_URL (the worker elsewhere has none)', async () => {
    const receiver = await startWebhookReceiver();
    onTestFinished(() => receiver.close());
    const secret = 'whsec_test_serve_notify_0123';
    const api = await startApi({ env: { TWELVE_NOTIFY_URL: receiver.url, TWELVE_NOTIFY_SECRET: secret } });
    expect(api.server.notes.join('\n')).toMatch(/notifications: delivered from this process to http:\/\/127\.0\.0\.1:\d+\/hooks\/twelve/);
    // A worker "in another process": its own runtime on the same database, without the webhook.
    const fixtures = apiAgents();
    const worker = createRuntime({ agents: fixtures.agents, models: fixtures.models, retryBaseMs: 1, env: testEnv({ dbFile: api.dbFile, extra: { TWELVE_HUMANS: 'fiona@example.com=finance' } }) });
    onTestFinished(() => worker.close());
    expect(worker.config.notify).toBeUndefined();
    const thread = await launch(api, 'payer', 'pay 250');
    expect((await worker.runThread(thread.id)).outcome).toBe('awaiting_approval');
    await receiver.waitFor(1, 15_000);
    const request = receiver.requests[0]!;
    expect(request.headers['x-twelve-event']).toBe('human.waiting');
    expect(request.body).toMatchObject({ threadId: thread.id, kind: 'approval' });
    expect(verifyWebhook({ secret, body: request.rawBody, headers: request.headers, direction: 'outbound' })).toEqual({ ok: true });
  });

  it('waits for the server\'s own worker when it runs one (like twelve dev)', async () => {
    const api = await startApi({ worker: true });
    const thread = await launch(api, 'echo', 'via worker');
    const done = await waitForStatus(api, thread.id, ['completed']);
    expect(done.output).toBe('echo: via worker');
  });
});
