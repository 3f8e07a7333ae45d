/**
 * What people do to threads over HTTP. The decider recorded in the log is the API key's
 * name, never a field of the request, so nobody can approve as someone else.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { HumanAction } from '../../runtime/human.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { presentThread } from '../present.js';
import { ActionResult, AnswerBody, BudgetBody, ControlBody, DecisionBody, ErrorBody, ResumeBody, ReviewBody } from '../schemas.js';
import type { Role } from '../auth.js';

const errors = Object.fromEntries(
  ([
    [400, 'Bad request'],
    [401, 'Missing or unknown API key'],
    [403, 'The key lacks the role, or its owner may not decide this call or review this answer'],
    [404, 'Unknown thread'],
    [409, 'Impossible now: already decided, finished, or nothing waiting'],
  ] as const).map(([status, description]) => [status, { content: { 'application/json': { schema: ErrorBody } }, description }]),
);
const ThreadParams = z.object({ id: z.string().min(1).openapi({ param: { name: 'id', in: 'path' } }) });

function actionRoute(path: string, summary: string, role: Role, body: z.ZodType) {
  return createRoute({
    method: 'post',
    path,
    tags: ['decisions'],
    summary,
    security: [{ bearer: [] }],
    middleware: [requireRole(role)] as const,
    request: { params: ThreadParams, body: { content: { 'application/json': { schema: body } }, required: true } },
    responses: { 200: { content: { 'application/json': { schema: ActionResult } }, description: 'Recorded' }, ...errors },
  });
}

export function actionRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;
  const act = async (c: { get(key: 'principal'): { name: string; roles: string[] } }, id: string, action: HumanAction) => {
    const principal = c.get('principal');
    // The key's API roles, plus the roles TWELVE_HUMANS gives its owner (approval policies name those: finance, ...).
    const roles = [...new Set([...principal.roles, ...(runtime.config.humans.get(principal.name) ?? [])])];
    const result = await runtime.act(id, { name: principal.name, roles }, action);
    return { thread: presentThread(result.thread), applied: result.applied };
  };

  app.openapi(actionRoute('/v1/threads/{id}/approvals', 'Approve or reject the call that waits for approval', 'approver', DecisionBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof DecisionBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'decide', approved: body.approved, ...(body.callId ? { callId: body.callId } : {}), ...(body.comment ? { comment: body.comment } : {}) }), 200);
  });
  app.openapi(actionRoute('/v1/threads/{id}/answer', "Answer the agent's question, or guide an escalated thread", 'approver', AnswerBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof AnswerBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'answer', answer: body.answer, ...(body.callId ? { callId: body.callId } : {}) }), 200);
  });
  app.openapi(
    actionRoute(
      '/v1/threads/{id}/review',
      'Review the final answer that waits for review: approve, edit (output), send back (feedback), or reject',
      'approver',
      ReviewBody,
    ),
    async (c) => {
      const body = c.req.valid('json') as z.infer<typeof ReviewBody>;
      const { decision, output, feedback, comment } = body;
      return c.json(await act(c, c.req.valid('param').id, { kind: 'review', decision, ...(output !== undefined ? { output } : {}), ...(feedback ? { feedback } : {}), ...(comment ? { comment } : {}) }), 200);
    },
  );
  app.openapi(actionRoute('/v1/threads/{id}/budget', "Raise this thread's limits", 'approver', BudgetBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof BudgetBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'raiseBudget', ...body }), 200);
  });
  app.openapi(actionRoute('/v1/threads/{id}/pause', 'Pause (never claimed until resumed)', 'operator', ControlBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof ControlBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'pause', ...(body.reason ? { reason: body.reason } : {}) }), 200);
  });
  app.openapi(actionRoute('/v1/threads/{id}/resume', 'Resume a paused or escalated thread', 'operator', ResumeBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof ResumeBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'resume', ...(body.comment ? { comment: body.comment } : {}) }), 200);
  });
  app.openapi(actionRoute('/v1/threads/{id}/cancel', 'Cancel (a tool run in flight finishes and is recorded first)', 'operator', ControlBody), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof ControlBody>;
    return c.json(await act(c, c.req.valid('param').id, { kind: 'cancel', ...(body.reason ? { reason: body.reason } : {}) }), 200);
  });
}
