/**
 * The outbound webhook: Stripe-style signatures (`t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `${t}.${body}`) that receivers check with verifyWebhook, and one delivery attempt that never
 * throws. Signing the timestamp with the body lets a receiver reject replays of old requests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { NotificationPayload } from './types.js';

export const SIGNATURE_HEADER = 'x-twelve-signature';
export const DELIVERY_HEADER = 'x-twelve-delivery';
export const EVENT_HEADER = 'x-twelve-event';
export const WEBHOOK_EVENT = 'human.waiting';

/** The raw request body exactly as sent or received (re-serialised JSON would not verify). */
export type WebhookBody = string | Uint8Array;

function hmac(secret: string, timestamp: number, body: WebhookBody): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** The `x-twelve-signature` header value. `timestamp` is in unix seconds (default: now). */
export function signWebhook(options: { secret: string; body: WebhookBody; timestamp?: number }): string {
  if (!options.secret) throw new TypeError('signWebhook: the secret is empty');
  const t = Math.floor(options.timestamp ?? Date.now() / 1000);
  return `t=${t},v1=${hmac(options.secret, t, options.body).toString('hex')}`;
}

export type VerifyFailure = 'missing_secret' | 'malformed_header' | 'timestamp_out_of_tolerance' | 'signature_mismatch';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/**
 * Checks a signature header against the raw body. `now` is in milliseconds (default
 * Date.now()). Several `v1=` entries are accepted (any may match) so a sender can sign with
 * an old and a new secret while a secret is rotated. Never throws.
 */
export function verifyWebhook(options: {
  secret: string;
  body: WebhookBody;
  header: string | null | undefined;
  toleranceSeconds?: number;
  now?: number;
}): VerifyResult {
  if (!options.secret) return { ok: false, reason: 'missing_secret' };
  const parsed = parseSignatureHeader(options.header);
  if (!parsed) return { ok: false, reason: 'malformed_header' };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  // Both directions: a timestamp far in the future is as suspicious as an old one.
  if (Math.abs(nowSeconds - parsed.timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  const expected = hmac(options.secret, parsed.timestamp, options.body);
  // Every candidate is compared (no early exit) so timing reveals nothing about which matched.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'signature_mismatch' };
}

function parseSignatureHeader(header: string | null | undefined): { timestamp: number; signatures: Buffer[] } | undefined {
  if (typeof header !== 'string' || header.length > 4096) return undefined;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (a future v2) are ignored, as Stripe does, so they can be added safely.
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

export interface DeliveryResult {
  ok: boolean;
  /** The HTTP status, or null when no response arrived (timeout, refused, reset). */
  status: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * The webhook URL without credentials or query values, for logs and delivery records: a
 * URL is often a bearer secret itself (`?token=…`), the path is usually not.
 */
export function safeWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '[invalid url]';
  }
}

/** One POST of the payload. Never throws: every failure is a result with ok false. */
export async function deliverWebhook(options: {
  url: string;
  secret: string;
  payload: NotificationPayload;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
}): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  try {
    const body = JSON.stringify(options.payload);
    const response = await (options.fetchImpl ?? fetch)(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'twelve-agents',
        [SIGNATURE_HEADER]: signWebhook({ secret: options.secret, body }),
        [DELIVERY_HEADER]: options.payload.id,
        [EVENT_HEADER]: WEBHOOK_EVENT,
      },
      body,
      // A redirect could carry the signed payload to a host nobody configured.
      redirect: 'manual',
      signal: abort.signal,
    });
    // The response body is not used; discard it so the connection can be reused or closed.
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true, status, error: null, durationMs: elapsed() };
    const error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
    return { ok: false, status, error, durationMs: elapsed() };
  } catch (error) {
    const message = abort.signal.aborted ? `timed out after ${options.timeoutMs} ms` : describeFetchError(error, options.url);
    return { ok: false, status: null, error: message, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

/** undici says only "fetch failed"; the useful part (ECONNREFUSED, "other side closed") is the cause. */
function describeFetchError(error: unknown, url: string): string {
  const cause = error instanceof Error && error.cause !== undefined ? errorMessage(error.cause) : undefined;
  const message = cause ? `${errorMessage(error)}: ${cause}` : errorMessage(error);
  // Some messages quote the URL, which may hold a token: keep only its safe form.
  return message.split(url).join(safeWebhookUrl(url));
}
