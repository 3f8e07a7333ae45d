/**
 * A store whose implementation module is imported on first use. openStore() returns one for
 * PostgreSQL, so a process on SQLite never loads the PostgreSQL store's modules, and a
 * worker on PostgreSQL loads them while it connects anyway (its first claim): starting up
 * stays synchronous and ~10 modules lighter (bench/cold-start.mjs).
 */
import type { DeliveryAttempt, OutboxItem, ReplyItem } from '../notify/types.js';
import type { EventType, NewEvent, ThreadEvent } from '../thread/events.js';
import type { AppendExtras, ClaimOptions, ConfidenceHistogram, ControlRequest, ListEvalRunsOptions, ListProposalsOptions, ListThreadsOptions, NewThread, Store, ListReleasesOptions, NewerReleaseThreads, ReleaseSummary, StoredRelease, StoreStats, ThreadRecord, ThreadSummary } from './types.js';
import type { EvalRunRecord, ProposalRecord } from '../eval/types.js';
import type { CostReportOptions, CostRow } from '../costs/types.js';
import type { ArchivedEvent, ListPrunableOptions, PrunableThread, PruneCounts, BlobSweep, SweepBlobsOptions } from './types.js';
import type { AuditHead } from '../audit/types.js';
import type { NewBlob } from '../blobs/blob.js';

export class DeferredStore implements Store {
  private loading: Promise<Store> | undefined;
  private closed = false;

  constructor(
    readonly kind: string,
    readonly location: string,
    private readonly load: () => Promise<Store>,
  ) {}

  private get store(): Promise<Store> {
    this.loading ??= this.load();
    return this.loading;
  }

  async createThread(thread: NewThread): Promise<ThreadEvent[]> {
    return (await this.store).createThread(thread);
  }
  async findThreadByLaunchKey(launchKey: string): Promise<ThreadRecord | undefined> {
    return (await this.store).findThreadByLaunchKey(launchKey);
  }
  async append(threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras?: AppendExtras): Promise<ThreadEvent[]> {
    return (await this.store).append(threadId, expectedSeq, releaseId, events, summary, extras);
  }
  async loadEvents(threadId: string, afterSeq?: number): Promise<ThreadEvent[]> {
    return (await this.store).loadEvents(threadId, afterSeq);
  }
  async scanEvents(options: { after?: { threadId: string; seq: number }; limit: number }): Promise<Array<ThreadEvent & { threadSeq: number; threadCreatedAt: string }>> {
    return (await this.store).scanEvents(options);
  }

  async chainStartedAt(): Promise<string | undefined> {
    return (await this.store).chainStartedAt();
  }

  async loadAuditOrphans(): Promise<{ heads: AuditHead[]; threads: Array<{ id: string; seq: number }> }> {
    return (await this.store).loadAuditOrphans();
  }
  async saveAuditHead(head: AuditHead): Promise<void> {
    return (await this.store).saveAuditHead(head);
  }
  async loadAuditHeads(threadIds: string[]): Promise<AuditHead[]> {
    return (await this.store).loadAuditHeads(threadIds);
  }
  async getBlob(hash: string): Promise<NewBlob | undefined> {
    return (await this.store).getBlob(hash);
  }
  async getBlobs(hashes: string[]): Promise<NewBlob[]> {
    return (await this.store).getBlobs(hashes);
  }
  async loadRequests(threadId: string, upToSeq: number, limit?: number): Promise<Array<{ seq: number; text: string }>> {
    return (await this.store).loadRequests(threadId, upToSeq, limit);
  }
  async loadEventsOfType(threadIds: string[], type: EventType): Promise<ThreadEvent[]> {
    return (await this.store).loadEventsOfType(threadIds, type);
  }
  async getThread(threadId: string): Promise<ThreadRecord | undefined> {
    return (await this.store).getThread(threadId);
  }
  async listThreads(options?: ListThreadsOptions): Promise<ThreadRecord[]> {
    return (await this.store).listThreads(options);
  }
  async stats(): Promise<StoreStats> {
    return (await this.store).stats();
  }
  async claim(options: ClaimOptions): Promise<ThreadRecord | undefined> {
    return (await this.store).claim(options);
  }
  async renewLease(threadId: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.store).renewLease(threadId, owner, leaseMs);
  }
  async releaseLease(threadId: string, owner: string): Promise<void> {
    return (await this.store).releaseLease(threadId, owner);
  }
  async setControl(threadId: string, control: ControlRequest): Promise<void> {
    return (await this.store).setControl(threadId, control);
  }
  async getControl(threadId: string): Promise<ControlRequest | null> {
    return (await this.store).getControl(threadId);
  }
  async wakeThread(threadId: string, at?: number): Promise<void> {
    return (await this.store).wakeThread(threadId, at);
  }
  async listChildren(threadId: string): Promise<ThreadRecord[]> {
    return (await this.store).listChildren(threadId);
  }
  async dailySpend(agent: string, day: string): Promise<number> {
    return (await this.store).dailySpend(agent, day);
  }

  async tenantSpend(tenant: string, day: string): Promise<number> {
    return (await this.store).tenantSpend(tenant, day);
  }

  async costReport(options: CostReportOptions): Promise<CostRow[]> {
    return (await this.store).costReport(options);
  }
  async subscribeWork(listener: () => void): Promise<() => Promise<void>> {
    const store = await this.store;
    if (!store.subscribeWork) return async () => undefined;
    return store.subscribeWork(listener);
  }
  async publishDeltas(payloads: string[]): Promise<void> {
    const store = await this.store;
    await store.publishDeltas?.(payloads);
  }
  async subscribeDeltas(listener: (payload: string) => void): Promise<() => Promise<void>> {
    const store = await this.store;
    if (!store.subscribeDeltas) return async () => undefined;
    return store.subscribeDeltas(listener);
  }
  async saveRelease(release: Omit<StoredRelease, 'createdAt' | 'ordinal'>): Promise<void> {
    return (await this.store).saveRelease(release);
  }
  async listReleases(options?: ListReleasesOptions): Promise<ReleaseSummary[]> {
    return (await this.store).listReleases(options);
  }
  async threadsOfOtherAgents(agents: string[]): Promise<Array<{ agent: string; threads: number }>> {
    return (await this.store).threadsOfOtherAgents(agents);
  }
  async threadsOnNewerReleases(releaseIds: string[]): Promise<NewerReleaseThreads[]> {
    return (await this.store).threadsOnNewerReleases(releaseIds);
  }
  async promoteRelease(id: string): Promise<StoredRelease | undefined> {
    return (await this.store).promoteRelease(id);
  }
  async getRelease(id: string): Promise<StoredRelease | undefined> {
    return (await this.store).getRelease(id);
  }
  async saveEvalRun(run: EvalRunRecord): Promise<void> {
    return (await this.store).saveEvalRun(run);
  }
  async listEvalRuns(options?: ListEvalRunsOptions): Promise<EvalRunRecord[]> {
    return (await this.store).listEvalRuns(options);
  }
  async getEvalRun(id: string): Promise<EvalRunRecord | undefined> {
    return (await this.store).getEvalRun(id);
  }
  async listProposals(options?: ListProposalsOptions): Promise<ProposalRecord[]> {
    return (await this.store).listProposals(options);
  }
  async getProposal(id: string): Promise<ProposalRecord | undefined> {
    return (await this.store).getProposal(id);
  }
  async decideProposal(id: string, decision: { status: 'accepted' | 'dismissed'; by: string; suite?: string }): Promise<ProposalRecord | undefined> {
    return (await this.store).decideProposal(id, decision);
  }
  async confidenceHistogram(bounds: number[]): Promise<ConfidenceHistogram[]> {
    return (await this.store).confidenceHistogram(bounds);
  }
  async claimDueNotifications(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<OutboxItem[]> {
    return (await this.store).claimDueNotifications(options);
  }
  async claimDueReplies(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<ReplyItem[]> {
    return (await this.store).claimDueReplies(options);
  }
  async recordDeliveryAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void> {
    return (await this.store).recordDeliveryAttempt(attempt, outcome);
  }
  async listDeliveryAttempts(notificationId: string): Promise<DeliveryAttempt[]> {
    return (await this.store).listDeliveryAttempts(notificationId);
  }
  async listPrunable(options: ListPrunableOptions): Promise<PrunableThread[]> {
    return (await this.store).listPrunable(options);
  }
  async loadArchiveEvents(threadIds: string[]): Promise<ArchivedEvent[]> {
    return (await this.store).loadArchiveEvents(threadIds);
  }
  async pruneThreads(threadIds: string[], seqs?: Record<string, number>): Promise<PruneCounts> {
    return (await this.store).pruneThreads(threadIds, seqs);
  }
  async sweepBlobs(options: SweepBlobsOptions): Promise<BlobSweep> {
    return (await this.store).sweepBlobs(options);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Never loaded: nothing to close (and no reason to load it now).
    if (this.loading) await (await this.loading).close();
  }
}
