/**
 * The typed client (twelve-agents/client) against the real server over real HTTP: every
 * method, ApiError for every kind of refusal, and stream() reconnecting with Last-Event-ID
 * through a loopback TCP proxy whose connections the test cuts mid-stream.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest';
import { ApiError, createClient, type StreamItem, type TwelveClient } from '../src/client/index.js';
import type * as Published from 'twelve-agents/client';
import type { ThreadStatus } from '../src/index.js';
import { keys, startApi, type KeyName, type TestApi } from './support/api.js';
import { eventually } from './support/cli.js';

function clientFor(api: TestApi, key: KeyName, extra: { url?: string; fetch?: typeof fetch } = {}): TwelveClient {
  return createClient({ url: extra.url ?? api.url, apiKey: keys[key].key, ...(extra.fetch ? { fetch: extra.fetch } : {}) });
}

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(ApiError.is(error), String(error)).toBe(true);
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError, but the call succeeded');
}

/** A TCP proxy on 127.0.0.1 in front of the server; cut() drops every open connection. */
async function tcpProxy(target: string) {
  const { port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(targetPort), '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => proxy.close());
  return proxy;
}

const listeners = (api: TestApi) => (api.runtime as unknown as { listeners: Set<unknown> }).listeners.size;

describe('createClient', () => {
  it('has types inferred from the server schemas, also through the published twelve-agents/client', () => {
    type Client = ReturnType<typeof Published.createClient>;
    expectTypeOf<Awaited<ReturnType<Client['launch']>>>().toEqualTypeOf<Published.LaunchResult>();
    expectTypeOf<Published.Thread['status']>().toEqualTypeOf<ThreadStatus>();
    expectTypeOf<Published.Thread['costUsd']>().toEqualTypeOf<number | null>();
    expectTypeOf<Published.Thread['unpricedCalls']>().toEqualTypeOf<number>();
    expectTypeOf<Published.Thread['error']>().toEqualTypeOf<{ code: string; message: string } | null>();
    expectTypeOf<Published.ThreadDetail['pending'][number]['kind']>().toEqualTypeOf<'approval' | 'question' | 'escalation' | 'budget' | 'blocked' | 'release' | 'review'>();
    expectTypeOf<Published.Event['seq']>().toEqualTypeOf<number>();
    expectTypeOf<Published.Agent['tools'][number]['approval']['policy']>().toEqualTypeOf<'always' | 'never' | 'predicate'>();
    expectTypeOf<Published.Agent['review']['onTimeout']>().toEqualTypeOf<'approve' | 'fail'>();
    expectTypeOf<Published.Agent['fallback']>().toEqualTypeOf<{ on: Array<'models_failed' | 'blocked' | 'budget'> } | null>();
    expectTypeOf<Published.Agent['confidence']>().toEqualTypeOf<{ field: string } | { function: true } | null>();
    expectTypeOf<Parameters<Client['decide']>[1]>().toEqualTypeOf<{ approved: boolean; callId?: string | undefined; comment?: string | undefined }>();
    expectTypeOf<Parameters<Client['raiseBudget']>[1]>().toMatchTypeOf<{ maxCostUsd?: number; maxTokens?: number; maxSteps?: number; comment?: string }>();
    expectTypeOf<Extract<Published.StreamItem, { kind: 'end' }>['status']>().toEqualTypeOf<ThreadStatus>();
    expectTypeOf<typeof Published.ApiError>().toBeConstructibleWith(404, 'thread_not_found', 'no thread');
  });

  it('sends the caller\'s trace context with a launch, and the thread keeps it', async () => {
    const api = await startApi();
    const ops = clientFor(api, 'ops');
    // Tracing is off in this process: the thread keeps the W3C context as sent, for the workers' spans to join.
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = await ops.launch('echo', 'traced', { traceparent, tracestate: 'vendor=1', idempotencyKey: 'traced-1' });
    expect((await api.runtime.loadEvents(traced.thread.id))[0]!.data).toMatchObject({ trace: { traceparent, tracestate: 'vendor=1' } });
  });

  it('launches, reads, lists and pages with typed results', async () => {
    const api = await startApi();
    const ops = clientFor(api, 'ops');
    expect(await ops.me()).toEqual({ name: 'ops-bot', roles: ['operator'] });
    const first = await ops.launch('echo', 'hello', { idempotencyKey: 'client-1', metadata: { source: 'client-test' } });
    expect(first.created).toBe(true);
    expect(first.thread).toMatchObject({ agent: 'echo', status: 'runnable', input: 'hello' });
    const again = await ops.launch('echo', 'hello', { idempotencyKey: 'client-1', metadata: { source: 'client-test' } });
    expect(again).toMatchObject({ created: false, thread: { id: first.thread.id } });
    const conflict = await apiError(ops.launch('echo', 'other', { idempotencyKey: 'client-1' }));
    expect(conflict).toMatchObject({ status: 409, code: 'conflict', details: { threadId: first.thread.id } });
    expect((await api.runtime.loadEvents(first.thread.id))[0]!.data).toMatchObject({ metadata: { source: 'client-test', launchedBy: 'ops-bot' } });
    await api.runtime.runThread(first.thread.id);

    const detail = await ops.getThread(first.thread.id);
    expect(detail).toMatchObject({ id: first.thread.id, status: 'completed', output: 'echo: hello', pending: [] });
    const events = await ops.events(first.thread.id);
    expect(events.events.map((e) => e.type)).toEqual(['thread_started', 'model_called', 'thread_completed']);
    expect(events.lastSeq).toBe(3);
    expect((await ops.events(first.thread.id, 1, { limit: 1 })).events.map((e) => e.seq)).toEqual([2]);

    const ids = [first.thread.id];
    for (let i = 0; i < 6; i++) ids.push((await ops.launch(i % 2 ? 'echo' : 'payer', `pay ${i}`)).thread.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ops.listThreads({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.threads.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(7);
    expect((await ops.listThreads({ agent: 'payer' })).threads).toHaveLength(3);
    expect((await ops.listThreads({ status: ['completed'] })).threads.map((t) => t.id)).toEqual([first.thread.id]);
    expect((await ops.listThreads({ status: 'runnable', agent: 'echo' })).threads).toHaveLength(3);
    expect((await ops.listThreads({ createdAfter: new Date(Date.now() + 60_000) })).threads).toEqual([]);
    expect((await ops.listThreads({ createdBefore: new Date(Date.now() + 60_000), limit: 200 })).threads).toHaveLength(7);
    const badQuery = await apiError(ops.listThreads({ limit: 0 }));
    expect(badQuery).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(badQuery.details.issues).toEqual([expect.objectContaining({ path: 'limit' })]);

    const agents = await ops.agents();
    expect(agents.agents.find((a) => a.name === 'payer')!.tools[0]!.approval).toEqual({ policy: 'predicate', approvers: ['finance'], people: [], timeoutMs: null, onTimeout: 'reject' });
    expect(agents.agents.find((a) => a.name === 'payer')).toMatchObject({ review: { policy: 'never' }, fallback: null, confidence: null });

    const releases = await ops.listReleases({ agent: 'echo' });
    expect(releases.releases).toEqual([expect.objectContaining({ agent: 'echo', current: true, threadsByStatus: { completed: 1, runnable: 3 } })]);
    const echo = await ops.getRelease('current', { agent: 'echo' });
    expect(echo).toMatchObject({ id: releases.releases[0]!.id, agent: 'echo', prompt: 'Echo {{input}}', models: ['scripted:echo'], threads: 4 });
    expect(await ops.diffReleases(echo.id, 'current')).toMatchObject({ agent: 'echo', same: true, prompt: null, changes: [] });
    expect(await apiError(ops.getRelease('rel_nope'))).toMatchObject({ status: 404, code: 'release_not_found' });
  });

  it('decides, answers, pauses, resumes, raises budgets and cancels, throwing ApiError with status, code, message and details', async () => {
    const api = await startApi();
    const ops = clientFor(api, 'ops');
    const fiona = clientFor(api, 'fiona');
    const reader = clientFor(api, 'reader');
    const { thread } = await ops.launch('payer', 'pay 700');
    await api.runtime.runThread(thread.id);
    const inbox = await reader.inbox();
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]!.pending[0]).toMatchObject({ kind: 'approval', tool: 'pay', args: { amount: 700 } });
    expect((await reader.inbox({ agent: 'echo' })).items).toEqual([]);

    const forbidden = await apiError(ops.decide(thread.id, { approved: true }));
    expect(forbidden).toMatchObject({ status: 403, code: 'forbidden', details: { required: 'approver' } });
    expect(forbidden.message).toMatch(/ops-bot lacks the approver role/);
    const invalid = await apiError(fiona.decide(thread.id, { approved: 'yes' as unknown as boolean }));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request' });
    const decided = await fiona.decide(thread.id, { approved: true, comment: 'fine' });
    expect(decided).toMatchObject({ applied: true, thread: { status: 'runnable' } });
    const twice = await apiError(fiona.decide(thread.id, { approved: false }));
    expect(twice).toMatchObject({ status: 409, code: 'conflict' });
    expect(twice.message).toMatch(/first decision stands/);
    await api.runtime.runThread(thread.id);
    expect((await ops.getThread(thread.id)).status).toBe('completed');

    const asker = (await ops.launch('asker', 'ask')).thread;
    await api.runtime.runThread(asker.id);
    expect((await fiona.answer(asker.id, { answer: 'red' })).thread.status).toBe('runnable');
    expect((await api.runtime.loadEvents(asker.id)).find((e) => e.type === 'human_answered')!.data).toMatchObject({ by: 'fiona@example.com', answer: 'red' });

    const held = (await ops.launch('echo', 'hold')).thread;
    expect((await ops.pause(held.id, { reason: 'wait' })).thread.status).toBe('paused');
    expect((await apiError(ops.pause(held.id))).status).toBe(409);
    expect((await fiona.raiseBudget(held.id, { maxSteps: 9 })).applied).toBe(true);
    expect((await apiError(fiona.raiseBudget(held.id, {}))).code).toBe('invalid_request');
    expect((await ops.resume(held.id)).thread.status).toBe('runnable');
    expect((await ops.cancel(held.id, { reason: 'done' })).thread.status).toBe('cancelled');
    expect(await apiError(ops.cancel(held.id))).toMatchObject({ status: 409, code: 'conflict', details: { status: 'cancelled' } });

    expect(await apiError(reader.getThread('th_missing'))).toMatchObject({ status: 404, code: 'thread_not_found', details: { threadId: 'th_missing' } });
    expect(await apiError(reader.launch('echo', 'x'))).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await apiError(ops.launch('nobody', 'x'))).toMatchObject({ status: 404, code: 'agent_not_found' });
    const wrongKey = createClient({ url: api.url, apiKey: 'tw_not_a_real_key_000000' });
    expect(await apiError(wrongKey.me())).toMatchObject({ status: 401, code: 'unauthorized', message: 'unknown API key' });
  });

  it('reports an unreachable server as ApiError status 0, and refuses a bad URL at once', async () => {
    const proxy = await tcpProxy('http://127.0.0.1:9');
    await proxy.close(); // nothing listens there any more
    const client = createClient({ url: proxy.url, apiKey: keys.admin.key });
    const error = await apiError(client.me());
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(error.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(() => createClient({ url: 'not a url', apiKey: 'k' })).toThrow(/not a URL/);
    expect(() => createClient({ url: 'ftp://example.com', apiKey: 'k' })).toThrow(/http\(s\)/);
    expect(() => createClient({ url: 'http://127.0.0.1:1', apiKey: '' })).toThrow(/apiKey/);
  });

  it('keeps a path prefix in the URL (a server behind a proxy) and uses the fetch it is given', async () => {
    const api = await startApi();
    const seen: string[] = [];
    const prefixed = createClient({
      url: 'http://twelve.internal/prefix/',
      apiKey: keys.reader.key,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        seen.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
        return fetch(`${api.url}${url.pathname.replace(/^\/prefix/, '')}${url.search}`, init);
      },
    });
    expect(await prefixed.me()).toEqual({ name: 'dashboard', roles: ['reader'] });
    await prefixed.listThreads({ status: ['completed', 'failed'], limit: 5 });
    expect(seen).toEqual(['GET /prefix/v1/me', 'GET /prefix/v1/threads?status=completed%2Cfailed&limit=5']);
  });
});

describe('client.stream', () => {
  it('yields every event once, in order, across connections cut mid-stream, then `end`', async () => {
    const api = await startApi({ worker: true });
    const proxy = await tcpProxy(api.url);
    const lastEventIds: string[] = [];
    const reader = clientFor(api, 'reader', {
      url: proxy.url,
      fetch: async (input, init) => {
        if (String(input).endsWith('/stream')) lastEventIds.push((init?.headers as Record<string, string>)['last-event-id']!);
        return fetch(input, init);
      },
    });
    const { thread } = await clientFor(api, 'ops').launch('gated', 'go');
    const reconnects: Array<{ attempt: number; lastEventId: number }> = [];
    const items: StreamItem[] = [];
    const consumed = (async () => {
      for await (const item of reader.stream(thread.id, { onReconnect: ({ attempt, lastEventId }) => reconnects.push({ attempt, lastEventId }) })) items.push(item);
    })();
    // The tool blocks after seq 4: cut the connection then, cut the reconnected one again,
    // and only then let the tool (and the rest of the thread) go.
    await eventually(() => items.length === 4);
    proxy.cut();
    await eventually(() => lastEventIds.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.cut();
    await eventually(() => lastEventIds.length === 3);
    api.gate.resolve();
    await consumed;
    const stored = await api.runtime.loadEvents(thread.id);
    expect(items.filter((i) => i.kind === 'event').map((i) => (i.kind === 'event' ? i.event.seq : 0))).toEqual(stored.map((e) => e.seq));
    expect(items.at(-1)).toEqual({ kind: 'end', threadId: thread.id, status: 'completed', lastSeq: stored.length });
    // Two connections failed in a row without a message in between, both resumed after seq 4.
    expect(reconnects).toEqual([
      { attempt: 1, lastEventId: 4 },
      { attempt: 2, lastEventId: 4 },
    ]);
    expect(lastEventIds).toEqual(['0', '4', '4']);
  });

  it('reconnects a silent stream after idleTimeoutMs, and resumes from `after`', async () => {
    const api = await startApi({ worker: true });
    const reader = clientFor(api, 'reader');
    const { thread } = await clientFor(api, 'ops').launch('payer', 'pay 900');
    await eventually(async () => (await api.runtime.getThreadOrThrow(thread.id)).status === 'awaiting_approval');
    const reconnects: unknown[] = [];
    const seqs: number[] = [];
    let end: StreamItem | undefined;
    setTimeout(() => void clientFor(api, 'fiona').decide(thread.id, { approved: true }), 900);
    for await (const item of reader.stream(thread.id, { after: 2, idleTimeoutMs: 300, onReconnect: ({ error }) => reconnects.push(error) })) {
      if (item.kind === 'event') seqs.push(item.event.seq);
      else end = item;
    }
    expect(seqs).toEqual((await api.runtime.loadEvents(thread.id, 2)).map((e) => e.seq));
    expect(end).toMatchObject({ kind: 'end', status: 'completed' });
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    expect(String((reconnects[0] as Error).message ?? reconnects[0])).toMatch(/no data for 300 ms|abort/i);
  });

  it('stops quietly on abort and when the caller breaks out, closing the connection; throws a 404 at once', async () => {
    const api = await startApi({ worker: true });
    const baseline = listeners(api);
    const reader = clientFor(api, 'reader');
    const { thread } = await clientFor(api, 'ops').launch('payer', 'pay 999');
    const abort = new AbortController();
    const seen: number[] = [];
    for await (const item of reader.stream(thread.id, { signal: abort.signal })) {
      if (item.kind === 'event') seen.push(item.event.seq);
      if (item.kind === 'event' && item.event.type === 'approval_requested') abort.abort();
    }
    expect(seen.at(-1)).toBe(4);
    await eventually(() => listeners(api) === baseline);

    for await (const item of reader.stream(thread.id)) {
      expect(item).toMatchObject({ kind: 'event', event: { seq: 1 } });
      break;
    }
    await eventually(() => listeners(api) === baseline);

    const missing = reader.stream('th_missing', { maxRetries: 5 });
    const error = await apiError(missing.next());
    expect(error).toMatchObject({ status: 404, code: 'thread_not_found' });
    const badKey = createClient({ url: api.url, apiKey: 'tw_not_a_real_key_000000' }).stream(thread.id);
    expect(await apiError(badKey.next())).toMatchObject({ status: 401 });
  });

  it('gives up with an ApiError after maxRetries failed connections', async () => {
    const proxy = await tcpProxy('http://127.0.0.1:9');
    await proxy.close();
    const client = createClient({ url: proxy.url, apiKey: keys.reader.key });
    const attempts: number[] = [];
    const error = await apiError(
      (async () => {
        for await (const _ of client.stream('th_x', { maxRetries: 2, onReconnect: ({ attempt }) => attempts.push(attempt) })) void _;
      })(),
    );
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(attempts).toEqual([1, 2]);
  });
});
