/**
 * The notifier drains the notification outbox into the webhook: it leases due items, POSTs
 * each one, and records every attempt with either "delivered" or the time of the next try
 * (exponential backoff with full jitter, so many failed items do not retry in lockstep).
 * Delivery is at least once: a receiver deduplicates on `x-twelve-delivery`.
 */
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { NotificationOutbox, OutboxItem } from './types.js';
import { deliverWebhook, safeWebhookUrl } from './webhook.js';

export interface NotifierOptions {
  outbox: NotificationOutbox;
  url: string;
  secret: string;
  logger?: Logger;
  /** Attempts per notification, the first included (default 8). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per HTTP attempt (default 10 s). */
  timeoutMs?: number;
  /** How long a claimed item stays ours (default 60 s); must exceed timeoutMs. */
  leaseMs?: number;
  /** Most items claimed per round (default 10; fewer if the lease could not cover them). */
  batchSize?: number;
  /**
   * A notification never attempted whose wait started longer ago than this is recorded as
   * expired instead of sent (default: no limit). Every process writes notifications, so a
   * deployment that sets TWELVE_NOTIFY_URL for the first time would otherwise page people
   * about every wait since the beginning.
   */
  maxAgeMs?: number;
  /** Clock for attempt times and retry schedules, in ms. */
  now?: () => number;
  /** In [0, 1): the jitter source, injectable for tests. */
  random?: () => number;
}

export interface FlushResult {
  delivered: number;
  /** True when the outbox had nothing more due; false when time ran out or a round failed. */
  complete: boolean;
}

export class Notifier {
  private readonly outbox: NotificationOutbox;
  private readonly url: string;
  private readonly secret: string;
  private readonly logger: Logger;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly maxAgeMs: number | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private loop: { stopping: boolean; wake: () => void; done: Promise<void> } | undefined;

  constructor(options: NotifierOptions) {
    const url = new URL(options.url); // throws on a malformed URL, at start rather than per attempt
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`Notifier: the webhook URL must be http(s), got ${url.protocol}`);
    // fetch refuses them anyway; failing here says why instead of failing every attempt.
    if (url.username || url.password) throw new TypeError('Notifier: the webhook URL must not contain credentials');
    if (!options.secret) throw new TypeError('Notifier: the webhook secret is empty');
    this.outbox = options.outbox;
    this.url = options.url;
    this.secret = options.secret;
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 8);
    this.baseDelayMs = positive('baseDelayMs', options.baseDelayMs ?? 1000);
    this.maxDelayMs = positive('maxDelayMs', options.maxDelayMs ?? 5 * 60_000);
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 10_000);
    this.leaseMs = positive('leaseMs', options.leaseMs ?? 60_000);
    if (this.leaseMs <= this.timeoutMs) throw new RangeError('Notifier: leaseMs must be longer than timeoutMs');
    // Items are delivered one after another under one lease: claim no more than the lease can
    // cover even if every attempt times out, keeping one attempt's worth of slack, or another
    // notifier could claim (and send) an item this one is about to send.
    const coverable = Math.max(1, Math.floor(this.leaseMs / this.timeoutMs) - 1);
    this.batchSize = Math.min(positive('batchSize', options.batchSize ?? 10), coverable);
    this.maxAgeMs = options.maxAgeMs === undefined ? undefined : positive('maxAgeMs', options.maxAgeMs);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    // Only the safe form of the URL is ever logged; the secret and signatures never are.
    this.logger = (options.logger ?? silentLogger).child({ component: 'notifier', webhook: safeWebhookUrl(options.url) });
  }

  /** One round: claim due notifications, deliver each, record each attempt. Returns how many were delivered. */
  async deliverDue(): Promise<number> {
    return (await this.round(this.batchSize)).delivered;
  }

  /** Delay before the retry that follows failed attempt number `attempt` (1-based), or null when none is left. */
  retryDelayMs(attempt: number): number | null {
    if (attempt >= this.maxAttempts) return null;
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * cap);
  }

  private async round(limit: number, deadline?: number): Promise<{ claimed: number; delivered: number }> {
    const items = await this.outbox.claimDueNotifications({ limit, leaseMs: this.leaseMs, maxAttempts: this.maxAttempts });
    let delivered = 0;
    for (const item of items) {
      // Past a flush deadline the rest stay leased and are retried once the lease expires.
      const remaining = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - performance.now());
      if (remaining <= 0) break;
      if (await this.deliverOne(item, remaining)) delivered++;
    }
    return { claimed: items.length, delivered };
  }

  private async deliverOne(item: OutboxItem, timeoutMs: number): Promise<boolean> {
    const attempt = item.attempts + 1;
    const at = this.now();
    const age = at - Date.parse(item.payload.at);
    if (this.maxAgeMs !== undefined && item.attempts === 0 && age > this.maxAgeMs) {
      const error = `not sent: the wait started ${Math.round(age / 3_600_000)} h before the first attempt (limit ${Math.round(this.maxAgeMs / 3_600_000)} h)`;
      await this.outbox.recordDeliveryAttempt(
        { notificationId: item.id, attempt, url: safeWebhookUrl(this.url), at: new Date(at).toISOString(), ok: false, status: null, error, durationMs: 0 },
        { delivered: false, retryAt: null },
      );
      this.logger.info({ notificationId: item.id, threadId: item.payload.threadId, error }, 'notification expired');
      return false;
    }
    const result = await deliverWebhook({ url: this.url, secret: this.secret, payload: item.payload, timeoutMs });
    const delay = result.ok ? null : this.retryDelayMs(attempt);
    const retryAt = delay === null ? null : this.now() + delay;
    await this.outbox.recordDeliveryAttempt(
      { notificationId: item.id, attempt, url: safeWebhookUrl(this.url), at: new Date(at).toISOString(), ...result },
      { delivered: result.ok, retryAt },
    );
    const fields = { notificationId: item.id, threadId: item.payload.threadId, attempt, status: result.status, durationMs: result.durationMs };
    if (result.ok) this.logger.debug(fields, 'notification delivered');
    else if (retryAt !== null) this.logger.info({ ...fields, error: result.error, retryInMs: delay }, 'notification delivery failed; will retry');
    else this.logger.warn({ ...fields, error: result.error, maxAttempts: this.maxAttempts }, 'notification delivery failed; giving up');
    return result.ok;
  }

  /** Runs deliverDue in the background every `intervalMs`, at once again after a full batch. Idempotent. */
  start(options: { intervalMs?: number } = {}): void {
    if (this.loop) return;
    const intervalMs = options.intervalMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    let wakeUp: (() => void) | undefined;
    const loop = { stopping: false, wake: () => wakeUp?.(), done: Promise.resolve() };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
        timer = setTimeout(resolve, ms);
      });
    loop.done = (async () => {
      let failures = 0;
      while (!loop.stopping) {
        let pause = intervalMs;
        try {
          const { claimed } = await this.round(this.batchSize);
          failures = 0;
          if (claimed >= this.batchSize) pause = 0; // more may be due right now
        } catch (error) {
          // A broken outbox (database down) must not kill the loop nor be hammered.
          failures++;
          pause = Math.min(30_000, intervalMs * 2 ** Math.min(failures, 10));
          this.logger.error({ error: errorMessage(error), backoffMs: pause }, 'notifier round failed');
        }
        if (!loop.stopping) await sleep(pause);
      }
    })();
    this.loop = loop;
  }

  /** Stops the background loop; resolves once the round in flight (if any) has finished. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    loop.stopping = true;
    loop.wake();
    await loop.done;
    if (this.loop === loop) this.loop = undefined;
  }

  /**
   * Delivers until nothing is due or `timeoutMs` (real time) has passed; for a process about to
   * exit. Claims one item at a time so a deadline never strands a leased batch. Never throws.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<FlushResult> {
    const deadline = performance.now() + (options.timeoutMs ?? this.timeoutMs);
    let delivered = 0;
    try {
      while (performance.now() < deadline) {
        const round = await this.round(1, deadline);
        delivered += round.delivered;
        if (round.claimed === 0) return { delivered, complete: true };
      }
    } catch (error) {
      this.logger.error({ error: errorMessage(error) }, 'notifier flush failed');
    }
    return { delivered, complete: false };
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Notifier: ${name} must be a positive number, got ${value}`);
  return value;
}
