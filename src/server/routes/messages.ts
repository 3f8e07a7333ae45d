/**
 * Conversations over HTTP: the next user message for a completed thread. The sender recorded
 * in the log is the API key's name. Wait for the answer on the thread's event stream (after
 * the returned seq) or by polling the thread until it is completed again.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { presentThread } from '../present.js';
import { ErrorBody, MessageBody, MessageResult } from '../schemas.js';

const errors = Object.fromEntries(
  ([
    [400, 'Bad request'],
    [401, 'Missing or unknown API key'],
    [403, 'The key lacks the role'],
    [404, 'Unknown thread'],
    [409, 'The thread failed or was cancelled (it cannot be continued), has not completed yet (wait for its answer), or the messageId was used with another text'],
  ] as const).map(([status, description]) => [status, { content: { 'application/json': { schema: ErrorBody } }, description }]),
);
const ThreadParams = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' } }) });

export function messageRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/threads/{id}/messages',
      tags: ['threads'],
      summary: "Continue a completed thread with the user's next message",
      description:
        'The thread becomes runnable again and the model answers with the whole conversation in context (bounded by the agent\'s maxContextTokens / maxTurns). Only a completed thread takes a message: failed and cancelled threads never continue, and a thread still working or waiting is 409 (wait for its answer, then send).',
      security: [{ bearer: [] }],
      middleware: [requireRole('operator')] as const,
      request: { params: ThreadParams, body: { content: { 'application/json': { schema: MessageBody } }, required: true } },
      responses: {
        201: { content: { 'application/json': { schema: MessageResult } }, description: 'Recorded' },
        200: { content: { 'application/json': { schema: MessageResult } }, description: 'Already recorded under this messageId' },
        ...errors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const result = await runtime.say(c.req.valid('param').id, { by: principal.name, text: body.text, ...(body.messageId !== undefined ? { messageId: body.messageId } : {}) });
      return c.json({ thread: presentThread(result.thread), added: result.added, seq: result.seq }, result.added ? 201 : 200);
    },
  );
}
