/**
 * Helpers for the NATS trigger tests, which run against a REAL NATS server with JetStream:
 * TWELVE_TEST_NATS_URL, else nats://127.0.0.1:4222.
 *
 * When is it skipped? Only when TWELVE_TEST_NATS_URL is unset AND nothing listens on the
 * default port (connection refused): then the suite is skipped with a loud reason on
 * stderr. Any other failure to reach the server (a set URL that does not answer, a time-out,
 * JetStream disabled) fails the tests. Set TWELVE_TEST_NATS_URL to make them mandatory.
 *
 * Each test gets its own stream, subject and durable (random suffix); the stream (and
 * with it its consumers) is deleted when the test ends, after the test's triggers stopped.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import { onTestFinished } from 'vitest';
import type { NatsTrigger } from '../../src/triggers/nats.js';

export const defaultNatsUrl = 'nats://127.0.0.1:4222';
export const natsUrl = process.env.TWELVE_TEST_NATS_URL || defaultNatsUrl;

/** Undefined when the tests must run; the reason to skip them otherwise (see the header). */
export async function natsSkipReason(): Promise<string | undefined> {
  if (process.env.TWELVE_TEST_NATS_URL) return undefined;
  const { hostname, port } = new URL(defaultNatsUrl);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(false));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
  if (!refused) return undefined;
  const reason = `no NATS server: TWELVE_TEST_NATS_URL is unset and ${defaultNatsUrl} refuses connections`;
  process.stderr.write(
    `\n${'!'.repeat(100)}\n!! SKIPPING the NATS trigger tests: ${reason}.\n` +
      `!! Start one (nats-server -js -a 127.0.0.1 -p 4222) or set TWELVE_TEST_NATS_URL (then an unreachable server fails the tests).\n${'!'.repeat(100)}\n\n`,
  );
  return reason;
}

export interface NatsFixture {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Unique per test. */
  stream: string;
  /** The consumer's filter, `twelve-test.<suffix>.launch.>`. */
  subject: string;
  /** `twelve-test.<suffix>.launch`: publish to `${prefix}.<agent>`. */
  prefix: string;
  durable: string;
  suffix: string;
  /** Stops the trigger before the stream is deleted at the end of the test. */
  track(trigger: NatsTrigger): NatsTrigger;
  publish(subject: string, body: unknown, options?: { msgId?: string; replyTo?: string; raw?: boolean; headers?: Record<string, string> }): Promise<PubAck>;
}

/** A connection to the test server and unique names; everything is removed when the test ends. Call inside a test. */
export async function natsFixture(): Promise<NatsFixture> {
  const nc = await connect({ servers: natsUrl, name: 'twelve-test-admin' });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const suffix = randomBytes(4).toString('hex');
  const stream = `TWELVE_TEST_${suffix}`;
  const prefix = `twelve-test.${suffix}.launch`;
  const triggers: NatsTrigger[] = [];
  onTestFinished(async () => {
    await Promise.all(triggers.map((t) => t.stop().catch(() => undefined)));
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });
  return {
    nc,
    js,
    jsm,
    stream,
    subject: `${prefix}.>`,
    prefix,
    durable: `twelve-test-${suffix}`,
    suffix,
    track(trigger) {
      triggers.push(trigger);
      return trigger;
    },
    publish(subject, body, options = {}) {
      const h = headers();
      if (options.msgId) h.set('Nats-Msg-Id', options.msgId);
      if (options.replyTo) h.set('Twelve-Reply-To', options.replyTo);
      for (const [name, value] of Object.entries(options.headers ?? {})) h.set(name, value);
      const data = options.raw ? String(body) : JSON.stringify(body);
      return js.publish(subject, data, { headers: h });
    },
  };
}

/** Consumer state as the server sees it. */
export async function consumerState(jsm: JetStreamManager, stream: string, durable: string) {
  const info = await jsm.consumers.info(stream, durable);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, delivered: info.delivered.stream_seq, ackFloor: info.ack_floor.stream_seq };
}

/** Creates the stream up front with a short dedupe window (the trigger then uses it as it is). */
export async function createStream(jsm: JetStreamManager, stream: string, subject: string, duplicateWindowMs: number): Promise<void> {
  await jsm.streams.add({ name: stream, subjects: [subject], duplicate_window: nanos(duplicateWindowMs) });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something truthy, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
