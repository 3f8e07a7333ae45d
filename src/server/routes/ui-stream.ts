/**
 * GET /v1/threads/{id}/ui-stream: the thread as an AI SDK UI message stream (protocol v1, the
 * one `useChat` and `readUIMessageStream` read), from the stored events plus the live text of
 * model calls (server/ui-message-chunks.ts). Resumable: a reconnect replays what is stored so
 * far and continues live.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { followThread } from '../follow-thread.js';
import { UiMessageChunks } from '../ui-message-chunks.js';
import { ErrorBody } from '../schemas.js';

const errors = {
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
  404: { content: { 'application/json': { schema: ErrorBody } }, description: 'Unknown thread' },
  429: { content: { 'application/json': { schema: ErrorBody } }, description: 'This key already holds its share of open streams' },
};
const ThreadParams = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' }, example: 'th_mwyq9qtr6ad38ca93ac9' }) });

export function uiStreamRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/threads/{id}/ui-stream',
      tags: ['threads'],
      summary: 'Stream the thread as an AI SDK UI message stream (useChat)',
      description:
        'Server-Sent Events in the AI SDK UI message stream protocol (header x-vercel-ai-ui-message-stream: v1): start, then text-start / text-delta / text-end for what the model writes (token by token while a call streams, for agents with stream: true), tool-input-available and tool-output-available (or tool-output-error) for each tool call, error if the thread fails, and finish once it is finished, then [DONE]. One assistant message, its id the thread id. Resumable: a reconnect replays what is stored so far (a finished model call as one text part) and continues live. With ?after=<seq>, only what comes after that seq: one turn of a conversation. Counts against the same per-key limit of open streams as /stream.',
      security: [{ bearer: [] }],
      middleware: [requireRole('reader')] as const,
      request: {
        params: ThreadParams,
        query: z.object({
          after: z.coerce
            .number()
            .int()
            .min(0)
            .optional()
            .openapi({ description: 'Only what comes after this seq: a conversation turn is the events after its message_added (POST /v1/threads/{id}/messages returns its seq).' }),
        }),
      },
      responses: {
        200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'A UI message stream' },
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const after = c.req.valid('query').after ?? 0;
      await runtime.getThreadOrThrow(id);
      const holder = c.get('principal').name;
      const release = state.streams.acquire(holder);
      if (!release) {
        c.header('Retry-After', '5');
        const message = `${holder} already has ${state.streams.perKey} event streams open (the most one key may hold); close one first`;
        return c.json({ error: { code: 'too_many_requests', message, details: { openStreams: state.streams.perKey } } }, 429);
      }
      c.header('x-vercel-ai-ui-message-stream', 'v1');
      c.header('x-accel-buffering', 'no');
      return streamSSE(c, async (stream) => {
        const aborted = new AbortController();
        stream.onAbort(() => aborted.abort());
        const chunks = new UiMessageChunks(id);
        const write = async (parts: unknown[]) => {
          for (const part of parts) await stream.writeSSE({ data: JSON.stringify(runtime.viewRedactor.scrub(part)) });
        };
        try {
          await write(chunks.start());
          for await (const item of followThread({ runtime, threadId: id, after, deltas: true, signal: aborted.signal })) {
            if (item.type === 'event') await write(chunks.event(item.event));
            else if (item.type === 'delta') await write(chunks.delta(item.delta));
            else if (item.type === 'idle') await stream.write(': keep-alive\n\n');
            else {
              await write(chunks.end(item.thread));
              await stream.writeSSE({ data: '[DONE]' });
            }
          }
        } finally {
          release();
        }
      });
    },
  );
}
