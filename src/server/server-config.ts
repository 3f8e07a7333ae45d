/**
 * The server's own settings from the environment, validated at start with every problem
 * reported at once: where webhook results may go, and the limits that keep one client from
 * exhausting the server (connections, open streams, slow requests).
 */
import { TwelveError } from '../errors.js';
import { parseDestinationRules, type DestinationRule } from '../notify/destination.js';

export interface ServerLimits {
  /** Open connections at once; more are closed at once (TWELVE_HTTP_MAX_CONNECTIONS, default 1000). */
  maxConnections: number;
  /** Open event streams per API key (TWELVE_HTTP_MAX_STREAMS_PER_KEY, default 20). */
  maxStreamsPerKey: number;
  /** Time to receive a request's headers (TWELVE_HTTP_HEADERS_TIMEOUT_MS, default 10 s): slow-loris clients are cut. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (TWELVE_HTTP_REQUEST_TIMEOUT_MS, default 30 s). Streams are responses: not limited. */
  requestTimeoutMs: number;
}

export const defaultLimits: ServerLimits = { maxConnections: 1000, maxStreamsPerKey: 20, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

const limitVariables: Record<keyof ServerLimits, string> = {
  maxConnections: 'TWELVE_HTTP_MAX_CONNECTIONS',
  maxStreamsPerKey: 'TWELVE_HTTP_MAX_STREAMS_PER_KEY',
  headersTimeoutMs: 'TWELVE_HTTP_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'TWELVE_HTTP_REQUEST_TIMEOUT_MS',
};

export interface ServerConfig {
  limits: ServerLimits;
  callbackRules: DestinationRule[];
}

export function loadServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const problems: string[] = [];
  const limits = { ...defaultLimits };
  for (const [field, variable] of Object.entries(limitVariables) as Array<[keyof ServerLimits, string]>) {
    const text = env[variable]?.trim();
    if (!text) continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) problems.push(`${variable} must be a positive whole number, got "${text}"`);
    else limits[field] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push(`TWELVE_HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not exceed TWELVE_HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  let callbackRules: DestinationRule[] = [];
  try {
    callbackRules = parseDestinationRules(env.TWELVE_HOOK_CALLBACK_URLS);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length) throw new TwelveError('config_invalid', problems.join('; '));
  return { limits, callbackRules };
}
