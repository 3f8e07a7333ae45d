/**
 * Publishes the replies waiting in the store's outbox (see runtime/reply.ts) to NATS: every
 * `twelve consume nats` process runs one, so a thread's reply goes out whichever process ran
 * the thread, and a reply written while no consumer was up goes out when one starts. Rows are
 * leased like notifications (two consumers never publish the same attempt at once), marked
 * delivered only after the server confirmed the publish (a flush), and retried with backoff
 * otherwise. At least once: each carries `Nats-Msg-Id: twelve-reply:<threadId>`, so a stream
 * capturing replies drops a duplicate.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from '../errors.js';
import type { ReplyItem, ReplyPayload } from '../notify/types.js';
import type { Store } from '../store/types.js';

const MSG_ID_HEADER = 'Nats-Msg-Id';

export interface ReplyPublisherOptions {
  store: Store;
  nc: NatsConnection;
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => void;
  /** How often the outbox is polled for replies written by other processes (default 500 ms). */
  intervalMs?: number;
  /** Attempts per reply before giving up (default 20). */
  maxAttempts?: number;
}

export interface ReplyPublisher {
  /** Look at the outbox now (this process just finished a thread). */
  nudge(): void;
  /** Stops after the round in flight. */
  stop(): Promise<void>;
}

export function startReplyPublisher(options: ReplyPublisherOptions): ReplyPublisher {
  const { store, nc, log } = options;
  const intervalMs = options.intervalMs ?? 500;
  const maxAttempts = options.maxAttempts ?? 20;
  const leaseMs = 30_000;
  let stopping = false;
  let wake: (() => void) | undefined;
  // A nudge during a round must not be lost: the next round starts at once.
  let nudged = false;
  let failures = 0;

  const publish = async (item: ReplyItem): Promise<void> => {
    const { payload } = item;
    const attempt = item.attempts + 1;
    const started = performance.now();
    let error: string | null = null;
    try {
      await publishReply(nc, payload);
    } catch (cause) {
      error = errorMessage(cause);
    }
    const delivered = error === null;
    const retryAt = delivered || attempt >= maxAttempts ? null : Date.now() + Math.min(60_000, 500 * 2 ** (attempt - 1));
    await store.recordDeliveryAttempt(
      { notificationId: item.id, attempt, url: `nats:${payload.subject}`, at: new Date().toISOString(), ok: delivered, status: null, error, durationMs: performance.now() - started },
      { delivered, retryAt },
    );
    if (!delivered) {
      const fields = { threadId: payload.threadId, replyTo: payload.subject, attempt, error };
      if (retryAt === null) log('error', fields, `nats: reply not published after ${attempt} attempts; giving up`);
      else log('warn', fields, 'nats: reply not published; will retry');
    }
  };

  /** One round; returns how long to wait before the next. */
  const round = async (): Promise<number> => {
    try {
      const items = await store.claimDueReplies({ limit: 20, leaseMs, maxAttempts });
      for (const item of items) await publish(item);
      failures = 0;
      return items.length === 20 ? 0 : intervalMs;
    } catch (error) {
      failures++;
      if (failures === 1) log('error', { error: errorMessage(error) }, 'nats: cannot read replies from the store; retrying');
      return Math.min(30_000, intervalMs * 2 ** Math.min(failures, 6));
    }
  };

  const done = (async () => {
    while (!stopping) {
      const pause = await round();
      if (stopping) break;
      if (nudged) {
        nudged = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve();
        }, pause);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          nudged = false;
          resolve();
        };
      });
    }
    // A last round: the replies of threads this process finished while it was stopping.
    await round();
  })();

  return {
    nudge: () => {
      nudged = true;
      wake?.();
    },
    stop: async () => {
      stopping = true;
      wake?.();
      await done;
    },
  };
}

/** Publishes one reply and waits until the server has it (a round trip after the publish). Throws if it cannot. */
export async function publishReply(nc: NatsConnection, reply: Pick<ReplyPayload, 'threadId' | 'subject' | 'body'>): Promise<void> {
  if (nc.isClosed() || nc.isDraining()) throw new Error('the NATS connection is closed');
  const h = headers();
  h.set(MSG_ID_HEADER, `twelve-reply:${reply.threadId}`);
  h.set('Twelve-Thread-Id', reply.threadId);
  nc.publish(reply.subject, JSON.stringify(reply.body), { headers: h });
  await withTimeout(nc.flush(), 10_000);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the NATS server within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
