/**
 * Evals over HTTP: stored eval runs (the history a console page charts per agent) and the
 * cases people's corrections proposed, with accept (writes the case into the server project's
 * suite file, then marks the proposal) and dismiss. Reading needs `reader`; deciding needs
 * `operator` (accepting writes a file in the project); the decider is the API key's owner.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { acceptProposal, dismissProposal, pendingProposal, projectSuite } from '../../eval/accept-proposal.js';
import type { EvalRunRecord } from '../../eval/types.js';
import { TwelveError } from '../../errors.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { ErrorBody } from '../schemas.js';
import { AcceptBody, AcceptResult, EvalRun, EvalRunList, Proposal, ProposalKind, ProposalList, ProposalStatus } from '../eval-schemas.js';

const errors = {
  400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad request (a suite outside the project)' },
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
  404: { content: { 'application/json': { schema: ErrorBody } }, description: 'Unknown run or proposal' },
  409: { content: { 'application/json': { schema: ErrorBody } }, description: 'The proposal was already decided (the first decision stands)' },
};
const security = [{ bearer: [] }];
const idParam = z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' } });

/** A run for lists: the summary without the per-case results. */
function runSummary(run: EvalRunRecord) {
  const { results: _results, ...summary } = run;
  return summary;
}

export function evalRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { store } = state.runtime;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals/runs',
      tags: ['evals'],
      summary: 'Stored eval runs, newest first (without per-case results)',
      security,
      middleware: [requireRole('reader')] as const,
      request: { query: z.object({ agent: z.string().optional(), suite: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: { 200: { content: { 'application/json': { schema: EvalRunList } }, description: 'Runs' }, ...errors },
    }),
    async (c) => {
      const { agent, suite, limit } = c.req.valid('query');
      const runs = await store.listEvalRuns({ ...(agent ? { agent } : {}), ...(suite ? { suite } : {}), limit });
      return c.json({ runs: runs.map(runSummary) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals/runs/{id}',
      tags: ['evals'],
      summary: 'One eval run with its per-case results',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ id: idParam }) },
      responses: { 200: { content: { 'application/json': { schema: EvalRun } }, description: 'The run' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const run = await store.getEvalRun(id);
      if (!run) throw new TwelveError('not_found', `no eval run ${id}`);
      return c.json(run, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals/proposals',
      tags: ['evals'],
      summary: "Cases proposed by people's corrections (rejections with a comment, guidance, review edits), newest first",
      security,
      middleware: [requireRole('reader')] as const,
      request: {
        query: z.object({
          status: ProposalStatus.optional(),
          agent: z.string().optional(),
          thread: z.string().optional(),
          kind: ProposalKind.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: { 200: { content: { 'application/json': { schema: ProposalList } }, description: 'Proposals' }, ...errors },
    }),
    async (c) => {
      const { status, agent, thread, kind, limit } = c.req.valid('query');
      const found = await store.listProposals({ ...(status ? { status } : {}), ...(agent ? { agent } : {}), ...(thread ? { threadId: thread } : {}), limit });
      return c.json({ proposals: kind ? found.filter((p) => p.kind === kind) : found }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/evals/proposals/{id}/accept',
      tags: ['evals'],
      summary: "Write the proposed case into the server project's suite file (default evals/<agent>.jsonl), then mark it accepted",
      security,
      middleware: [requireRole('operator')] as const,
      request: { params: z.object({ id: idParam }), body: { content: { 'application/json': { schema: AcceptBody } }, required: false } },
      responses: { 200: { content: { 'application/json': { schema: AcceptResult } }, description: 'Accepted' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = (c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {}) as z.infer<typeof AcceptBody>;
      if (!state.projectDir) throw new TwelveError('conflict', 'this server was started without a project directory, so it has no suite files to write; accept with twelve eval proposals accept where the project is');
      const proposal = await pendingProposal(store, id);
      const suite = projectSuite(state.projectDir, proposal.agent, body.suite);
      const accepted = await acceptProposal({ store, id, by: c.get('principal').name, path: suite.path, suite: suite.name });
      return c.json({ proposal: accepted.proposal, suite: suite.name, written: accepted.written }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/evals/proposals/{id}/dismiss',
      tags: ['evals'],
      summary: 'Dismiss a proposed case (it stays listed as dismissed)',
      security,
      middleware: [requireRole('operator')] as const,
      request: { params: z.object({ id: idParam }) },
      responses: { 200: { content: { 'application/json': { schema: Proposal } }, description: 'Dismissed' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await dismissProposal({ store, id, by: c.get('principal').name }), 200);
    },
  );
}
