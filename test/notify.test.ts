/**
 * The "a thread is waiting for a person" webhook, end to end over real HTTP: signatures a
 * receiver can verify, retries with backoff and every attempt recorded, timeouts, giving up,
 * flush before exit and a background loop that stops cleanly. The outbox is an in-memory
 * stand-in for the store interface (the SQLite outbox has its own conformance tests).
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../src/log/logger.js';
import { Notifier, type NotifierOptions } from '../src/notify/notifier.js';
import type { DeliveryAttempt, NotificationOutbox, NotificationPayload, OutboxItem } from '../src/notify/types.js';
import { deliverWebhook, safeWebhookUrl, signWebhook, verifyWebhook } from '../src/notify/webhook.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const secret = 'whsec_test_0123456789abcdef';

/** Faithful to the interface: due by next attempt time, leased, attempts counted, dead after maxAttempts. */
class MemoryOutbox implements NotificationOutbox {
  private readonly rows = new Map<string, { payload: NotificationPayload; attempts: number; nextAttemptAt: number | null; leaseUntil: number; delivered: boolean; log: DeliveryAttempt[] }>();

  constructor(private readonly now: () => number = Date.now) {}

  add(payload: NotificationPayload): void {
    this.rows.set(payload.id, { payload, attempts: 0, nextAttemptAt: this.now(), leaseUntil: 0, delivered: false, log: [] });
  }

  async claimDueNotifications({ limit, leaseMs, maxAttempts }: { limit: number; leaseMs: number; maxAttempts: number }): Promise<OutboxItem[]> {
    await Promise.resolve(); // asynchronous like a real store, so concurrent callers interleave
    const now = this.now();
    const claimed: OutboxItem[] = [];
    for (const [id, row] of this.rows) {
      if (claimed.length >= limit) break;
      if (row.delivered || row.attempts >= maxAttempts || row.nextAttemptAt === null || row.nextAttemptAt > now || row.leaseUntil > now) continue;
      row.leaseUntil = now + leaseMs;
      claimed.push({ id, payload: row.payload, attempts: row.attempts });
    }
    return claimed;
  }

  async recordDeliveryAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void> {
    await Promise.resolve();
    const row = this.rows.get(attempt.notificationId);
    if (!row) throw new Error(`unknown notification ${attempt.notificationId}`);
    if (attempt.attempt !== row.attempts + 1) throw new Error(`attempt ${attempt.attempt} recorded after ${row.attempts}`);
    row.attempts = attempt.attempt;
    row.log.push(attempt);
    row.delivered = outcome.delivered;
    row.nextAttemptAt = outcome.delivered ? null : outcome.retryAt;
    row.leaseUntil = 0;
  }

  async listDeliveryAttempts(notificationId: string): Promise<DeliveryAttempt[]> {
    return [...(this.rows.get(notificationId)?.log ?? [])];
  }

  nextAttemptAt(id: string): number | null | undefined {
    return this.rows.get(id)?.nextAttemptAt;
  }
}

function payload(n: number): NotificationPayload {
  return {
    id: `th_${n}:7`,
    threadId: `th_${n}`,
    agent: 'refunds',
    seq: 7,
    kind: 'approval',
    summary: `Approve refund #${n} of $49.99?`,
    data: { tool: 'issue_refund', args: { orderId: `A-${n}` } },
    at: '2025-01-01T00:00:00.000Z',
  };
}

function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function recordingLogger(lines: { level: string; object: Record<string, unknown>; message?: string }[], bindings: Record<string, unknown> = {}): Logger {
  const log = (level: string) => (object: Record<string, unknown>, message?: string) => void lines.push({ level, object: { ...bindings, ...object }, message });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

let receiver: WebhookReceiver;
const notifiers: Notifier[] = [];
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.stop()));
  await receiver.close();
});

function notifier(options: Partial<NotifierOptions> & { outbox: NotificationOutbox }): Notifier {
  const created = new Notifier({ url: receiver.url, secret, baseDelayMs: 5, maxDelayMs: 1000, timeoutMs: 1000, ...options });
  notifiers.push(created);
  return created;
}

describe('webhook signatures', () => {
  it('signs each delivery so the receiver verifies the raw body with its headers, and rejects tampering', async () => {
    const result = await deliverWebhook({ url: receiver.url, secret, payload: payload(1), timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    const [request] = receiver.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'twelve-agents',
      'x-twelve-delivery': 'th_1:7',
      'x-twelve-event': 'human.waiting',
    });
    expect(request?.body).toEqual(payload(1));
    const header = request!.headers['x-twelve-signature'] as string;
    expect(header).toMatch(/^t=\d+,v2=[0-9a-f]{64}$/);
    const { headers, rawBody } = request!;

    expect(verifyWebhook({ secret, body: rawBody, headers, direction: 'outbound' })).toEqual({ ok: true });
    expect(verifyWebhook({ secret, body: rawBody.toString('utf8'), headers: new Headers(headers as Record<string, string>), direction: 'outbound' })).toEqual({ ok: true });
    const tampered = rawBody.toString('utf8').replace('49.99', '4999');
    expect(verifyWebhook({ secret, body: tampered, headers, direction: 'outbound' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifyWebhook({ secret: 'whsec_other', body: rawBody, headers, direction: 'outbound' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    // The signature covers what the request is, not only its body.
    expect(verifyWebhook({ secret, body: rawBody, headers, direction: 'inbound' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifyWebhook({ secret, body: rawBody, headers, direction: 'outbound', delivery: 'th_1:8' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifyWebhook({ secret, body: rawBody, headers, direction: 'outbound', event: 'thread.finished' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifyWebhook({ secret, body: rawBody, headers: { ...headers, 'x-twelve-delivery': undefined }, direction: 'outbound' })).toEqual({ ok: false, reason: 'missing_envelope' });
    // The same signature replayed after the tolerance window (or dated far ahead) is refused.
    const t = Number(/^t=(\d+)/.exec(header)![1]);
    const at = (now: number, extra: object = {}) => verifyWebhook({ secret, body: rawBody, headers, direction: 'outbound', now, ...extra });
    expect(at((t + 301) * 1000)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(at((t - 301) * 1000)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(at((t + 60) * 1000, { toleranceSeconds: 30 })).toMatchObject({ ok: false });
    expect(at((t + 299) * 1000)).toEqual({ ok: true });
  });

  it('computes t=<unix seconds>,v2=HMAC-SHA256(secret, "twelve.v2\\n<direction>\\n<event>\\n<delivery>\\n<callback url>\\n<t>\\n<body>")', () => {
    const body = '{"id":"x"}';
    const envelope = { direction: 'inbound', event: 'launch.refunds', delivery: 'evt_1', callbackUrl: 'https://ci.example.com/done' } as const;
    const expected = createHmac('sha256', secret).update(`twelve.v2\ninbound\nlaunch.refunds\nevt_1\nhttps://ci.example.com/done\n1700000000\n${body}`).digest('hex');
    const header = signWebhook({ secret, body, timestamp: 1_700_000_000, ...envelope });
    expect(header).toBe(`t=1700000000,v2=${expected}`);
    expect(verifyWebhook({ secret, body, header, ...envelope, now: 1_700_000_000_000 })).toEqual({ ok: true });
    // Another callback URL, or none, is another request.
    expect(verifyWebhook({ secret, body, header, ...envelope, callbackUrl: 'https://evil.example/x', now: 1_700_000_000_000 })).toMatchObject({ ok: false });
    expect(verifyWebhook({ secret, body, header, ...envelope, callbackUrl: '', now: 1_700_000_000_000 })).toMatchObject({ ok: false });
    // While a secret is rotated the sender may sign twice; either signature is enough.
    const rotated = `${signWebhook({ secret: 'whsec_new', body, timestamp: 1_700_000_000, ...envelope })},v2=${expected}`;
    expect(verifyWebhook({ secret, body, header: rotated, ...envelope, now: 1_700_000_000_000 })).toEqual({ ok: true });
    expect(() => signWebhook({ secret: '', body, ...envelope })).toThrow(/secret/);
    expect(() => signWebhook({ secret, body, ...envelope, delivery: 'a\nb' })).toThrow(/line break/);
    expect(verifyWebhook({ secret: '', body, header, ...envelope })).toEqual({ ok: false, reason: 'missing_secret' });
    // A body-only v1 signature (the old scheme) is refused with its own reason.
    const v1 = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(verifyWebhook({ secret, body, header: `t=1700000000,v1=${v1}`, ...envelope, now: 1_700_000_000_000 })).toEqual({ ok: false, reason: 'unsupported_scheme' });
  });

  it('rejects malformed headers without throwing', () => {
    const body = '{}';
    const envelope = { direction: 'outbound', event: 'human.waiting', delivery: 'd1' } as const;
    const good = signWebhook({ secret, body, timestamp: 1_700_000_000, ...envelope });
    const v2 = good.split('v2=')[1]!;
    for (const header of [undefined, null, '', 'garbage', `v2=${v2}`, 't=1700000000', `t=abc,v2=${v2}`, `t=1700000000,v2=${v2.slice(2)}`, `t=1700000000,v2=${'z'.repeat(64)}`, `t=1,t=1700000000,v2=${v2}`, `t=1700000000;v2=${v2}`]) {
      expect(verifyWebhook({ secret, body, header, ...envelope, now: 1_700_000_000_000 }), String(header)).toEqual({ ok: false, reason: 'malformed_header' });
    }
  });
});

describe('deliverWebhook', () => {
  it('does not follow redirects: a 3xx is a failure and the target is never contacted', async () => {
    const other = await startWebhookReceiver();
    try {
      receiver.script({ status: 307, headers: { location: other.url } });
      const result = await deliverWebhook({ url: receiver.url, secret, payload: payload(1), timeoutMs: 2000 });
      expect(result).toMatchObject({ ok: false, status: 307, error: expect.stringMatching(/redirect/) });
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('never throws: refused connections, dropped sockets and timeouts are results', async () => {
    // A port that was just free: nothing listens there any more.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await deliverWebhook({ url: `http://127.0.0.1:${port}/x`, secret, payload: payload(1), timeoutMs: 2000 });
    expect(refused).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/ECONNREFUSED/) });

    receiver.script({ destroy: true });
    const dropped = await deliverWebhook({ url: receiver.url, secret, payload: payload(1), timeoutMs: 2000 });
    expect(dropped).toMatchObject({ ok: false, status: null, error: expect.any(String) });

    receiver.script({ hang: true });
    const hung = await deliverWebhook({ url: receiver.url, secret, payload: payload(1), timeoutMs: 100 });
    expect(hung).toMatchObject({ ok: false, status: null, error: 'timed out after 100 ms' });
    expect(hung.durationMs).toBeGreaterThanOrEqual(90);
    expect(hung.durationMs).toBeLessThan(2000);
  });

  it('keeps tokens in the URL out of records', () => {
    expect(safeWebhookUrl('https://hooks.example.com/in/abc?token=s3cret')).toBe('https://hooks.example.com/in/abc?…');
  });
});

describe('Notifier', () => {
  it('retries a failing receiver with backoff and records every attempt', async () => {
    const clock = manualClock();
    const outbox = new MemoryOutbox(clock.now);
    outbox.add(payload(1));
    receiver.script({ status: 500 }, 2);
    const n = notifier({ outbox, now: clock.now, random: () => 0.5 });

    expect(await n.deliverDue()).toBe(0);
    // Full jitter: a uniform delay in [0, base * 2^(attempt-1)]; 0.5 of 5 ms rounds to 3.
    expect(outbox.nextAttemptAt('th_1:7')).toBe(clock.now() + 3);
    expect(await n.deliverDue()).toBe(0); // not due yet: nothing is sent
    expect(receiver.requests).toHaveLength(1);

    clock.advance(3);
    expect(await n.deliverDue()).toBe(0);
    expect(outbox.nextAttemptAt('th_1:7')).toBe(clock.now() + 5); // 0.5 * 10 ms
    clock.advance(5);
    expect(await n.deliverDue()).toBe(1);
    expect(await n.deliverDue()).toBe(0); // delivered once, never again

    const attempts = await outbox.listDeliveryAttempts('th_1:7');
    expect(attempts.map((a) => [a.attempt, a.ok, a.status])).toEqual([
      [1, false, 500],
      [2, false, 500],
      [3, true, 200],
    ]);
    expect(attempts[0]).toMatchObject({ notificationId: 'th_1:7', url: receiver.url, error: 'HTTP 500', at: new Date(1_700_000_000_000).toISOString() });
    // Every retry is the same delivery, freshly signed.
    expect(receiver.requests.map((r) => r.headers['x-twelve-delivery'])).toEqual(['th_1:7', 'th_1:7', 'th_1:7']);
    for (const r of receiver.requests) expect(verifyWebhook({ secret, body: r.rawBody, headers: r.headers, direction: 'outbound' }).ok).toBe(true);
  });

  it('caps the backoff at maxDelayMs', () => {
    const n = notifier({ outbox: new MemoryOutbox(), baseDelayMs: 1000, maxDelayMs: 5000, maxAttempts: 20, random: () => 0.999999 });
    expect([1, 2, 3, 4, 10].map((a) => n.retryDelayMs(a))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(n.retryDelayMs(20)).toBeNull();
  });

  it('times out a hanging receiver and retries', async () => {
    const clock = manualClock();
    const outbox = new MemoryOutbox(clock.now);
    outbox.add(payload(1));
    receiver.script({ hang: true });
    const n = notifier({ outbox, now: clock.now, timeoutMs: 100, random: () => 0 });

    const started = Date.now();
    expect(await n.deliverDue()).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await n.deliverDue()).toBe(1); // jitter 0: due again at once
    const attempts = await outbox.listDeliveryAttempts('th_1:7');
    expect(attempts.map((a) => [a.ok, a.status, a.error])).toEqual([
      [false, null, 'timed out after 100 ms'],
      [true, 200, null],
    ]);
  });

  it('retries after a dropped connection', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(payload(1));
    receiver.script({ destroy: true });
    const n = notifier({ outbox, random: () => 0 });
    expect(await n.deliverDue()).toBe(0);
    expect(await n.deliverDue()).toBe(1);
    expect((await outbox.listDeliveryAttempts('th_1:7')).map((a) => a.status)).toEqual([null, 200]);
  });

  it('gives up after maxAttempts with a warning, and never logs the secret or a signature', async () => {
    const clock = manualClock();
    const outbox = new MemoryOutbox(clock.now);
    outbox.add(payload(1));
    receiver.script({ status: 503 }, 10);
    const lines: { level: string; object: Record<string, unknown>; message?: string }[] = [];
    const n = notifier({ outbox, now: clock.now, maxAttempts: 3, logger: recordingLogger(lines) });

    for (let i = 0; i < 6; i++) {
      await n.deliverDue();
      clock.advance(10_000);
    }
    expect(receiver.requests).toHaveLength(3);
    const attempts = await outbox.listDeliveryAttempts('th_1:7');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 503],
    ]);
    expect(outbox.nextAttemptAt('th_1:7')).toBeNull();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/giving up/), object: expect.objectContaining({ notificationId: 'th_1:7', attempt: 3, status: 503 }) }),
    ]);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(2);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(secret);
    for (const r of receiver.requests) expect(logged).not.toContain((r.headers['x-twelve-signature'] as string).split('v1=')[1]);
  });

  it('never hands one notification to two notifiers at once (lease)', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 1; i <= 6; i++) outbox.add(payload(i));
    const a = notifier({ outbox, batchSize: 2 });
    const b = notifier({ outbox, batchSize: 2 });
    const counts = await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue()]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(6);
    const ids = receiver.requests.map((r) => r.headers['x-twelve-delivery']);
    expect(new Set(ids).size).toBe(6);
    expect(ids).toHaveLength(6);
  });

  it('flush() delivers everything due, in order', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 1; i <= 5; i++) outbox.add(payload(i));
    receiver.script({ status: 500 }); // the first try of #1 fails and is retried within the flush
    const n = notifier({ outbox, random: () => 0 });
    expect(await n.flush({ timeoutMs: 5000 })).toEqual({ delivered: 5, complete: true });
    expect(receiver.requests.map((r) => r.headers['x-twelve-delivery'])).toEqual(['th_1:7', 'th_1:7', 'th_2:7', 'th_3:7', 'th_4:7', 'th_5:7']);
  });

  it('flush() gives up at its deadline even when the receiver hangs', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 1; i <= 3; i++) outbox.add(payload(i));
    receiver.script({ hang: true }, 10);
    const n = notifier({ outbox, timeoutMs: 5000 });
    const started = Date.now();
    expect(await n.flush({ timeoutMs: 150 })).toEqual({ delivered: 0, complete: false });
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await outbox.listDeliveryAttempts('th_1:7'))[0]?.error).toMatch(/timed out/);
  });

  it('start() delivers in the background; stop() waits for the round in flight, then nothing more is sent', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 1; i <= 3; i++) outbox.add(payload(i));
    const n = notifier({ outbox, timeoutMs: 200 });
    n.start({ intervalMs: 10 });
    n.start({ intervalMs: 10 }); // idempotent: still one loop
    await receiver.waitFor(3);

    // A delivery in flight when stop() is called is finished and recorded before stop resolves.
    receiver.script({ hang: true });
    outbox.add(payload(4));
    await receiver.waitFor(4);
    await n.stop();
    expect(await outbox.listDeliveryAttempts('th_4:7')).toEqual([expect.objectContaining({ ok: false, error: 'timed out after 200 ms' })]);

    outbox.add(payload(5));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.requests).toHaveLength(4);
    await n.stop(); // a second stop is harmless
  });

  it('stop() does not wait out the poll interval, whether idle or mid-round', async () => {
    const idle = notifier({ outbox: new MemoryOutbox() });
    idle.start({ intervalMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    let started = Date.now();
    await idle.stop();
    expect(Date.now() - started).toBeLessThan(500);

    const outbox = new MemoryOutbox();
    outbox.add(payload(1));
    receiver.script({ hang: true });
    const busy = notifier({ outbox, timeoutMs: 100 });
    busy.start({ intervalMs: 60_000 });
    await receiver.waitFor(1);
    started = Date.now();
    await busy.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outbox.listDeliveryAttempts('th_1:7')).toHaveLength(1);
  });

  it('keeps the loop alive when the outbox fails, logging instead of throwing', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(payload(1));
    let failures = 1;
    const flaky: NotificationOutbox = {
      claimDueNotifications: async (options) => {
        if (failures-- > 0) throw new Error('database is locked');
        return outbox.claimDueNotifications(options);
      },
      recordDeliveryAttempt: (attempt, outcome) => outbox.recordDeliveryAttempt(attempt, outcome),
      listDeliveryAttempts: (id) => outbox.listDeliveryAttempts(id),
    };
    const lines: { level: string; object: Record<string, unknown>; message?: string }[] = [];
    const n = notifier({ outbox: flaky, logger: recordingLogger(lines) });
    n.start({ intervalMs: 5 });
    await receiver.waitFor(1);
    await n.stop();
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', object: expect.objectContaining({ error: 'database is locked' }) }));
  });

  it('records a notification first attempted more than maxAgeMs after its wait began as expired, and never sends it', async () => {
    const clock = manualClock(Date.parse('2025-01-03T00:00:00.000Z'));
    const outbox = new MemoryOutbox(clock.now);
    outbox.add(payload(1)); // its wait began 2025-01-01: two days ago
    outbox.add({ ...payload(2), at: '2025-01-02T12:00:00.000Z' }); // twelve hours ago
    const n = notifier({ outbox, now: clock.now, maxAgeMs: 24 * 3_600_000 });
    expect(await n.deliverDue()).toBe(1);
    expect(receiver.requests.map((r) => r.body.id)).toEqual(['th_2:7']);
    expect(await outbox.listDeliveryAttempts('th_1:7')).toEqual([
      expect.objectContaining({ attempt: 1, ok: false, status: null, error: 'not sent: the wait started 48 h before the first attempt (limit 24 h)' }),
    ]);
    expect(outbox.nextAttemptAt('th_1:7')).toBeNull(); // given up, never retried
    expect(await n.deliverDue()).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });

  it('refuses bad configuration up front', () => {
    const outbox = new MemoryOutbox();
    expect(() => new Notifier({ outbox, url: 'not a url', secret })).toThrow();
    expect(() => new Notifier({ outbox, url: 'ftp://example.com/', secret })).toThrow(/http/);
    expect(() => new Notifier({ outbox, url: 'https://u:p@example.com/', secret })).toThrow(/credentials/);
    expect(() => new Notifier({ outbox, url: receiver.url, secret: '' })).toThrow(/secret/);
    expect(() => new Notifier({ outbox, url: receiver.url, secret, timeoutMs: 60_000, leaseMs: 60_000 })).toThrow(/leaseMs/);
  });
});
