/**
 * Webhook signatures and one outbound delivery attempt. A signature is
 * `x-twelve-signature: t=<unix seconds>,v2=<hex HMAC-SHA256>` over a canonical string that
 * names what the request is, not only its body:
 *
 *     twelve.v2 \n <direction> \n <event> \n <delivery id> \n <callback url or empty> \n <t> \n <body>
 *
 * - direction: `inbound` (a trigger sent to Twelve, POST /v1/hooks/<agent>) or `outbound` (a
 *   notification or a result Twelve sends), so a message one way can never be replayed the
 *   other way, even where both sides share a secret;
 * - event: `launch.<agent>` inbound; `human.waiting` or `thread.finished` outbound;
 * - delivery id (`x-twelve-delivery`): a captured request replayed under a new id, to launch
 *   again past deduplication, no longer verifies;
 * - callback url (`x-twelve-callback-url`, inbound): nobody can redirect a signed trigger's result.
 *
 * Signing the timestamp too lets a receiver refuse replays of old requests. The v1 scheme
 * (`t.body` only) is refused: it allowed all of the above.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TwelveError, errorMessage } from '../errors.js';
import type { DestinationPolicy } from './destination.js';

export const SIGNATURE_HEADER = 'x-twelve-signature';
export const DELIVERY_HEADER = 'x-twelve-delivery';
export const EVENT_HEADER = 'x-twelve-event';
export const CALLBACK_URL_HEADER = 'x-twelve-callback-url';
/** The event of a notification: a thread waits for a person. */
export const WEBHOOK_EVENT = 'human.waiting';
/** The event of a webhook trigger's result, posted to its callback URL. */
export const RESULT_EVENT = 'thread.finished';

/** The raw request body exactly as sent or received (re-serialised JSON would not verify). */
export type WebhookBody = string | Uint8Array;

/** `inbound`: sent to Twelve (a trigger); `outbound`: sent by Twelve (a notification, a result). */
export type WebhookDirection = 'inbound' | 'outbound';

/** What a signature covers besides the body and the time. */
export interface WebhookEnvelope {
  direction: WebhookDirection;
  /** `launch.<agent>` inbound; `human.waiting` or `thread.finished` outbound (the x-twelve-event header). */
  event: string;
  /** The x-twelve-delivery header. */
  delivery: string;
  /** The x-twelve-callback-url header of an inbound trigger, if any. */
  callbackUrl?: string | undefined;
}

/** The event an inbound trigger of `agent` is signed with. */
export function launchEvent(agent: string): string {
  return `launch.${agent}`;
}

const unsafeField = /[\r\n]/;

function hmac(secret: string, timestamp: number, envelope: WebhookEnvelope, body: WebhookBody): Buffer {
  const head = ['twelve.v2', envelope.direction, envelope.event, envelope.delivery, envelope.callbackUrl ?? '', String(timestamp)].join('\n');
  return createHmac('sha256', secret).update(`${head}\n`).update(body).digest();
}

function envelopeProblem(envelope: Partial<WebhookEnvelope>): string | undefined {
  if (envelope.direction !== 'inbound' && envelope.direction !== 'outbound') return 'direction must be "inbound" or "outbound"';
  if (!envelope.event) return 'the event is missing';
  if (!envelope.delivery) return 'the delivery id is missing';
  // One field per line: a line break inside one could pass for another field.
  for (const [name, value] of Object.entries({ event: envelope.event, delivery: envelope.delivery, callbackUrl: envelope.callbackUrl ?? '' })) {
    if (unsafeField.test(value)) return `${name} contains a line break`;
  }
  return undefined;
}

/**
 * The `x-twelve-signature` header value. `timestamp` is in unix seconds (default: now).
 *
 * @example
 * // A system that triggers the refunds agent (POST /v1/hooks/refunds):
 * const body = JSON.stringify({ input: 'Refund order A-1001' });
 * const signature = signWebhook({ secret, body, direction: 'inbound', event: 'launch.refunds', delivery: 'evt_123' });
 */
export function signWebhook(options: { secret: string; body: WebhookBody; timestamp?: number } & WebhookEnvelope): string {
  if (!options.secret) throw new TypeError('signWebhook: the secret is empty');
  const problem = envelopeProblem(options);
  if (problem) throw new TypeError(`signWebhook: ${problem}`);
  const t = Math.floor(options.timestamp ?? Date.now() / 1000);
  return `t=${t},v2=${hmac(options.secret, t, options, options.body).toString('hex')}`;
}

export type VerifyFailure =
  | 'missing_secret'
  | 'malformed_header'
  | 'unsupported_scheme'
  | 'missing_envelope'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/** Request headers as node:http or fetch give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function headerValue(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a request's signature against its raw body. The signature, delivery id, event and
 * callback URL are read from `headers` unless given; `direction` says which way the message
 * was meant to go (a receiver of Twelve's notifications checks `outbound`). `now` is in
 * milliseconds (default Date.now()). Several `v2=` entries are accepted (any may match) so a
 * sender can sign with an old and a new secret while a secret is rotated. Never throws.
 *
 * @example
 * // Receiving Twelve's notifications (node:http): read the raw body first.
 * const verdict = verifyWebhook({ secret, body: rawBody, headers: req.headers, direction: 'outbound' });
 * if (!verdict.ok) return res.writeHead(401).end(verdict.reason);
 */
export function verifyWebhook(options: {
  secret: string;
  body: WebhookBody;
  direction: WebhookDirection;
  headers?: HeaderSource;
  /** The x-twelve-signature value (default: from headers). */
  header?: string | null | undefined;
  event?: string;
  delivery?: string;
  callbackUrl?: string;
  toleranceSeconds?: number;
  now?: number;
}): VerifyResult {
  if (!options.secret) return { ok: false, reason: 'missing_secret' };
  const header = options.header !== undefined ? options.header : headerValue(options.headers, SIGNATURE_HEADER);
  const parsed = parseSignatureHeader(header);
  if (parsed === 'v1') return { ok: false, reason: 'unsupported_scheme' };
  if (!parsed) return { ok: false, reason: 'malformed_header' };
  const envelope: WebhookEnvelope = {
    direction: options.direction,
    event: options.event ?? headerValue(options.headers, EVENT_HEADER) ?? '',
    delivery: options.delivery ?? headerValue(options.headers, DELIVERY_HEADER) ?? '',
    callbackUrl: options.callbackUrl ?? headerValue(options.headers, CALLBACK_URL_HEADER) ?? '',
  };
  if (envelopeProblem(envelope)) return { ok: false, reason: 'missing_envelope' };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  // Both directions: a timestamp far in the future is as suspicious as an old one.
  if (Math.abs(nowSeconds - parsed.timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  const expected = hmac(options.secret, parsed.timestamp, envelope, options.body);
  // Every candidate is compared (no early exit) so timing reveals nothing about which matched.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'signature_mismatch' };
}

function parseSignatureHeader(header: string | null | undefined): { timestamp: number; signatures: Buffer[] } | 'v1' | undefined {
  if (typeof header !== 'string' || header.length > 4096) return undefined;
  let timestamp: number | undefined;
  let v1 = false;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v2') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    } else if (key === 'v1') v1 = true;
    // Other schemes (a future v3) are ignored, as Stripe does, so they can be added safely.
  }
  if (timestamp === undefined) return undefined;
  if (signatures.length === 0) return v1 ? 'v1' : undefined;
  return { timestamp, signatures };
}

export interface DeliveryResult {
  ok: boolean;
  /** The HTTP status, or null when no response arrived (timeout, refused, reset). */
  status: number | null;
  error: string | null;
  durationMs: number;
  /** Set when the destination policy refused the address: trying again will not help. */
  refused?: true;
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

/**
 * One signed outbound POST of `payload` (as JSON). Never throws: every failure is a result
 * with ok false. With `destination`, the connection goes only to addresses that policy allows
 * (checked on the addresses actually connected to, so DNS cannot change the answer between
 * the check and the connection); without it, the URL is the operator's own (TWELVE_NOTIFY_URL).
 */
export async function deliverWebhook(options: {
  url: string;
  secret: string;
  /** The x-twelve-event header: `human.waiting` (default) or `thread.finished`. */
  event?: string;
  /** The x-twelve-delivery header (default: the payload's `id`). */
  delivery?: string;
  payload: { id: string };
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  destination?: DestinationPolicy;
}): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  try {
    const body = JSON.stringify(options.payload);
    const event = options.event ?? WEBHOOK_EVENT;
    const delivery = options.delivery ?? options.payload.id;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'twelve-agents',
      [SIGNATURE_HEADER]: signWebhook({ secret: options.secret, body, direction: 'outbound', event, delivery }),
      [DELIVERY_HEADER]: delivery,
      [EVENT_HEADER]: event,
    };
    let status: number;
    if (options.destination) {
      // Loaded on first delivery: node:http/https/net are ~30 ms of every process's start-up otherwise.
      const { postGuarded } = await import('./guarded-post.js');
      status = await postGuarded({ url: options.url, headers, body, signal: abort.signal, policy: options.destination });
    } else {
      const response = await (options.fetchImpl ?? fetch)(options.url, {
        method: 'POST',
        headers,
        body,
        // A redirect could carry the signed payload to a host nobody configured.
        redirect: 'manual',
        signal: abort.signal,
      });
      // The response body is not used; discard it so the connection can be reused or closed.
      await response.body?.cancel().catch(() => undefined);
      status = response.status;
    }
    if (status >= 200 && status < 300) return { ok: true, status, error: null, durationMs: elapsed() };
    const error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
    return { ok: false, status, error, durationMs: elapsed() };
  } catch (error) {
    if (TwelveError.is(error, 'forbidden')) return { ok: false, status: null, error: error.message, durationMs: elapsed(), refused: true };
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
