/**
 * Numbered, append-only migrations. Never edit a released one: add the next number.
 * The events table refuses UPDATE and DELETE, so the log is append-only even against
 * a stray hand-written query.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'threads, events, releases',
    sql: `
      CREATE TABLE threads (
        id             TEXT PRIMARY KEY,
        agent          TEXT NOT NULL,
        status         TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        release_id     TEXT NOT NULL,
        input          TEXT NOT NULL,
        output         TEXT,
        error          TEXT,
        waiting_reason TEXT,
        model_steps    INTEGER NOT NULL DEFAULT 0,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0,
        cost_usd       REAL NOT NULL DEFAULT 0,
        lease_owner    TEXT,
        lease_until    INTEGER,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      );
      CREATE INDEX threads_by_status ON threads (status, updated_at);
      CREATE INDEX threads_by_agent ON threads (agent, created_at);

      CREATE TABLE events (
        thread_id  TEXT NOT NULL REFERENCES threads (id),
        seq        INTEGER NOT NULL,
        type       TEXT NOT NULL,
        at         TEXT NOT NULL,
        release_id TEXT NOT NULL,
        data       TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      ) WITHOUT ROWID;
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

      CREATE TABLE releases (
        id         TEXT PRIMARY KEY,
        agent      TEXT NOT NULL,
        manifest   TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'human in the loop: wake-ups, control requests, daily spend, notification outbox',
    sql: `
      -- When a waiting thread must be looked at again (approval or question deadline, sleep end), epoch ms.
      ALTER TABLE threads ADD COLUMN wake_at INTEGER;
      -- A pause or cancel asked for while a worker may hold the thread: {kind, by, reason} JSON.
      ALTER TABLE threads ADD COLUMN control TEXT;
      -- When the thread has work for a worker (epoch ms): now for runnable threads and pending
      -- control requests, the wake-up time for waiting ones, NULL otherwise. One indexed range
      -- scan finds claimable work however many finished threads the table holds.
      ALTER TABLE threads ADD COLUMN ready_at INTEGER;
      UPDATE threads SET ready_at = CAST(strftime('%s', updated_at) AS INTEGER) * 1000 WHERE status = 'runnable';
      -- Version 1 had an 'escalated' status; escalations now wait as awaiting_human.
      UPDATE threads SET status = 'awaiting_human', waiting_reason = 'escalated: ' || coalesce(waiting_reason, 'waiting for a person')
        WHERE status = 'escalated';
      CREATE INDEX threads_ready ON threads (ready_at) WHERE ready_at IS NOT NULL;

      -- Per-agent spend per UTC day, updated in the same transaction as each model call's event.
      CREATE TABLE daily_spend (
        agent    TEXT NOT NULL,
        day      TEXT NOT NULL,
        cost_usd REAL NOT NULL,
        PRIMARY KEY (agent, day)
      ) WITHOUT ROWID;

      -- Durable outbox: written with the event that starts a human wait, delivered by the notifier.
      CREATE TABLE notifications (
        id              TEXT PRIMARY KEY,
        thread_id       TEXT NOT NULL,
        payload         TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        delivered_at    TEXT
      );
      CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL;
      CREATE TABLE notification_attempts (
        notification_id TEXT NOT NULL,
        attempt         INTEGER NOT NULL,
        url             TEXT NOT NULL,
        at              TEXT NOT NULL,
        ok              INTEGER NOT NULL,
        status          INTEGER,
        error           TEXT,
        duration_ms     REAL NOT NULL,
        PRIMARY KEY (notification_id, attempt)
      );
    `,
  },
  {
    version: 3,
    name: 'launch idempotency keys',
    sql: `
      ALTER TABLE threads ADD COLUMN launch_key TEXT;
      CREATE UNIQUE INDEX threads_by_launch_key ON threads (launch_key) WHERE launch_key IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'unpriced model calls',
    sql: `
      -- Model calls with no known price: while above 0, cost_usd is what the priced calls cost,
      -- not the thread's spend, which is unknown. Counted from the log for existing threads.
      ALTER TABLE threads ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0;
      UPDATE threads SET unpriced_calls = (
        SELECT count(*) FROM events e WHERE e.thread_id = threads.id AND e.type = 'model_called' AND json_extract(e.data, '$.costUsd') IS NULL
      ) WHERE model_steps > 0;
    `,
  },
  {
    version: 5,
    name: 'dead-worker takeover: leased threads by owner',
    // Every claim first looks for threads whose worker died mid-step (their lease is held by a
    // pid that is gone, or expired): this index keeps that look to the leased rows, however
    // long the backlog of runnable threads is. (PostgreSQL's version 5 also adds twelve_workers.)
    sql: `
      CREATE INDEX threads_by_lease_owner ON threads (lease_owner) WHERE lease_owner IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'releases in creation order',
    // Releases of one agent are ordered by when the store first saw them: a worker never steps a
    // thread last written by a newer release than its own (a rolling deploy's old workers leave
    // such threads to the new ones). The ordinal is global, so it orders each agent's releases too.
    sql: `
      ALTER TABLE releases ADD COLUMN ordinal INTEGER;
      UPDATE releases SET ordinal = (
        SELECT count(*) FROM releases AS earlier
        WHERE earlier.created_at < releases.created_at OR (earlier.created_at = releases.created_at AND earlier.id <= releases.id)
      );
      CREATE UNIQUE INDEX releases_by_ordinal ON releases (ordinal);
      CREATE INDEX releases_by_agent ON releases (agent, ordinal);
      CREATE INDEX threads_by_release ON threads (release_id);
    `,
  },
  {
    version: 7,
    name: 'quality loop: eval runs, case proposals, output confidence',
    // eval_runs: each `twelve eval` run of one suite on one release (results as JSON: they are read
    // whole, never queried by field). eval_proposals: a person's correction (a rejection with a
    // comment, guidance after an escalation, an edited output) proposed as an eval case; written in
    // the same transaction as the event it comes from. threads.confidence: the completed output's
    // confidence, for /metrics' per-agent histogram.
    sql: `
      CREATE TABLE eval_runs (
        id TEXT PRIMARY KEY,
        suite TEXT NOT NULL,
        agent TEXT NOT NULL,
        release_id TEXT NOT NULL,
        model TEXT,
        baseline_release_id TEXT,
        created_at TEXT NOT NULL,
        summary TEXT NOT NULL,
        results TEXT NOT NULL
      );
      CREATE INDEX eval_runs_by_suite ON eval_runs (suite, created_at);
      CREATE INDEX eval_runs_by_agent ON eval_runs (agent, created_at);
      CREATE TABLE eval_proposals (
        id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        draft TEXT NOT NULL,
        created_at TEXT NOT NULL,
        decided_by TEXT,
        decided_at TEXT,
        suite TEXT,
        UNIQUE (thread_id, seq)
      );
      CREATE INDEX eval_proposals_by_status ON eval_proposals (status, created_at);
      CREATE INDEX eval_proposals_by_thread ON eval_proposals (thread_id);
      ALTER TABLE threads ADD COLUMN confidence REAL;
    `,
  },
  {
    version: 8,
    name: 'audit and retention: hash chain, blobs, tenants, signed heads, prune grants',
    // events.hash: each event's link in its thread's hash chain (src/audit/chain.ts), written with
    // the event; NULL for events written before the chain existed. blobs: large payloads (a model
    // call's exact request, big tool results) stored once by content hash. threads.tenant and
    // tenant_spend: spend attributed to a customer (a launch metadata key). audit_heads: chain
    // heads signed with the operator's key. prune_grants: the one way to delete events: twelve
    // prune names the (finished, archived) threads it deletes, in the same transaction.
    sql: `
      ALTER TABLE events ADD COLUMN hash TEXT;
      CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        bytes INTEGER NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      ALTER TABLE threads ADD COLUMN tenant TEXT;
      CREATE INDEX threads_by_tenant ON threads (tenant, created_at);
      CREATE TABLE tenant_spend (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        cost_usd REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, day)
      );
      CREATE TABLE audit_heads (
        id TEXT PRIMARY KEY,
        thread_id TEXT,
        seq INTEGER,
        hash TEXT NOT NULL,
        signature TEXT NOT NULL,
        key_id TEXT NOT NULL,
        signed_at TEXT NOT NULL
      );
      CREATE INDEX audit_heads_by_thread ON audit_heads (thread_id, seq);
      CREATE TABLE prune_grants (thread_id TEXT PRIMARY KEY);
      DROP TRIGGER events_no_delete;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        WHEN NOT EXISTS (SELECT 1 FROM prune_grants WHERE thread_id = OLD.thread_id)
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `,
  },
  {
    version: 9,
    name: 'the request a model step sent, kept with its event',
    // events.request: the exact request of a model_called/model_failed event (model/request-record.ts,
    // format twelve.request/3), in the event's own row: a step writes it where it writes the event, not
    // as a random-key blob row (a third of an append's cost, bench/tracing.mjs), and it goes with its
    // thread when twelve prune deletes it. NULL for other events and for requests kept as blobs before.
    sql: `
      ALTER TABLE events ADD COLUMN request TEXT;
    `,
  },
  {
    version: 10,
    name: 'child threads: threads.parent_id',
    // The thread whose agentTool call launched this one (the log has it too, in thread_started.parent):
    // a column so that a thread's children are one index read (the API, the CLI, cancel cascades).
    sql: `
      ALTER TABLE threads ADD COLUMN parent_id TEXT;
      CREATE INDEX threads_by_parent ON threads (parent_id, created_at) WHERE parent_id IS NOT NULL;
    `,
  },
  {
    version: 11,
    name: 'append-only signed heads, cost rollup of pruned threads, notifications by thread',
    // audit_heads: append-only like events; twelve prune deletes a pruned thread's heads (archived
    // with its events) under the same prune_grants row. cost_rollup: the model calls of pruned
    // threads, folded by day, agent, model and tenant ('' for none) in prune's delete transaction,
    // so cost reports and /metrics keep their spend (store/*/cost-report.ts adds it to the events').
    // notifications_by_thread: prune deletes a batch's notifications by thread without a table scan.
    sql: `
      CREATE TRIGGER audit_heads_no_update BEFORE UPDATE ON audit_heads BEGIN SELECT RAISE(ABORT, 'audit heads are append-only'); END;
      CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
        WHEN NOT EXISTS (SELECT 1 FROM prune_grants WHERE thread_id = OLD.thread_id)
        BEGIN SELECT RAISE(ABORT, 'audit heads are append-only'); END;
      CREATE INDEX notifications_by_thread ON notifications (thread_id);
      CREATE TABLE cost_rollup (
        day TEXT NOT NULL,
        agent TEXT NOT NULL,
        model TEXT NOT NULL,
        tenant TEXT NOT NULL,
        cost_usd REAL NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        calls INTEGER NOT NULL DEFAULT 0,
        unpriced_calls INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, agent, model, tenant)
      );
    `,
  },
  {
    version: 12,
    name: 'prompt cache tokens per thread and in the cost rollup',
    // Of a thread's input tokens, those the providers read from their prompt cache and wrote to it
    // (model_called usage.cachedInputTokens / cacheWriteTokens). Earlier events recorded none: 0 is right.
    sql: `
      ALTER TABLE threads ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE threads ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE cost_rollup ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE cost_rollup ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
    `,
  },
];
