/** The inbox (everything waiting for a person), the agents' manifests, and who am I. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { qualityOf } from '../../agent/quality.js';
import { promptCacheWarnings } from '../../agent/prompt-cache-lint.js';
import { foldEvents } from '../../thread/state.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { pendingOf, presentThread } from '../present.js';
import { AgentList, ErrorBody, Inbox } from '../schemas.js';

const errors = {
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key has no role' },
};
const security = [{ bearer: [] }];

export function catalogRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/inbox',
      tags: ['decisions'],
      summary: 'Everything waiting for a person, oldest first',
      security,
      middleware: [requireRole('reader')] as const,
      request: { query: z.object({ agent: z.string().optional() }) },
      responses: { 200: { content: { 'application/json': { schema: Inbox } }, description: 'Waiting threads' }, ...errors },
    }),
    async (c) => {
      const { agent } = c.req.valid('query');
      const threads = await runtime.listWaiting({ ...(agent ? { agent } : {}), limit: 200 });
      const items = await Promise.all(threads.map(async (thread) => ({ thread: presentThread(thread), pending: pendingOf(foldEvents(thread.id, await runtime.loadEvents(thread.id))) })));
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/agents',
      tags: ['agents'],
      summary: 'Agents and their manifests: models, tools with JSON Schemas, approval policies, limits, output review, non-LLM fallback, confidence',
      security,
      middleware: [requireRole('reader')] as const,
      responses: { 200: { content: { 'application/json': { schema: AgentList } }, description: 'Agents' }, ...errors },
    }),
    (c) => {
      const agents = runtime.agents.map((release) => ({
        name: release.agent.name,
        purpose: release.agent.purpose,
        releaseId: release.releaseId,
        models: release.models,
        tools: release.toolSpecs.map((tool) => {
          const approval = release.approvals.get(tool.name)!;
          return {
            name: tool.name,
            description: tool.description,
            inputSchema: tool.inputSchema,
            approval: { policy: approval.policy, approvers: approval.approvers, people: approval.people, timeoutMs: approval.timeoutMs ?? null, onTimeout: approval.onTimeout },
            binding: release.toolBindings[tool.name]?.implementation ?? 'live',
            mcpServer: release.agent.tools.get(tool.name)?.mcp?.server ?? null,
          };
        }),
        outputSchema: release.outputJsonSchema ?? null,
        limits: JSON.parse(JSON.stringify(release.limits)) as Record<string, unknown>,
        ...qualityOf(release),
        promptCache: { cache: release.cache, warnings: promptCacheWarnings(release.agent.promptTemplate) },
      }));
      return c.json({ agents }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me',
      tags: ['agents'],
      summary: 'The name and roles of the API key in use',
      security,
      middleware: [requireRole('reader')] as const,
      responses: { 200: { content: { 'application/json': { schema: z.object({ name: z.string(), roles: z.array(z.string()) }) } }, description: 'You' }, ...errors },
    }),
    (c) => {
      const { name, roles } = c.get('principal');
      return c.json({ name, roles }, 200);
    },
  );
}
