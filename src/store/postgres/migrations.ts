/**
 * Numbered, append-only migrations for PostgreSQL. Never edit a released one: add the next
 * number. Versions match the SQLite migrations one for one (same tables and columns), so
 * "schema version 3" means the same thing on both stores; the one exception is version 4's
 * twelve_workers (worker liveness), which only a database shared by many hosts needs.
 *
 * PostgreSQL types where they help a person querying the audit trail: event data, thread
 * input/output/error and notification payloads are JSON (`data ->> 'tool'` works); times
 * written by Twelve are timestamptz; lease and wake-up times stay epoch-ms bigint, the
 * application clock's unit (the store never reads the server's clock, so SQLite and
 * PostgreSQL behave alike under the same tests).
 *
 * `json`, not `jsonb`: json keeps the exact text the application wrote. jsonb re-sorts object
 * keys and refuses U+0000, and the runtime depends on getting back what it stored: it
 * compares a relaunch's input with the stored one under an idempotency key, and renders
 * stored inputs and tool results into prompts (a re-ordered object is a different prompt,
 * so a recording made on SQLite would not replay on PostgreSQL). Every json operator
 * (`->`, `->>`, `#>>`, json_each ...) works on it; `data::jsonb` gives jsonb's in ad-hoc
 * queries, and an expression index can serve a hot query.
 *
 * Migrations run at open, in one transaction under a fixed advisory lock, so a fleet of
 * processes starting together migrates exactly once.
 */
import type pg from 'pg';
import { TwelveError } from '../../errors.js';
import { loadPg, parsePostgresUrl, postgresError } from './connection.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const postgresMigrations: Migration[] = [
  {
    version: 1,
    name: 'threads, events, releases',
    sql: `
      CREATE TABLE threads (
        id             text PRIMARY KEY,
        agent          text NOT NULL,
        status         text NOT NULL,
        seq            integer NOT NULL,
        release_id     text NOT NULL,
        input          json NOT NULL,
        output         json,
        error          json,
        waiting_reason text,
        model_steps    integer NOT NULL DEFAULT 0,
        input_tokens   bigint NOT NULL DEFAULT 0,
        output_tokens  bigint NOT NULL DEFAULT 0,
        cost_usd       double precision NOT NULL DEFAULT 0,
        lease_owner    text,
        lease_until    bigint,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      );
      CREATE INDEX threads_by_status ON threads (status, updated_at);
      CREATE INDEX threads_by_agent ON threads (agent, created_at);

      CREATE TABLE events (
        thread_id  text NOT NULL REFERENCES threads (id),
        seq        integer NOT NULL,
        type       text NOT NULL,
        at         timestamptz NOT NULL,
        release_id text NOT NULL,
        data       json NOT NULL,
        PRIMARY KEY (thread_id, seq)
      );
      -- The log is append-only even against a stray hand-written query.
      CREATE FUNCTION twelve_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
      END
      $$;
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION twelve_events_append_only();
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION twelve_events_append_only();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION twelve_events_append_only();

      CREATE TABLE releases (
        id         text PRIMARY KEY,
        agent      text NOT NULL,
        manifest   json NOT NULL,
        created_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'human in the loop: wake-ups, control requests, daily spend, notification outbox',
    // No backfill, unlike SQLite's version 2: no PostgreSQL database predates it.
    sql: `
      -- When a waiting thread must be looked at again (approval or question deadline, sleep end), epoch ms.
      ALTER TABLE threads ADD COLUMN wake_at bigint;
      -- A pause or cancel asked for while a worker may hold the thread: {kind, by, reason}.
      ALTER TABLE threads ADD COLUMN control json;
      -- When the thread has work for a worker (epoch ms): now for runnable threads and pending
      -- control requests, the wake-up time for waiting ones, NULL otherwise. One index range
      -- scan finds claimable work however many finished threads the table holds.
      ALTER TABLE threads ADD COLUMN ready_at bigint;
      CREATE INDEX threads_ready ON threads (ready_at) WHERE ready_at IS NOT NULL;

      -- Per-agent spend per UTC day, updated in the same transaction as each model call's event.
      CREATE TABLE daily_spend (
        agent    text NOT NULL,
        day      text NOT NULL,
        cost_usd double precision NOT NULL,
        PRIMARY KEY (agent, day)
      );

      -- Durable outbox: written with the event that starts a human wait, delivered by the notifier.
      CREATE TABLE notifications (
        id              text PRIMARY KEY,
        thread_id       text NOT NULL,
        payload         json NOT NULL,
        created_at      timestamptz NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        delivered_at    timestamptz
      );
      CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL;
      CREATE TABLE notification_attempts (
        notification_id text NOT NULL,
        attempt         integer NOT NULL,
        url             text NOT NULL,
        at              timestamptz NOT NULL,
        ok              boolean NOT NULL,
        status          integer,
        error           text,
        duration_ms     double precision NOT NULL,
        PRIMARY KEY (notification_id, attempt)
      );
    `,
  },
  {
    version: 3,
    name: 'launch idempotency keys',
    sql: `
      ALTER TABLE threads ADD COLUMN launch_key text;
      CREATE UNIQUE INDEX threads_by_launch_key ON threads (launch_key) WHERE launch_key IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'unpriced model calls',
    sql: `
      -- Model calls with no known price: while above 0, cost_usd is what the priced calls cost,
      -- not the thread's spend, which is unknown. Counted from the log for existing threads.
      ALTER TABLE threads ADD COLUMN unpriced_calls integer NOT NULL DEFAULT 0;
      UPDATE threads t SET unpriced_calls = u.n
      FROM (SELECT thread_id, count(*)::integer AS n FROM events WHERE type = 'model_called' AND data ->> 'costUsd' IS NULL GROUP BY thread_id) u
      WHERE u.thread_id = t.id;
    `,
  },
  {
    version: 5,
    name: 'dead-worker takeover: leased threads by owner, worker liveness',
    // See liveness.ts: each process holds a session advisory lock (twelve's class, lock_key)
    // for its life; a lease owner whose lock is gone, registered since the server last
    // started, is dead, and its threads are taken over before fresh work.
    sql: `
      CREATE INDEX threads_by_lease_owner ON threads (lease_owner) WHERE lease_owner IS NOT NULL;
      CREATE TABLE twelve_workers (
        owner          text PRIMARY KEY,
        lock_key       integer NOT NULL,
        server_started timestamptz NOT NULL,
        registered_at  timestamptz NOT NULL
      );
      CREATE INDEX twelve_workers_by_lock ON twelve_workers (lock_key);
    `,
  },
  {
    version: 6,
    name: 'releases in creation order',
    // See SQLite's version 6. A sequence, not max()+1: concurrent first saves of two releases
    // must not collide (ON CONFLICT DO NOTHING still takes a number; gaps are harmless).
    sql: `
      CREATE SEQUENCE releases_ordinal;
      ALTER TABLE releases ADD COLUMN ordinal bigint;
      UPDATE releases SET ordinal = ranked.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM releases) AS ranked WHERE ranked.id = releases.id;
      SELECT setval('releases_ordinal', coalesce((SELECT max(ordinal) FROM releases), 0) + 1, false);
      ALTER TABLE releases ALTER COLUMN ordinal SET DEFAULT nextval('releases_ordinal'), ALTER COLUMN ordinal SET NOT NULL;
      CREATE UNIQUE INDEX releases_by_ordinal ON releases (ordinal);
      CREATE INDEX releases_by_agent ON releases (agent, ordinal);
      CREATE INDEX threads_by_release ON threads (release_id);
    `,
  },
  {
    version: 7,
    name: 'quality loop: eval runs, case proposals, output confidence',
    // See SQLite's version 7.
    sql: `
      CREATE TABLE eval_runs (
        id text PRIMARY KEY,
        suite text NOT NULL,
        agent text NOT NULL,
        release_id text NOT NULL,
        model text,
        baseline_release_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        summary jsonb NOT NULL,
        results jsonb NOT NULL
      );
      CREATE INDEX eval_runs_by_suite ON eval_runs (suite, created_at);
      CREATE INDEX eval_runs_by_agent ON eval_runs (agent, created_at);
      CREATE TABLE eval_proposals (
        id text PRIMARY KEY,
        thread_id text NOT NULL,
        agent text NOT NULL,
        seq integer NOT NULL,
        kind text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        draft jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        decided_by text,
        decided_at timestamptz,
        suite text,
        UNIQUE (thread_id, seq)
      );
      CREATE INDEX eval_proposals_by_status ON eval_proposals (status, created_at);
      CREATE INDEX eval_proposals_by_thread ON eval_proposals (thread_id);
      ALTER TABLE threads ADD COLUMN confidence double precision;
    `,
  },
  {
    version: 8,
    name: 'audit and retention: hash chain, blobs, tenants, signed heads, prune grants',
    // See SQLite's version 8. The delete guard lets through only the events of threads twelve prune
    // named in prune_grants (in its own transaction); UPDATE and TRUNCATE stay refused.
    sql: `
      ALTER TABLE events ADD COLUMN hash text;
      CREATE TABLE blobs (
        hash text PRIMARY KEY,
        bytes integer NOT NULL,
        data text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE threads ADD COLUMN tenant text;
      CREATE INDEX threads_by_tenant ON threads (tenant, created_at);
      CREATE TABLE tenant_spend (
        tenant text NOT NULL,
        day text NOT NULL,
        cost_usd double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, day)
      );
      CREATE TABLE audit_heads (
        id text PRIMARY KEY,
        thread_id text,
        seq integer,
        hash text NOT NULL,
        signature text NOT NULL,
        key_id text NOT NULL,
        signed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX audit_heads_by_thread ON audit_heads (thread_id, seq);
      CREATE TABLE prune_grants (thread_id text PRIMARY KEY);
      CREATE FUNCTION twelve_events_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM prune_grants WHERE thread_id = OLD.thread_id) THEN RETURN OLD; END IF;
        RAISE EXCEPTION 'events are append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
      END
      $$;
      DROP TRIGGER events_no_delete ON events;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION twelve_events_delete_guard();
    `,
  },
  {
    version: 9,
    name: 'the request a model step sent, kept with its event',
    // See SQLite's version 9.
    sql: `
      ALTER TABLE events ADD COLUMN request text;
    `,
  },
  {
    version: 10,
    name: 'child threads: threads.parent_id',
    // See SQLite's version 10.
    sql: `
      ALTER TABLE threads ADD COLUMN parent_id text;
      CREATE INDEX threads_by_parent ON threads (parent_id, created_at) WHERE parent_id IS NOT NULL;
    `,
  },
  {
    version: 11,
    name: 'append-only signed heads, cost rollup of pruned threads, notifications by thread',
    // See SQLite's version 11.
    sql: `
      CREATE FUNCTION twelve_audit_heads_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM prune_grants WHERE thread_id = OLD.thread_id) THEN RETURN OLD; END IF;
        RAISE EXCEPTION 'audit heads are append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
      END
      $$;
      CREATE TRIGGER audit_heads_no_change BEFORE UPDATE OR DELETE ON audit_heads FOR EACH ROW EXECUTE FUNCTION twelve_audit_heads_guard();
      CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads FOR EACH STATEMENT EXECUTE FUNCTION twelve_audit_heads_guard();
      CREATE INDEX notifications_by_thread ON notifications (thread_id);
      CREATE TABLE cost_rollup (
        day text NOT NULL,
        agent text NOT NULL,
        model text NOT NULL,
        tenant text NOT NULL,
        cost_usd double precision NOT NULL DEFAULT 0,
        input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        calls bigint NOT NULL DEFAULT 0,
        unpriced_calls bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (day, agent, model, tenant)
      );
    `,
  },
  {
    version: 12,
    name: 'prompt cache tokens per thread and in the cost rollup',
    // See SQLite's version 12.
    sql: `
      ALTER TABLE threads ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
      ALTER TABLE threads ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
      ALTER TABLE cost_rollup ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
      ALTER TABLE cost_rollup ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
    `,
  },
];

/** Any fixed number works; every Twelve process must use the same one. */
const migrationLockKey = 7_311_200_012;

export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was up to date). */
  applied: number[];
  /** The schema version the database is at now. */
  version: number;
}

/**
 * Brings Twelve's tables in `schema` up to date on this connection. The fast path (already
 * current) takes no lock; otherwise it waits for the advisory lock and re-reads, so of ten
 * processes starting together exactly one applies each migration.
 */
export async function migrateSchema(client: pg.ClientBase, options: { schema: string; where: string; mustExist?: boolean }): Promise<MigrationResult> {
  const known = postgresMigrations[postgresMigrations.length - 1]!.version;
  const table = `${quoteIdentifier(options.schema)}.twelve_migrations`;
  const current = async (): Promise<number | undefined> => {
    const exists = await client.query<{ found: string | null }>(`SELECT to_regclass($1) AS found`, [table]);
    if (!exists.rows[0]?.found) return undefined;
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${table}`);
    return rows[0]?.version ?? 0;
  };
  const refuseNewer = (version: number) => {
    if (version > known) {
      throw new TwelveError('store_unavailable', `database ${options.where} has schema version ${version}, newer than this Twelve knows (${known}); upgrade twelve-agents`, {
        details: { version, known },
      });
    }
  };

  const before = await current();
  if (before === undefined && options.mustExist) {
    throw new TwelveError('store_unavailable', `no Twelve tables in ${options.where} (schema ${options.schema}): nothing has run here yet, or TWELVE_DATABASE_URL points elsewhere`);
  }
  if (before !== undefined) {
    refuseNewer(before);
    if (before === known) return { applied: [], version: known };
  }

  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock($1)`, [migrationLockKey]);
    if (options.schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdentifier(options.schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS twelve_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Re-read under the lock: another process may have migrated while we waited.
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM twelve_migrations`);
    const done = new Set(rows.map((row) => row.version));
    refuseNewer(Math.max(0, ...done));
    const applied: number[] = [];
    for (const migration of postgresMigrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO twelve_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return { applied, version: known };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Applies pending migrations to the database at `url` and disconnects: what
 * `twelve migrate` runs before a deploy. Stores also migrate at open, so this is optional.
 *
 * @example
 *   const { applied, version } = await migratePostgres(process.env.TWELVE_DATABASE_URL!);
 */
export async function migratePostgres(url: string): Promise<MigrationResult & { location: string }> {
  const target = parsePostgresUrl(url);
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: target.connectionString, connectionTimeoutMillis: 10_000, application_name: 'twelve migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await migrateSchema(client, { schema: target.schema, where: target.where });
    return { ...result, location: target.location };
  } catch (error) {
    throw postgresError(error, target.where);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
