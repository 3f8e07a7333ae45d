/**
 * Notifications to people: whenever a thread starts waiting for a human (an approval, a
 * question, an escalation, a budget breach), a notification is written to a durable
 * outbox in the same transaction as the event, and a notifier delivers it to the webhook.
 */
export interface NotificationPayload {
  /** Stable id: `${threadId}:${seq}` of the event that started the wait. */
  id: string;
  threadId: string;
  agent: string;
  seq: number;
  kind: 'approval' | 'question' | 'escalation' | 'budget' | 'blocked' | 'release' | 'review';
  /** What the person is asked, in one or two sentences. */
  summary: string;
  /** The event that started the wait (its data). */
  data: Record<string, unknown>;
  at: string;
}

/**
 * A reply to the message that launched a thread (the NATS trigger's `Twelve-Reply-To`). It is
 * written to the same outbox in the transaction that finishes the thread, whichever process
 * runs it, and published by any `twelve consume nats` process. Id: `reply:<threadId>`.
 */
export interface ReplyPayload {
  id: string;
  threadId: string;
  channel: 'nats';
  /** Where to publish it. */
  subject: string;
  /** What to publish: `{ threadId, messageId, status, output | error }`. */
  body: Record<string, unknown>;
  at: string;
}

export interface ReplyItem {
  id: string;
  payload: ReplyPayload;
  attempts: number;
}

/** Outbox rows whose id starts with this are replies; the others are notifications for the webhook. */
export const replyIdPrefix = 'reply:';

export interface OutboxItem {
  id: string;
  payload: NotificationPayload;
  attempts: number;
}

export interface DeliveryAttempt {
  notificationId: string;
  attempt: number;
  url: string;
  at: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** The store side of notifications (SQLite implements it; PostgreSQL will). */
export interface NotificationOutbox {
  /** Leases up to `limit` due notifications (not delivered, next attempt due) for `leaseMs`. */
  claimDueNotifications(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<OutboxItem[]>;
  /** Records one attempt; on success marks delivered, else schedules the next attempt at `retryAt`. */
  recordDeliveryAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void>;
  listDeliveryAttempts(notificationId: string): Promise<DeliveryAttempt[]>;
}
