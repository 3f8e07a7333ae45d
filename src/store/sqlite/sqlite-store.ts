/**
 * The embedded SQLite store (better-sqlite3, WAL). One file, zero set-up.
 *
 * Durability: WAL with synchronous=NORMAL survives any process crash (kill -9 included)
 * without an fsync per commit; only an OS crash or power loss can drop the last commits.
 * `?synchronous=full` in the URL fsyncs every commit (measured here: ~10x slower steps).
 * Concurrency: appends run in BEGIN IMMEDIATE transactions that check the expected seq,
 * so two processes sharing the file can never both write step N.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SeqConflictError, TwelveError } from '../../errors.js';
import type { CompactError, EventType, NewEvent, ThreadEvent } from '../../thread/events.js';
import type { ThreadStatus } from '../../thread/state.js';
import type { AppendExtras, ClaimOptions, ConfidenceHistogram, CopiedEvent, ControlRequest, ListEvalRunsOptions, ListProposalsOptions, ListReleasesOptions, ListThreadsOptions, NewerReleaseThreads, NewThread, ReleaseSummary, Store, StoredRelease, StoreStats, ThreadRecord, ThreadSummary } from '../types.js';
import type { EvalRunRecord, ProposalRecord } from '../../eval/types.js';
import type { DeliveryAttempt, OutboxItem, ReplyItem } from '../../notify/types.js';
import type { NewBlob } from '../../blobs/blob.js';
import { SqliteOutbox } from './outbox.js';
import { sqliteCostReport } from './cost-report.js';
import type { CostReportOptions, CostRow } from '../../costs/types.js';
import { SqlitePrune } from './prune.js';
import type { ArchivedEvent, ListPrunableOptions, PrunableThread, PruneCounts, BlobSweep, SweepBlobsOptions } from '../types.js';
import { migrations } from './migrations.js';
import { eventHash } from '../../audit/chain.js';
import type { AuditHead } from '../../audit/types.js';
import { histogram, proposalDecided, toEvalRun, toProposal, type EvalRunRow, type ProposalRow } from '../quality.js';

/**
 * No downgrade: the releases newer than the ones a worker runs (@mine, a JSON array of release
 * ids), i.e. the same agent's releases with a higher ordinal (a few rows, by releases_by_agent).
 */
const newerReleasesSql = `SELECT r.id FROM releases mine JOIN releases r ON r.agent = mine.agent AND r.ordinal > mine.ordinal
  WHERE mine.id IN (SELECT value FROM json_each(@mine))`;

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Refuse to create a new database file (read-only commands on a missing file). */
  mustExist?: boolean;
  synchronous?: 'normal' | 'full';
  busyTimeoutMs?: number;
}

interface ThreadRow {
  id: string;
  agent: string;
  status: string;
  seq: number;
  release_id: string;
  input: string;
  output: string | null;
  error: string | null;
  waiting_reason: string | null;
  model_steps: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  unpriced_calls: number;
  lease_owner: string | null;
  lease_until: number | null;
  launch_key: string | null;
  wake_at: number | null;
  control: string | null;
  confidence: number | null;
  tenant: string | null;
  parent_id: string | null;
  created_at: string;
  updated_at: string;
}

interface EventRow {
  thread_id: string;
  seq: number;
  type: string;
  at: string;
  release_id: string;
  data: string;
  hash: string | null;
}

interface AuditHeadRow {
  id: string;
  thread_id: string;
  seq: number;
  hash: string;
  signature: string;
  key_id: string;
  signed_at: string;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly location: string;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly appendTx;
  private readonly busyTimeoutMs: number;
  private readonly outbox: SqliteOutbox;
  private readonly prune: SqlitePrune;

  constructor(options: SqliteStoreOptions) {
    const path = options.path === ':memory:' ? ':memory:' : resolve(options.path);
    this.location = path;
    if (path !== ':memory:') {
      if (options.mustExist && !existsSync(path)) {
        throw new TwelveError('store_unavailable', `no Twelve database at ${path}: nothing has run here yet, or TWELVE_DATABASE_URL points elsewhere`);
      }
      if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true });
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.busyTimeoutMs = busyTimeoutMs;
    try {
      this.db = new Database(path, { timeout: busyTimeoutMs });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (error) {
      throw storeError(error, path, busyTimeoutMs);
    }
    const db = this.db;
    this.statements = {
      insertThread: db.prepare(
        `INSERT INTO threads (id, agent, status, seq, release_id, input, output, error, waiting_reason, model_steps, input_tokens, output_tokens, cost_usd, unpriced_calls, created_at, updated_at, wake_at, ready_at, launch_key, tenant, parent_id,
                              cached_input_tokens, cache_write_tokens)
         VALUES (@id, @agent, @status, @seq, @releaseId, @input, @output, @error, @waitingReason, @modelSteps, @inputTokens, @outputTokens, @costUsd, @unpricedCalls, @now, @now, @wakeAt, @readyAt, @launchKey, @tenant, @parentId,
                 @cachedInputTokens, @cacheWriteTokens)`,
      ),
      // The expected-seq check: zero rows changed means someone else appended first.
      // Positional parameters: this runs on every append, and binding by name costs ~40% more.
      advanceThread: db.prepare(
        `UPDATE threads SET seq = ?, release_id = ?, status = ?, output = ?, error = ?, waiting_reason = ?,
           model_steps = ?, input_tokens = ?, output_tokens = ?, cost_usd = ?, unpriced_calls = ?, updated_at = ?, wake_at = ?, confidence = ?,
           cached_input_tokens = ?, cache_write_tokens = ?,
           control = CASE WHEN ? THEN NULL ELSE control END,
           ready_at = CASE WHEN control IS NOT NULL AND NOT ? THEN min(coalesce(?, ?), ?) ELSE ? END
         WHERE id = ? AND seq = ?`,
      ),
      insertEvent: db.prepare(`INSERT INTO events (thread_id, seq, type, at, release_id, data, hash, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      // The chain's previous link: one primary-key read inside the append's transaction (NULL: the thread's
      // events predate the chain, and a new chain starts with this append).
      eventHashAt: db.prepare(`SELECT hash FROM events WHERE thread_id = ? AND seq = ?`).pluck(),
      threadSeq: db.prepare(`SELECT seq FROM threads WHERE id = ?`).pluck(),
      events: db.prepare(`SELECT thread_id, seq, type, at, release_id, data, hash FROM events WHERE thread_id = ? AND seq > ? ORDER BY seq`),
      // Reads each listed thread's log by its primary key (thread_id, seq); no index on type is needed for a page of threads.
      eventsOfType: db.prepare(
        `SELECT thread_id, seq, type, at, release_id, data, hash FROM events WHERE thread_id IN (SELECT value FROM json_each(?)) AND type = ? ORDER BY thread_id, seq`,
      ),
      // Keyset over the events' primary key (thread_id, seq): each page is one index range scan.
      scanEvents: db.prepare(
        `SELECT e.thread_id, e.seq, e.type, e.at, e.release_id, e.data, e.hash, t.seq AS thread_seq, t.created_at AS thread_created_at FROM events e JOIN threads t ON t.id = e.thread_id
         WHERE (e.thread_id, e.seq) > (?, ?) ORDER BY e.thread_id, e.seq LIMIT ?`,
      ),
      chainStartedAt: db.prepare(`SELECT applied_at FROM twelve_migrations WHERE version = 8`).pluck(),
      orphanHeads: db.prepare(`SELECT * FROM audit_heads h WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.thread_id = h.thread_id) ORDER BY thread_id, seq, signed_at`),
      emptyThreads: db.prepare(`SELECT id, seq FROM threads t WHERE seq > 0 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.thread_id = t.id) ORDER BY id`),
      saveAuditHead: db.prepare(`INSERT INTO audit_heads (id, thread_id, seq, hash, signature, key_id, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      auditHeads: db.prepare(`SELECT * FROM audit_heads WHERE thread_id IN (SELECT value FROM json_each(?)) ORDER BY thread_id, seq, signed_at`),
      thread: db.prepare(`SELECT * FROM threads WHERE id = ?`),
      byLaunchKey: db.prepare(`SELECT * FROM threads WHERE launch_key = ?`),
      // Oldest-updated first, so a busy agent cannot starve the others.
      claimable: db.prepare(
        // @agents (a JSON array, or NULL for any): filtering here, not after, so a worker is never
        // stuck behind an older thread of an agent it cannot run. Work (ready_at, see migration 2)
        // is: runnable, a waiting thread whose deadline or wake-up passed (even while every
        // process was down), or a pending pause/cancel; oldest first, so nothing starves.
        // @caps ({agent: max} JSON, or NULL): skip agents that already have that many live leases.
        // @newer (JSON array of release ids, or NULL): no downgrade, skip threads those releases stepped last.
        `SELECT id FROM threads WHERE ready_at <= @now AND (lease_until IS NULL OR lease_until < @now)
           AND (@agents IS NULL OR agent IN (SELECT value FROM json_each(@agents)))
           AND (@caps IS NULL OR agent NOT IN (
             SELECT t.agent FROM threads t JOIN json_each(@caps) c ON c.key = t.agent
             WHERE t.lease_until >= @now GROUP BY t.agent HAVING count(*) >= max(c.value)))
           AND (@newer IS NULL OR release_id NOT IN (SELECT value FROM json_each(@newer)))
           ORDER BY ready_at LIMIT 1`,
      ),
      // Who holds the leases of due threads (threads_by_lease_owner: only leased rows are read,
      // however long the backlog), and whether one of an owner's leases expired without a release.
      leaseHolders: db.prepare(
        `SELECT lease_owner AS owner, max(lease_until < @now) AS expired FROM threads
         WHERE lease_owner IS NOT NULL AND ready_at <= @now AND status NOT IN ('completed', 'failed', 'cancelled')
           AND (@agents IS NULL OR agent IN (SELECT value FROM json_each(@agents)))
         GROUP BY lease_owner`,
      ),
      // The oldest due thread interrupted mid-step: its owner is dead (@dead) or its lease expired; never our own.
      orphan: db.prepare(
        `SELECT id, lease_owner FROM threads
         WHERE lease_owner IS NOT NULL AND lease_owner <> @owner AND ready_at <= @now AND status NOT IN ('completed', 'failed', 'cancelled')
           AND (@agents IS NULL OR agent IN (SELECT value FROM json_each(@agents)))
           AND (lease_until < @now OR lease_owner IN (SELECT value FROM json_each(@dead)))
           AND (@newer IS NULL OR release_id NOT IN (SELECT value FROM json_each(@newer)))
         ORDER BY ready_at LIMIT 1`,
      ),
      takeLease: db.prepare(
        `UPDATE threads SET lease_owner = @owner, lease_until = @until
         WHERE id = @id AND status NOT IN ('completed', 'failed', 'cancelled')
           AND (lease_until IS NULL OR lease_until < @now OR lease_owner = @owner OR lease_owner = @deadOwner)
         RETURNING *`,
      ),
      setControl: db.prepare(
        `UPDATE threads SET control = ?, ready_at = min(coalesce(ready_at, ?), ?) WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')`,
      ),
      getControl: db.prepare(`SELECT control FROM threads WHERE id = ?`).pluck(),
      // Only a thread that waits for a child: a paused one (say) would be claimed for nothing, again and again.
      wakeThread: db.prepare(`UPDATE threads SET ready_at = ? WHERE id = ? AND status = 'awaiting_child'`),
      children: db.prepare(`SELECT * FROM threads WHERE parent_id = ? ORDER BY created_at, id`),
      addSpend: db.prepare(
        `INSERT INTO daily_spend (agent, day, cost_usd) VALUES (?, ?, ?) ON CONFLICT (agent, day) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd`,
      ),
      dailySpend: db.prepare(`SELECT cost_usd FROM daily_spend WHERE agent = ? AND day = ?`).pluck(),
      addTenantSpend: db.prepare(
        `INSERT INTO tenant_spend (tenant, day, cost_usd) VALUES (?, ?, ?) ON CONFLICT (tenant, day) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd`,
      ),
      tenantSpend: db.prepare(`SELECT cost_usd FROM tenant_spend WHERE tenant = ? AND day = ?`).pluck(),
      renew: db.prepare(`UPDATE threads SET lease_until = @until WHERE id = @id AND lease_owner = @owner`),
      release: db.prepare(`UPDATE threads SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`),
      saveRelease: db.prepare(
        `INSERT INTO releases (id, agent, manifest, created_at, ordinal) VALUES (?, ?, ?, ?, (SELECT coalesce(max(ordinal), 0) + 1 FROM releases)) ON CONFLICT (id) DO NOTHING`,
      ),
      listReleases: db.prepare(`SELECT id, agent, created_at, ordinal FROM releases WHERE (@agent IS NULL OR agent = @agent) ORDER BY ordinal DESC LIMIT @limit`),
      releaseThreadCounts: db.prepare(`SELECT status, count(*) AS n FROM threads WHERE release_id = ? GROUP BY status`),
      getRelease: db.prepare(`SELECT * FROM releases WHERE id = ?`),
      insertProposal: db.prepare(
        `INSERT OR IGNORE INTO eval_proposals (id, thread_id, agent, seq, kind, status, draft, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ),
      getProposal: db.prepare(`SELECT * FROM eval_proposals WHERE id = ?`),
      // created_at is when the blob was last written: one sent again (another thread, a new session)
      // takes the append's time (never an earlier one: clocks differ), so a blob sweep that began before it (twelve prune) keeps it.
      insertBlob: db.prepare(`INSERT INTO blobs (hash, bytes, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET created_at = max(blobs.created_at, excluded.created_at)`),
      getBlob: db.prepare(`SELECT hash, bytes, data FROM blobs WHERE hash = ?`),
      getBlobs: db.prepare(`SELECT hash, bytes, data FROM blobs WHERE hash IN (SELECT value FROM json_each(?))`),
      // Newest first over the primary key (thread_id, seq); -1 as a limit is SQLite's "no limit".
      loadRequests: db.prepare(`SELECT seq, request AS text FROM events WHERE thread_id = ? AND seq <= ? AND request IS NOT NULL ORDER BY seq DESC LIMIT ?`),
      decideProposal: db.prepare(`UPDATE eval_proposals SET status = ?, decided_by = ?, decided_at = ?, suite = ? WHERE id = ? AND status = 'pending'`),
      saveEvalRun: db.prepare(
        `INSERT INTO eval_runs (id, suite, agent, release_id, model, baseline_release_id, created_at, summary, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getEvalRun: db.prepare(`SELECT * FROM eval_runs WHERE id = ?`),
      promoteRelease: db.prepare(`UPDATE releases SET ordinal = (SELECT max(ordinal) + 1 FROM releases) WHERE id = ? AND ordinal < (SELECT max(ordinal) FROM releases)`),
      newerReleases: db.prepare(newerReleasesSql).pluck(),
      threadsOnNewer: db.prepare(
        `SELECT r.agent AS agent, r.id AS releaseId, count(*) AS threads
           FROM threads t JOIN releases r ON r.id = t.release_id
          WHERE r.id IN (${newerReleasesSql}) AND t.ready_at IS NOT NULL AND t.status NOT IN ('completed', 'failed', 'cancelled')
          GROUP BY r.agent, r.id ORDER BY r.ordinal`,
      ),
    };
    this.outbox = new SqliteOutbox(db);
    this.prune = new SqlitePrune(db);
    this.appendTx = db.transaction((threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras?: AppendExtras) => {
      const now = new Date().toISOString();
      const seq = expectedSeq + events.length;
      const c = summaryColumns(summary);
      const nowMs = Date.now();
      const readyAt = readyAtOf(summary, nowMs);
      const clear = summary.clearControl ? 1 : 0;
      const changed = this.statements.advanceThread.run(
        seq, releaseId, c.status, c.output, c.error, c.waitingReason, c.modelSteps, c.inputTokens, c.outputTokens, c.costUsd, c.unpricedCalls, now,
        summary.wakeAt ?? null, summary.confidence ?? null, c.cachedInputTokens, c.cacheWriteTokens, clear, clear, readyAt, nowMs, nowMs, readyAt, threadId, expectedSeq,
      ).changes;
      if (changed === 0) {
        const actual = this.statements.threadSeq.get(threadId) as number | undefined;
        if (actual === undefined) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
        throw new SeqConflictError(threadId, expectedSeq, actual);
      }
      if (extras?.spend && extras.spend.costUsd > 0) {
        this.statements.addSpend.run(extras.spend.agent, extras.spend.day, extras.spend.costUsd);
        if (extras.spend.tenant !== undefined) this.statements.addTenantSpend.run(extras.spend.tenant, extras.spend.day, extras.spend.costUsd);
      }
      for (const notification of extras?.notifications ?? []) this.outbox.enqueue(notification, now);
      for (const reply of extras?.replies ?? []) this.outbox.enqueue(reply, now);
      for (const p of extras?.proposals ?? []) this.statements.insertProposal.run(p.id, p.threadId, p.agent, p.seq, p.kind, JSON.stringify(p.draft), now);
      for (const b of extras?.blobs ?? []) this.statements.insertBlob.run(b.hash, b.bytes, b.data, now);
      const previous = expectedSeq > 0 ? ((this.statements.eventHashAt.get(threadId, expectedSeq) as string | null | undefined) ?? null) : null;
      return this.insertEvents(threadId, expectedSeq, releaseId, now, events, previous, extras?.request);
    });
  }

  /** Inserts the events chained from `previous` (the link of event `afterSeq`; null: a chain starts here). */
  private insertEvents(
    threadId: string, afterSeq: number, releaseId: string, at: string, events: Array<NewEvent | CopiedEvent>, previous: string | null, request?: AppendExtras['request'],
  ): ThreadEvent[] {
    const stored: ThreadEvent[] = [];
    let seq = afterSeq;
    let link = previous;
    events.forEach((e, index) => {
      seq += 1;
      // A copied event (a fork's prefix) keeps the release and time it was first written at; its
      // link covers it as stored here (the fork's id and seq), so a fork starts a chain of its own.
      const own = 'releaseId' in e ? { releaseId: e.releaseId, at: e.at } : { releaseId, at };
      const event = { type: e.type, data: e.data, threadId, seq, ...own } as ThreadEvent;
      const text = JSON.stringify(e.data);
      link = eventHash(link, event, text);
      event.hash = link;
      const requestText = request?.index === index ? request.text : 'request' in e ? (e.request ?? null) : null;
      this.statements.insertEvent.run(threadId, seq, e.type, own.at, own.releaseId, text, link, requestText);
      stored.push(event);
    });
    return stored;
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS twelve_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const applied = new Set((this.db.prepare(`SELECT version FROM twelve_migrations`).pluck().all() as number[]));
    const newest = Math.max(0, ...applied);
    const known = migrations[migrations.length - 1]!.version;
    if (newest > known) {
      throw new TwelveError('store_unavailable', `database ${this.location} has schema version ${newest}, newer than this Twelve knows (${known}); upgrade twelve-agents`);
    }
    const pending = migrations.filter((m) => !applied.has(m.version));
    if (pending.length === 0) return;
    const apply = this.db.transaction(() => {
      for (const migration of pending) {
        // Another process may have migrated while we waited for the write lock.
        if (this.db.prepare(`SELECT 1 FROM twelve_migrations WHERE version = ?`).get(migration.version)) continue;
        this.db.exec(migration.sql);
        this.db.prepare(`INSERT INTO twelve_migrations (version, name, applied_at) VALUES (?, ?, ?)`).run(migration.version, migration.name, new Date().toISOString());
      }
    });
    apply.immediate();
  }

  private guard<T>(operation: () => T): Promise<T> {
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof TwelveError ? error : storeError(error, this.location, this.busyTimeoutMs));
    }
  }

  createThread(thread: NewThread): Promise<ThreadEvent[]> {
    return this.guard(() => {
      try {
        return this.insertThread(thread);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // A child thread's id is derived from its launch key: the same launch may collide on either.
        if ((code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') && thread.launchKey && /launch_key|threads\.id/.test(String(error))) {
          throw new TwelveError('conflict', `launch key "${thread.launchKey}" is already used by another thread`, { details: { launchKey: thread.launchKey } });
        }
        throw error;
      }
    });
  }

  private insertThread(thread: NewThread): ThreadEvent[] {
    return (
      this.db
        .transaction(() => {
          const now = new Date().toISOString();
          this.statements.insertThread.run({
            id: thread.id,
            agent: thread.agent,
            releaseId: thread.releaseId,
            input: JSON.stringify(thread.input ?? null),
            seq: thread.events.length,
            now,
            ...summaryColumns(thread.summary),
            wakeAt: thread.summary.wakeAt ?? null,
            launchKey: thread.launchKey ?? null,
            tenant: thread.tenant ?? null,
            parentId: thread.parentId ?? null,
            readyAt: readyAtOf(thread.summary, Date.now()),
          });
          return this.insertEvents(thread.id, 0, thread.releaseId, now, thread.events, null);
        })
        .immediate()
    );
  }

  append(threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras?: AppendExtras): Promise<ThreadEvent[]> {
    return this.guard(() => this.appendTx.immediate(threadId, expectedSeq, releaseId, events, summary, extras));
  }

  setControl(threadId: string, control: ControlRequest): Promise<void> {
    return this.guard(() => {
      const now = Date.now();
      this.statements.setControl.run(JSON.stringify(control), now, now, threadId);
    });
  }

  wakeThread(threadId: string, at?: number): Promise<void> {
    return this.guard(() => {
      this.statements.wakeThread.run(at ?? Date.now(), threadId);
    });
  }

  listChildren(threadId: string): Promise<ThreadRecord[]> {
    return this.guard(() => (this.statements.children.all(threadId) as ThreadRow[]).map(toThread));
  }

  getControl(threadId: string): Promise<ControlRequest | null> {
    return this.guard(() => {
      const text = this.statements.getControl.get(threadId) as string | null | undefined;
      return text ? (JSON.parse(text) as ControlRequest) : null;
    });
  }

  dailySpend(agent: string, day: string): Promise<number> {
    return this.guard(() => (this.statements.dailySpend.get(agent, day) as number | undefined) ?? 0);
  }

  tenantSpend(tenant: string, day: string): Promise<number> {
    return this.guard(() => (this.statements.tenantSpend.get(tenant, day) as number | undefined) ?? 0);
  }

  costReport(options: CostReportOptions): Promise<CostRow[]> {
    return this.guard(() => sqliteCostReport(this.db, options));
  }

  claimDueReplies(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<ReplyItem[]> {
    return this.guard(() => this.outbox.claimDue<ReplyItem>({ ...options, replies: true }));
  }

  claimDueNotifications(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<OutboxItem[]> {
    return this.guard(() => this.outbox.claimDue(options));
  }

  recordDeliveryAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void> {
    return this.guard(() => this.outbox.recordAttempt(attempt, outcome));
  }

  listDeliveryAttempts(notificationId: string): Promise<DeliveryAttempt[]> {
    return this.guard(() => this.outbox.attempts(notificationId));
  }

  loadEvents(threadId: string, afterSeq = 0): Promise<ThreadEvent[]> {
    return this.guard(() => (this.statements.events.all(threadId, afterSeq) as EventRow[]).map(toEvent));
  }

  scanEvents(options: { after?: { threadId: string; seq: number }; limit: number }): Promise<Array<ThreadEvent & { threadSeq: number; threadCreatedAt: string }>> {
    return this.guard(() => {
      const rows = this.statements.scanEvents.all(options.after?.threadId ?? '', options.after?.seq ?? 0, options.limit) as Array<EventRow & { thread_seq: number; thread_created_at: string }>;
      return rows.map((row) => ({ ...toEvent(row), threadSeq: row.thread_seq, threadCreatedAt: row.thread_created_at }));
    });
  }

  chainStartedAt(): Promise<string | undefined> {
    return this.guard(() => (this.statements.chainStartedAt.get() as string | undefined) ?? undefined);
  }

  loadAuditOrphans(): Promise<{ heads: AuditHead[]; threads: Array<{ id: string; seq: number }> }> {
    return this.guard(() => ({
      heads: (this.statements.orphanHeads.all() as AuditHeadRow[]).map(auditHead),
      threads: this.statements.emptyThreads.all() as Array<{ id: string; seq: number }>,
    }));
  }

  saveAuditHead(head: AuditHead): Promise<void> {
    return this.guard(() => {
      this.statements.saveAuditHead.run(head.id, head.threadId, head.seq, head.hash, head.signature, head.keyId, head.signedAt);
    });
  }

  loadAuditHeads(threadIds: string[]): Promise<AuditHead[]> {
    if (threadIds.length === 0) return Promise.resolve([]);
    return this.guard(() =>
      (this.statements.auditHeads.all(JSON.stringify(threadIds)) as AuditHeadRow[]).map(auditHead),
    );
  }

  getBlob(hash: string): Promise<NewBlob | undefined> {
    return this.guard(() => this.statements.getBlob.get(hash) as NewBlob | undefined);
  }

  getBlobs(hashes: string[]): Promise<NewBlob[]> {
    if (hashes.length === 0) return Promise.resolve([]);
    return this.guard(() => this.statements.getBlobs.all(JSON.stringify(hashes)) as NewBlob[]);
  }

  loadRequests(threadId: string, upToSeq: number, limit?: number): Promise<Array<{ seq: number; text: string }>> {
    return this.guard(() => this.statements.loadRequests.all(threadId, upToSeq, limit ?? -1) as Array<{ seq: number; text: string }>);
  }

  loadEventsOfType(threadIds: string[], type: EventType): Promise<ThreadEvent[]> {
    if (threadIds.length === 0) return Promise.resolve([]);
    return this.guard(() => (this.statements.eventsOfType.all(JSON.stringify(threadIds), type) as EventRow[]).map(toEvent));
  }

  findThreadByLaunchKey(launchKey: string): Promise<ThreadRecord | undefined> {
    return this.guard(() => {
      const row = this.statements.byLaunchKey.get(launchKey) as ThreadRow | undefined;
      return row && toThread(row);
    });
  }

  getThread(threadId: string): Promise<ThreadRecord | undefined> {
    return this.guard(() => {
      const row = this.statements.thread.get(threadId) as ThreadRow | undefined;
      return row && toThread(row);
    });
  }

  listThreads(options: ListThreadsOptions = {}): Promise<ThreadRecord[]> {
    return this.guard(() => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (options.status?.length) {
        where.push(`status IN (${options.status.map(() => '?').join(', ')})`);
        params.push(...options.status);
      }
      if (options.agent) {
        where.push('agent = ?');
        params.push(options.agent);
      }
      if (options.createdAfter) {
        where.push('created_at >= ?');
        params.push(options.createdAfter);
      }
      if (options.createdBefore) {
        where.push('created_at < ?');
        params.push(options.createdBefore);
      }
      if (options.after) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))');
        params.push(options.after.createdAt, options.after.createdAt, options.after.id);
      }
      const sql = `SELECT * FROM threads ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
      params.push(options.limit ?? 50);
      return (this.db.prepare(sql).all(...params) as ThreadRow[]).map(toThread);
    });
  }

  stats(): Promise<StoreStats> {
    return this.guard(() => {
      const rows = this.db
        .prepare(`SELECT status, count(*) AS n, sum(model_steps) AS steps, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost, sum(unpriced_calls) AS unpriced,
         sum(cached_input_tokens) AS cached, sum(cache_write_tokens) AS written FROM threads GROUP BY status`)
        .all() as Array<{ status: ThreadStatus; n: number; steps: number; input: number; output: number; cost: number; unpriced: number; cached: number; written: number }>;
      const stats: StoreStats = { threadsByStatus: {}, modelSteps: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpricedCalls: 0 };
      for (const row of rows) {
        stats.threadsByStatus[row.status] = row.n;
        stats.modelSteps += row.steps;
        stats.inputTokens += row.input;
        stats.outputTokens += row.output;
        stats.costUsd += row.cost;
        stats.unpricedCalls += row.unpriced;
        stats.cachedInputTokens += row.cached;
        stats.cacheWriteTokens += row.written;
      }
      return stats;
    });
  }

  claim(options: ClaimOptions): Promise<ThreadRecord | undefined> {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const now = Date.now();
          const until = now + options.leaseMs;
          const candidates: Array<{ id: string; deadOwner: string | null }> = [];
          // No downgrade: the releases newer than the claimer's own, read in this transaction. Usually
          // none, and then the claim runs unfiltered (a filter by subquery costs ~0.2 ms per claim).
          const mine = options.releases ? Object.values(options.releases) : [];
          const newerIds = mine.length > 0 ? (this.statements.newerReleases.all({ mine: JSON.stringify(mine) }) as string[]) : [];
          const newer = newerIds.length > 0 ? JSON.stringify(newerIds) : null;
          if (options.threadId) {
            const row = this.statements.thread.get(options.threadId) as ThreadRow | undefined;
            // For a named thread too (runThread, a person's action).
            if (row && newerIds.includes(row.release_id)) return undefined;
            if (row) candidates.push({ id: row.id, deadOwner: row.lease_owner && options.isOwnerDead?.(row.lease_owner) ? row.lease_owner : null });
          } else {
            const agents = options.agents ? JSON.stringify(options.agents) : null;
            // Threads interrupted mid-step first (a dead owner's, an expired lease's), then fresh work.
            const holders = (this.statements.leaseHolders.all({ now, agents }) as Array<{ owner: string; expired: number }>).filter((row) => row.owner !== options.owner);
            const dead = holders.filter((row) => options.isOwnerDead?.(row.owner)).map((row) => row.owner);
            if (dead.length > 0 || holders.some((row) => row.expired)) {
              const orphan = this.statements.orphan.get({ now, agents, owner: options.owner, dead: JSON.stringify(dead), newer }) as { id: string; lease_owner: string } | undefined;
              if (orphan) candidates.push({ id: orphan.id, deadOwner: orphan.lease_owner });
            }
            if (candidates.length === 0) {
              const caps = options.agentCaps && Object.keys(options.agentCaps).length > 0 ? JSON.stringify(options.agentCaps) : null;
              const free = this.statements.claimable.pluck().get({ now, agents, caps, newer }) as string | undefined;
              if (free) candidates.push({ id: free, deadOwner: null });
            }
          }
          for (const candidate of candidates) {
            const row = this.statements.takeLease.get({ id: candidate.id, owner: options.owner, until, now, deadOwner: candidate.deadOwner }) as ThreadRow | undefined;
            if (row && (!options.agents || options.agents.includes(row.agent))) return toThread(row);
            if (row) this.statements.release.run(row.id, options.owner);
          }
          return undefined;
        })
        .immediate(),
    );
  }

  renewLease(threadId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.guard(() => this.statements.renew.run({ id: threadId, owner, until: Date.now() + leaseMs }).changes > 0);
  }

  releaseLease(threadId: string, owner: string): Promise<void> {
    return this.guard(() => {
      this.statements.release.run(threadId, owner);
    });
  }

  saveRelease(release: Omit<StoredRelease, 'createdAt' | 'ordinal'>): Promise<void> {
    return this.guard(() => {
      this.statements.saveRelease.run(release.id, release.agent, JSON.stringify(release.manifest), new Date().toISOString());
    });
  }

  async promoteRelease(id: string): Promise<StoredRelease | undefined> {
    await this.guard(() => this.statements.promoteRelease.run(id));
    return this.getRelease(id);
  }

  getRelease(id: string): Promise<StoredRelease | undefined> {
    return this.guard(() => {
      const row = this.statements.getRelease.get(id) as { id: string; agent: string; manifest: string; created_at: string; ordinal: number } | undefined;
      return row && { id: row.id, agent: row.agent, manifest: JSON.parse(row.manifest), createdAt: row.created_at, ordinal: row.ordinal };
    });
  }

  threadsOfOtherAgents(agents: string[]): Promise<Array<{ agent: string; threads: number }>> {
    return this.guard(
      () =>
        this.db
          .prepare(
            `SELECT agent, count(*) AS threads FROM threads
              WHERE ready_at IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled') AND agent NOT IN (SELECT value FROM json_each(?))
              GROUP BY agent ORDER BY agent`,
          )
          .all(JSON.stringify(agents)) as Array<{ agent: string; threads: number }>,
    );
  }

  threadsOnNewerReleases(releaseIds: string[]): Promise<NewerReleaseThreads[]> {
    return this.guard(() => {
      if (releaseIds.length === 0) return [];
      return this.statements.threadsOnNewer.all({ mine: JSON.stringify(releaseIds) }) as NewerReleaseThreads[];
    });
  }

  saveEvalRun(run: EvalRunRecord): Promise<void> {
    return this.guard(() => {
      this.statements.saveEvalRun.run(run.id, run.suite, run.agent, run.releaseId, run.model, run.baselineReleaseId, run.createdAt, JSON.stringify(run.summary), JSON.stringify(run.results));
    });
  }

  listEvalRuns(options: ListEvalRunsOptions = {}): Promise<EvalRunRecord[]> {
    return this.guard(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM eval_runs WHERE (@agent IS NULL OR agent = @agent) AND (@suite IS NULL OR suite = @suite) AND (@release IS NULL OR release_id = @release)
           ORDER BY created_at DESC, id DESC LIMIT @limit`,
        )
        .all({ agent: options.agent ?? null, suite: options.suite ?? null, release: options.releaseId ?? null, limit: options.limit ?? 100 }) as EvalRunRow[];
      return rows.map(toEvalRun);
    });
  }

  getEvalRun(id: string): Promise<EvalRunRecord | undefined> {
    return this.guard(() => {
      const row = this.statements.getEvalRun.get(id) as EvalRunRow | undefined;
      return row && toEvalRun(row);
    });
  }

  listProposals(options: ListProposalsOptions = {}): Promise<ProposalRecord[]> {
    return this.guard(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM eval_proposals WHERE (@status IS NULL OR status = @status) AND (@agent IS NULL OR agent = @agent) AND (@thread IS NULL OR thread_id = @thread)
           ORDER BY created_at DESC, id DESC LIMIT @limit`,
        )
        .all({ status: options.status ?? null, agent: options.agent ?? null, thread: options.threadId ?? null, limit: options.limit ?? 100 }) as ProposalRow[];
      return rows.map(toProposal);
    });
  }

  getProposal(id: string): Promise<ProposalRecord | undefined> {
    return this.guard(() => {
      const row = this.statements.getProposal.get(id) as ProposalRow | undefined;
      return row && toProposal(row);
    });
  }

  decideProposal(id: string, decision: { status: 'accepted' | 'dismissed'; by: string; suite?: string }): Promise<ProposalRecord | undefined> {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const changed = this.statements.decideProposal.run(decision.status, decision.by, new Date().toISOString(), decision.suite ?? null, id).changes;
          const row = this.statements.getProposal.get(id) as ProposalRow | undefined;
          if (!row) return undefined;
          if (changed === 0) throw proposalDecided(toProposal(row));
          return toProposal(row);
        })
        .immediate(),
    );
  }

  confidenceHistogram(bounds: number[]): Promise<ConfidenceHistogram[]> {
    return this.guard(() => {
      const rows = this.db
        .prepare(`SELECT agent, confidence FROM threads WHERE status = 'completed' AND confidence IS NOT NULL ORDER BY agent`)
        .all() as { agent: string; confidence: number }[];
      return histogram(rows, bounds);
    });
  }

  listReleases(options: ListReleasesOptions = {}): Promise<ReleaseSummary[]> {
    return this.guard(() => {
      const rows = this.statements.listReleases.all({ agent: options.agent ?? null, limit: options.limit ?? 100 }) as { id: string; agent: string; created_at: string; ordinal: number }[];
      return rows.map((row) => {
        const threadsByStatus: ReleaseSummary['threadsByStatus'] = {};
        for (const count of this.statements.releaseThreadCounts.all(row.id) as { status: ThreadStatus; n: number }[]) threadsByStatus[count.status] = count.n;
        return { id: row.id, agent: row.agent, createdAt: row.created_at, ordinal: row.ordinal, threadsByStatus };
      });
    });
  }

  listPrunable(options: ListPrunableOptions): Promise<PrunableThread[]> {
    return this.guard(() => this.prune.listPrunable(options));
  }

  loadArchiveEvents(threadIds: string[]): Promise<ArchivedEvent[]> {
    return this.guard(() => this.prune.loadArchiveEvents(threadIds));
  }

  pruneThreads(threadIds: string[], seqs?: Record<string, number>): Promise<PruneCounts> {
    return this.guard(() => this.prune.pruneThreads(threadIds, seqs));
  }

  async sweepBlobs(options: SweepBlobsOptions): Promise<BlobSweep> {
    const candidates = await this.guard(() => this.prune.unreferencedBlobs());
    const batch = options.batch ?? 500;
    const swept: BlobSweep = { blobs: 0, bytes: 0 };
    for (let i = 0; i < candidates.length; i += batch) {
      const deleted = await this.guard(() => this.prune.deleteBlobs(candidates.slice(i, i + batch), options.before));
      swept.blobs += deleted.blobs;
      swept.bytes += deleted.bytes;
      // Between batches the write lock is free: this process's own appends go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return swept;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** When a thread with this summary has work for a worker (see migration 2), or null. */
function readyAtOf(summary: ThreadSummary, now: number): number | null {
  switch (summary.status) {
    case 'runnable':
      return now;
    case 'awaiting_approval':
    case 'awaiting_human':
    case 'awaiting_review':
    case 'awaiting_child':
    case 'sleeping':
      return summary.wakeAt ?? null;
    default:
      return null;
  }
}

function summaryColumns(summary: ThreadSummary) {
  return {
    status: summary.status,
    output: summary.output === undefined ? null : JSON.stringify(summary.output),
    error: summary.error ? JSON.stringify(summary.error) : null,
    waitingReason: summary.waitingReason ?? null,
    modelSteps: summary.modelSteps,
    inputTokens: summary.inputTokens,
    outputTokens: summary.outputTokens,
    costUsd: summary.costUsd,
    unpricedCalls: summary.unpricedCalls ?? 0,
    cachedInputTokens: summary.cachedInputTokens ?? 0,
    cacheWriteTokens: summary.cacheWriteTokens ?? 0,
  };
}

function toEvent(row: EventRow): ThreadEvent {
  return { threadId: row.thread_id, seq: row.seq, type: row.type, at: row.at, releaseId: row.release_id, data: JSON.parse(row.data), hash: row.hash } as ThreadEvent;
}


function toThread(row: ThreadRow): ThreadRecord {
  return {
    id: row.id,
    agent: row.agent,
    status: row.status as ThreadStatus,
    seq: row.seq,
    releaseId: row.release_id,
    input: JSON.parse(row.input),
    output: row.output === null ? null : JSON.parse(row.output),
    error: row.error === null ? null : (JSON.parse(row.error) as CompactError),
    waitingReason: row.waiting_reason,
    modelSteps: row.model_steps,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedInputTokens: row.cached_input_tokens ?? 0,
    cacheWriteTokens: row.cache_write_tokens ?? 0,
    costUsd: row.unpriced_calls > 0 ? null : row.cost_usd,
    pricedCostUsd: row.cost_usd,
    unpricedCalls: row.unpriced_calls,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    launchKey: row.launch_key,
    wakeAt: row.wake_at,
    control: row.control === null ? null : (JSON.parse(row.control) as ControlRequest),
    confidence: row.confidence ?? null,
    tenant: row.tenant ?? null,
    parentThreadId: row.parent_id ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Turns SQLite's error codes into sentences a user can act on. */
function storeError(error: unknown, path: string, busyTimeoutMs = 5_000): TwelveError {
  if (error instanceof TwelveError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  let text: string;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    text = `database ${path} is locked by another process (waited ${busyTimeoutMs} ms); stop the other writer or retry`;
  } else if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    text = `${path} is not a usable SQLite database (${message}); it may be corrupt or another kind of file. Move it aside or point TWELVE_DATABASE_URL elsewhere`;
  } else if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    text = `cannot open database ${path} for writing (${message}); check the path and its permissions`;
  } else if (code === 'SQLITE_FULL') {
    text = `disk full while writing ${path}`;
  } else {
    return new TwelveError('internal', `database ${path}: ${message}`, { cause: error, exitCode: 1 });
  }
  return new TwelveError('store_unavailable', text, { cause: error, details: { sqliteCode: code, path } });
}

function auditHead(r: AuditHeadRow): AuditHead {
  return { id: r.id, threadId: r.thread_id, seq: r.seq, hash: r.hash, signature: r.signature, keyId: r.key_id, signedAt: r.signed_at };
}
