/**
 * Replies to the message that launched a thread. A trigger that wants one (NATS, with a
 * `Twelve-Reply-To` subject) says so in the launch metadata (`trigger: 'nats'`, `replyTo`,
 * `messageId`); when the thread finishes, the session writes the reply to the outbox in the
 * same transaction as the final event, so it goes out whichever process ran the thread, even
 * one that has never heard of NATS, and survives every process being down at that moment.
 */
import type { ReplyPayload } from '../notify/types.js';
import { replyIdPrefix } from '../notify/types.js';
import type { ThreadEvent } from '../thread/events.js';

export interface ReplyTarget {
  channel: 'nats';
  subject: string;
  messageId: string;
}

/** The reply target in a thread's launch metadata, if it has one. */
export function replyTarget(metadata: Record<string, unknown> | undefined): ReplyTarget | undefined {
  if (metadata?.trigger !== 'nats' || typeof metadata.replyTo !== 'string' || metadata.replyTo === '') return undefined;
  return { channel: 'nats', subject: metadata.replyTo, messageId: typeof metadata.messageId === 'string' ? metadata.messageId : '' };
}

/** The reply for a final event (completed, failed, cancelled); undefined for any other event. */
export function replyFor(event: ThreadEvent, target: ReplyTarget): ReplyPayload | undefined {
  const body = replyBody(event, target.messageId);
  if (!body) return undefined;
  return { id: `${replyIdPrefix}${event.threadId}`, threadId: event.threadId, channel: target.channel, subject: target.subject, body, at: event.at };
}

/** `{ threadId, messageId, status, output | error }`: what the reply subject receives. */
export function replyBody(event: ThreadEvent, messageId: string): Record<string, unknown> | undefined {
  const base = { threadId: event.threadId, messageId };
  switch (event.type) {
    case 'thread_completed':
      return { ...base, status: 'completed', output: event.data.output ?? null };
    case 'thread_failed':
      return { ...base, status: 'failed', error: event.data.error };
    case 'cancelled':
      return { ...base, status: 'cancelled', error: { code: 'cancelled', message: `cancelled by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ''}` } };
    default:
      return undefined;
  }
}
