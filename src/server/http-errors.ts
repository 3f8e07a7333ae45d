/**
 * The one place errors become HTTP responses: every 4xx/5xx is
 * `{ "error": { "code", "message", "details" } }`, and the status comes from the code.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TwelveError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

const statusOf: Record<string, ContentfulStatusCode> = {
  usage: 400,
  input_invalid: 400,
  invalid_request: 400,
  invalid_json: 400,
  agent_invalid: 400,
  model_id_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  agent_not_found: 404,
  thread_not_found: 404,
  release_not_found: 404,
  not_found: 404,
  conflict: 409,
  thread_not_runnable: 409,
  thread_busy: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  store_unavailable: 503,
  draining: 503,
};

export function errorResponse(c: Context, code: string, message: string, details?: Record<string, unknown>, status?: ContentfulStatusCode) {
  return c.json({ error: { code, message, ...(details && Object.keys(details).length ? { details } : {}) } }, status ?? statusOf[code] ?? 500);
}

export function onError(logger: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof HTTPException) {
      const status = error.status;
      if (status === 413) return errorResponse(c, 'payload_too_large', 'the request body is too large', undefined, 413);
      if (status === 400 && /json/i.test(error.message)) return errorResponse(c, 'invalid_json', 'the request body is not valid JSON', undefined, 400);
      return errorResponse(c, status === 401 ? 'unauthorized' : 'http_error', error.message || 'request failed', undefined, status as ContentfulStatusCode);
    }
    if (TwelveError.is(error)) {
      const details = error.code === 'thread_busy' ? { ...error.details, retryAfterSeconds: 1 } : error.details;
      if (error.code === 'thread_busy') c.header('Retry-After', '1');
      return errorResponse(c, error.code, error.message, details);
    }
    logger.error({ error: errorMessage(error), path: c.req.path }, 'unhandled error in a request');
    return errorResponse(c, 'internal', 'internal error; see the server log', undefined, 500);
  };
}
