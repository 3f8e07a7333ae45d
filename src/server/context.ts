/** What every route handler gets: the runtime, the caller, and shared server state. */
import type { MiddlewareHandler } from 'hono';
import type { Runtime } from '../runtime/runtime.js';
import { allows, type KeyRing, type Principal, type Role } from './auth.js';
import { errorResponse } from './http-errors.js';
import type { Metrics } from './metrics.js';

export interface ServerState {
  runtime: Runtime;
  keys: KeyRing;
  /** Hook name (agent) -> HMAC secret, for POST /v1/hooks/{agent}. */
  hookSecrets: Map<string, string>;
  metrics: Metrics;
  /** True once the server got SIGTERM: /readyz answers 503 so load balancers stop sending. */
  draining: () => boolean;
}

export type AppEnv = { Variables: { principal: Principal } };

/** Bearer key from the Authorization header (or ?access_token= for EventSource, which cannot set headers). */
export function authenticate(state: ServerState): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    // EventSource cannot set headers, so the stream (only) also takes the key as a query parameter.
    const token = bearer ?? (c.req.path.endsWith('/stream') ? c.req.query('access_token') : undefined);
    if (!token) return errorResponse(c, 'unauthorized', 'missing API key: send Authorization: Bearer <key>', undefined, 401);
    const principal = state.keys.authenticate(token);
    if (!principal) return errorResponse(c, 'unauthorized', 'unknown API key', undefined, 401);
    c.set('principal', principal);
    await next();
  };
}

export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!allows(principal, role)) {
      return errorResponse(c, 'forbidden', `${principal.name} lacks the ${role} role for this request`, { required: role, roles: principal.roles }, 403);
    }
    await next();
  };
}
