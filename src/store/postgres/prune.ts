/**
 * Retention on PostgreSQL (twelve prune). Each batch is one short transaction that takes row
 * locks only: the batch's finished threads are locked FOR UPDATE SKIP LOCKED (a row a worker
 * or another pruner holds is skipped, never waited for), re-checked as finished, granted in
 * prune_grants (the events' delete guard lets those through), deleted with their events and
 * notifications, and the grants removed before COMMIT. No table lock, so claims and appends
 * of other threads go on meanwhile.
 *
 * The blob sweep reads the live set in one statement (a snapshot: it blocks no one), then deletes
 * the rest in short transactions of a few hundred rows, each re-checking the blob's time: an append
 * that sends a blob again rewrites its time (queries.ts appendSql) and, when it holds the row, the
 * delete waits for it and then sees the new time.
 */
import type { ThreadStatus } from '../../thread/state.js';
import { requestPrefix } from '../../blobs/blob-refs.js';
import type { ArchivedEvent, BlobSweep, ListPrunableOptions, PrunableThread, PruneCounts, SweepBlobsOptions } from '../types.js';
import type { PostgresPool } from './pool.js';
import { rollupSql } from './cost-report.js';

const finished = `('completed', 'failed', 'cancelled')`;

const listPrunableSql = `
  SELECT id, agent, status, updated_at, seq FROM threads
  WHERE status IN ${finished} AND updated_at < $1 AND ($2::text IS NULL OR agent = $2)
    AND ($3::timestamptz IS NULL OR (updated_at, id) > ($3::timestamptz, $4::text))
  ORDER BY updated_at, id LIMIT $5`;

const archiveEventsSql = `
  SELECT thread_id, seq, type, at, (extract(microseconds FROM at)::bigint % 1000)::int AS sub_ms, release_id, data, hash, request
  FROM events WHERE thread_id = ANY ($1::text[]) ORDER BY thread_id, seq`;

/**
 * The blobs no event needs (as sqlite/prune.ts unreferencedBlobsSql): the blobs events name and the tools their kept requests name,
 * closed over what stored requests name (base, tools, v1 prompt hashes), and every other blob
 * last written before $1. Only a stored request's text is parsed (it starts with its format).
 */
const unreferencedBlobsSql = `
  WITH RECURSIVE live(hash) AS (
    SELECT data -> 'request' ->> 'ref' FROM events
      WHERE type IN ('model_called', 'model_failed') AND data -> 'request' ->> 'ref' IS NOT NULL
    UNION
    SELECT data -> 'blob' ->> 'ref' FROM events
      WHERE type = 'tool_succeeded' AND data -> 'blob' ->> 'ref' IS NOT NULL
    UNION
    SELECT request::jsonb ->> 'tools' FROM events
      WHERE request IS NOT NULL AND request::jsonb ->> 'tools' IS NOT NULL
    UNION
    SELECT named.hash FROM live
      JOIN blobs b ON b.hash = live.hash AND left(b.data, ${requestPrefix.length}) = '${requestPrefix}'
      CROSS JOIN LATERAL (SELECT b.data::jsonb AS m) AS parsed
      CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(parsed.m -> 'prompt') = 'array' THEN parsed.m -> 'prompt' ELSE '[]'::jsonb END
        || jsonb_build_array(parsed.m -> 'base', parsed.m -> 'tools')) AS element
      CROSS JOIN LATERAL (SELECT element #>> '{}' AS hash WHERE jsonb_typeof(element) = 'string') AS named
  )
  SELECT hash FROM blobs b WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM live WHERE live.hash = b.hash)`;

const deleteBlobsSql = `DELETE FROM blobs WHERE hash = ANY ($1::text[]) AND created_at < $2 RETURNING bytes`;

const lockFinishedSql = `SELECT id, seq FROM threads WHERE id = ANY ($1::text[]) AND status IN ${finished} FOR UPDATE SKIP LOCKED`;

export class PostgresPrune {
  constructor(private readonly pool: PostgresPool) {}

  async listPrunable(options: ListPrunableOptions): Promise<PrunableThread[]> {
    const { rows } = await this.pool.run<{ id: string; agent: string; status: ThreadStatus; updated_at: Date; seq: number }>(
      listPrunableSql,
      [options.before, options.agent ?? null, options.after?.updatedAt ?? null, options.after?.id ?? null, options.limit ?? 500],
      { idempotent: true },
    );
    return rows.map((r) => ({ id: r.id, agent: r.agent, status: r.status, updatedAt: r.updated_at.toISOString(), seq: r.seq }));
  }

  async loadArchiveEvents(threadIds: string[]): Promise<ArchivedEvent[]> {
    if (threadIds.length === 0) return [];
    const { rows } = await this.pool.run<{ thread_id: string; seq: number; type: string; at: Date; sub_ms: number; release_id: string; data: unknown; hash: string | null; request: string | null }>(
      archiveEventsSql,
      [threadIds],
      { idempotent: true },
    );
    // At full precision (see PostgresStore.scanEvents): a time moved by less than a millisecond stays visible in the archive.
    const at = (r: { at: Date; sub_ms: number }) => (r.sub_ms === 0 ? r.at.toISOString() : r.at.toISOString().replace(/Z$/, `${String(r.sub_ms).padStart(3, '0')}Z`));
    return rows.map((r) => ({ threadId: r.thread_id, seq: r.seq, type: r.type, at: at(r), releaseId: r.release_id, data: r.data, hash: r.hash, request: r.request }) as ArchivedEvent);
  }

  async pruneThreads(threadIds: string[], seqs?: Record<string, number>): Promise<PruneCounts> {
    if (threadIds.length === 0) return { threads: 0, events: 0, notifications: 0, skipped: [] };
    return this.pool.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; seq: number }>(lockFinishedSql, [threadIds]);
      // A thread whose seq moved on since it was read (a conversation continued) is not finished with: skipped.
      const keep = rows.filter((r) => seqs?.[r.id] === undefined || Number(r.seq) === seqs[r.id]).map((r) => r.id);
      const kept = new Set(keep);
      const skipped = threadIds.filter((id) => !kept.has(id));
      if (keep.length === 0) return { threads: 0, events: 0, notifications: 0, skipped };
      await client.query(`INSERT INTO prune_grants (thread_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [keep]);
      // Their spend stays in the cost reports; their heads went to the archive with their events.
      await client.query(rollupSql, [keep]);
      await client.query(`DELETE FROM audit_heads WHERE thread_id = ANY ($1::text[])`, [keep]);
      const events = (await client.query(`DELETE FROM events WHERE thread_id = ANY ($1::text[])`, [keep])).rowCount ?? 0;
      await client.query(`DELETE FROM notification_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE thread_id = ANY ($1::text[]))`, [keep]);
      const notifications = (await client.query(`DELETE FROM notifications WHERE thread_id = ANY ($1::text[])`, [keep])).rowCount ?? 0;
      const threads = (await client.query(`DELETE FROM threads WHERE id = ANY ($1::text[])`, [keep])).rowCount ?? 0;
      await client.query(`DELETE FROM prune_grants WHERE thread_id = ANY ($1::text[])`, [keep]);
      return { threads, events, notifications, skipped };
    });
  }

  async sweepBlobs(options: SweepBlobsOptions): Promise<BlobSweep> {
    const { rows } = await this.pool.run<{ hash: string }>(unreferencedBlobsSql, [options.before], { idempotent: true });
    const candidates = rows.map((r) => r.hash);
    const batch = options.batch ?? 500;
    const swept: BlobSweep = { blobs: 0, bytes: 0 };
    for (let i = 0; i < candidates.length; i += batch) {
      // Idempotent: a retried delete finds the rows gone, or re-checks their time.
      const deleted = await this.pool.run<{ bytes: number }>(deleteBlobsSql, [candidates.slice(i, i + batch), options.before], { idempotent: true });
      swept.blobs += deleted.rowCount ?? 0;
      swept.bytes += deleted.rows.reduce((sum, r) => sum + r.bytes, 0);
    }
    return swept;
  }
}
