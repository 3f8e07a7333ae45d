/**
 * GET /v1/threads/{id}/stream over real HTTP: Server-Sent Events read with a streaming fetch,
 * a disconnect mid-way and a reconnect with Last-Event-ID (no gap, no duplicate), the `end`
 * event after completion, a stream that spans a wait for a person, and its errors.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from './support/cli.js';
import { keys, readSse, startApi, type SseMessage, type TestApi } from './support/api.js';

function openStream(api: TestApi, threadId: string, options: { lastEventId?: string; query?: string; signal?: AbortSignal; key?: string | null } = {}) {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  const key = options.key === undefined ? keys.reader.key : options.key;
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  return fetch(`${api.url}/v1/threads/${threadId}/stream${options.query ?? ''}`, { headers, ...(options.signal ? { signal: options.signal } : {}) });
}

/** Reads a stream's messages in the background, so a test can wait for them with timeouts without losing any. */
function sseQueue(response: Response) {
  const buffered: SseMessage[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for await (const message of readSse(response)) {
        buffered.push(message);
        wake?.();
      }
    } catch {
      // aborted by the test
    } finally {
      done = true;
      wake?.();
    }
  })();
  return {
    /** Messages until `until` matches one (inclusive) or the stream ends; fails after `timeoutMs`. */
    async readUntil(until: (m: SseMessage) => boolean, timeoutMs = 10_000): Promise<SseMessage[]> {
      const seen: SseMessage[] = [];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (buffered.length) {
          const message = buffered.shift()!;
          seen.push(message);
          if (until(message)) return seen;
        }
        if (done) return seen;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${seen.map((m) => `${m.id}:${m.event}`).join(' ')}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
  };
}

const listeners = (api: TestApi) => (api.runtime as unknown as { listeners: Set<unknown> }).listeners.size;

describe('GET /v1/threads/{id}/stream', () => {
  it('streams events with id = seq, resumes after Last-Event-ID with no gap and no duplicate, and ends with `end`', async () => {
    const api = await startApi({ worker: true });
    const baseline = listeners(api);
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'gated', input: 'go' } });
    const threadId = launched.body.thread.id as string;

    // First connection: read until the tool run starts (the tool blocks), then drop the connection.
    const first = new AbortController();
    const response = await openStream(api, threadId, { signal: first.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const firstMessages = await sseQueue(response).readUntil((m) => m.event === 'tool_started');
    expect(firstMessages.map((m) => m.event)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started']);
    expect(firstMessages.map((m) => m.id)).toEqual(['1', '2', '3', '4']);
    for (const message of firstMessages) {
      const event = JSON.parse(message.data);
      expect(event).toMatchObject({ threadId, seq: Number(message.id), type: message.event });
    }
    first.abort();
    // The server notices the disconnect and lets go of its subscription.
    await eventually(() => listeners(api) === baseline);

    // Events keep coming while nobody listens: let the tool finish.
    api.gate.resolve();
    await eventually(async () => (await api.runtime.getThreadOrThrow(threadId)).seq >= 6);

    // Reconnect as EventSource does: Last-Event-ID is the last id seen.
    const second = await openStream(api, threadId, { lastEventId: firstMessages.at(-1)!.id! });
    expect(second.status).toBe(200);
    const rest = await sseQueue(second).readUntil((m) => m.event === 'end');
    const end = rest.pop()!;
    expect(end.event).toBe('end');
    expect(end.id).toBeUndefined();
    const ids = [...firstMessages, ...rest].map((m) => Number(m.id));
    const stored = await api.runtime.loadEvents(threadId);
    expect(ids).toEqual(stored.map((e) => e.seq)); // 1..n: no gap, no duplicate
    expect(rest.map((m) => JSON.parse(m.data))).toEqual(JSON.parse(JSON.stringify(stored.slice(4))));
    expect(stored.at(-1)!.type).toBe('thread_completed');
    expect(JSON.parse(end.data)).toEqual({ threadId, status: 'completed', lastSeq: stored.length });
    await eventually(() => listeners(api) === baseline);

    // A Last-Event-ID the thread never had is refused, not waited on.
    const beyond = await openStream(api, threadId, { lastEventId: '999' });
    expect(beyond.status).toBe(400);
    expect(((await beyond.json()) as any).error.message).toBe(`Last-Event-ID 999 is past the end of thread ${threadId}: its last event is ${stored.length}`);

    // After completion: ?after= works too, and the stream ends at once.
    const late = await openStream(api, threadId, { query: `?after=${stored.length - 2}` });
    const lateMessages = await sseQueue(late).readUntil((m) => m.event === 'end');
    expect(lateMessages.map((m) => m.id ?? m.event)).toEqual([String(stored.length - 1), String(stored.length), 'end']);
    // Last-Event-ID wins over ?after= (a reconnecting EventSource keeps its original URL).
    const both = await openStream(api, threadId, { query: '?after=0', lastEventId: String(stored.length) });
    expect((await sseQueue(both).readUntil((m) => m.event === 'end')).map((m) => m.event)).toEqual(['end']);
  });

  it('reconnects mid-way again and again while the thread runs: the concatenation is the log', async () => {
    const api = await startApi({ worker: true });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'gated', input: 'go' } });
    const threadId = launched.body.thread.id as string;
    const received: number[] = [];
    let last = '0';
    let ended = false;
    for (let connection = 0; connection < 20 && !ended; connection++) {
      const abort = new AbortController();
      const response = await openStream(api, threadId, { lastEventId: last, signal: abort.signal });
      // Each connection takes at most one message, then hangs up (the first one lets the tool go).
      const [message] = await sseQueue(response).readUntil(() => true);
      abort.abort();
      if (connection === 3) api.gate.resolve();
      if (!message) continue;
      if (message.event === 'end') ended = true;
      else {
        received.push(Number(message.id));
        last = message.id!;
      }
    }
    expect(ended).toBe(true);
    expect(received).toEqual((await api.runtime.loadEvents(threadId)).map((e) => e.seq));
  });

  it('stays open while the thread waits for a person, and carries the decision made over HTTP', async () => {
    const api = await startApi({ worker: true });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'payer', input: 'pay 400' } });
    const threadId = launched.body.thread.id as string;
    const response = await openStream(api, threadId);
    expect(response.status).toBe(200);
    const messages = sseQueue(response);
    const upToApproval = await messages.readUntil((m) => m.event === 'approval_requested');
    expect(upToApproval.at(-1)!.event).toBe('approval_requested');
    // Nothing more comes (no `end`) while it waits.
    await expect(messages.readUntil(() => true, 700)).rejects.toThrow(/no matching message/);
    const approved = await api.call('POST', `/v1/threads/${threadId}/approvals`, { key: 'fiona', body: { approved: true } });
    expect(approved.status).toBe(200);
    const rest = await messages.readUntil((m) => m.event === 'end');
    expect(rest.map((m) => m.event)).toEqual(['approval_decided', 'tool_started', 'tool_succeeded', 'model_called', 'thread_completed', 'end']);
    expect(JSON.parse(rest[0]!.data).data.by).toBe('fiona@example.com');
  });

  it('answers 401, 404 and 400 before streaming; a key in the URL is refused', async () => {
    const api = await startApi();
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'x' } });
    const threadId = launched.body.thread.id as string;
    const noKey = await openStream(api, threadId, { key: null });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as any).error.code).toBe('unauthorized');
    const badToken = await openStream(api, threadId, { key: null, query: '?access_token=tw_wrong_wrong_wrong_1' });
    expect(badToken.status).toBe(401);
    // A key in the URL ends up in access logs and browser history: even a valid one is no key.
    const inUrl = await openStream(api, threadId, { key: null, query: `?access_token=${keys.reader.key}` });
    expect(inUrl.status).toBe(401);
    expect(((await inUrl.json()) as any).error.message).toMatch(/missing API key: send Authorization: Bearer/);
    const unknown = await openStream(api, 'th_missing');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('thread_not_found');
    const badHeader = await openStream(api, threadId, { lastEventId: 'abc' });
    expect(badHeader.status).toBe(400);
    expect(((await badHeader.json()) as any).error.details.issues[0].path).toBe('last-event-id');
    const badAfter = await openStream(api, threadId, { query: '?after=-3' });
    expect(badAfter.status).toBe(400);
  });
});

describe('open streams per key', () => {
  it('caps the streams one key holds open (429 with Retry-After), frees a slot when a stream closes, and leaves other keys alone', async () => {
    const api = await startApi({ worker: true, server: { limits: { maxStreamsPerKey: 2 } } });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'payer', input: 'pay 400' } });
    const threadId = launched.body.thread.id as string;
    const aborts = [new AbortController(), new AbortController()];
    const open = await Promise.all(aborts.map((abort) => openStream(api, threadId, { signal: abort.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await openStream(api, threadId);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(((await third.json()) as any).error).toMatchObject({ code: 'too_many_requests', message: expect.stringMatching(/dashboard already has 2 event streams open/) });
    // Another key has its own share.
    const fiona = new AbortController();
    expect((await openStream(api, threadId, { key: keys.fiona.key, signal: fiona.signal })).status).toBe(200);
    // Closing one stream frees its slot (the server sees the disconnect and lets go).
    aborts[0]!.abort();
    const reopened = await eventually(async () => {
      const next = new AbortController();
      aborts.push(next);
      const response = await openStream(api, threadId, { signal: next.signal });
      if (response.status === 200) return response;
      await response.body?.cancel();
      return undefined;
    });
    expect(reopened.status).toBe(200);
    for (const abort of [...aborts, fiona]) abort.abort();
  });
});
