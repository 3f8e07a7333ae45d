/**
 * The Store: where threads and their append-only event logs live. SQLite is the
 * embedded default; a PostgreSQL twin implements the same interface and passes the
 * same conformance suite (test/store-conformance.ts).
 */
import type { NotificationOutbox, NotificationPayload, ReplyItem, ReplyPayload } from '../notify/types.js';
import type { CompactError, EventType, NewEvent, ThreadEvent } from '../thread/events.js';
import type { ThreadStatus } from '../thread/state.js';
import type { EvalRunRecord, ProposalRecord, ProposalStatus } from '../eval/types.js';
import type { CostReportOptions, CostRow } from '../costs/types.js';
import type { AuditHead } from '../audit/types.js';
import type { NewBlob } from '../blobs/blob.js';

export interface ThreadRecord {
  id: string;
  agent: string;
  status: ThreadStatus;
  seq: number;
  /** The release that appended the latest event. */
  releaseId: string;
  input: unknown;
  output: unknown;
  error: CompactError | null;
  waitingReason: string | null;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those read from a provider's prompt cache (billed at the cached rate). */
  cachedInputTokens: number;
  /** Of inputTokens, those written to a provider's prompt cache (Anthropic bills them above the input rate). */
  cacheWriteTokens: number;
  /** USD spent on model calls; null when some call had no known price (unpricedCalls > 0): the spend is unknown, never $0. */
  costUsd: number | null;
  /** USD spent on the model calls with a known price (equals costUsd when nothing is unpriced). */
  pricedCostUsd: number;
  /** Model calls with no known price ("price unknown"). */
  unpricedCalls: number;
  leaseOwner: string | null;
  /** Epoch ms; a lease in the past is free. */
  leaseUntil: number | null;
  launchKey: string | null;
  /** Epoch ms when a waiting thread must be looked at again (deadline, end of a sleep). */
  wakeAt: number | null;
  /** A pause or cancel waiting to be applied by whoever holds (or next claims) the thread. */
  control: ControlRequest | null;
  /** The completed output's confidence (0..1), when the agent declares one. */
  confidence: number | null;
  /** Who the thread's spend is attributed to (its launch metadata under TWELVE_TENANT_KEY), if anyone. */
  tenant: string | null;
  /** The thread whose agentTool call launched this one (a child thread), if any. */
  parentThreadId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Cached, derived columns written with every append (the log stays the source of truth). */
export interface ThreadSummary {
  status: ThreadStatus;
  output?: unknown;
  error?: CompactError | null;
  waitingReason?: string | null;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt-cache reads and writes among inputTokens (default 0). */
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  costUsd: number;
  /** Model calls with no known price (default 0). */
  unpricedCalls?: number;
  /** Epoch ms, or null when nothing is due. */
  wakeAt?: number | null;
  /** Clear the thread's control request (it was applied by these events). */
  clearControl?: boolean;
  /** The completed output's confidence (absent or null: none). */
  confidence?: number | null;
}

export interface ControlRequest {
  kind: 'pause' | 'cancel';
  by: string;
  reason?: string;
}

/** Written in the same transaction as the events. */
export interface AppendExtras {
  /** Adds to the agent's (and the tenant's, when given) spend for a UTC day (YYYY-MM-DD). */
  spend?: { agent: string; day: string; costUsd: number; tenant?: string };
  /** Notifications to deliver (a thread started waiting for a person). */
  notifications?: NotificationPayload[];
  /** Replies to the message that launched the thread (it finished), for the broker trigger to publish. */
  replies?: ReplyPayload[];
  /** People's corrections proposed as eval cases (one per thread and seq; a repeat is ignored). */
  proposals?: NewProposal[];
  /** Content-addressed payloads the events refer to (the tools a model saw, large tool results); each stored once. */
  blobs?: NewBlob[];
  /** The exact request (model/request-record.ts) of `events[index]`, a model_called or model_failed: kept in that event's row. */
  request?: { index: number; text: string };
}

/** A proposal as appended with the correcting event (pending, undecided). */
export type NewProposal = Pick<ProposalRecord, 'id' | 'threadId' | 'agent' | 'seq' | 'kind' | 'draft'>;

export interface ListEvalRunsOptions {
  agent?: string;
  suite?: string;
  releaseId?: string;
  /** Default 100. */
  limit?: number;
}

export interface ListProposalsOptions {
  status?: ProposalStatus;
  agent?: string;
  threadId?: string;
  /** Default 100. */
  limit?: number;
}

/** One bucket count per upper bound (cumulative, like Prometheus' `le`), per agent. */
export interface ConfidenceHistogram {
  agent: string;
  /** counts[i]: completed threads with confidence <= bounds[i]. */
  counts: number[];
  count: number;
  sum: number;
}

export interface NewThread {
  id: string;
  agent: string;
  releaseId: string;
  /** A caller's idempotency key for the launch (unique across threads when given). */
  launchKey?: string;
  input: unknown;
  /** Who its spend is attributed to (costs/tenants.ts). */
  tenant?: string;
  /** The parent thread, for a child thread launched by an agentTool call. */
  parentId?: string;
  /**
   * The first events (at least thread_started), appended with the thread row in one transaction.
   * An event that carries its own `releaseId` and `at` keeps them (a fork's copies of its origin's
   * events, kept as written for audit); the others get the thread's `releaseId` and the time now.
   */
  events: Array<NewEvent | CopiedEvent>;
  summary: ThreadSummary;
}

/** An event copied from another thread, with the release and time it was first written at. */
/** A fork's copy of an origin's event: it keeps its release, time and (a model step's) request. */
export type CopiedEvent = NewEvent & { releaseId: string; at: string; request?: string };

export interface ListThreadsOptions {
  status?: ThreadStatus[];
  agent?: string;
  limit?: number;
  /** ISO times: created at or after / strictly before. */
  createdAfter?: string;
  createdBefore?: string;
  /** Keyset pagination: threads that sort after this one (newest first: created_at DESC, id DESC). */
  after?: { createdAt: string; id: string };
}

export interface StoreStats {
  threadsByStatus: Partial<Record<ThreadStatus, number>>;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those read from / written to a provider's prompt cache. */
  cachedInputTokens: number;
  cacheWriteTokens: number;
  /** Spend of the priced model calls. */
  costUsd: number;
  /** Model calls with no known price, which costUsd does not include. */
  unpricedCalls: number;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  /** Claim this thread only. */
  threadId?: string;
  /** Only threads of these agents (the ones this worker can run). */
  agents?: string[];
  /** Most threads of an agent leased at once across every process sharing the store. */
  agentCaps?: Record<string, number>;
  /** Lets a store reclaim at once a lease whose owner is known to be dead (same host, pid gone). */
  isOwnerDead?: (owner: string) => boolean;
  /**
   * No downgrade: agent -> the release id this worker runs. A thread whose latest event was
   * written by a newer release of its agent (a higher ordinal in the releases table) is left
   * to the workers running that release. The worker's own release must be saved first.
   */
  releases?: Record<string, string>;
}

export interface StoredRelease {
  id: string;
  agent: string;
  manifest: Record<string, unknown>;
  createdAt: string;
  /** Creation order in this store (1, 2, 3... across agents): a higher ordinal is a newer release. */
  ordinal: number;
}

/** One release as `twelve releases ls` shows it: no manifest, the threads whose latest step it wrote. */
export interface ReleaseSummary {
  id: string;
  agent: string;
  createdAt: string;
  ordinal: number;
  /** Threads whose latest event was written by this release, per status. */
  threadsByStatus: Partial<Record<ThreadStatus, number>>;
}

/** In-flight threads left to a newer release: what a worker on an older one logs (see Store.threadsOnNewerReleases). */
export interface NewerReleaseThreads {
  agent: string;
  /** The newer release that wrote their latest event. */
  releaseId: string;
  /** Threads with work whose latest event it wrote. */
  threads: number;
}

export interface ListReleasesOptions {
  agent?: string;
  /** Default 100. */
  limit?: number;
}

/** Retention (twelve prune): a finished thread old enough to go. */
export interface PrunableThread {
  id: string;
  agent: string;
  status: ThreadStatus;
  updatedAt: string;
  seq: number;
}

export interface ListPrunableOptions {
  /** ISO time: threads last updated strictly before it. */
  before: string;
  agent?: string;
  /** Default 500. */
  limit?: number;
  /** Keyset: threads that sort after this one (oldest first: updated_at, id). */
  after?: { updatedAt: string; id: string };
}

/** An event as an archive keeps it: with its hash chain link (null for events older than the chain). */
/** An event as prune archives it: with its chain link, and the request kept with it (a model step's, model/request-record.ts). */
export type ArchivedEvent = ThreadEvent & { hash: string | null; request?: string | null };

/** What one prune transaction deleted. */
export interface PruneCounts {
  threads: number;
  events: number;
  notifications: number;
  /** Listed threads left in place: gone already, or no longer finished (re-checked in the transaction). */
  skipped: string[];
}

/** Options of a blob sweep (retention, after pruneThreads). */
export interface SweepBlobsOptions {
  /** ISO time: only blobs last written before it may go (a blob sent again is rewritten: its time moves on). */
  before: string;
  /** Blobs per delete transaction (default 500). */
  batch?: number;
}

/** What a blob sweep deleted. */
export interface BlobSweep {
  blobs: number;
  /** The deleted blobs' sizes summed (their UTF-8 text). */
  bytes: number;
}

export interface Store extends NotificationOutbox {
  readonly kind: string;
  /** Human-readable location, for messages (never contains a password). */
  readonly location: string;
  /** Creates the thread and its first events. Throws TwelveError `conflict` when `launchKey` is taken. */
  createThread(thread: NewThread): Promise<ThreadEvent[]>;
  findThreadByLaunchKey(launchKey: string): Promise<ThreadRecord | undefined>;
  /**
   * Appends events after `expectedSeq` in one transaction and updates the summary.
   * Throws SeqConflictError when the log has moved on: the caller lost a race.
   */
  append(threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras?: AppendExtras): Promise<ThreadEvent[]>;
  loadEvents(threadId: string, afterSeq?: number): Promise<ThreadEvent[]>;
  /** A blob by its hash ("sha256:..."), as appended with AppendExtras.blobs. */
  getBlob(hash: string): Promise<NewBlob | undefined>;
  /** The blobs of those hashes that are stored (in no particular order). */
  getBlobs(hashes: string[]): Promise<NewBlob[]>;
  /**
   * The requests kept with the thread's events (AppendExtras.request) at or before `upToSeq`, newest
   * first, at most `limit` of them (all when absent): a request and the bases it extends are among
   * the 33 newest (model/request-record.ts).
   */
  loadRequests(threadId: string, upToSeq: number, limit?: number): Promise<Array<{ seq: number; text: string }>>;
  /** The events of one type in several threads (e.g. which listed threads are forks), by thread then seq. */
  loadEventsOfType(threadIds: string[], type: EventType): Promise<ThreadEvent[]>;
  getThread(threadId: string): Promise<ThreadRecord | undefined>;
  listThreads(options?: ListThreadsOptions): Promise<ThreadRecord[]>;
  /** Threads per status and usage totals (for /metrics). */
  stats(): Promise<StoreStats>;
  /**
   * Leases one thread whose lease is free or expired and that has work: runnable, or
   * waiting with a wake-up time that has passed, or carrying a control request.
   */
  claim(options: ClaimOptions): Promise<ThreadRecord | undefined>;
  renewLease(threadId: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(threadId: string, owner: string): Promise<void>;
  /** Records a pause or cancel request for the holder (or next claimer) of the thread to apply. */
  setControl(threadId: string, control: ControlRequest): Promise<void>;
  getControl(threadId: string): Promise<ControlRequest | null>;
  /**
   * Makes a thread that waits for a child (awaiting_child) due at `at` (default now; epoch ms) and
   * wakes a worker: a child thread that ended wakes its parent, and a parent that looked at a
   * running child sets when it looks again. Any other thread (finished, paused...) is left as it is:
   * a paused parent looks at its child when it is resumed.
   */
  wakeThread(threadId: string, at?: number): Promise<void>;
  /** The threads this thread launched (agentTool children), oldest first. */
  listChildren(threadId: string): Promise<ThreadRecord[]>;
  /**
   * Leases due replies (see ReplyPayload) like claimDueNotifications leases notifications; attempts
   * are recorded with recordDeliveryAttempt. The two never hand out each other's rows.
   */
  claimDueReplies(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<ReplyItem[]>;
  /** The agent's recorded spend for a UTC day (YYYY-MM-DD). */
  dailySpend(agent: string, day: string): Promise<number>;
  /** The tenant's recorded spend for a UTC day (YYYY-MM-DD). */
  tenantSpend(tenant: string, day: string): Promise<number>;
  /** Spend, tokens and calls from the model_called events, grouped (see costs/types.ts); one aggregate query. */
  costReport(options: CostReportOptions): Promise<CostRow[]>;
  /**
   * Calls `listener` soon after any process makes work claimable (a launch, a decision, a
   * control request), so idle workers wake at once instead of at their next poll.
   * PostgreSQL: LISTEN/NOTIFY. Optional: without it workers poll.
   */
  subscribeWork?(listener: () => void): Promise<() => Promise<void>>;
  /**
   * Streamed model tokens between processes (stream/delta-relay.ts): each payload (under 8000
   * bytes) reaches every process subscribed. PostgreSQL: NOTIFY/LISTEN twelve_deltas.
   * Optional: without them (SQLite) deltas reach only the process that makes the model call.
   */
  publishDeltas?(payloads: string[]): Promise<void>;
  subscribeDeltas?(listener: (payload: string) => void): Promise<() => Promise<void>>;
  /** Saves a release the first time it is seen (its ordinal is then fixed); later saves do nothing. */
  saveRelease(release: Omit<StoredRelease, 'createdAt' | 'ordinal'>): Promise<void>;
  getRelease(id: string): Promise<StoredRelease | undefined>;
  /**
   * Makes a saved release the newest of the store (a new, highest ordinal): a rollback. Threads
   * a later release wrote become claimable by workers running this one (their next step records
   * the move), and workers still on the later release stop claiming them. Undefined: no such release.
   */
  promoteRelease(id: string): Promise<StoredRelease | undefined>;
  /**
   * Threads with work (runnable, or a wake-up or control request set) whose latest event was
   * written by a release newer (same agent, higher ordinal) than one of `releaseIds` (the
   * releases a worker runs): the threads its claims skip. Per newer release, oldest first.
   */
  threadsOnNewerReleases(releaseIds: string[]): Promise<NewerReleaseThreads[]>;
  /**
   * Threads with work (as above) of agents not in `agents` (the agents a worker has): the threads
   * its claims never take. Per agent, by name.
   */
  threadsOfOtherAgents(agents: string[]): Promise<Array<{ agent: string; threads: number }>>;
  /** Releases newest first (highest ordinal), with thread counts. */
  listReleases(options?: ListReleasesOptions): Promise<ReleaseSummary[]>;
  /** Stores one eval run (its id is the caller's). */
  saveEvalRun(run: EvalRunRecord): Promise<void>;
  /** Eval runs, newest first. */
  listEvalRuns(options?: ListEvalRunsOptions): Promise<EvalRunRecord[]>;
  getEvalRun(id: string): Promise<EvalRunRecord | undefined>;
  /** Proposals, newest first. */
  listProposals(options?: ListProposalsOptions): Promise<ProposalRecord[]>;
  getProposal(id: string): Promise<ProposalRecord | undefined>;
  /**
   * Accepts (written to `suite`) or dismisses a pending proposal. Undefined: no such proposal.
   * Throws TwelveError `conflict` when it was already decided (the first decision stands).
   */
  decideProposal(id: string, decision: { status: 'accepted' | 'dismissed'; by: string; suite?: string }): Promise<ProposalRecord | undefined>;
  /**
   * Every thread's events in (thread id, seq) order, a page at a time (keyset: the events after
   * `after`), each with its thread row's seq (`threadSeq`, a cheap cross-check): what `twelve audit
   * verify --all` streams.
   */
  scanEvents(options: { after?: { threadId: string; seq: number }; limit: number }): Promise<Array<ThreadEvent & { threadSeq: number; threadCreatedAt: string }>>;
  /** When the hash chain began (migration 8 applied): every event of a thread created after it must be hashed. */
  chainStartedAt(): Promise<string | undefined>;
  /**
   * What `audit verify --all` cannot reach by walking the events: signed heads of threads that have
   * no events left, and thread rows that record events but have none (deleted without a prune).
   */
  loadAuditOrphans(): Promise<{ heads: AuditHead[]; threads: Array<{ id: string; seq: number }> }>;
  /** Records a signed chain head (audit/signing.ts). */
  saveAuditHead(head: AuditHead): Promise<void>;
  /** The signed heads of these threads, by thread then seq. */
  loadAuditHeads(threadIds: string[]): Promise<AuditHead[]>;
  /** Completed threads' confidence per agent, counted into buckets with these upper bounds (ascending). */
  confidenceHistogram(bounds: number[]): Promise<ConfidenceHistogram[]>;
  /** Retention: finished threads (completed, failed, cancelled) last updated before `before`, oldest first. */
  listPrunable(options: ListPrunableOptions): Promise<PrunableThread[]>;
  /** The events of these threads with their chain links, by thread then seq (what the archive keeps). */
  loadArchiveEvents(threadIds: string[]): Promise<ArchivedEvent[]>;
  /**
   * Deletes these threads, their events and their notifications in one short transaction, through
   * prune_grants (the events' delete guard). Each thread's status is re-checked inside the
   * transaction: one that is not finished (or is gone) is skipped, never deleted. Kept: eval
   * proposals (they are eval cases), releases, daily spend, blobs (shared by hash). The threads'
   * signed heads go with them (the archive keeps them), and their model calls are folded into
   * cost_rollup in the same transaction, so cost reports keep their spend.
   * `seqs`: the seq each thread had when it was read (archived); one that moved on since (a
   * conversation's next message, even if answered and completed again) is skipped too.
   */
  pruneThreads(threadIds: string[], seqs?: Record<string, number>): Promise<PruneCounts>;
  /**
   * Deletes the blobs no event names (directly, or through a stored request's base, tools or v1
   * prompt: blobs/blob-refs.ts) that were last written before `before`. The live set is read
   * without blocking writers; the deletes go in short batches, each re-checking the time, so a
   * blob an append sent again meanwhile (which rewrites its time) stays.
   */
  sweepBlobs(options: SweepBlobsOptions): Promise<BlobSweep>;
  close(): Promise<void>;
}
