/**
 * The Store: where threads and their append-only event logs live. SQLite is the
 * embedded default; a PostgreSQL twin implements the same interface and passes the
 * same conformance suite (test/store-conformance.ts).
 */
import type { CompactError, NewEvent, ThreadEvent } from '../thread/events.js';
import type { ThreadStatus } from '../thread/state.js';

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
  costUsd: number;
  leaseOwner: string | null;
  /** Epoch ms; a lease in the past is free. */
  leaseUntil: number | null;
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
  costUsd: number;
}

export interface NewThread {
  id: string;
  agent: string;
  releaseId: string;
  input: unknown;
  /** The first events (at least thread_started), appended with the thread row in one transaction. */
  events: NewEvent[];
  summary: ThreadSummary;
}

export interface ListThreadsOptions {
  status?: ThreadStatus[];
  agent?: string;
  limit?: number;
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  /** Claim this thread only. */
  threadId?: string;
  /** Only threads of these agents (the ones this worker can run). */
  agents?: string[];
  /** Lets a store reclaim at once a lease whose owner is known to be dead (same host, pid gone). */
  isOwnerDead?: (owner: string) => boolean;
}

export interface StoredRelease {
  id: string;
  agent: string;
  manifest: Record<string, unknown>;
  createdAt: string;
}

export interface Store {
  readonly kind: string;
  /** Human-readable location, for messages (never contains a password). */
  readonly location: string;
  createThread(thread: NewThread): Promise<ThreadEvent[]>;
  /**
   * Appends events after `expectedSeq` in one transaction and updates the summary.
   * Throws SeqConflictError when the log has moved on: the caller lost a race.
   */
  append(threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary): Promise<ThreadEvent[]>;
  loadEvents(threadId: string, afterSeq?: number): Promise<ThreadEvent[]>;
  getThread(threadId: string): Promise<ThreadRecord | undefined>;
  listThreads(options?: ListThreadsOptions): Promise<ThreadRecord[]>;
  /** Leases one runnable thread whose lease is free or expired. */
  claim(options: ClaimOptions): Promise<ThreadRecord | undefined>;
  renewLease(threadId: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(threadId: string, owner: string): Promise<void>;
  saveRelease(release: Omit<StoredRelease, 'createdAt'>): Promise<void>;
  getRelease(id: string): Promise<StoredRelease | undefined>;
  close(): Promise<void>;
}
