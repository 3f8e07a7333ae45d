/** Launch, list and read threads; read and stream their events. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { TwelveError } from '../../errors.js';
import { followThread } from '../follow-thread.js';
import { foldEvents, threadStatuses, waitingStatuses, type ThreadStatus } from '../../thread/state.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { decodeCursor, encodeCursor, fallbackLinks, forkLinks, pendingOf, presentThread } from '../present.js';
import { traceContextFrom } from '../../telemetry/trace-context.js';
import { ErrorBody, EventList, ForkBody, ForkResult, LaunchBody, LaunchResult, ThreadDetail, ThreadList } from '../schemas.js';

const errors = {
  400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad request' },
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
  404: { content: { 'application/json': { schema: ErrorBody } }, description: 'Unknown agent or thread' },
  409: { content: { 'application/json': { schema: ErrorBody } }, description: 'Conflict' },
};
const security = [{ bearer: [] }];
const ThreadParams = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' }, example: 'th_mwyq9qtr6ad38ca93ac9' }) });

export function threadRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/threads',
      tags: ['threads'],
      summary: 'Launch a thread',
      description:
        'A retried launch with the same Idempotency-Key header and the same body (agent, input, metadata) returns the same thread (200, created: false); the same key with another body is 409. Keys are scoped to the calling API key.',
      security,
      middleware: [requireRole('operator')] as const,
      request: {
        headers: z.object({
          'idempotency-key': z.string().min(1).max(255).optional(),
          // W3C trace context: the thread's spans join the caller's trace (an invalid one is ignored, as the spec says).
          traceparent: z.string().optional(),
          tracestate: z.string().optional(),
        }),
        body: { content: { 'application/json': { schema: LaunchBody } }, required: true },
      },
      responses: {
        201: { content: { 'application/json': { schema: LaunchResult } }, description: 'Created' },
        200: { content: { 'application/json': { schema: LaunchResult } }, description: 'Already launched under this Idempotency-Key' },
        ...errors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const metadata = { ...(body.metadata ?? {}), launchedBy: c.get('principal').name };
      const principal = c.get('principal').name;
      // A W3C traceparent header: the thread's spans, in whichever worker runs it, join the caller's trace.
      const trace = traceContextFrom(c.req.valid('header'));
      const { thread, created } = await runtime.launchOnce({ agent: body.agent, input: body.input, metadata, ...(key ? { idempotencyKey: key, idempotencyScope: principal } : {}), ...(trace ? { trace } : {}) });
      return c.json({ thread: presentThread(thread), created }, created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/threads/{id}/fork',
      tags: ['threads'],
      summary: 'Fork a thread: a new thread with its events up to atSeq, going on on the current release',
      description:
        'The copies keep their release ids and times; the fork records thread_forked {from, atSeq, by, shadow?} (by: the API key) and runs when a worker picks it up. shadow: a replay, in which tools that are not pure never run for real. 400 for a seq out of range or another release; 409 for a cut inside a started call of a tool that is not pure or after the thread ended (details.validSeqs lists the seqs that work).',
      security,
      middleware: [requireRole('operator')] as const,
      request: { params: ThreadParams, body: { content: { 'application/json': { schema: ForkBody } }, required: true } },
      responses: { 201: { content: { 'application/json': { schema: ForkResult } }, description: 'Created' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const thread = await runtime.fork(id, {
        atSeq: body.atSeq,
        by: c.get('principal').name,
        ...(body.shadow ? { shadow: {} } : {}),
        ...(body.release ? { release: body.release } : {}),
      });
      return c.json({ thread: presentThread(thread, Date.now(), await forkLinks(runtime.store, [thread.id])) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads',
      tags: ['threads'],
      summary: 'List threads, newest first',
      security,
      middleware: [requireRole('reader')] as const,
      request: {
        query: z.object({
          agent: z.string().optional(),
          status: z
            .string()
            .optional()
            .openapi({ description: `Comma-separated: ${threadStatuses.join(', ')}` })
            .refine((s) => !s || s.split(',').every((x) => (threadStatuses as readonly string[]).includes(x.trim())), `status must be among ${threadStatuses.join(', ')}`),
          created_after: z.iso.datetime({ offset: true }).optional(),
          created_before: z.iso.datetime({ offset: true }).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().optional(),
        }),
      },
      responses: { 200: { content: { 'application/json': { schema: ThreadList } }, description: 'A page of threads' }, ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      if (q.cursor && !after) throw new TwelveError('usage', 'cursor is not one this API returned');
      const threads = await runtime.listThreads({
        ...(q.agent ? { agent: q.agent } : {}),
        ...(q.status ? { status: q.status.split(',').map((s) => s.trim()) as ThreadStatus[] } : {}),
        ...(q.created_after ? { createdAfter: new Date(q.created_after).toISOString() } : {}),
        ...(q.created_before ? { createdBefore: new Date(q.created_before).toISOString() } : {}),
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const page = threads.slice(0, q.limit);
      const nextCursor = threads.length > q.limit ? encodeCursor(page[page.length - 1]!) : null;
      const links = await forkLinks(runtime.store, page.map((t) => t.id));
      const fallbacks = await fallbackLinks(runtime.store, page.map((t) => t.id));
      return c.json({ threads: page.map((t) => presentThread(t, Date.now(), links, fallbacks)), nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}',
      tags: ['threads'],
      summary: 'Get a thread, with what it waits for',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: ThreadParams },
      responses: { 200: { content: { 'application/json': { schema: ThreadDetail } }, description: 'The thread' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const thread = await runtime.getThreadOrThrow(id);
      // A paused thread keeps what it waited for (an approval can still be decided): shown, not hidden.
      const pending = waitingStatuses.includes(thread.status) || thread.status === 'paused' ? pendingOf(foldEvents(id, await runtime.loadEvents(id))) : [];
      const children = (await runtime.store.listChildren(id)).map((t) => ({ id: t.id, agent: t.agent, status: t.status, costUsd: t.costUsd, createdAt: t.createdAt }));
      return c.json({ ...presentThread(thread, Date.now(), await forkLinks(runtime.store, [id]), await fallbackLinks(runtime.store, [id])), pending, children }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/events',
      tags: ['threads'],
      summary: 'List events after a sequence number',
      security,
      middleware: [requireRole('reader')] as const,
      request: {
        params: ThreadParams,
        query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(500) }),
      },
      responses: { 200: { content: { 'application/json': { schema: EventList } }, description: 'Events in order' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { after, limit } = c.req.valid('query');
      pastTheEnd(await runtime.getThreadOrThrow(id), after, 'after');
      const events = (await runtime.loadEvents(id, after)).slice(0, limit);
      return c.json({ events: events.map((e) => ({ ...e, data: e.data as Record<string, unknown> })), lastSeq: events.at(-1)?.seq ?? after }, 200);
    },
  );

  // Server-Sent Events. Each message carries `id: <seq>`, so a reconnecting client's
  // Last-Event-ID resumes exactly after the last event it saw: no gap, no duplicate.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/stream',
      tags: ['threads'],
      summary: 'Stream events as Server-Sent Events',
      description:
        'Resumes after the Last-Event-ID header (or ?after=). The key goes in the Authorization header like everywhere else (never in the URL): read the stream with fetch. Ends with an `end` event once the thread is finished. Each key may hold a limited number of streams open at once (429 beyond).',
      security,
      middleware: [requireRole('reader')] as const,
      request: {
        params: ThreadParams,
        query: z.object({
          after: z.coerce.number().int().min(0).optional(),
          deltas: z
            .enum(['0', '1', 'true', 'false'])
            .optional()
            .openapi({ description: 'With 1: also `delta` events (no id) carrying the text of model calls as it streams (agents with stream: true): {threadId, seq, attempt, text}. Ephemeral: the model_called event at that seq has the final text.' }),
        }),
        headers: z.object({ 'last-event-id': z.string().regex(/^\d+$/, 'Last-Event-ID must be a sequence number').optional() }),
      },
      responses: {
        200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'An event stream' },
        ...errors,
        429: { content: { 'application/json': { schema: ErrorBody } }, description: 'This key already holds its share of open streams' },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const header = c.req.valid('header')['last-event-id'];
      const last = header !== undefined ? Number(header) : (c.req.valid('query').after ?? 0);
      const deltas = ['1', 'true'].includes(c.req.valid('query').deltas ?? '0');
      pastTheEnd(await runtime.getThreadOrThrow(id), last, header !== undefined ? 'Last-Event-ID' : 'after');
      const holder = c.get('principal').name;
      const release = state.streams.acquire(holder);
      if (!release) {
        c.header('Retry-After', '5');
        const message = `${holder} already has ${state.streams.perKey} event streams open (the most one key may hold); close one, or read /events instead`;
        return c.json({ error: { code: 'too_many_requests', message, details: { openStreams: state.streams.perKey } } }, 429);
      }
      return streamSSE(c, async (stream) => {
        const aborted = new AbortController();
        stream.onAbort(() => aborted.abort());
        try {
          for await (const item of followThread({ runtime, threadId: id, after: last, deltas, signal: aborted.signal })) {
            if (item.type === 'event') {
              await stream.writeSSE({ id: String(item.event.seq), event: item.event.type, data: JSON.stringify(runtime.viewRedactor.scrub(item.event)) });
            } else if (item.type === 'delta') {
              // No id: deltas are ephemeral, so Last-Event-ID resumes after stored events only.
              await stream.writeSSE({ event: 'delta', data: JSON.stringify(runtime.viewRedactor.scrub(item.delta)) });
            } else if (item.type === 'idle') {
              await stream.write(': keep-alive\n\n');
            } else {
              await stream.writeSSE({ event: 'end', data: JSON.stringify({ threadId: id, status: item.thread?.status ?? 'unknown', lastSeq: item.lastSeq }) });
            }
          }
        } finally {
          release();
        }
      });
    },
  );
}

/**
 * A seq beyond a thread's last event is never one a client saw (seqs only grow): it names
 * another thread's event or a made-up number, and reading on from it would skip real events.
 */
function pastTheEnd(thread: { id: string; seq: number }, after: number, what: string): void {
  if (after > thread.seq) {
    throw new TwelveError('usage', `${what} ${after} is past the end of thread ${thread.id}: its last event is ${thread.seq}`, { details: { lastSeq: thread.seq } });
  }
}
