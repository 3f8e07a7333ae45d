/**
 * Retention on SQLite (twelve prune): lists finished threads, reads their chained events for
 * the archive, and deletes a batch in one short IMMEDIATE transaction. SQLite has one writer
 * at a time, so a batch's transaction holds the write lock while it deletes: keep batches small
 * (hundreds of threads: a few ms each) and workers' appends wait at most that long.
 */
import type Database from 'better-sqlite3';
import type { ThreadStatus } from '../../thread/state.js';
import type { ArchivedEvent, ListPrunableOptions, PrunableThread, PruneCounts } from '../types.js';

/** The statuses a thread never leaves: the only ones prune touches. */
export const finishedStatuses: ThreadStatus[] = ['completed', 'failed', 'cancelled'];
const finishedList = finishedStatuses.map((s) => `'${s}'`).join(', ');

export class SqlitePrune {
  private readonly list;
  private readonly events;
  private readonly pruneTx;

  constructor(db: Database.Database) {
    // threads_by_status (status, updated_at) serves the range; the keyset continues past `after`.
    this.list = db.prepare(
      `SELECT id, agent, status, updated_at, seq FROM threads
       WHERE status IN (${finishedList}) AND updated_at < @before AND (@agent IS NULL OR agent = @agent)
         AND (@afterAt IS NULL OR updated_at > @afterAt OR (updated_at = @afterAt AND id > @afterId))
       ORDER BY updated_at, id LIMIT @limit`,
    );
    this.events = db.prepare(
      `SELECT thread_id, seq, type, at, release_id, data, hash FROM events WHERE thread_id IN (SELECT value FROM json_each(?)) ORDER BY thread_id, seq`,
    );
    // {id: seq | null}: a thread whose seq moved on since it was read (a conversation continued) is not finished with.
    const finished = db
      .prepare(`SELECT j.key FROM json_each(?) j JOIN threads t ON t.id = j.key WHERE t.status IN (${finishedList}) AND (j.value IS NULL OR t.seq = j.value)`)
      .pluck();
    const grant = db.prepare(`INSERT OR IGNORE INTO prune_grants (thread_id) SELECT value FROM json_each(?)`);
    const deleteEvents = db.prepare(`DELETE FROM events WHERE thread_id IN (SELECT value FROM json_each(?))`);
    const deleteAttempts = db.prepare(
      `DELETE FROM notification_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE thread_id IN (SELECT value FROM json_each(?)))`,
    );
    const deleteNotifications = db.prepare(`DELETE FROM notifications WHERE thread_id IN (SELECT value FROM json_each(?))`);
    const deleteThreads = db.prepare(`DELETE FROM threads WHERE id IN (SELECT value FROM json_each(?))`);
    const revoke = db.prepare(`DELETE FROM prune_grants WHERE thread_id IN (SELECT value FROM json_each(?))`);
    this.pruneTx = db.transaction((ids: string[], seqs: Record<string, number> | undefined): PruneCounts => {
      // Re-checked under the write lock: a thread resumed or reopened since it was listed stays.
      const keep = new Set(finished.all(JSON.stringify(Object.fromEntries(ids.map((id) => [id, seqs?.[id] ?? null])))) as string[]);
      const skipped = ids.filter((id) => !keep.has(id));
      const json = JSON.stringify([...keep]);
      if (keep.size === 0) return { threads: 0, events: 0, notifications: 0, skipped };
      grant.run(json);
      const events = deleteEvents.run(json).changes;
      deleteAttempts.run(json);
      const notifications = deleteNotifications.run(json).changes;
      const threads = deleteThreads.run(json).changes;
      revoke.run(json);
      return { threads, events, notifications, skipped };
    });
  }

  listPrunable(options: ListPrunableOptions): PrunableThread[] {
    const rows = this.list.all({
      before: options.before,
      agent: options.agent ?? null,
      afterAt: options.after?.updatedAt ?? null,
      afterId: options.after?.id ?? null,
      limit: options.limit ?? 500,
    }) as { id: string; agent: string; status: ThreadStatus; updated_at: string; seq: number }[];
    return rows.map((r) => ({ id: r.id, agent: r.agent, status: r.status, updatedAt: r.updated_at, seq: r.seq }));
  }

  loadArchiveEvents(threadIds: string[]): ArchivedEvent[] {
    const rows = this.events.all(JSON.stringify(threadIds)) as { thread_id: string; seq: number; type: string; at: string; release_id: string; data: string; hash: string | null }[];
    return rows.map((r) => ({ threadId: r.thread_id, seq: r.seq, type: r.type, at: r.at, releaseId: r.release_id, data: JSON.parse(r.data), hash: r.hash }) as ArchivedEvent);
  }

  pruneThreads(threadIds: string[], seqs?: Record<string, number>): PruneCounts {
    if (threadIds.length === 0) return { threads: 0, events: 0, notifications: 0, skipped: [] };
    return this.pruneTx.immediate(threadIds, seqs);
  }
}
