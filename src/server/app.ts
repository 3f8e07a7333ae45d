/**
 * The HTTP API (hono + @hono/zod-openapi): routes under /v1, OpenAPI 3.1 at
 * /openapi.json, health, readiness and Prometheus metrics, and the web console at `/`.
 * Public (no key): /healthz, /readyz, /openapi.json, the console's static files, and
 * POST /v1/hooks/{agent} (authenticated by its signature). Everything else needs a key.
 * The agents as MCP tools answer at /mcp (Streamable HTTP, same keys; see src/mcp/server.ts).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { version } from '../version.js';
import type { McpServerOptions } from '../mcp/server.js';
import { authenticate, requireRole, type AppEnv, type ServerState } from './context.js';
import type { ConsoleAssets } from './console-assets.js';
import { redactViews } from './redact-views.js';
import { errorResponse, onError } from './http-errors.js';
import { limitJsonDepth } from './json-depth.js';
import { localRequestProblem } from './local-request.js';
import { consolePolicy, securityHeaders } from './security-headers.js';
import { actionRoutes } from './routes/actions.js';
import { messageRoutes } from './routes/messages.js';
import { catalogRoutes } from './routes/catalog.js';
import { costRoutes } from './routes/costs.js';
import { evalRoutes } from './routes/evals.js';
import { HookCallbacks, hookRoutes } from './routes/hooks.js';
import { releaseRoutes } from './routes/releases.js';
import { threadRoutes } from './routes/threads.js';
import { requestRoutes } from './routes/requests.js';
import { uiStreamRoutes } from './routes/ui-stream.js';

export interface AppOptions {
  console?: ConsoleAssets;
  /** The example chat page (examples/chat/), at /chat/; only with the console. */
  chat?: ConsoleAssets;
  /** Largest accepted request body (default 1 MiB). */
  maxBodyBytes?: number;
  /** The MCP endpoint at /mcp: how long an agent's tool waits, whether launches check the models here. */
  mcp?: Pick<McpServerOptions, 'waitMs' | 'checkModels'>;
}

/** A misspelt or made-up field is refused, not dropped: a dropped comment or key loses what the caller meant. */
function unknownFields(keys: string[]): string {
  const names = keys.map((k) => JSON.stringify(k)).join(', ');
  const hint = keys.some((k) => /^idempotency.?key$/i.test(k)) ? '; the idempotency key goes in the Idempotency-Key header' : '; /openapi.json lists the fields';
  return `unknown field${keys.length === 1 ? '' : 's'} ${names}${hint}`;
}

export function createApp(state: ServerState, options: AppOptions = {}): { app: OpenAPIHono<AppEnv>; callbacks: HookCallbacks } {
  const logger = state.runtime.logger;
  const app = new OpenAPIHono<AppEnv>({
    // Bad bodies, params and queries: 400 with the zod issue paths.
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.code === 'unrecognized_keys' ? unknownFields(issue.keys) : issue.message }));
        const first = issues[0];
        return errorResponse(c, 'invalid_request', first ? `${first.path || '(body)'}: ${first.message}` : 'invalid request', { issues }, 400);
      }
      return undefined;
    },
  });
  app.onError(onError(logger));
  app.notFound((c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`, undefined, 404));
  app.use('*', async (c, next) => {
    await next();
    state.metrics.httpRequests.inc({ method: c.req.method, status: String(c.res.status) });
  });
  app.use('*', securityHeaders());

  app.get('/healthz', (c) => c.json({ ok: true, version }));
  app.get('/readyz', async (c) => {
    if (state.draining()) return c.json({ ready: false, reason: 'draining' }, 503);
    try {
      await state.runtime.store.getThread('th_readyz_probe');
      return c.json({ ready: true });
    } catch (error) {
      // The store's message names its host and port: the log gets it, an anonymous caller does not.
      logger.warn({ error: (error as Error).message }, 'readiness check: the store is unavailable');
      return c.json({ ready: false, reason: 'store_unavailable' }, 503);
    }
  });

  const limitBody = bodyLimit({
    maxSize: options.maxBodyBytes ?? 1024 * 1024,
    onError: (c) => {
      // The rest of the body is never read: say the connection closes, so a client still
      // sending (fetch/undici) reads this 413 instead of failing on a reset socket.
      c.header('Connection', 'close');
      return errorResponse(c, 'payload_too_large', 'the request body is too large', undefined, 413);
    },
  });
  app.use('/v1/*', limitBody);
  const depth = limitJsonDepth();
  app.use('/v1/hooks/*', depth);
  const callbacks = new HookCallbacks(state.runtime, logger, state.callbackPolicy);
  hookRoutes(app, state, callbacks); // authenticated by signature, not by bearer key
  const auth = authenticate(state);
  app.use('/v1/*', (c, next) => (c.req.path.startsWith('/v1/hooks/') ? next() : auth(c, next)));
  app.use('/v1/*', (c, next) => (c.req.path.startsWith('/v1/hooks/') ? next() : depth(c, next)));
  app.use('/metrics', auth, requireRole('reader'));
  // MCP (Streamable HTTP, stateless): any key may list tools and poll; launching needs operator (src/mcp/server.ts).
  app.all('/mcp', limitBody, auth, async (c) => {
    const { handleMcpRequest } = await import('../mcp/server-http.js');
    return handleMcpRequest(c.req.raw, { runtime: state.runtime, caller: c.get('principal'), transport: 'http', ...options.mcp });
  });
  app.use('/v1/*', redactViews(state.runtime.viewRedactor));
  threadRoutes(app, state);
  uiStreamRoutes(app, state);
  requestRoutes(app, state);
  actionRoutes(app, state);
  messageRoutes(app, state);
  catalogRoutes(app, state);
  releaseRoutes(app, state);
  evalRoutes(app, state);
  costRoutes(app, state);
  // `twelve dev`: the console fetches its key here (never inlined in a page, which any
  // page could load as a script); only a request from this machine that names it gets it.
  app.get('/dev/session', (c) => {
    const session = state.devSession;
    if (!session) return errorResponse(c, 'not_found', 'no dev session here: only `twelve dev` without TWELVE_API_KEYS signs the console in by itself', undefined, 404);
    const problem = localRequestProblem(c, state.port());
    if (problem) return errorResponse(c, 'forbidden', `the dev key is handed only to this machine: ${problem}`, undefined, 403);
    return c.json(session, 200);
  });
  app.get('/metrics', async (c) => c.text(await state.metrics.registry.metrics(), 200, { 'content-type': state.metrics.registry.contentType }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API key from TWELVE_API_KEYS' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Twelve', version, description: 'Launch, watch and answer durable LLM agent threads.' },
  });

  if (options.console) {
    const assets = options.console;
    app.get('/*', (c) => {
      // API paths never fall through to the console's page: an unknown one is a JSON 404.
      if (c.req.path === '/v1' || c.req.path.startsWith('/v1/')) return errorResponse(c, 'not_found', `no route for GET ${c.req.path}`, undefined, 404);
      const name = c.req.path.replace(/^\/+/, '');
      if (name === 'chat') return c.redirect('/chat/');
      const chat = options.chat && name.startsWith('chat/') ? options.chat : undefined;
      const file = chat ? chat.get(name.slice('chat/'.length)) : (assets.get(name) ?? (name.includes('.') ? undefined : assets.get('')));
      if (!file) return errorResponse(c, 'not_found', `no file ${c.req.path}`, undefined, 404);
      return c.body(typeof file.body === 'string' ? file.body : new Uint8Array(file.body), 200, {
        'content-type': file.type,
        'cache-control': 'no-cache',
        'content-security-policy': consolePolicy,
      });
    });
  }
  return { app, callbacks };
}
