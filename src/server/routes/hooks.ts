/**
 * Inbound webhooks: POST /v1/hooks/{agent} launches the agent from any system that can
 * send a signed HTTP request. The body is signed like Twelve's own notifications
 * (`x-twelve-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`, secret per hook
 * from TWELVE_HOOK_SECRETS), deduplicated by `x-twelve-delivery`, and the result can be
 * posted to a callback URL (signed the same way) when the thread finishes.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { TwelveError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Runtime } from '../../runtime/runtime.js';
import { isTerminal } from '../../thread/state.js';
import { deliverWebhook, verifyWebhook } from '../../notify/webhook.js';
import type { AppEnv, ServerState } from '../context.js';
import { ErrorBody } from '../schemas.js';

const HookResult = z.object({ threadId: z.string(), created: z.boolean() }).openapi('HookResult');

export function hookRoutes(app: OpenAPIHono<AppEnv>, state: ServerState, callbacks: HookCallbacks): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/hooks/{agent}',
      tags: ['triggers'],
      summary: 'Launch an agent from a signed webhook',
      description:
        'Authenticated by the signature, not a bearer key. The input is the body\'s `input` field, or the whole body. A repeated `x-twelve-delivery` returns the same thread. `callbackUrl` (body) or `x-twelve-callback-url` (header) receives `{threadId, status, output, error}` when the thread finishes.',
      request: {
        params: z.object({ agent: z.string().openapi({ param: { name: 'agent', in: 'path' }, example: 'refunds' }) }),
        headers: z.object({ 'x-twelve-signature': z.string().optional(), 'x-twelve-delivery': z.string().optional(), 'x-twelve-callback-url': z.url().optional() }),
      },
      responses: {
        202: { content: { 'application/json': { schema: HookResult } }, description: 'Launched (or already launched for this delivery)' },
        400: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad payload' },
        401: { content: { 'application/json': { schema: ErrorBody } }, description: 'Bad or missing signature' },
        404: { content: { 'application/json': { schema: ErrorBody } }, description: 'No hook for this agent' },
      },
    }),
    async (c) => {
      const { agent } = c.req.valid('param');
      const secret = state.hookSecrets.get(agent);
      if (!secret) throw new TwelveError('not_found', `no webhook is configured for agent "${agent}" (TWELVE_HOOK_SECRETS)`);
      const body = await c.req.text();
      const verdict = verifyWebhook({ secret, body, header: c.req.header('x-twelve-signature') });
      if (!verdict.ok) throw new TwelveError('unauthorized', `webhook signature rejected: ${verdict.reason}`);
      const delivery = c.req.header('x-twelve-delivery');
      if (!delivery || delivery.length > 200) throw new TwelveError('invalid_request', 'x-twelve-delivery (a unique id per delivery, at most 200 characters) is required');
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        throw new TwelveError('invalid_json', 'the webhook body is not valid JSON');
      }
      const object = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : undefined;
      const callbackUrl = c.req.header('x-twelve-callback-url') ?? (typeof object?.callbackUrl === 'string' ? object.callbackUrl : undefined);
      if (callbackUrl && !/^https?:\/\//.test(callbackUrl)) throw new TwelveError('usage', 'callbackUrl must be an http(s) URL');
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
      });
      if (callbackUrl) callbacks.watch(thread.id, callbackUrl, secret);
      return c.json({ threadId: thread.id, created }, 202);
    },
  );
}

/**
 * Posts a finished thread's result to its callback URL, signed with the hook's secret,
 * with a few retries. The watch list lives in this server process: a thread that finishes
 * after the process restarts gets no callback (its result stays readable over the API).
 */
export class HookCallbacks {
  private readonly watched = new Map<string, { url: string; secret: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly logger: Logger,
  ) {}

  watch(threadId: string, url: string, secret: string): void {
    this.watched.set(threadId, { url, secret });
    this.timer ??= setInterval(() => void this.check(), 500);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    for (const [threadId, target] of [...this.watched]) {
      const thread = await this.runtime.getThread(threadId).catch(() => undefined);
      if (!thread || !isTerminal(thread.status)) continue;
      this.watched.delete(threadId);
      const payload = { id: `${threadId}:result`, threadId, agent: thread.agent, seq: thread.seq, kind: 'result', status: thread.status, output: thread.output, error: thread.error, at: thread.updatedAt };
      for (let attempt = 1; attempt <= 4; attempt++) {
        const result = await deliverWebhook({ url: target.url, secret: target.secret, payload: payload as never, timeoutMs: 10_000 });
        if (result.ok) break;
        this.logger.warn({ threadId, attempt, status: result.status, error: result.error }, 'hook callback failed');
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
