/**
 * The PostgreSQL store: many worker processes on many hosts sharing one database.
 * Same contract and conformance suite as SQLite; what differs is how it gets there:
 * claims pop the queue with `FOR UPDATE SKIP LOCKED`, per-agent caps are serialised with
 * an advisory lock, and idle workers are woken by LISTEN/NOTIFY instead of waiting to poll.
 *
 * The constructor is synchronous and loads nothing: `pg` is imported, the pool created
 * and the schema migrated on first use (behind one promise, retried after a failure), so
 * `openStore()` stays synchronous and processes on SQLite never load `pg`.
 *
 * @example
 *   import { PostgresStore } from 'twelve-agents/postgres';
 *   const store = new PostgresStore({ url: 'postgres://twelve:secret@db:5432/twelve' });
 *   const runtime = createRuntime({ agents, store });
 */
import { SeqConflictError, TwelveError } from '../../errors.js';
import type { EventType, NewEvent, ThreadEvent } from '../../thread/events.js';
import type { NewBlob } from '../../blobs/blob.js';
import type { DeliveryAttempt, OutboxItem, ReplyItem } from '../../notify/types.js';
import type { ThreadStatus } from '../../thread/state.js';
import type { AppendExtras, ClaimOptions, ConfidenceHistogram, ControlRequest, ListEvalRunsOptions, ListProposalsOptions, ListReleasesOptions, ListThreadsOptions, NewerReleaseThreads, NewThread, ReleaseSummary, Store, StoredRelease, StoreStats, ThreadRecord, ThreadSummary } from '../types.js';
import type { EvalRunRecord, ProposalRecord } from '../../eval/types.js';
import { histogram, proposalDecided, toEvalRun, toProposal, type EvalRunRow, type ProposalRow } from '../quality.js';
import { loadPg, parsePostgresUrl } from './connection.js';
import { PostgresOutbox } from './outbox.js';
import { PostgresPrune } from './prune.js';
import type { ArchivedEvent, ListPrunableOptions, PrunableThread, PruneCounts, BlobSweep, SweepBlobsOptions } from '../types.js';
import { PostgresPool } from './pool.js';
import { copiedColumns, eventColumns, jsonText, readyAtOf, stored, summaryColumns, toEvent, toThread, type EventRow, type ThreadRow } from './rows.js';
import * as sql from './queries.js';
import { linkEvents } from '../../audit/chain.js';
import type { AuditHead } from '../../audit/types.js';
import { ChainTips } from './chain-tips.js';
import { WorkListener } from './work-listener.js';
import { Liveness } from './liveness.js';
import { costRow, postgresCostReport } from './cost-report.js';
import type { CostReportOptions, CostRow } from '../../costs/types.js';


/** Streamed model tokens between processes (stream/delta-relay.ts). */
const deltaChannel = 'twelve_deltas';
export { migratePostgres, type MigrationResult } from './migrations.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`, optionally `?schema=name` (default public). */
  url: string;
  /** Refuse to create Twelve's tables (read-only commands against an empty database). */
  mustExist?: boolean;
  /** Most connections this process opens (default 10), plus one per work subscription. */
  poolSize?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly pool: PostgresPool;
  private readonly outbox: PostgresOutbox;
  private readonly prune: PostgresPrune;
  private readonly listeners = new Set<WorkListener>();
  private readonly liveness: Liveness;
  /** The last chain link this process read or wrote per thread: what the next append chains from. */
  private readonly tips = new ChainTips();

  constructor(options: PostgresStoreOptions) {
    const target = parsePostgresUrl(options.url);
    this.location = target.location;
    this.pool = new PostgresPool(target, { poolSize: options.poolSize ?? 10, connectTimeoutMs: options.connectTimeoutMs ?? 10_000, mustExist: options.mustExist ?? false });
    this.outbox = new PostgresOutbox((text, values) => this.pool.run(text, values, { idempotent: false }));
    this.prune = new PostgresPrune(this.pool);
    this.liveness = new Liveness({
      createClient: async () => new (await loadPg()).Client({ ...this.pool.clientConfig(), application_name: 'twelve liveness' }),
      migrated: () => this.pool.whenReady(),
      where: target.where,
    });
  }

  async createThread(thread: NewThread): Promise<ThreadEvent[]> {
    const now = new Date().toISOString();
    const nowMs = Date.now();
    const c = summaryColumns(thread.summary);
    const events = eventColumns(thread.events, 0);
    const copied = copiedColumns(thread.events);
    const written = linkEvents(null, stored(thread.id, 0, thread.releaseId, now, thread.events), events.data);
    try {
      await this.pool.run(
        sql.createThreadSql,
        [
          thread.id, thread.agent, c.status, thread.events.length, thread.releaseId, jsonText(thread.input ?? null), c.output, c.error, c.waitingReason,
          c.modelSteps, c.inputTokens, c.outputTokens, c.costUsd, now, thread.summary.wakeAt ?? null, readyAtOf(thread.summary, nowMs), thread.launchKey ?? null,
          events.seqs, events.types, events.data, nowMs, c.unpricedCalls, copied.releaseIds, copied.ats,
          thread.tenant ?? null,
          written.map((e) => e.hash),
          thread.events.map((e) => ('request' in e ? (e.request ?? null) : null)),
          thread.parentId ?? null,
          c.cachedInputTokens,
          c.cacheWriteTokens,
        ],
        { idempotent: false },
      );
    } catch (error) {
      const cause = (error as TwelveError).cause as { code?: string; constraint?: string } | undefined;
      // A child thread's id is derived from its launch key: the same launch may collide on either.
      if (cause?.code === '23505' && (cause.constraint === 'threads_by_launch_key' || cause.constraint === 'threads_pkey') && thread.launchKey) {
        throw new TwelveError('conflict', `launch key "${thread.launchKey}" is already used by another thread`, { details: { launchKey: thread.launchKey } });
      }
      throw error;
    }
    this.tips.remember(written);
    return written;
  }

  async append(threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras?: AppendExtras): Promise<ThreadEvent[]> {
    // The previous link: known (this process loaded or wrote the thread's tail) or read first. A wrong
    // guess costs a refusal and one retry (below), never a broken chain.
    const previous = this.tips.at(threadId, expectedSeq) ?? (await this.readLink(threadId, expectedSeq));
    const written = await this.appendChained(threadId, expectedSeq, releaseId, events, summary, extras, previous);
    if (written !== 'wrong_previous') return written;
    const actual = await this.readLink(threadId, expectedSeq);
    const retried = await this.appendChained(threadId, expectedSeq, releaseId, events, summary, extras, actual);
    if (retried === 'wrong_previous') throw new SeqConflictError(threadId, expectedSeq, expectedSeq);
    return retried;
  }

  /** The hash of event `seq` (null: none, or written before the chain). */
  private async readLink(threadId: string, seq: number): Promise<string | null> {
    if (seq === 0) return null;
    const { rows } = await this.pool.run<{ hash: string | null }>(`SELECT hash FROM events WHERE thread_id = $1 AND seq = $2`, [threadId, seq], { idempotent: true });
    return rows[0]?.hash ?? null;
  }

  private async appendChained(
    threadId: string, expectedSeq: number, releaseId: string, events: NewEvent[], summary: ThreadSummary, extras: AppendExtras | undefined, previous: string | null,
  ): Promise<ThreadEvent[] | 'wrong_previous'> {
    const now = new Date().toISOString();
    const nowMs = Date.now();
    const c = summaryColumns(summary);
    const columns = eventColumns(events, expectedSeq);
    const spend = extras?.spend && extras.spend.costUsd > 0 ? extras.spend : undefined;
    // Replies go to the same outbox table (ids 'reply:...'), written by the same statement.
    const outboxRows = [...(extras?.notifications ?? []), ...(extras?.replies ?? [])];
    const notifications = outboxRows.length ? jsonText(outboxRows) : null;
    const written = linkEvents(previous, stored(threadId, expectedSeq, releaseId, now, events), columns.data);
    const { rowCount } = await this.pool.run(
      sql.appendSql,
      [
        threadId, expectedSeq, expectedSeq + events.length, releaseId, c.status, c.output, c.error, c.waitingReason, c.modelSteps, c.inputTokens, c.outputTokens,
        c.costUsd, now, summary.wakeAt ?? null, summary.clearControl === true, readyAtOf(summary, nowMs), nowMs, columns.seqs, columns.types, columns.data,
        spend?.agent ?? null, spend?.day ?? null, spend?.costUsd ?? 0, notifications, c.unpricedCalls, summary.confidence ?? null,
        extras?.proposals?.length ? jsonText(extras.proposals) : null, previous, written.map((e) => e.hash), spend?.tenant ?? null,
        extras?.blobs?.length ? jsonText(extras.blobs) : null,
        events.map((_, index) => (extras?.request?.index === index ? extras.request.text : null)),
        c.cachedInputTokens,
        c.cacheWriteTokens,
      ],
      { idempotent: false },
    );
    if (rowCount === 0) {
      const { rows } = await this.pool.run<{ seq: number }>(`SELECT seq FROM threads WHERE id = $1`, [threadId], { idempotent: true });
      if (!rows[0]) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
      this.tips.forget(threadId);
      if (rows[0].seq === expectedSeq) return 'wrong_previous';
      throw new SeqConflictError(threadId, expectedSeq, rows[0].seq);
    }
    this.tips.remember(written);
    return written;
  }

  async loadEvents(threadId: string, afterSeq = 0): Promise<ThreadEvent[]> {
    const { rows } = await this.pool.run<EventRow>(
      `SELECT thread_id, seq, type, at, release_id, data, hash FROM events WHERE thread_id = $1 AND seq > $2 ORDER BY seq`,
      [threadId, afterSeq],
      { idempotent: true },
    );
    const events = rows.map(toEvent);
    this.tips.remember(events);
    return events;
  }

  async scanEvents(options: { after?: { threadId: string; seq: number }; limit: number }): Promise<Array<ThreadEvent & { threadSeq: number; threadCreatedAt: string }>> {
    // Keyset over the events' primary key (thread_id, seq): each page is one index range scan.
    // `at` at full precision: timestamptz keeps microseconds, the chain hashes the millisecond ISO text, so
    // a time moved by less than a millisecond is read back with its extra digits (and no longer matches its link).
    const { rows } = await this.pool.run<EventRow & { thread_seq: number; thread_created_at: Date; sub_ms: number }>(
      `SELECT e.thread_id, e.seq, e.type, e.at, e.release_id, e.data, e.hash, t.seq AS thread_seq, t.created_at AS thread_created_at,
         (extract(microseconds FROM e.at)::bigint % 1000)::int AS sub_ms FROM events e JOIN threads t ON t.id = e.thread_id
       WHERE (e.thread_id, e.seq) > ($1::text, $2::integer) ORDER BY e.thread_id, e.seq LIMIT $3`,
      [options.after?.threadId ?? '', options.after?.seq ?? 0, options.limit],
      { idempotent: true },
    );
    return rows.map((row) => {
      const event = toEvent(row);
      if (row.sub_ms !== 0) event.at = event.at.replace(/Z$/, `${String(row.sub_ms).padStart(3, '0')}Z`);
      return { ...event, threadSeq: row.thread_seq, threadCreatedAt: row.thread_created_at.toISOString() };
    });
  }

  async chainStartedAt(): Promise<string | undefined> {
    const { rows } = await this.pool.run<{ applied_at: Date }>(`SELECT applied_at FROM twelve_migrations WHERE version = 8`, [], { idempotent: true });
    return rows[0]?.applied_at.toISOString();
  }

  async loadAuditOrphans(): Promise<{ heads: AuditHead[]; threads: Array<{ id: string; seq: number }> }> {
    const heads = await this.pool.run<AuditHeadRow>(
      `SELECT * FROM audit_heads h WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.thread_id = h.thread_id) ORDER BY thread_id, seq, signed_at`,
      [],
      { idempotent: true },
    );
    const threads = await this.pool.run<{ id: string; seq: number }>(
      `SELECT id, seq FROM threads t WHERE seq > 0 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.thread_id = t.id) ORDER BY id`,
      [],
      { idempotent: true },
    );
    return { heads: heads.rows.map(auditHead), threads: threads.rows };
  }

  async saveAuditHead(head: AuditHead): Promise<void> {
    await this.pool.run(
      `INSERT INTO audit_heads (id, thread_id, seq, hash, signature, key_id, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)`,
      [head.id, head.threadId, head.seq, head.hash, head.signature, head.keyId, head.signedAt],
      { idempotent: false },
    );
  }

  async loadAuditHeads(threadIds: string[]): Promise<AuditHead[]> {
    if (threadIds.length === 0) return [];
    const { rows } = await this.pool.run<AuditHeadRow>(`SELECT * FROM audit_heads WHERE thread_id = ANY ($1::text[]) ORDER BY thread_id, seq, signed_at`, [threadIds], { idempotent: true });
    return rows.map(auditHead);
  }

  async getBlob(hash: string): Promise<NewBlob | undefined> {
    const { rows } = await this.pool.run<NewBlob>(`SELECT hash, bytes, data FROM blobs WHERE hash = $1`, [hash], { idempotent: true });
    return rows[0];
  }

  async getBlobs(hashes: string[]): Promise<NewBlob[]> {
    if (hashes.length === 0) return [];
    const { rows } = await this.pool.run<NewBlob>(`SELECT hash, bytes, data FROM blobs WHERE hash = ANY ($1::text[])`, [hashes], { idempotent: true });
    return rows;
  }

  async loadRequests(threadId: string, upToSeq: number, limit?: number): Promise<Array<{ seq: number; text: string }>> {
    const { rows } = await this.pool.run<{ seq: number; text: string }>(
      `SELECT seq, request AS text FROM events WHERE thread_id = $1 AND seq <= $2 AND request IS NOT NULL ORDER BY seq DESC LIMIT $3`,
      [threadId, upToSeq, limit ?? null],
      { idempotent: true },
    );
    return rows;
  }

  async loadEventsOfType(threadIds: string[], type: EventType): Promise<ThreadEvent[]> {
    if (threadIds.length === 0) return [];
    const { rows } = await this.pool.run<EventRow>(
      `SELECT thread_id, seq, type, at, release_id, data, hash FROM events WHERE thread_id = ANY ($1::text[]) AND type = $2 ORDER BY thread_id, seq`,
      [threadIds, type],
      { idempotent: true },
    );
    return rows.map(toEvent);
  }

  async getThread(threadId: string): Promise<ThreadRecord | undefined> {
    const { rows } = await this.pool.run<ThreadRow>(`SELECT * FROM threads WHERE id = $1`, [threadId], { idempotent: true });
    return rows[0] && toThread(rows[0]);
  }

  async findThreadByLaunchKey(launchKey: string): Promise<ThreadRecord | undefined> {
    const { rows } = await this.pool.run<ThreadRow>(`SELECT * FROM threads WHERE launch_key = $1`, [launchKey], { idempotent: true });
    return rows[0] && toThread(rows[0]);
  }

  async listThreads(options: ListThreadsOptions = {}): Promise<ThreadRecord[]> {
    const { rows } = await this.pool.run<ThreadRow>(
      `SELECT * FROM threads WHERE ($1::text[] IS NULL OR status = ANY ($1::text[])) AND ($2::text IS NULL OR agent = $2::text)
         AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
         AND ($6::timestamptz IS NULL OR created_at < $6 OR (created_at = $6 AND id < $7::text))
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [
        options.status?.length ? options.status : null,
        options.agent || null,
        options.limit ?? 50,
        options.createdAfter ?? null,
        options.createdBefore ?? null,
        options.after?.createdAt ?? null,
        options.after?.id ?? null,
      ],
      { idempotent: true },
    );
    return rows.map(toThread);
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.run<{ status: ThreadStatus; n: string; steps: string; input: string; output: string; cost: string; unpriced: string; cached: string; written: string }>(
      `SELECT status, count(*) AS n, sum(model_steps) AS steps, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cost_usd) AS cost, sum(unpriced_calls) AS unpriced,
         sum(cached_input_tokens) AS cached, sum(cache_write_tokens) AS written FROM threads GROUP BY status`,
      [],
      { idempotent: true },
    );
    const stats: StoreStats = { threadsByStatus: {}, modelSteps: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpricedCalls: 0 };
    for (const row of rows) {
      stats.threadsByStatus[row.status] = Number(row.n);
      stats.modelSteps += Number(row.steps);
      stats.inputTokens += Number(row.input);
      stats.outputTokens += Number(row.output);
      stats.costUsd += Number(row.cost);
      stats.unpricedCalls += Number(row.unpriced);
      stats.cachedInputTokens += Number(row.cached);
      stats.cacheWriteTokens += Number(row.written);
    }
    return stats;
  }

  /**
   * Threads interrupted mid-step come first: a dead owner's (by its liveness lock on any
   * host, or `isOwnerDead` on this one) or an expired lease's, then fresh work in queue order.
   */
  async claim(options: ClaimOptions): Promise<ThreadRecord | undefined> {
    const claimed = await this.claimWork(options);
    // The owner's liveness registration (liveness.ts: a connection of its own) starts after its
    // first claim, so a new worker's first step waits for nothing more; until it is done the
    // owner is unknown, never taken for dead. A failed registration fails the next claim.
    const failure = this.liveness.ensureRegistered(options.owner);
    if (failure) {
      if (claimed) await this.releaseLease(claimed.id, options.owner).catch(() => undefined);
      throw failure;
    }
    return claimed;
  }

  private async claimWork(options: ClaimOptions): Promise<ThreadRecord | undefined> {
    const now = Date.now();
    const until = now + options.leaseMs;
    if (options.threadId) {
      const { rows } = await this.pool.run<{ owner: string | null; dead: boolean | null }>(sql.leaseHolderSql, [options.threadId], { idempotent: true });
      if (!rows[0]) return undefined;
      const owner = rows[0].owner;
      const deadOwner = owner && (rows[0].dead || options.isOwnerDead?.(owner)) ? owner : null;
      return this.takeLease(options.threadId, options, until, now, deadOwner);
    }
    const agents = options.agents ?? null;
    const orphan = await this.claimOrphan(options, agents, now, until);
    if (orphan) return orphan;
    const caps = Object.entries(options.agentCaps ?? {});
    return caps.length > 0 ? await this.claimCapped(options, new Map(caps), now, until) : await this.claimNext(options, agents, [], now, until);
  }

  /** The takeover half of claim(): one light read of the lease holders, and a take only when one is dead or expired. */
  private async claimOrphan(options: ClaimOptions, agents: string[] | null, now: number, until: number): Promise<ThreadRecord | undefined> {
    const { rows } = await this.pool.run<{ owner: string; expired: boolean; dead: boolean | null }>(sql.leaseHoldersSql, [now, agents], { idempotent: true });
    const others = rows.filter((row) => row.owner !== options.owner);
    const dead = others.filter((row) => row.dead || options.isOwnerDead?.(row.owner)).map((row) => row.owner);
    if (dead.length === 0 && !others.some((row) => row.expired)) return undefined;
    const { rows: taken } = await this.pool.run<ThreadRow>(sql.takeOrphanSql, [now, agents, options.owner, until, dead, mineOf(options)], { idempotent: false });
    return taken[0] && toThread(taken[0]);
  }

  private async claimNext(options: ClaimOptions, agents: string[] | null, skip: string[], now: number, until: number): Promise<ThreadRecord | undefined> {
    const { rows } = await this.pool.run<ThreadRow>(sql.claimNextSql, [now, agents, skip, options.owner, until, mineOf(options)], { idempotent: false });
    return rows[0] && toThread(rows[0]);
  }

  /**
   * With per-agent caps: lock the head of the queue, then (for a capped agent) take that
   * agent's advisory lock and count its live leases. At the cap, roll back and look again
   * without that agent. One transaction per attempt, so a transaction never holds more than
   * one cap lock and claimers cannot deadlock on them.
   */
  private async claimCapped(options: ClaimOptions, caps: Map<string, number>, now: number, until: number): Promise<ThreadRecord | undefined> {
    const agents = options.agents ?? null;
    const skip: string[] = [];
    for (let attempt = 0; attempt <= caps.size; attempt++) {
      const outcome = await this.pool.transaction(async (client) => {
        const { rows } = await client.query<{ id: string; agent: string }>(sql.lockNextSql, [now, agents, skip, mineOf(options)]);
        const candidate = rows[0];
        if (!candidate) return { done: true as const, thread: undefined };
        const cap = caps.get(candidate.agent);
        if (cap !== undefined) {
          await client.query(sql.lockAgentCapSql, [candidate.agent]);
          const { rows: counted } = await client.query<{ leases: number }>(sql.liveLeasesSql, [candidate.agent, now]);
          if ((counted[0]?.leases ?? 0) >= cap) return { done: false as const, skip: candidate.agent };
        }
        const { rows: taken } = await client.query<ThreadRow>(sql.takeLeaseSql, [candidate.id, options.owner, until, now, null, null]);
        return { done: true as const, thread: taken[0] && toThread(taken[0]) };
      });
      if (outcome.done) return outcome.thread;
      skip.push(outcome.skip);
    }
    return undefined;
  }

  private async takeLease(id: string, options: ClaimOptions, until: number, now: number, deadOwner: string | null): Promise<ThreadRecord | undefined> {
    const { rows } = await this.pool.run<ThreadRow>(sql.takeLeaseSql, [id, options.owner, until, now, deadOwner, mineOf(options)], { idempotent: false });
    const row = rows[0];
    if (!row) return undefined;
    if (options.agents && !options.agents.includes(row.agent)) {
      await this.releaseLease(row.id, options.owner);
      return undefined;
    }
    return toThread(row);
  }

  async renewLease(threadId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.run(sql.renewLeaseSql, [threadId, owner, Date.now() + leaseMs], { idempotent: true });
    return (rowCount ?? 0) > 0;
  }

  async releaseLease(threadId: string, owner: string): Promise<void> {
    await this.pool.run(sql.releaseLeaseSql, [threadId, owner, Date.now()], { idempotent: true });
  }

  async setControl(threadId: string, control: ControlRequest): Promise<void> {
    await this.pool.run(sql.setControlSql, [jsonText(control), Date.now(), threadId], { idempotent: true });
  }

  async wakeThread(threadId: string, at?: number): Promise<void> {
    const now = Date.now();
    await this.pool.run(sql.wakeThreadSql, [threadId, at ?? now, now], { idempotent: true });
  }

  async listChildren(threadId: string): Promise<ThreadRecord[]> {
    const { rows } = await this.pool.run<ThreadRow>(`SELECT * FROM threads WHERE parent_id = $1 ORDER BY created_at, id`, [threadId], { idempotent: true });
    return rows.map(toThread);
  }

  async getControl(threadId: string): Promise<ControlRequest | null> {
    const { rows } = await this.pool.run<{ control: ControlRequest | null }>(`SELECT control FROM threads WHERE id = $1`, [threadId], { idempotent: true });
    return rows[0]?.control ?? null;
  }

  async tenantSpend(tenant: string, day: string): Promise<number> {
    const { rows } = await this.pool.run<{ cost_usd: number }>(`SELECT cost_usd FROM tenant_spend WHERE tenant = $1 AND day = $2`, [tenant, day], { idempotent: true });
    return rows[0]?.cost_usd ?? 0;
  }

  async costReport(options: CostReportOptions): Promise<CostRow[]> {
    const query = postgresCostReport(options);
    const { rows } = await this.pool.run<CostRow>(query.text, query.values, { idempotent: true });
    return rows.map(costRow);
  }

  async dailySpend(agent: string, day: string): Promise<number> {
    const { rows } = await this.pool.run<{ cost_usd: number }>(`SELECT cost_usd FROM daily_spend WHERE agent = $1 AND day = $2`, [agent, day], { idempotent: true });
    return rows[0]?.cost_usd ?? 0;
  }

  claimDueReplies(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<ReplyItem[]> {
    return this.outbox.claimDue<ReplyItem>({ ...options, replies: true });
  }

  claimDueNotifications(options: { limit: number; leaseMs: number; maxAttempts: number }): Promise<OutboxItem[]> {
    return this.outbox.claimDue(options);
  }

  recordDeliveryAttempt(attempt: DeliveryAttempt, outcome: { delivered: boolean; retryAt: number | null }): Promise<void> {
    return this.outbox.recordAttempt(attempt, outcome);
  }

  listDeliveryAttempts(notificationId: string): Promise<DeliveryAttempt[]> {
    return this.outbox.attempts(notificationId);
  }

  async saveRelease(release: Omit<StoredRelease, 'createdAt' | 'ordinal'>): Promise<void> {
    await this.pool.run(
      `INSERT INTO releases (id, agent, manifest, created_at) VALUES ($1, $2, $3::json, $4) ON CONFLICT (id) DO NOTHING`,
      [release.id, release.agent, jsonText(release.manifest), new Date().toISOString()],
      { idempotent: true },
    );
  }

  async promoteRelease(id: string): Promise<StoredRelease | undefined> {
    // Already the newest: keep its number (promoting twice is one promotion).
    await this.pool.run(
      `UPDATE releases SET ordinal = nextval('releases_ordinal') WHERE id = $1 AND ordinal < (SELECT max(ordinal) FROM releases)`,
      [id],
      { idempotent: true },
    );
    return this.getRelease(id);
  }

  async getRelease(id: string): Promise<StoredRelease | undefined> {
    const { rows } = await this.pool.run<{ id: string; agent: string; manifest: Record<string, unknown>; created_at: Date; ordinal: string }>(
      `SELECT id, agent, manifest, created_at, ordinal FROM releases WHERE id = $1`,
      [id],
      { idempotent: true },
    );
    const row = rows[0];
    return row && { id: row.id, agent: row.agent, manifest: row.manifest, createdAt: row.created_at.toISOString(), ordinal: Number(row.ordinal) };
  }

  async saveEvalRun(run: EvalRunRecord): Promise<void> {
    await this.pool.run(
      `INSERT INTO eval_runs (id, suite, agent, release_id, model, baseline_release_id, created_at, summary, results) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)`,
      [run.id, run.suite, run.agent, run.releaseId, run.model, run.baselineReleaseId, run.createdAt, jsonText(run.summary), jsonText(run.results)],
      { idempotent: false },
    );
  }

  async listEvalRuns(options: ListEvalRunsOptions = {}): Promise<EvalRunRecord[]> {
    const { rows } = await this.pool.run<EvalRunRow>(
      `SELECT * FROM eval_runs WHERE ($1::text IS NULL OR agent = $1) AND ($2::text IS NULL OR suite = $2) AND ($3::text IS NULL OR release_id = $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [options.agent ?? null, options.suite ?? null, options.releaseId ?? null, options.limit ?? 100],
      { idempotent: true },
    );
    return rows.map(toEvalRun);
  }

  async getEvalRun(id: string): Promise<EvalRunRecord | undefined> {
    const { rows } = await this.pool.run<EvalRunRow>(`SELECT * FROM eval_runs WHERE id = $1`, [id], { idempotent: true });
    return rows[0] && toEvalRun(rows[0]);
  }

  async listProposals(options: ListProposalsOptions = {}): Promise<ProposalRecord[]> {
    const { rows } = await this.pool.run<ProposalRow>(
      `SELECT * FROM eval_proposals WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR agent = $2) AND ($3::text IS NULL OR thread_id = $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [options.status ?? null, options.agent ?? null, options.threadId ?? null, options.limit ?? 100],
      { idempotent: true },
    );
    return rows.map(toProposal);
  }

  async getProposal(id: string): Promise<ProposalRecord | undefined> {
    const { rows } = await this.pool.run<ProposalRow>(`SELECT * FROM eval_proposals WHERE id = $1`, [id], { idempotent: true });
    return rows[0] && toProposal(rows[0]);
  }

  async decideProposal(id: string, decision: { status: 'accepted' | 'dismissed'; by: string; suite?: string }): Promise<ProposalRecord | undefined> {
    // One statement: only a pending proposal changes, so of two racing deciders exactly one wins.
    const { rows } = await this.pool.run<ProposalRow>(
      `UPDATE eval_proposals SET status = $2, decided_by = $3, decided_at = now(), suite = $4 WHERE id = $1 AND status = 'pending' RETURNING *`,
      [id, decision.status, decision.by, decision.suite ?? null],
      { idempotent: false },
    );
    if (rows[0]) return toProposal(rows[0]);
    const existing = await this.getProposal(id);
    if (!existing) return undefined;
    throw proposalDecided(existing);
  }

  async confidenceHistogram(bounds: number[]): Promise<ConfidenceHistogram[]> {
    const { rows } = await this.pool.run<{ agent: string; confidence: number }>(
      `SELECT agent, confidence FROM threads WHERE status = 'completed' AND confidence IS NOT NULL ORDER BY agent`,
      [],
      { idempotent: true },
    );
    return histogram(rows, bounds);
  }

  async threadsOfOtherAgents(agents: string[]): Promise<Array<{ agent: string; threads: number }>> {
    const { rows } = await this.pool.run<{ agent: string; threads: number }>(sql.threadsOfOtherAgentsSql, [agents], { idempotent: true });
    return rows;
  }

  async threadsOnNewerReleases(releaseIds: string[]): Promise<NewerReleaseThreads[]> {
    if (releaseIds.length === 0) return [];
    const { rows } = await this.pool.run<NewerReleaseThreads>(sql.threadsOnNewerReleasesSql, [releaseIds], { idempotent: true });
    return rows;
  }

  async listReleases(options: ListReleasesOptions = {}): Promise<ReleaseSummary[]> {
    const { rows } = await this.pool.run<{ id: string; agent: string; created_at: Date; ordinal: string; counts: Record<string, number> | null }>(
      `SELECT r.id, r.agent, r.created_at, r.ordinal,
              (SELECT json_object_agg(c.status, c.n) FROM (SELECT status, count(*)::int AS n FROM threads WHERE release_id = r.id GROUP BY status) AS c) AS counts
         FROM releases AS r
        WHERE ($1::text IS NULL OR r.agent = $1)
        ORDER BY r.ordinal DESC
        LIMIT $2`,
      [options.agent ?? null, options.limit ?? 100],
      { idempotent: true },
    );
    return rows.map((row) => ({ id: row.id, agent: row.agent, createdAt: row.created_at.toISOString(), ordinal: Number(row.ordinal), threadsByStatus: row.counts ?? {} }));
  }

  /**
   * LISTEN on a dedicated connection; `listener` runs on every NOTIFY twelve_work (a launch,
   * a decision, a control request, a released runnable thread, from any process). Resolves
   * once the first connection attempt is over: if the server is down it keeps retrying.
   */
  async subscribeWork(listener: () => void): Promise<() => Promise<void>> {
    if (this.pool.isClosed) throw new TwelveError('store_unavailable', `the store for ${this.location} is closed`);
    const pg = await loadPg();
    const subscription = new WorkListener({
      createClient: () => new pg.Client(this.pool.clientConfig()),
      listener,
    });
    this.listeners.add(subscription);
    await subscription.start();
    return async () => {
      this.listeners.delete(subscription);
      await subscription.stop();
    };
  }

  /** NOTIFY twelve_deltas, one per payload, in order (stream/delta-relay.ts keeps each under 8000 bytes). */
  async publishDeltas(payloads: string[]): Promise<void> {
    if (payloads.length === 0) return;
    await this.pool.run(`SELECT pg_notify('${deltaChannel}', p) FROM unnest($1::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i`, [payloads], { idempotent: false });
  }

  /** LISTEN twelve_deltas on a dedicated connection; `listener` gets each payload. Resolves once listening (or after a failed first attempt: it keeps retrying). */
  async subscribeDeltas(listener: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.pool.isClosed) throw new TwelveError('store_unavailable', `the store for ${this.location} is closed`);
    const pg = await loadPg();
    const subscription = new WorkListener({
      createClient: () => new pg.Client(this.pool.clientConfig()),
      channel: deltaChannel,
      listener: (payload) => {
        if (payload !== undefined) listener(payload);
      },
    });
    this.listeners.add(subscription);
    await subscription.start();
    return async () => {
      this.listeners.delete(subscription);
      await subscription.stop();
    };
  }

  listPrunable(options: ListPrunableOptions): Promise<PrunableThread[]> {
    return this.prune.listPrunable(options);
  }

  loadArchiveEvents(threadIds: string[]): Promise<ArchivedEvent[]> {
    return this.prune.loadArchiveEvents(threadIds);
  }

  pruneThreads(threadIds: string[], seqs?: Record<string, number>): Promise<PruneCounts> {
    return this.prune.pruneThreads(threadIds, seqs);
  }

  sweepBlobs(options: SweepBlobsOptions): Promise<BlobSweep> {
    return this.prune.sweepBlobs(options);
  }

  async close(): Promise<void> {
    if (this.pool.isClosed) return;
    const listeners = [...this.listeners];
    this.listeners.clear();
    await this.liveness.close();
    await Promise.all([this.pool.close(), ...listeners.map((listener) => listener.stop())]);
  }
}

/** The release ids a claimer runs (no downgrade), or null for no check. */
function mineOf(options: ClaimOptions): string[] | null {
  const ids = options.releases ? Object.values(options.releases) : [];
  return ids.length > 0 ? ids : null;
}

type AuditHeadRow = { id: string; thread_id: string; seq: number; hash: string; signature: string; key_id: string; signed_at: Date };

function auditHead(r: AuditHeadRow): AuditHead {
  return { id: r.id, threadId: r.thread_id, seq: r.seq, hash: r.hash, signature: r.signature, keyId: r.key_id, signedAt: r.signed_at.toISOString() };
}
