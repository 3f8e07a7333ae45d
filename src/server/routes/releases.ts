/** Releases: list them with thread counts, read one, compare two of one agent (`current`: the server's). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { findPair, findRelease, type CurrentReleases } from '../../release/lookup.js';
import { releaseDiffView, releaseView } from '../../release/present.js';
import type { Runtime } from '../../runtime/runtime.js';
import { requireRole, type AppEnv, type ServerState } from '../context.js';
import { ErrorBody, Release, ReleaseDiff, ReleaseList } from '../schemas.js';

const errors = {
  400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad request (two agents\' releases, an ambiguous "current")' },
  401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Missing or unknown API key' },
  403: { content: { 'application/json': { schema: ErrorBody } }, description: 'The key lacks the role' },
  404: { content: { 'application/json': { schema: ErrorBody } }, description: 'Unknown release' },
};
const security = [{ bearer: [] }];
const releaseParam = (name: string) =>
  z.string().min(1).openapi({ param: { name, in: 'path' }, example: 'rel_3f9a1c0d5e7b2a64', description: 'A release id, or "current": the release this server runs' });
const agentQuery = z.string().optional().openapi({ description: 'Which agent "current" means when the server runs several' });

/** The releases this server's code makes, per agent. */
export function currentReleases(runtime: Runtime): CurrentReleases {
  return new Map(runtime.agents.map((release) => [release.agent.name, { id: release.releaseId, manifest: release.manifest }]));
}

export function releaseRoutes(app: OpenAPIHono<AppEnv>, state: ServerState): void {
  const { runtime } = state;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/releases',
      tags: ['releases'],
      summary: 'Releases, newest first, with the threads whose latest step each wrote',
      security,
      middleware: [requireRole('reader')] as const,
      request: { query: z.object({ agent: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: { 200: { content: { 'application/json': { schema: ReleaseList } }, description: 'Releases' }, ...errors },
    }),
    async (c) => {
      const { agent, limit } = c.req.valid('query');
      const current = currentReleases(runtime);
      const found = await runtime.store.listReleases({ ...(agent ? { agent } : {}), limit });
      const releases = found.map((r) => ({ ...r, current: current.get(r.agent)?.id === r.id, threadsByStatus: r.threadsByStatus as Record<string, number> }));
      return c.json({ releases }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/releases/{id}',
      tags: ['releases'],
      summary: 'One release: prompt, tools with schemas, models, settings, limits, approval policies, effects',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ id: releaseParam('id') }), query: z.object({ agent: agentQuery }) },
      responses: { 200: { content: { 'application/json': { schema: Release } }, description: 'The release' }, ...errors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { agent } = c.req.valid('query');
      const release = await findRelease(runtime.store, id, { current: currentReleases(runtime), ...(agent ? { agent } : {}) });
      return c.json(releaseView(release), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/releases/{a}/diff/{b}',
      tags: ['releases'],
      summary: 'What changed from release a to release b of one agent: the prompt as a line diff, schemas field by field, models, limits, policies',
      security,
      middleware: [requireRole('reader')] as const,
      request: { params: z.object({ a: releaseParam('a'), b: releaseParam('b') }), query: z.object({ agent: agentQuery }) },
      responses: { 200: { content: { 'application/json': { schema: ReleaseDiff } }, description: 'The changes' }, ...errors },
    }),
    async (c) => {
      const { a, b } = c.req.valid('param');
      const { agent } = c.req.valid('query');
      const [from, to] = await findPair(runtime.store, a, b, { current: currentReleases(runtime), ...(agent ? { agent } : {}) });
      return c.json(releaseDiffView(from, to), 200);
    },
  );
}
