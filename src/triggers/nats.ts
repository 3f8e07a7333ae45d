/**
 * A message-broker trigger: every message on a NATS JetStream subject launches one thread.
 *
 * Why NATS JetStream (and not RabbitMQ): JetStream gives every message an id
 * (the `Nats-Msg-Id` header) with server-side dedupe of publishes, explicit acks with
 * AckWait redelivery, MaxDeliver, and durable pull consumers that survive the process.
 * Those map one to one onto what a durable launch needs: the message id becomes the
 * launch's idempotency key, the message is acked only after the thread row is committed,
 * and a redelivery (the consumer died between the commit and the ack, the ack was lost)
 * finds the same thread by its key and is acked without a duplicate. RabbitMQ has acks
 * and redelivery too, but no server-side dedupe by message id (only through a plugin), no
 * delivery count or MaxDeliver on classic queues, and its consumers live and die with a
 * channel, where a JetStream durable consumer keeps its position, pending acks and delivery
 * counts on the server for whichever process pulls next.
 *
 * Message body (JSON): `{ "agent"?: string, "input": any, "metadata"?: object }`. The agent
 * may instead come from the subject (`twelve.launch.<agent>` under the filter
 * `twelve.launch.>`). A message that cannot launch (not JSON, wrong shape, unknown
 * agent, input the agent refuses, a message id reused for another input) is terminated
 * (`+TERM`) with a logged reason: never redelivered. Anything else that fails (the
 * database is down) is given back (`-NAK` with backoff) until MaxDeliver.
 *
 * Idempotency key: the `Nats-Msg-Id` header when present, else `nats:<stream>:<stream seq>`.
 * The header also makes republishing safe past the server's dedupe window (2 minutes by
 * default): the second stream message finds the first one's thread.
 *
 * Replies (optional): when a thread launched here completes, fails or is cancelled,
 * `{ threadId, messageId, status, output | error }` is published to the message's
 * `Twelve-Reply-To` header, else to `replySubject`. The reply subject is kept in the launch
 * metadata (`replyTo`); whichever process finishes the thread (a worker elsewhere, the API
 * server applying a cancel) writes the reply to the store's outbox in the same transaction,
 * and every consumer process publishes what is due there (nats-replies.ts): at least once,
 * with `Nats-Msg-Id: twelve-reply:<threadId>` so a stream capturing replies dedupes them.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { z } from 'zod';
import { TwelveError, coerceError, errorMessage, type TwelveErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime/runtime.js';
import { replyBody } from '../runtime/reply.js';
import { traceContextFrom } from '../telemetry/trace-context.js';
import { isTerminal } from '../thread/state.js';
import { publishReply, startReplyPublisher } from './nats-replies.js';
import { agentFromFilter, subjectCovers, versionAtLeast } from './subjects.js';

export const MSG_ID_HEADER = 'Nats-Msg-Id';
export const REPLY_TO_HEADER = 'Twelve-Reply-To';

export interface NatsTriggerOptions {
  runtime: Runtime;
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** JetStream stream; created (subjects: [subject]) if missing, extended with `subject` if it does not cover it. */
  stream: string;
  /** Subject filter of the consumer, e.g. `twelve.launch.>`. */
  subject: string;
  /** Durable pull consumer name; every process consuming the same launches shares it. */
  durable: string;
  /**
   * Where the agent comes from when the body has none. Default (true): the token(s) the
   * filter's trailing wildcard matched (`twelve.launch.refunds` -> `refunds`). False: body only.
   */
  agentFromSubject?: boolean | ((subject: string) => string | undefined);
  /** Default subject for replies (a message's `Twelve-Reply-To` header wins). No replies when neither is set. */
  replySubject?: string;
  /** How long the server waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Deliveries before the server gives up on a message (default 5; -1 for unlimited). */
  maxDeliver?: number;
  /** Messages pulled per batch (default 8); they are launched one at a time, in order. */
  maxMessages?: number;
  /** Default: the runtime's logger. */
  logger?: Logger;
  /** Connection name shown by the server (default `twelve-nats-trigger`). */
  name?: string;
  hooks?: NatsTriggerHooks;
}

export interface NatsLaunch {
  messageId: string;
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  threadId: string;
  created: boolean;
}

export type NatsMessageOutcome =
  | ({ kind: 'acked'; confirmed: boolean } & NatsLaunch)
  | { kind: 'terminated' | 'retry'; messageId: string; subject: string; streamSequence: number; deliveryCount: number; reason: string };

export interface NatsTriggerHooks {
  /** After the thread is committed and before the ack (the crash tests kill the process here). */
  beforeAck?(launch: NatsLaunch): void | Promise<void>;
  /** After each message was acked, terminated, or given back for redelivery. */
  settled?(outcome: NatsMessageOutcome): void;
}

export interface NatsTrigger {
  /** Stops pulling, lets the message in flight finish (launched and acked), then drains and closes the connection. */
  stop(): Promise<void>;
  /** Resolves when consuming ends: undefined after stop(), an Error if it ended on its own (connection closed). */
  readonly stopped: Promise<Error | undefined>;
}

/** The message body. `input` is required (null is allowed); the agent may come from the subject. */
export const launchMessageSchema = z.object({
  agent: z.string().min(1).optional(),
  input: z.unknown().refine((value) => value !== undefined, 'required'),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type LaunchMessage = z.infer<typeof launchMessageSchema>;

/** Errors no redelivery can fix: the message is terminated. */
const permanent = new Set<TwelveErrorCode>(['agent_not_found', 'input_invalid', 'conflict', 'usage']);

const sevenDaysMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Connects, ensures the stream and the durable pull consumer, and launches a thread per
 * message until stop(). Throws TwelveError `config_invalid` when the server cannot be
 * reached or the existing consumer does not fit (push, other filter, not explicit ack).
 */
export async function startNatsTrigger(options: NatsTriggerOptions): Promise<NatsTrigger> {
  const { runtime, stream, subject, durable } = options;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const maxDeliver = options.maxDeliver ?? 5;
  const maxMessages = options.maxMessages ?? 8;
  const logger = options.logger ?? runtime.logger;
  const hooks = options.hooks ?? {};
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < 1) throw new TwelveError('usage', `ackWaitMs must be a positive integer, got ${ackWaitMs}`);
  if (!Number.isInteger(maxDeliver) || (maxDeliver < 1 && maxDeliver !== -1)) throw new TwelveError('usage', `maxDeliver must be a positive integer or -1, got ${maxDeliver}`);
  const agentFromSubject =
    options.agentFromSubject === false
      ? () => undefined
      : typeof options.agentFromSubject === 'function'
        ? options.agentFromSubject
        : (s: string) => agentFromFilter(subject, s);

  let nc: NatsConnection;
  try {
    nc = await connect({ servers: options.servers, name: options.name ?? 'twelve-nats-trigger', maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
  } catch (error) {
    throw new TwelveError('config_invalid', `cannot connect to NATS at ${[options.servers].flat().join(', ').replace(/\/\/[^@/]*@/g, '//***@')}: ${errorMessage(error)}`, { cause: error });
  }
  let messages: ConsumerMessages;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, stream, subject, logger);
    await ensureConsumer(jsm, { stream, subject, durable, ackWaitMs, maxDeliver }, logger);
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    messages = await consumer.consume({ max_messages: maxMessages });
  } catch (error) {
    await nc.close().catch(() => undefined);
    if (TwelveError.is(error)) throw error;
    throw new TwelveError('config_invalid', `NATS JetStream stream ${stream} / consumer ${durable}: ${errorMessage(error)}`, { cause: error });
  }
  // `+TERM <reason>` is understood from server 2.10.4 on; older servers ignore it and
  // redeliver, so they get a bare `+TERM` (the reason is still logged here).
  const termWithReason = versionAtLeast(nc.info?.version, '2.10.4');
  const log = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => logger[level]({ trigger: 'nats', stream, durable, ...fields }, message);
  log('info', { subject, server: nc.info?.version }, `nats: consuming ${subject}`);

  // ---- replies: from the store's outbox, whoever finished the thread --------------------
  const replies = startReplyPublisher({ store: runtime.store, nc, log });
  // A thread this process finishes is replied to at once; others' at the next poll.
  const unsubscribe = runtime.subscribe((event) => {
    if (event.type === 'thread_completed' || event.type === 'thread_failed' || event.type === 'cancelled') replies.nudge();
  });

  const replyIfFinished = async (threadId: string, replyTo: string, messageId: string) => {
    const current = await runtime.getThread(threadId);
    if (!current || !isTerminal(current.status)) return;
    const events = await runtime.loadEvents(threadId, Math.max(0, current.seq - 3));
    const body = events.map((e) => replyBody(e, messageId)).findLast(Boolean);
    if (body) await publishReply(nc, { threadId, subject: replyTo, body });
  };

  // ---- one message -----------------------------------------------------------------------
  const settle = (outcome: NatsMessageOutcome) => {
    try {
      hooks.settled?.(outcome);
    } catch (error) {
      log('warn', { error: errorMessage(error) }, 'nats: settled hook threw; ignored');
    }
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    const streamSequence = msg.info.streamSequence;
    const deliveryCount = msg.info.deliveryCount;
    const messageId = msg.headers?.get(MSG_ID_HEADER) || `nats:${stream}:${streamSequence}`;
    const about = { subject: msg.subject, messageId, streamSequence, deliveryCount };

    const terminate = (reason: string) => {
      log('warn', { ...about, reason }, 'nats: message terminated (not redelivered)');
      if (termWithReason) msg.term(reason.slice(0, 200));
      else msg.term();
      settle({ kind: 'terminated', ...about, reason });
    };

    const parsed = parseLaunch(msg, agentFromSubject);
    if ('reason' in parsed) return terminate(parsed.reason);
    const { agent, input, metadata } = parsed;
    if (!runtime.agents.some((r) => r.agent.name === agent)) {
      return terminate(`unknown agent "${agent}" (known: ${runtime.agents.map((r) => r.agent.name).join(', ') || 'none'})`);
    }
    if (messageId.length > 255) return terminate(`message id is ${messageId.length} characters; at most 255 can be a launch key`);

    const replyTo = msg.headers?.get(REPLY_TO_HEADER) || options.replySubject;
    // A slow database must not let AckWait expire under a launch that is still on its way.
    const progress = setInterval(() => msg.working(), Math.max(250, Math.floor(ackWaitMs / 3)));
    progress.unref();
    let launched: { thread: { id: string; status: string }; created: boolean };
    const trace = traceContextFrom({ traceparent: msg.headers?.get('traceparent') || undefined, tracestate: msg.headers?.get('tracestate') || undefined });
    try {
      launched = await runtime.launchOnce({
        agent,
        input,
        metadata: { ...metadata, trigger: 'nats', subject: msg.subject, messageId, ...(replyTo ? { replyTo } : {}) },
        idempotencyKey: messageId,
        // A W3C traceparent header on the message: the thread's spans join the publisher's trace.
        ...(trace ? { trace } : {}),
      });
    } catch (error) {
      if (TwelveError.is(error) && permanent.has(error.code)) return terminate(errorMessage(error));
      const reason = errorMessage(error);
      const exhausted = maxDeliver !== -1 && deliveryCount >= maxDeliver;
      log(
        'error',
        { ...about, error: reason },
        exhausted ? `nats: launch failed on the last of ${maxDeliver} deliveries; the server will not redeliver it` : 'nats: launch failed; the message will be redelivered',
      );
      msg.nak(Math.min(30_000, 1_000 * 2 ** Math.max(0, deliveryCount - 1)));
      settle({ kind: 'retry', ...about, reason });
      return;
    } finally {
      clearInterval(progress);
    }
    const launch: NatsLaunch = { ...about, threadId: launched.thread.id, created: launched.created };
    log('info', { ...about, threadId: launch.threadId, created: launch.created }, launch.created ? 'nats: launched' : 'nats: redelivered; thread already launched');

    // A message for a thread that finished already (republished, redelivered) is answered again
    // here, at once; one whose thread is still going gets the reply written when it ends.
    if (replyTo && !launch.created) {
      await replyIfFinished(launch.threadId, replyTo, messageId).catch((error) =>
        log('warn', { ...about, threadId: launch.threadId, error: errorMessage(error) }, 'nats: reply not published'),
      );
    }
    await hooks.beforeAck?.(launch);
    // The thread row is committed: now the message may go. A lost ack only means a
    // redelivery, which finds this thread by its key.
    let confirmed = false;
    try {
      confirmed = await msg.ackAck({ timeout: Math.min(ackWaitMs, 5_000) });
    } catch (error) {
      log('warn', { ...about, threadId: launch.threadId, error: errorMessage(error) }, 'nats: ack not confirmed; a redelivery will find the same thread');
    }
    settle({ kind: 'acked', confirmed, ...launch });
  };

  // ---- the loop --------------------------------------------------------------------------
  let stopping = false;
  const loop = (async () => {
    for await (const msg of messages) {
      try {
        await handle(msg);
      } catch (error) {
        log('error', { subject: msg.subject, error: errorMessage(error) }, 'nats: handling a message failed; it will be redelivered');
        try {
          msg.nak(1_000);
        } catch {
          // the connection is gone; AckWait redelivers it
        }
      }
    }
  })();
  const stopped: Promise<Error | undefined> = loop.then(
    () => (stopping ? undefined : new Error('the NATS consumer stopped (connection closed)')),
    (error) => coerceError(error),
  );
  void stopped.then((error) => {
    if (error) log('error', { error: error.message }, 'nats: consuming stopped');
  });

  let stopPromise: Promise<void> | undefined;
  return {
    stopped,
    stop() {
      stopPromise ??= (async () => {
        stopping = true;
        // Queued behind the messages already delivered: resolves once the loop has handled them.
        await messages.close().catch(() => undefined);
        await loop.catch(() => undefined);
        unsubscribe();
        await replies.stop();
        if (!nc.isClosed()) await nc.drain().catch((error) => log('warn', { error: errorMessage(error) }, 'nats: drain failed'));
        log('info', {}, 'nats: stopped');
      })();
      return stopPromise;
    },
  };
}

function parseLaunch(msg: JsMsg, agentFromSubject: (subject: string) => string | undefined): LaunchMessage & { agent: string } | { reason: string } {
  let body: unknown;
  try {
    body = JSON.parse(msg.string());
  } catch (error) {
    return { reason: `body is not JSON (${errorMessage(error)})` };
  }
  const parsed = launchMessageSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    return { reason: `body is not {"agent"?, "input", "metadata"?}: ${issues}` };
  }
  const fromSubject = agentFromSubject(msg.subject);
  const agent = parsed.data.agent ?? fromSubject;
  if (!agent) return { reason: `no agent: give "agent" in the body or publish to a subject that names it` };
  if (parsed.data.agent && fromSubject && parsed.data.agent !== fromSubject) {
    return { reason: `the body names agent "${parsed.data.agent}" but the subject ${msg.subject} names "${fromSubject}"` };
  }
  return { ...parsed.data, agent };
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

async function ensureStream(jsm: JetStreamManager, stream: string, subject: string, logger: Logger): Promise<void> {
  let subjects: string[] | undefined;
  try {
    subjects = (await jsm.streams.info(stream)).config.subjects ?? [];
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
  }
  if (subjects === undefined) {
    // Launch requests older than a week are stale; pending ones stay until then.
    await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Limits, storage: StorageType.File, max_age: nanos(sevenDaysMs) });
    logger.info({ trigger: 'nats', stream, subject }, `nats: created stream ${stream}`);
    return;
  }
  if (subjects.some((s) => subjectCovers(s, subject))) return;
  await jsm.streams.update(stream, { subjects: [...subjects, subject] });
  logger.info({ trigger: 'nats', stream, subject }, `nats: added ${subject} to stream ${stream}`);
}

async function ensureConsumer(
  jsm: JetStreamManager,
  wanted: { stream: string; subject: string; durable: string; ackWaitMs: number; maxDeliver: number },
  logger: Logger,
): Promise<void> {
  const { stream, subject, durable } = wanted;
  let info;
  try {
    info = await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  const ackWait = nanos(wanted.ackWaitMs);
  if (!info) {
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWait,
      max_deliver: wanted.maxDeliver,
      filter_subject: subject,
      deliver_policy: DeliverPolicy.All,
    });
    logger.info({ trigger: 'nats', stream, durable, subject }, `nats: created durable pull consumer ${durable}`);
    return;
  }
  const config = info.config;
  const misfit =
    config.deliver_subject ? 'it is a push consumer' :
    config.ack_policy !== AckPolicy.Explicit ? `its ack policy is ${config.ack_policy}, not explicit` :
    (config.filter_subject ?? config.filter_subjects?.join(',') ?? '') !== subject ? `it filters "${config.filter_subject ?? config.filter_subjects?.join(',') ?? ''}", not "${subject}"` :
    undefined;
  if (misfit) {
    throw new TwelveError('config_invalid', `NATS consumer ${durable} on stream ${stream} cannot be used: ${misfit} (use another durable name, or delete it)`);
  }
  if (config.ack_wait !== ackWait || config.max_deliver !== wanted.maxDeliver) {
    await jsm.consumers.update(stream, durable, { ack_wait: ackWait, max_deliver: wanted.maxDeliver });
    logger.info({ trigger: 'nats', stream, durable }, `nats: updated consumer ${durable} (ack wait ${wanted.ackWaitMs} ms, max deliver ${wanted.maxDeliver})`);
  }
}

/** A logger that prints warnings and errors as one line each on stderr (for the CLI with TWELVE_LOG=off). */
export function lineLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (level: string) => (object: Record<string, unknown>, message?: string) => {
    const { trigger: _t, stream: _s, durable: _d, ...rest } = object;
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`twelve: ${level}: ${message ?? ''}${fields ? `  ${fields}` : ''}\n`);
  };
  const quiet = () => undefined;
  const logger: Logger = { debug: quiet, info: quiet, warn: emit('warn'), error: emit('error'), child: () => logger };
  return logger;
}
