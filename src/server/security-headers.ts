/**
 * Response headers every answer carries. The console's policy allows scripts and styles from
 * this server only (no inline script, so an injected `<script>` would not run), and no page
 * may frame the console (clickjacking an Approve button). API answers are never cached: they
 * carry thread inputs and outputs, and a shared cache must not keep them.
 */
import type { MiddlewareHandler } from 'hono';

export const consolePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** For everything that is not a console page: nothing may load or frame it. */
const apiPolicy = "default-src 'none'; frame-ancestors 'none'";

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    const path = c.req.path;
    headers.set('x-content-type-options', 'nosniff');
    headers.set('referrer-policy', 'no-referrer');
    headers.set('x-frame-options', 'DENY');
    headers.set('cross-origin-opener-policy', 'same-origin');
    if (!headers.has('content-security-policy')) headers.set('content-security-policy', apiPolicy);
    if (path === '/v1' || path.startsWith('/v1/') || path === '/metrics' || path.startsWith('/dev/')) headers.set('cache-control', 'no-store');
  };
}
