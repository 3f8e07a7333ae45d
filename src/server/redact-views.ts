/**
 * Redaction of the API's (and so the console's) views: every JSON response under /v1 has the
 * user's patterns (TWELVE_REDACT_PATTERNS: emails, card numbers...) applied to its string
 * values, in one place, so no presenter or new route can forget them. The stored log is not
 * touched: what the agent saw stays there (unless the agent has redactAtWrite). Costs nothing
 * without patterns; with them, one JSON re-parse per response. The event stream (SSE) writes
 * its own frames and scrubs them in its route.
 */
import type { MiddlewareHandler } from 'hono';
import type { Redactor } from '../config/redact.js';

export function redactViews(redactor: Redactor): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!redactor.hasPatterns || c.req.path.startsWith('/v1/hooks/')) return;
    if (!(c.res.headers.get('content-type') ?? '').startsWith('application/json')) return;
    const body = (await c.res.clone().json()) as unknown;
    const scrubbed = redactor.scrub(body);
    if (scrubbed === body) return;
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(JSON.stringify(scrubbed), { status: c.res.status, statusText: c.res.statusText, headers });
  };
}
