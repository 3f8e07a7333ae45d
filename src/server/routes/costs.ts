/** Cost and usage: spend, tokens and model calls from the events, grouped (GET /v1/costs, reader role). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { totalOf } from '../../costs/present.js';
import { parseCostQuery } from '../../costs/query.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { CostReportSchema } from '../cost-schemas.js';
import { ErrorBody } from '../schemas.js';

const errors = {
  400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad query (an unknown dimension, a time that does not parse)' },
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
};

export function costRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/costs',
      tags: ['costs'],
      summary: 'Spend, tokens and model calls from the events, grouped by agent, model, day or tenant (one or two of them)',
      security: [{ bearer: [] }],
      middleware: [requireRole('reader')] as const,
      request: {
        query: z.object({
          by: z.string().optional().openapi({ example: 'day,agent', description: 'One or two of agent, model, day, tenant (default agent)' }),
          since: z.string().optional().openapi({ example: '7d', description: 'Calls at or after: an age (30m, 24h, 7d, 2w) or an ISO date or time' }),
          until: z.string().optional().openapi({ description: 'Calls before: an age or an ISO date or time' }),
          agent: z.string().optional(),
          tenant: z.string().optional(),
        }),
      },
      responses: { 200: { content: { 'application/json': { schema: CostReportSchema } }, description: 'The report' }, ...errors },
    }),
    async (c) => {
      const options = parseCostQuery(c.req.valid('query'), { prefix: '' });
      const rows = await state.runtime.store.costReport(options);
      return c.json({ by: options.by, since: options.since ?? null, until: options.until ?? null, rows, total: totalOf(rows) }, 200);
    },
  );
}
