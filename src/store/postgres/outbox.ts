/**
 * The notification outbox on PostgreSQL. Rows are written by the append statement itself
 * (see queries.ts), so a notification is never lost and never sent for a wait that did not
 * happen. Delivery leases rows by pushing `next_attempt_at` forward; `FOR UPDATE SKIP
 * LOCKED` lets notifiers in many processes share the queue without blocking each other.
 */
import type { QueryResultRow } from 'pg';
import { replyIdPrefix, type DeliveryAttempt, type NotificationPayload, type OutboxItem } from '../../notify/types.js';

/** Runs one statement on the store's pool (with its error mapping and reconnects). */
export type RunQuery = <R extends QueryResultRow>(text: string, values: unknown[]) => Promise<{ rows: R[]; rowCount: number | null }>;

// Notifications for the webhook, or replies for the broker trigger (ids 'reply:...'): never each other's.
const claimDueSql = (replies: boolean) => `
  WITH due AS (
    SELECT id FROM notifications
    WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND attempts < $2
      AND left(id, ${replyIdPrefix.length}) ${replies ? '=' : '<>'} '${replyIdPrefix}'
    ORDER BY next_attempt_at LIMIT $3
    FOR UPDATE SKIP LOCKED
  )
  UPDATE notifications n SET next_attempt_at = $4 FROM due WHERE n.id = due.id
  RETURNING n.id, n.payload, n.attempts`;
const claimDueNotificationsSql = claimDueSql(false);
const claimDueRepliesSql = claimDueSql(true);

// One statement: the attempt row and the notification's new state commit together.
const recordAttemptSql = `
  WITH attempt AS (
    INSERT INTO notification_attempts (notification_id, attempt, url, at, ok, status, error, duration_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (notification_id, attempt) DO NOTHING
  )
  UPDATE notifications SET attempts = greatest(attempts, $2), delivered_at = $9, next_attempt_at = $10 WHERE id = $1`;

const attemptsSql = `
  SELECT notification_id, attempt, url, at, ok, status, error, duration_ms
  FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt`;

export class PostgresOutbox {
  constructor(private readonly query: RunQuery) {}

  async claimDue<T = OutboxItem>(options: { limit: number; leaseMs: number; maxAttempts: number; replies?: boolean }): Promise<T[]> {
    const now = Date.now();
    const { rows } = await this.query<{ id: string; payload: NotificationPayload; attempts: number }>(options.replies ? claimDueRepliesSql : claimDueNotificationsSql, [
      now,
      options.maxAttempts,
      options.limit,
      now + options.leaseMs,
    ]);
    return rows.map((row) => ({ id: row.id, payload: row.payload, attempts: row.attempts }) as T);
  }

  async recordAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void> {
    await this.query(recordAttemptSql, [
      attempt.notificationId,
      attempt.attempt,
      attempt.url,
      attempt.at,
      attempt.ok,
      attempt.status,
      attempt.error,
      attempt.durationMs,
      outcome.delivered ? attempt.at : null,
      outcome.delivered ? null : outcome.retryAt,
    ]);
  }

  async attempts(notificationId: string): Promise<DeliveryAttempt[]> {
    const { rows } = await this.query<{
      notification_id: string;
      attempt: number;
      url: string;
      at: Date;
      ok: boolean;
      status: number | null;
      error: string | null;
      duration_ms: number;
    }>(attemptsSql, [notificationId]);
    return rows.map((row) => ({
      notificationId: row.notification_id,
      attempt: row.attempt,
      url: row.url,
      at: row.at.toISOString(),
      ok: row.ok,
      status: row.status,
      error: row.error,
      durationMs: row.duration_ms,
    }));
  }
}
