/**
 * Retention: archive, then delete, finished threads older than a cut-off, one batch at a time.
 * Per batch: list (oldest first), read the events with their chain links, append them to the
 * archive and fsync, then delete the batch in one short store transaction that re-checks each
 * thread is still finished. Workers are never blocked for longer than one batch's delete, and a
 * crash anywhere leaves either the threads in place or their events safely in the archive.
 *
 * The archive also carries the blobs the batch's events name (stored requests with their bases
 * and tools, large tool results), each once per file. After the last batch, the blobs no live
 * event needs any more are swept (Store.sweepBlobs): blobs are shared between threads by hash, so
 * a blob goes only when nothing names it, and one written since the run began (a blob sent again
 * is rewritten) always stays.
 */
import type { NewBlob } from '../blobs/blob.js';
import { eventBlobRef, manifestRefs } from '../blobs/blob-refs.js';
import { blobOfText } from '../blobs/blob.js';
import type { ArchivedEvent, PrunableThread, Store } from '../store/types.js';
import { appendArchiveBatch, archivedBlobHashes } from './archive-file.js';

/**
 * Blobs last written this long before the run began are the oldest a sweep may delete. It covers
 * clocks that differ between the workers and the pruner, and an append slower than that between
 * taking its time and committing; a blob so young is never worth sweeping anyway.
 */
export const blobSweepMarginMs = 5 * 60_000;

export interface PruneOptions {
  store: Store;
  /** ISO time: threads last updated before it go. */
  before: string;
  agent?: string;
  /** Threads per transaction (default 500). */
  batch?: number;
  /** The archive file, or null to delete without one (the caller made the user say so). */
  archive: string | null;
  /** List what would go; write and delete nothing. */
  dryRun?: boolean;
  onBatch?(batch: PruneBatchReport): void;
  /** Blobs last written before this ISO time may be swept (default: the run's start less blobSweepMarginMs). */
  sweepBefore?: string;
}

export interface PruneBatchReport {
  threads: number;
  events: number;
  skipped: number;
}

export interface PruneReport {
  dryRun: boolean;
  batches: number;
  /** Threads deleted (or, in a dry run, that would be). */
  threads: number;
  events: number;
  notifications: number;
  /** Threads listed but left in place (resumed, held by a worker, or gone since listed). */
  skipped: number;
  byStatus: Record<string, number>;
  byAgent: Record<string, number>;
  archive: string | null;
  /** Blobs written to the archive (each once per file). */
  blobsArchived: number;
  /** Blobs swept: no live event names them any more (none in a dry run). */
  blobsDeleted: number;
  /** The swept blobs' sizes summed. */
  blobBytesFreed: number;
  ms: number;
}

export async function runPrune(options: PruneOptions): Promise<PruneReport> {
  const started = performance.now();
  const sweepBefore = options.sweepBefore ?? new Date(Date.now() - blobSweepMarginMs).toISOString();
  const { store } = options;
  const limit = options.batch ?? 500;
  const report: PruneReport = { dryRun: options.dryRun ?? false, batches: 0, threads: 0, events: 0, notifications: 0, skipped: 0, byStatus: {}, byAgent: {}, archive: options.archive, blobsArchived: 0, blobsDeleted: 0, blobBytesFreed: 0, ms: 0 };
  // The blobs the archive file holds already (a run appending to an earlier run's file).
  const archived = options.archive !== null && !report.dryRun ? archivedBlobHashes(options.archive) : new Set<string>();
  let after: { updatedAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listPrunable({ before: options.before, agent: options.agent, limit, after });
    if (page.length === 0) break;
    // Deleted threads leave the listing anyway; the keyset moves past skipped ones so they are not listed again this run.
    const last = page[page.length - 1]!;
    after = { updatedAt: last.updatedAt, id: last.id };
    report.batches++;
    if (report.dryRun) {
      count(report, page, new Set());
      report.events += page.reduce((sum, t) => sum + t.seq, 0);
      options.onBatch?.({ threads: page.length, events: page.reduce((sum, t) => sum + t.seq, 0), skipped: 0 });
      continue;
    }
    const ids = page.map((t) => t.id);
    // Deleted only at the seq read here (archived), so a conversation continued meanwhile is kept whole.
    const seqs: Record<string, number> = Object.fromEntries(page.map((t) => [t.id, t.seq]));
    if (options.archive !== null) {
      const [events, heads] = await Promise.all([store.loadArchiveEvents(ids), store.loadAuditHeads(ids)]);
      for (const e of events) seqs[e.threadId] = Math.max(seqs[e.threadId] ?? 0, e.seq);
      const blobs = await blobsToArchive(store, events, archived);
      appendArchiveBatch(options.archive, events, blobs, heads);
      for (const blob of blobs) archived.add(blob.hash);
      report.blobsArchived += blobs.length;
    }
    const counts = await store.pruneThreads(ids, seqs);
    count(report, page, new Set(counts.skipped));
    report.events += counts.events;
    report.notifications += counts.notifications;
    report.skipped += counts.skipped.length;
    options.onBatch?.({ threads: counts.threads, events: counts.events, skipped: counts.skipped.length });
  }
  if (!report.dryRun) {
    const swept = await store.sweepBlobs({ before: sweepBefore, batch: limit });
    report.blobsDeleted = swept.blobs;
    report.blobBytesFreed = swept.bytes;
  }
  report.ms = performance.now() - started;
  return report;
}

/**
 * The blobs these events name, followed through stored requests (base, tools, v1 prompt), less
 * those the archive holds already. A blob named but not stored (written before blobs were kept,
 * or damaged) is left out: the archive holds what the database held.
 */
async function blobsToArchive(store: Store, events: ArchivedEvent[], archived: Set<string>): Promise<NewBlob[]> {
  const found: NewBlob[] = [];
  const seen = new Set<string>(archived);
  // A request kept with its event (model/request-record.ts) goes in the archive as a blob line under
  // its event's request.ref, which it hashes to: verify checks it, and a reader finds it by the ref.
  const named: string[] = [];
  for (const e of events) {
    if (!e.request) continue;
    const blob = blobOfText(e.request);
    if (!seen.has(blob.hash)) (seen.add(blob.hash), found.push(blob));
    named.push(...manifestRefs(e.request));
  }
  let wanted = [...new Set([...events.flatMap((e) => eventBlobRef(e) ?? []), ...named])].filter((hash) => !seen.has(hash));
  while (wanted.length > 0) {
    for (const hash of wanted) seen.add(hash);
    const next: string[] = [];
    for (let i = 0; i < wanted.length; i += 200) {
      for (const blob of await store.getBlobs(wanted.slice(i, i + 200))) {
        found.push(blob);
        for (const ref of manifestRefs(blob.data)) if (!seen.has(ref)) next.push(ref);
      }
    }
    wanted = [...new Set(next)];
  }
  return found;
}

function count(report: PruneReport, page: PrunableThread[], skipped: Set<string>): void {
  for (const thread of page) {
    if (skipped.has(thread.id)) continue;
    report.threads++;
    report.byStatus[thread.status] = (report.byStatus[thread.status] ?? 0) + 1;
    report.byAgent[thread.agent] = (report.byAgent[thread.agent] ?? 0) + 1;
  }
}
