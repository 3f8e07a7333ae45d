/**
 * Retention on SQLite (twelve prune): lists finished threads, reads their chained events for
 * the archive, and deletes a batch in one short IMMEDIATE transaction. SQLite has one writer
 * at a time, so a batch's transaction holds the write lock while it deletes: keep batches small
 * (hundreds of threads: a few ms each) and workers' appends wait at most that long.
 *
 * The blob sweep reads the live set in one statement (a WAL read: writers go on) and deletes the
 * rest in IMMEDIATE transactions of a few hundred blobs, each re-checking the blob's time.
 */
import type Database from 'better-sqlite3';
import type { ThreadStatus } from '../../thread/state.js';
import { requestPrefix } from '../../blobs/blob-refs.js';
import { rollupSql } from './cost-report.js';
import type { ArchivedEvent, BlobSweep, ListPrunableOptions, PrunableThread, PruneCounts, SweepBlobsOptions } from '../types.js';

/** The statuses a thread never leaves: the only ones prune touches. */
export const finishedStatuses: ThreadStatus[] = ['completed', 'failed', 'cancelled'];
const finishedList = finishedStatuses.map((s) => `'${s}'`).join(', ');

/**
 * The blobs no event needs: the blobs events name (blobs/blob-refs.ts blobRefPaths) and the tools
 * their kept requests name (events.request, model/request-record.ts), closed over
 * what stored requests name (base, tools, v1 prompt hashes; a request's text starts with its
 * format), and every other blob listed. A NULL in the live set would empty a NOT IN: none gets in.
 * Not filtered by time here: created_at lies after the data in the row, so reading it would read
 * every large blob's overflow pages; the delete checks it for the few that are candidates.
 */
export const unreferencedBlobsSql = `
  WITH RECURSIVE live(hash) AS (
    SELECT json_extract(data, '$.request.ref') FROM events
      WHERE type IN ('model_called', 'model_failed') AND json_extract(data, '$.request.ref') IS NOT NULL
    UNION
    SELECT json_extract(data, '$.blob.ref') FROM events
      WHERE type = 'tool_succeeded' AND json_extract(data, '$.blob.ref') IS NOT NULL
    UNION
    SELECT json_extract(request, '$.tools') FROM events
      WHERE request IS NOT NULL AND json_extract(request, '$.tools') IS NOT NULL
    UNION
    SELECT named.value FROM live
      JOIN blobs b ON b.hash = live.hash AND substr(b.data, 1, ${requestPrefix.length}) = '${requestPrefix}',
      json_each(json_insert(coalesce(json_extract(b.data, '$.prompt'), '[]'), '$[#]', json_extract(b.data, '$.base'), '$[#]', json_extract(b.data, '$.tools'))) AS named
      WHERE named.type = 'text'
  )
  SELECT hash FROM blobs WHERE hash NOT IN (SELECT hash FROM live)`;

export class SqlitePrune {
  private readonly list;
  private readonly events;
  private readonly pruneTx;
  private readonly unreferenced;
  private readonly deleteBlobsTx;

  constructor(db: Database.Database) {
    // threads_by_status (status, updated_at) serves the range; the keyset continues past `after`.
    this.list = db.prepare(
      `SELECT id, agent, status, updated_at, seq FROM threads
       WHERE status IN (${finishedList}) AND updated_at < @before AND (@agent IS NULL OR agent = @agent)
         AND (@afterAt IS NULL OR updated_at > @afterAt OR (updated_at = @afterAt AND id > @afterId))
       ORDER BY updated_at, id LIMIT @limit`,
    );
    this.events = db.prepare(
      `SELECT thread_id, seq, type, at, release_id, data, hash, request FROM events WHERE thread_id IN (SELECT value FROM json_each(?)) ORDER BY thread_id, seq`,
    );
    // {id: seq | null}: a thread whose seq moved on since it was read (a conversation continued) is not finished with.
    // CROSS JOIN keeps json_each outside: one primary-key probe per listed id (joined the other way round, the
    // planner walked every finished thread per batch, and a prune of 100k threads slowed to ~100 threads/s).
    const finished = db
      .prepare(`SELECT j.key FROM json_each(?) j CROSS JOIN threads t ON t.id = j.key WHERE t.status IN (${finishedList}) AND (j.value IS NULL OR t.seq = j.value)`)
      .pluck();
    const grant = db.prepare(`INSERT OR IGNORE INTO prune_grants (thread_id) SELECT value FROM json_each(?)`);
    const rollup = db.prepare(rollupSql);
    const deleteHeads = db.prepare(`DELETE FROM audit_heads WHERE thread_id IN (SELECT value FROM json_each(?))`);
    const deleteEvents = db.prepare(`DELETE FROM events WHERE thread_id IN (SELECT value FROM json_each(?))`);
    const deleteAttempts = db.prepare(
      `DELETE FROM notification_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE thread_id IN (SELECT value FROM json_each(?)))`,
    );
    const deleteNotifications = db.prepare(`DELETE FROM notifications WHERE thread_id IN (SELECT value FROM json_each(?))`);
    const deleteThreads = db.prepare(`DELETE FROM threads WHERE id IN (SELECT value FROM json_each(?))`);
    const revoke = db.prepare(`DELETE FROM prune_grants WHERE thread_id IN (SELECT value FROM json_each(?))`);
    this.unreferenced = db.prepare(unreferencedBlobsSql).pluck();
    // Re-checks the time under the write lock: a blob sent again since the live set was read was rewritten (sqlite-store.ts insertBlob) and stays.
    const deleteBlobs = db.prepare(`DELETE FROM blobs WHERE hash IN (SELECT value FROM json_each(?)) AND created_at < ? RETURNING bytes`).pluck();
    this.deleteBlobsTx = db.transaction((hashes: string[], before: string): BlobSweep => {
      const bytes = deleteBlobs.all(JSON.stringify(hashes), before) as number[];
      return { blobs: bytes.length, bytes: bytes.reduce((sum, n) => sum + n, 0) };
    });
    this.pruneTx = db.transaction((ids: string[], seqs: Record<string, number> | undefined): PruneCounts => {
      // Re-checked under the write lock: a thread resumed or reopened since it was listed stays.
      const keep = new Set(finished.all(JSON.stringify(Object.fromEntries(ids.map((id) => [id, seqs?.[id] ?? null])))) as string[]);
      const skipped = ids.filter((id) => !keep.has(id));
      const json = JSON.stringify([...keep]);
      if (keep.size === 0) return { threads: 0, events: 0, notifications: 0, skipped };
      grant.run(json);
      // Their spend stays in the cost reports; their heads went to the archive with their events.
      rollup.run({ threads: json });
      deleteHeads.run(json);
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
    const rows = this.events.all(JSON.stringify(threadIds)) as { thread_id: string; seq: number; type: string; at: string; release_id: string; data: string; hash: string | null; request: string | null }[];
    return rows.map((r) => ({ threadId: r.thread_id, seq: r.seq, type: r.type, at: r.at, releaseId: r.release_id, data: JSON.parse(r.data), hash: r.hash, request: r.request }) as ArchivedEvent);
  }

  pruneThreads(threadIds: string[], seqs?: Record<string, number>): PruneCounts {
    if (threadIds.length === 0) return { threads: 0, events: 0, notifications: 0, skipped: [] };
    return this.pruneTx.immediate(threadIds, seqs);
  }

  /** Synchronous per batch; the caller (sqlite-store.ts) yields between batches so appends interleave. */
  unreferencedBlobs(): string[] {
    return this.unreferenced.all() as string[];
  }

  deleteBlobs(hashes: string[], before: string): BlobSweep {
    if (hashes.length === 0) return { blobs: 0, bytes: 0 };
    return this.deleteBlobsTx.immediate(hashes, before);
  }
}
