/**
 * Refuses request bodies nested deeper than a limit before anything parses them: a
 * 10,000-deep array is valid JSON, parses fine, and then overflows the stack of whatever walks
 * it (validation, redaction, the store), which answered 500. One pass, no allocation.
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from './http-errors.js';

/** Default: deep enough for any real input or metadata, far from any stack limit. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in `text` (strings skipped), or `limit + 1` as soon as it passes `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

/** For request bodies that look like JSON: 400 when nested deeper than `limit`. */
export function limitJsonDepth(limit = MAX_JSON_DEPTH): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || !c.req.raw.body) return next();
    // Read once here; hono caches it, so the route's own c.req.json()/text() reuses it.
    const text = await c.req.text();
    if (jsonDepth(text, limit) > limit) {
      return errorResponse(c, 'invalid_json', `the JSON body nests deeper than ${limit} levels`, { maxDepth: limit }, 400);
    }
    return next();
  };
}
