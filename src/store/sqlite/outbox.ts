/**
 * The notification outbox on SQLite. Rows are written in the same transaction as the
 * event that starts a human wait, so a notification is never lost and never sent for a
 * wait that did not happen. Delivery claims rows by pushing `next_attempt_at` forward
 * (a lease), so two notifiers never post the same attempt at once.
 */
import type Database from 'better-sqlite3';
import { replyIdPrefix, type DeliveryAttempt, type NotificationPayload, type OutboxItem, type ReplyPayload } from '../../notify/types.js';

export class SqliteOutbox {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      enqueue: db.prepare(
        `INSERT INTO notifications (id, thread_id, payload, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      // Notifications for the webhook, or replies for the broker trigger (ids 'reply:...'): never each other's.
      due: db.prepare(
        `SELECT id, payload, attempts FROM notifications WHERE delivered_at IS NULL AND next_attempt_at <= ? AND attempts < ? AND substr(id, 1, ${replyIdPrefix.length}) <> '${replyIdPrefix}' ORDER BY next_attempt_at LIMIT ?`,
      ),
      dueReplies: db.prepare(
        `SELECT id, payload, attempts FROM notifications WHERE delivered_at IS NULL AND next_attempt_at <= ? AND attempts < ? AND substr(id, 1, ${replyIdPrefix.length}) = '${replyIdPrefix}' ORDER BY next_attempt_at LIMIT ?`,
      ),
      lease: db.prepare(`UPDATE notifications SET next_attempt_at = ? WHERE id = ?`),
      attempt: db.prepare(
        `INSERT INTO notification_attempts (notification_id, attempt, url, at, ok, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (notification_id, attempt) DO NOTHING`,
      ),
      settle: db.prepare(`UPDATE notifications SET attempts = max(attempts, ?), delivered_at = ?, next_attempt_at = ? WHERE id = ?`),
      attempts: db.prepare(`SELECT * FROM notification_attempts WHERE notification_id = ? ORDER BY attempt`),
    };
  }

  enqueue(payload: NotificationPayload | ReplyPayload, now: string): void {
    this.statements.enqueue.run(payload.id, payload.threadId, JSON.stringify(payload), now, Date.now());
  }

  claimDue<T = OutboxItem>(options: { limit: number; leaseMs: number; maxAttempts: number; replies?: boolean }): T[] {
    const due = options.replies ? this.statements.dueReplies : this.statements.due;
    // Every consumer and notifier polls: look before taking the write lock, which workers need.
    if (due.all(Date.now(), options.maxAttempts, 1).length === 0) return [];
    return this.db
      .transaction(() => {
        const now = Date.now();
        const rows = due.all(now, options.maxAttempts, options.limit) as Array<{ id: string; payload: string; attempts: number }>;
        for (const row of rows) this.statements.lease.run(now + options.leaseMs, row.id);
        return rows.map((row) => ({ id: row.id, payload: JSON.parse(row.payload), attempts: row.attempts }) as T);
      })
      .immediate();
  }

  recordAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): void {
    this.db
      .transaction(() => {
        this.statements.attempt.run(
          attempt.notificationId,
          attempt.attempt,
          attempt.url,
          attempt.at,
          attempt.ok ? 1 : 0,
          attempt.status,
          attempt.error,
          attempt.durationMs,
        );
        this.statements.settle.run(attempt.attempt, outcome.delivered ? attempt.at : null, outcome.delivered ? null : outcome.retryAt, attempt.notificationId);
      })
      .immediate();
  }

  attempts(notificationId: string): DeliveryAttempt[] {
    const rows = this.statements.attempts.all(notificationId) as Array<{
      notification_id: string;
      attempt: number;
      url: string;
      at: string;
      ok: number;
      status: number | null;
      error: string | null;
      duration_ms: number;
    }>;
    return rows.map((row) => ({
      notificationId: row.notification_id,
      attempt: row.attempt,
      url: row.url,
      at: row.at,
      ok: row.ok === 1,
      status: row.status,
      error: row.error,
      durationMs: row.duration_ms,
    }));
  }
}
