/**
 * Inbound webhooks: POST /v1/hooks/{agent} launches the agent from any system that can
 * send a signed HTTP request. The signature (notify/webhook.ts, secret per hook from
 * TWELVE_HOOK_SECRETS) covers the direction (`inbound`), the event (`launch.<agent>`), the
 * delivery id, the callback URL header and the body, so a captured request cannot be
 * replayed under a new delivery id, sent to another hook, or have its result redirected.
 * Deliveries are deduplicated by `x-twelve-delivery`. The result goes to the callback URL
 * (signed `outbound`, event `thread.finished`) only where TWELVE_HOOK_CALLBACK_URLS allows.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { TwelveError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Runtime } from '../../runtime/runtime.js';
import { isTerminal } from '../../thread/state.js';
import type { DestinationPolicy } from '../../notify/destination.js';
import { CALLBACK_URL_HEADER, RESULT_EVENT, deliverWebhook, launchEvent, safeWebhookUrl, verifyWebhook } from '../../notify/webhook.js';
import { clientKey } from '../auth-throttle.js';
import { throttled, type AppEnv, type ServerState } from '../context.js';
import { peerAddress } from '../local-request.js';
import { ErrorBody } from '../schemas.js';
import { traceContextFrom } from '../../telemetry/trace-context.js';

const HookResult = z.object({ threadId: z.string(), created: z.boolean() }).openapi('HookResult');

export function hookRoutes(app: OpenAPIHono<AppEnv>, state: ServerState, callbacks: HookCallbacks): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/hooks/{agent}',
      tags: ['triggers'],
      summary: 'Launch an agent from a signed webhook',
      description:
        'Authenticated by the signature, not a bearer key: `x-twelve-signature: t=<unix>,v2=<hex HMAC-SHA256>` over `twelve.v2\\ninbound\\nlaunch.<agent>\\n<x-twelve-delivery>\\n<x-twelve-callback-url or empty>\\n<t>\\n<body>`. The input is the body\'s `input` field, or the whole body. A repeated `x-twelve-delivery` returns the same thread. `callbackUrl` (body) or `x-twelve-callback-url` (header) receives `{threadId, status, output, error}` (event `thread.finished`) when the thread finishes, if TWELVE_HOOK_CALLBACK_URLS allows that URL.',
      request: {
        params: z.object({ agent: z.string().openapi({ param: { name: 'agent', in: 'path' }, example: 'refunds' }) }),
        headers: z.object({ 'x-twelve-signature': z.string().optional(), 'x-twelve-delivery': z.string().optional(), 'x-twelve-callback-url': z.url().optional() }),
      },
      responses: {
        202: { content: { 'application/json': { schema: HookResult } }, description: 'Launched (or already launched for this delivery)' },
        400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad payload' },
        401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad or missing signature' },
        404: { content: { 'application/json': { schema: ErrorBody } }, description: 'No hook for this agent' },
        429: { content: { 'application/json': { schema: ErrorBody } }, description: 'Too many bad signatures from this address' },
      },
    }),
    async (c) => {
      const refused = throttled(c, state);
      if (refused) return refused as never;
      const { agent } = c.req.valid('param');
      const secret = state.hookSecrets.get(agent);
      if (!secret) throw new TwelveError('not_found', `no webhook is configured for agent "${agent}" (TWELVE_HOOK_SECRETS)`);
      const body = await c.req.text();
      const delivery = c.req.header('x-twelve-delivery');
      if (!delivery || delivery.length > 200) throw new TwelveError('invalid_request', 'x-twelve-delivery (a unique id per delivery, at most 200 characters) is required');
      const headerCallback = c.req.header(CALLBACK_URL_HEADER);
      const verdict = verifyWebhook({ secret, body, direction: 'inbound', event: launchEvent(agent), delivery, callbackUrl: headerCallback ?? '', header: c.req.header('x-twelve-signature') });
      if (!verdict.ok) {
        state.throttle.fail(clientKey(peerAddress(c)));
        throw new TwelveError('unauthorized', `webhook signature rejected: ${verdict.reason}${verdict.reason === 'unsupported_scheme' ? ' (v1 signatures covered the body only; sign with v2, see signWebhook)' : ''}`);
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        throw new TwelveError('invalid_json', 'the webhook body is not valid JSON');
      }
      const object = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : undefined;
      const callbackUrl = headerCallback ?? (typeof object?.callbackUrl === 'string' ? object.callbackUrl : undefined);
      if (callbackUrl) {
        const allowed = await state.callbackPolicy.check(callbackUrl);
        if (!allowed.ok) throw new TwelveError('invalid_request', `callbackUrl ${safeWebhookUrl(callbackUrl)} is not allowed: ${allowed.reason}`);
      }
      let input = object && 'input' in object ? object.input : payload;
      const release = state.runtime.release(agent);
      if (typeof input !== 'string' && release.agent.inputSchema.safeParse(JSON.stringify(input)).success && !release.agent.inputSchema.safeParse(input).success) {
        input = JSON.stringify(input); // a text agent gets the payload as JSON text
      }
      const { thread, created } = await state.runtime.launchOnce({
        agent,
        input,
        idempotencyKey: `hook:${agent}:${delivery}`,
        metadata: { trigger: 'webhook', delivery, ...(callbackUrl ? { callbackUrl } : {}) },
        ...traceOption(traceContextFrom({ traceparent: c.req.header('traceparent'), tracestate: c.req.header('tracestate') })),
      });
      if (callbackUrl) callbacks.watch(thread.id, callbackUrl, secret);
      return c.json({ threadId: thread.id, created }, 202);
    },
  );
}

/**
 * Posts a finished thread's result to its callback URL, signed with the hook's secret
 * (direction `outbound`, event `thread.finished`, so it can never pass for a trigger), with a
 * few retries, connecting only where the destination policy allows. The watch list lives in
 * this server process: a thread that finishes after the process restarts gets no callback
 * (its result stays readable over the API).
 */
export class HookCallbacks {
  private readonly watched = new Map<string, { url: string; secret: string }>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly logger: Logger,
    private readonly destination: DestinationPolicy,
  ) {}

  watch(threadId: string, url: string, secret: string): void {
    this.watched.set(threadId, { url, secret });
    this.timer ??= setInterval(() => void this.check(), 500);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    // One round at a time: two overlapping rounds could both find a thread finished and post twice.
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [threadId, target] of [...this.watched]) {
        const thread = await this.runtime.getThread(threadId).catch(() => undefined);
        if (!thread || !isTerminal(thread.status)) continue;
        this.watched.delete(threadId);
        const payload = { id: `${threadId}:result`, threadId, agent: thread.agent, seq: thread.seq, kind: 'result', status: thread.status, output: thread.output, error: thread.error, at: thread.updatedAt };
        void this.deliver(threadId, target, payload); // its retries never hold up other callbacks
      }
    } finally {
      this.checking = false;
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async deliver(threadId: string, target: { url: string; secret: string }, payload: { id: string }): Promise<void> {
    for (let attempt = 1; attempt <= 4 && !this.stopped; attempt++) {
      const result = await deliverWebhook({ url: target.url, secret: target.secret, event: RESULT_EVENT, payload, timeoutMs: 10_000, destination: this.destination });
      if (result.ok) return;
      this.logger.warn({ threadId, attempt, status: result.status, error: result.error, url: safeWebhookUrl(target.url) }, 'hook callback failed');
      // A destination the policy refuses (it resolves somewhere it may not go) stays refused.
      if (result.refused || attempt === 4) return;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** `{ trace }` when the request carried a valid traceparent (the thread's spans join the sender's trace). */
function traceOption<T>(trace: T | undefined): { trace?: T } {
  return trace ? { trace } : {};
}
