/**
 * Retention: archive, then delete, finished threads older than a cut-off, one batch at a time.
 * Per batch: list (oldest first), read the events with their chain links, append them to the
 * archive and fsync, then delete the batch in one short store transaction that re-checks each
 * thread is still finished. Workers are never blocked for longer than one batch's delete, and a
 * crash anywhere leaves either the threads in place or their events safely in the archive.
 */
import type { PrunableThread, Store } from '../store/types.js';
import { appendArchiveBatch } from './archive-file.js';

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
  ms: number;
}

export async function runPrune(options: PruneOptions): Promise<PruneReport> {
  const started = performance.now();
  const { store } = options;
  const limit = options.batch ?? 500;
  const report: PruneReport = { dryRun: options.dryRun ?? false, batches: 0, threads: 0, events: 0, notifications: 0, skipped: 0, byStatus: {}, byAgent: {}, archive: options.archive, ms: 0 };
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
      const archived = await store.loadArchiveEvents(ids);
      for (const e of archived) seqs[e.threadId] = Math.max(seqs[e.threadId] ?? 0, e.seq);
      appendArchiveBatch(options.archive, archived);
    }
    const counts = await store.pruneThreads(ids, seqs);
    count(report, page, new Set(counts.skipped));
    report.events += counts.events;
    report.notifications += counts.notifications;
    report.skipped += counts.skipped.length;
    options.onBatch?.({ threads: counts.threads, events: counts.events, skipped: counts.skipped.length });
  }
  report.ms = performance.now() - started;
  return report;
}

function count(report: PruneReport, page: PrunableThread[], skipped: Set<string>): void {
  for (const thread of page) {
    if (skipped.has(thread.id)) continue;
    report.threads++;
    report.byStatus[thread.status] = (report.byStatus[thread.status] ?? 0) + 1;
    report.byAgent[thread.agent] = (report.byAgent[thread.agent] ?? 0) + 1;
  }
}
