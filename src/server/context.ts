/** What every route handler gets: the runtime, the caller, and shared server state. */
import type { Context, MiddlewareHandler } from 'hono';
import type { DestinationPolicy } from '../notify/destination.js';
import type { Runtime } from '../runtime/runtime.js';
import { allows, type KeyRing, type Principal, type Role } from './auth.js';
import { clientKey, type FailureThrottle } from './auth-throttle.js';
import { errorResponse } from './http-errors.js';
import { localRequestProblem, peerAddress } from './local-request.js';
import type { Metrics } from './metrics.js';
import type { StreamSlots } from './stream-slots.js';

export interface ServerState {
  runtime: Runtime;
  keys: KeyRing;
  /** Hook name (agent) -> HMAC secret, for POST /v1/hooks/{agent}. */
  hookSecrets: Map<string, string>;
  /** Where webhook triggers' results may be posted (TWELVE_HOOK_CALLBACK_URLS). */
  callbackPolicy: DestinationPolicy;
  metrics: Metrics;
  /** Failed keys and webhook signatures, per client address. */
  throttle: FailureThrottle;
  /** Open event streams per key. */
  streams: StreamSlots;
  /** The `twelve dev` key the console may fetch from this machine (GET /dev/session), if any. */
  devSession?: { apiKey: string; user: string };
  /** The port the server listens on (known once listening). */
  port: () => number;
  /** The project directory (beside twelve.config.ts): where accepted eval cases are written. */
  projectDir?: string;
  /** True once the server got SIGTERM: /readyz answers 503 so load balancers stop sending. */
  draining: () => boolean;
}

export type AppEnv = { Variables: { principal: Principal } };

/** 429 with Retry-After while this client has failed to authenticate too often. */
export function throttled(c: Context, state: ServerState): Response | undefined {
  const wait = state.throttle.retryAfter(clientKey(peerAddress(c)));
  if (wait === 0) return undefined;
  c.header('Retry-After', String(wait));
  return errorResponse(c, 'too_many_requests', `too many failed authentications from this address; try again in ${wait} s`, { retryAfterSeconds: wait }, 429);
}

/** Bearer key from the Authorization header only: a key in a URL ends up in logs and browser history. */
export function authenticate(state: ServerState): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const refused = throttled(c, state);
    if (refused) return refused;
    const header = c.req.header('authorization');
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    if (!token) return errorResponse(c, 'unauthorized', 'missing API key: send Authorization: Bearer <key>', undefined, 401);
    const principal = state.keys.authenticate(token);
    if (!principal) {
      state.throttle.fail(clientKey(peerAddress(c)));
      return errorResponse(c, 'unauthorized', 'unknown API key', undefined, 401);
    }
    if (principal.localOnly) {
      const problem = localRequestProblem(c, state.port());
      if (problem) return errorResponse(c, 'forbidden', `the twelve dev key is accepted only from this machine: ${problem}`, undefined, 403);
    }
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
