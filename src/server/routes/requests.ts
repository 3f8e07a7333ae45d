/**
 * What the model saw: each model step's request (stored, or re-derived for old events) and
 * the blobs a thread refers to. A blob is served only through a thread that refers to it,
 * so a key that may read one thread cannot read another's payloads by guessing hashes.
 */
import { createHash } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { TwelveError } from '../../errors.js';
import { stepRequests } from '../../replay/step-requests.js';
import type { ThreadEvent } from '../../thread/events.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { ErrorBody } from '../schemas.js';
import { Blob, StepRequest, StepRequestList } from '../request-schemas.js';

const errors = {
  400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad request' },
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
  404: { content: { 'application/json': { schema: ErrorBody } }, description: 'Unknown thread, step or blob' },
};
const security = [{ bearer: [] }];
const id = z.string().min(1).openapi({ param: { name: 'id', in: 'path' }, example: 'th_mwyq9qtr6ad38ca93ac9' });

export function requestRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;
  const events = async (threadId: string) => {
    await runtime.getThreadOrThrow(threadId);
    return runtime.loadEvents(threadId);
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/requests',
      tags: ['threads'],
      summary: 'What the model saw at each model step: the request and the response',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ id }) },
      responses: { 200: { content: { 'application/json': { schema: StepRequestList } }, description: 'One entry per model step' }, ...errors },
    }),
    async (c) => {
      const steps = await stepRequests(runtime.store, await events(c.req.valid('param').id));
      return c.json({ steps: steps.map(plain) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/steps/{seq}/request',
      tags: ['threads'],
      summary: 'The request the model saw at one model step (seq of its model_called event)',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ id, seq: z.coerce.number().int().min(1).openapi({ param: { name: 'seq', in: 'path' } }) }) },
      responses: { 200: { content: { 'application/json': { schema: StepRequest } }, description: 'The step' }, ...errors },
    }),
    async (c) => {
      const { id: threadId, seq } = c.req.valid('param');
      const [step] = await stepRequests(runtime.store, await events(threadId), { seq });
      if (!step) throw new TwelveError('not_found', `thread ${threadId} has no model step at seq ${seq}`);
      return c.json(plain(step), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/blobs/{hash}',
      tags: ['threads'],
      summary: 'A blob this thread refers to (a full tool result, a stored request or one of its parts)',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ id, hash: z.string().regex(/^sha256:[0-9a-f]{64}$/).openapi({ param: { name: 'hash', in: 'path' } }) }) },
      responses: { 200: { content: { 'application/json': { schema: Blob } }, description: 'The blob, its data parsed' }, ...errors },
    }),
    async (c) => {
      const { id: threadId, hash } = c.req.valid('param');
      const { refs, kept } = await threadRefs(runtime.store, threadId, await events(threadId));
      const blob = refs.has(hash) ? ((await runtime.store.getBlob(hash)) ?? kept.get(hash)) : undefined;
      if (!blob) throw new TwelveError('not_found', `thread ${threadId} refers to no stored blob ${hash}`);
      return c.json({ hash: blob.hash, bytes: blob.bytes, data: JSON.parse(blob.data) as unknown }, 200);
    },
  );
}

/**
 * Every blob the thread's events refer to, the parts of its stored requests included; `kept`: the
 * requests kept with its events (model/request-record.ts), served by their hash like blobs.
 */
async function threadRefs(store: ServerState['runtime']['store'], threadId: string, events: ThreadEvent[]) {
  const refs = new Set<string>();
  const requests: string[] = [];
  for (const e of events) {
    if ((e.type === 'model_called' || e.type === 'model_failed') && e.data.request) requests.push(e.data.request.ref);
    if (e.type === 'tool_succeeded' && e.data.blob) refs.add(e.data.blob.ref);
  }
  const kept = new Map<string, { hash: string; bytes: number; data: string }>();
  const manifests: string[] = [];
  for (const { text } of requests.length ? await store.loadRequests(threadId, 2_147_483_647) : []) {
    const hash = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    kept.set(hash, { hash, bytes: Buffer.byteLength(text), data: text });
    manifests.push(text);
  }
  // Requests stored as blobs before they were kept with their events.
  for (const head of await store.getBlobs(requests.filter((ref) => !kept.has(ref)))) manifests.push(head.data), refs.add(head.hash);
  for (const text of manifests) {
    const manifest = JSON.parse(text) as { prompt?: string[]; tools?: string };
    for (const part of manifest.prompt ?? []) refs.add(part);
    if (manifest.tools) refs.add(manifest.tools);
  }
  for (const ref of requests) if (kept.has(ref)) refs.add(ref);
  return { refs, kept };
}

function plain<T extends { request?: unknown }>(step: T) {
  return step as T & { request?: Record<string, unknown>; response: Record<string, unknown> };
}
