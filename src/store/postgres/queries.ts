/**
 * The PostgreSQL store's statements. Each write is ONE statement (data-modifying CTEs), so
 * it is its own transaction and costs one round trip: the expected-seq check, the events,
 * the spend, the outbox rows and the NOTIFY commit together or not at all.
 *
 * NOTIFY twelve_work is sent (at commit) only when the write leaves the thread claimable
 * by someone else: work is due (`ready_at <= now`) and no live lease holds it. A worker's
 * own appends to the thread it is driving notify nobody (it keeps stepping it), and
 * releasing a still-runnable thread does notify, so idle workers wake exactly when there
 * is something for them to take.
 *
 * Every parameter is cast: parameters in coalesce/least/CASE would otherwise default to text.
 */

import { deadOwnersSql } from './liveness.js';

const finished = `('completed', 'failed', 'cancelled')`;

/**
 * The releases newer than the ones a worker runs (`p`: their ids as text[]): the same agent's
 * releases with a higher ordinal (releases_by_agent). Uncorrelated, so the planner runs it once
 * per statement as a hashed subplan and each candidate thread costs one hash probe.
 */
export const newerReleasesSql = (p: string) =>
  `SELECT r.id FROM releases mine JOIN releases r ON r.agent = mine.agent AND r.ordinal > mine.ordinal WHERE mine.id = ANY (${p}::text[])`;

/**
 * No downgrade: the thread's latest event was not written by a newer release of its agent than
 * the worker's own (`p`; NULL: no check). Threads of releases the table does not know pass.
 */
const notNewer = (p: string) => `(${p}::text[] IS NULL OR release_id NOT IN (${newerReleasesSql(p)}))`;

/** Claimable now, for a worker notified about it. `r` is the written row (agent, ready_at, lease_until). */
const notifyIfClaimable = (now: string) =>
  `CASE WHEN r.ready_at <= ${now} AND (r.lease_until IS NULL OR r.lease_until < ${now}) THEN pg_notify('twelve_work', r.agent) END`;

/**
 * $1 id, $2 agent, $3 status, $4 seq, $5 release, $6 input, $7 output, $8 error, $9 waiting
 * reason, $10-$13 steps/tokens/cost, $14 now (ISO), $15 wake_at, $16 ready_at, $17 launch key,
 * $18-$20 event seqs/types/data (JSON text), $21 now (ms), $22 unpriced calls, $23-$24 each event's own
 * release id and time (ISO) or NULL for $5 and $14 (a fork's copies keep their origin's),
 * $25 tenant (NULL: none), $26 each event's chain link (computed in JS: audit/chain.ts, from null),
 * $27 each event's request (a fork's copies of model steps keep theirs; NULL for the others).
 * $28 parent thread (NULL: none), $29-$30 cached-read / cache-write input tokens.
 * The events' foreign key is checked at the end of the statement, after the thread row exists.
 */
export const createThreadSql = `
  WITH r AS (
    INSERT INTO threads (id, agent, status, seq, release_id, input, output, error, waiting_reason, model_steps, input_tokens, output_tokens,
                         cost_usd, created_at, updated_at, wake_at, ready_at, launch_key, unpriced_calls, tenant, parent_id, cached_input_tokens, cache_write_tokens)
    VALUES ($1::text, $2::text, $3::text, $4::integer, $5::text, $6::json, $7::json, $8::json, $9::text, $10::integer, $11::bigint, $12::bigint,
            $13::float8, $14::timestamptz, $14::timestamptz, $15::bigint, $16::bigint, $17::text, $22::integer, $25::text, $28::text, $29::bigint, $30::bigint)
    RETURNING id, agent, ready_at, lease_until
  ), logged AS (
    INSERT INTO events (thread_id, seq, type, at, release_id, data, hash, request)
    SELECT r.id, e.seq, e.type, coalesce(e.at::timestamptz, $14::timestamptz), coalesce(e.release_id, $5::text), e.data::json, e.hash, e.request
    FROM r, unnest($18::integer[], $19::text[], $20::text[], $23::text[], $24::text[], $26::text[], $27::text[]) AS e (seq, type, data, release_id, at, hash, request)
  )
  SELECT ${notifyIfClaimable('$21::bigint')} AS notified FROM r`;

/**
 * The expected-seq check is the UPDATE's `seq = $2`: zero rows means someone appended first
 * (under READ COMMITTED the loser waits for the winner's row lock, then re-checks and misses).
 * The events, spend and outbox rows hang off its RETURNING, so a lost race writes nothing.
 * ready_at: see readyAtOf; a pending control request keeps the thread due until applied.
 *
 * $1 id, $2 expected seq, $3 new seq, $4 release, $5 status, $6 output, $7 error, $8 waiting
 * reason, $9-$12 steps/tokens/cost, $13 now (ISO), $14 wake_at, $15 clear control, $16 ready_at,
 * $17 now (ms), $18-$20 event seqs/types/data, $21-$23 spend agent/day/cost, $24 notifications (JSON array),
 * $25 unpriced calls, $26 confidence, $27 proposals (JSON array of NewProposal), $28 the previous link
 * the hashes were chained from (the hash of event $2; NULL: none), $29 each event's link, $30 the spend's tenant (NULL: none), $31 blobs (JSON array of {hash, bytes, data}),
 * $32 each event's request (model/request-record.ts; NULL but for the model step's event),
 * $33-$34 cached-read / cache-write input tokens.
 *
 * The chain: JS hashes the events from the previous link it knows (PostgresStore keeps the last one
 * it read or wrote per thread), and the statement refuses (zero rows, like a lost race) unless the
 * stored event $2 has exactly that hash: a stale or wrong previous link can never write a broken
 * chain. It is one primary-key probe inside the same statement, no extra round trip.
 */
export const appendSql = `
  WITH r AS (
    UPDATE threads SET seq = $3::integer, release_id = $4::text, status = $5::text, output = $6::json, error = $7::json,
      waiting_reason = $8::text, model_steps = $9::integer, input_tokens = $10::bigint, output_tokens = $11::bigint, cost_usd = $12::float8,
      unpriced_calls = $25::integer, updated_at = $13::timestamptz, wake_at = $14::bigint, confidence = $26::float8,
      cached_input_tokens = $33::bigint, cache_write_tokens = $34::bigint,
      control = CASE WHEN $15::boolean THEN NULL ELSE control END,
      ready_at = CASE WHEN control IS NOT NULL AND NOT $15::boolean THEN least(coalesce($16::bigint, $17::bigint), $17::bigint) ELSE $16::bigint END
    WHERE id = $1::text AND seq = $2::integer
      AND (SELECT hash FROM events WHERE thread_id = $1::text AND seq = $2::integer) IS NOT DISTINCT FROM $28::text
    RETURNING id, agent, ready_at, lease_until
  ), logged AS (
    INSERT INTO events (thread_id, seq, type, at, release_id, data, hash, request)
    SELECT r.id, e.seq, e.type, $13::timestamptz, $4::text, e.data::json, e.hash, e.request
    FROM r, unnest($18::integer[], $19::text[], $20::text[], $29::text[], $32::text[]) AS e (seq, type, data, hash, request)
  ), spent AS (
    INSERT INTO daily_spend (agent, day, cost_usd)
    SELECT $21::text, $22::text, $23::float8 FROM r WHERE $23::float8 > 0
    ON CONFLICT (agent, day) DO UPDATE SET cost_usd = daily_spend.cost_usd + excluded.cost_usd
  ), tenant_spent AS (
    INSERT INTO tenant_spend (tenant, day, cost_usd)
    SELECT $30::text, $22::text, $23::float8 FROM r WHERE $23::float8 > 0 AND $30::text IS NOT NULL
    ON CONFLICT (tenant, day) DO UPDATE SET cost_usd = tenant_spend.cost_usd + excluded.cost_usd
  ), queued AS (
    INSERT INTO notifications (id, thread_id, payload, created_at, attempts, next_attempt_at)
    SELECT n ->> 'id', n ->> 'threadId', n, $13::timestamptz, 0, $17::bigint
    FROM r, json_array_elements(coalesce($24::json, '[]'::json)) AS n
    ON CONFLICT (id) DO NOTHING
  ), proposed AS (
    INSERT INTO eval_proposals (id, thread_id, agent, seq, kind, status, draft, created_at)
    SELECT p ->> 'id', p ->> 'threadId', p ->> 'agent', (p ->> 'seq')::integer, p ->> 'kind', 'pending', (p -> 'draft')::jsonb, $13::timestamptz
    FROM r, json_array_elements(coalesce($27::json, '[]'::json)) AS p
    ON CONFLICT DO NOTHING
  ), blobbed AS (
    -- created_at: when the blob was last written; one sent again takes this append's time, so a
    -- blob sweep begun before it keeps it (postgres/prune.ts). DO UPDATE may touch a row once per
    -- statement (DISTINCT ON) and locks it: in hash order, so two appends never wait on each other in a cycle.
    INSERT INTO blobs (hash, bytes, data, created_at)
    SELECT DISTINCT ON (b ->> 'hash') b ->> 'hash', (b ->> 'bytes')::integer, b ->> 'data', $13::timestamptz
    FROM r, json_array_elements(coalesce($31::json, '[]'::json)) AS b
    ORDER BY b ->> 'hash'
    ON CONFLICT (hash) DO UPDATE SET created_at = GREATEST(blobs.created_at, excluded.created_at)
  )
  SELECT ${notifyIfClaimable('$17::bigint')} AS notified FROM r`;

/**
 * The queue pop, for workers without per-agent caps: the oldest due thread whose lease is
 * free, skipping rows another claimer has locked this instant (no waiting, no double
 * claim), leased in the same statement. Finished threads are skipped even if a stale
 * control request left them due, so they can never block the head of the queue.
 *
 * $1 now (ms), $2 agents (NULL: any), $3 agents to skip, $4 owner, $5 lease until, $6 the worker's releases.
 */
export const claimNextSql = `
  WITH c AS (
    SELECT id FROM threads
    WHERE ready_at <= $1::bigint AND (lease_until IS NULL OR lease_until < $1::bigint) AND status NOT IN ${finished}
      AND ($2::text[] IS NULL OR agent = ANY ($2::text[])) AND NOT (agent = ANY ($3::text[])) AND ${notNewer('$6')}
    ORDER BY ready_at LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE threads t SET lease_owner = $4::text, lease_until = $5::bigint FROM c WHERE t.id = c.id
  RETURNING t.*`;

/** The same head-of-queue pick, kept locked by the transaction while the agent's cap is checked. $4 the worker's releases. */
export const lockNextSql = `
  SELECT id, agent FROM threads
  WHERE ready_at <= $1::bigint AND (lease_until IS NULL OR lease_until < $1::bigint) AND status NOT IN ${finished}
    AND ($2::text[] IS NULL OR agent = ANY ($2::text[])) AND NOT (agent = ANY ($3::text[])) AND ${notNewer('$4')}
  ORDER BY ready_at LIMIT 1
  FOR UPDATE SKIP LOCKED`;

/**
 * Serialises claimers of one capped agent across every process until commit, so the count
 * that follows (a fresh READ COMMITTED snapshot) sees every lease committed before it.
 */
export const lockAgentCapSql = `SELECT pg_advisory_xact_lock(hashtext('twelve:cap:' || $1::text))`;
export const liveLeasesSql = `SELECT count(*)::integer AS leases FROM threads WHERE agent = $1::text AND lease_until >= $2::bigint`;

/**
 * Who holds the leases of due threads, per owner: whether one of them expired without a
 * release, and whether the owner is dead by its liveness lock (liveness.ts). Only leased
 * rows are read (threads_by_lease_owner), however long the backlog is. $1 now (ms), $2 agents.
 */
export const leaseHoldersSql = `
  SELECT t.lease_owner AS owner, bool_or(t.lease_until < $1::bigint) AS expired, t.lease_owner IN (${deadOwnersSql}) AS dead
  FROM threads t
  WHERE t.lease_owner IS NOT NULL AND t.ready_at <= $1::bigint AND t.status NOT IN ${finished}
    AND ($2::text[] IS NULL OR t.agent = ANY ($2::text[]))
  GROUP BY t.lease_owner`;

/**
 * Takes over the oldest due thread interrupted mid-step: its owner is dead ($5), or its lease
 * expired without a release. Never this claimer's own lease ($3: it is alive, and two of its
 * claim loops reading the same candidate must not both get it; the FOR UPDATE re-check of
 * lease_owner sees the first loop's lease). $1 now, $2 agents, $3 owner, $4 until, $5 dead owners,
 * $6 the worker's releases.
 */
export const takeOrphanSql = `
  WITH c AS (
    SELECT id FROM threads
    WHERE lease_owner IS NOT NULL AND lease_owner <> $3::text AND ready_at <= $1::bigint AND status NOT IN ${finished}
      AND ($2::text[] IS NULL OR agent = ANY ($2::text[]))
      AND (lease_until < $1::bigint OR lease_owner = ANY ($5::text[])) AND ${notNewer('$6')}
    ORDER BY ready_at LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE threads t SET lease_owner = $3::text, lease_until = $4::bigint FROM c WHERE t.id = c.id
  RETURNING t.*`;

/** One thread's lease holder, and whether it is dead by its liveness lock. */
export const leaseHolderSql = `SELECT t.lease_owner AS owner, t.lease_owner IN (${deadOwnersSql}) AS dead FROM threads t WHERE t.id = $1::text`;

/** $1 id, $2 owner, $3 until, $4 now, $5 the dead owner whose live lease may be taken over, $6 the worker's releases. */
export const takeLeaseSql = `
  UPDATE threads SET lease_owner = $2::text, lease_until = $3::bigint
  WHERE id = $1::text AND status NOT IN ${finished} AND ${notNewer('$6')}
    AND (lease_until IS NULL OR lease_until < $4::bigint OR lease_owner = $2::text OR lease_owner = $5::text)
  RETURNING *`;

export const renewLeaseSql = `UPDATE threads SET lease_until = $3::bigint WHERE id = $1::text AND lease_owner = $2::text`;

/** Letting go of a thread that still has work (a drain, a lost step) wakes another worker. $3 now (ms). */
export const releaseLeaseSql = `
  WITH r AS (
    UPDATE threads SET lease_owner = NULL, lease_until = NULL WHERE id = $1::text AND lease_owner = $2::text
    RETURNING agent, ready_at, lease_until
  )
  SELECT ${notifyIfClaimable('$3::bigint')} AS notified FROM r`;

/** A control request makes the thread due now (and wakes a worker unless someone holds it). $2 now (ms). */
export const setControlSql = `
  WITH r AS (
    UPDATE threads SET control = $1::json, ready_at = least(coalesce(ready_at, $2::bigint), $2::bigint)
    WHERE id = $3::text AND status NOT IN ${finished}
    RETURNING agent, ready_at, lease_until
  )
  SELECT ${notifyIfClaimable('$2::bigint')} AS notified FROM r`;

/** A child that ended wakes its parent; a parent sets when it looks at a running child again. $1 id, $2 due at (ms), $3 now (ms). */
export const wakeThreadSql = `
  WITH r AS (
    UPDATE threads SET ready_at = $2::bigint WHERE id = $1::text AND status = 'awaiting_child'
    RETURNING agent, ready_at, lease_until
  )
  SELECT ${notifyIfClaimable('$3::bigint')} AS notified FROM r`;

/** Threads with work of agents a worker does not have ($1): its claims never take them. */
export const threadsOfOtherAgentsSql = `
  SELECT agent, count(*)::integer AS threads FROM threads
  WHERE ready_at IS NOT NULL AND status NOT IN ${finished} AND NOT (agent = ANY($1::text[]))
  GROUP BY agent ORDER BY agent`;

/**
 * Threads with work (due now or later: ready_at set) per newer release than the worker's ($1):
 * what an older worker's claims leave to the newer ones. By threads_ready, so finished threads,
 * however many, cost nothing.
 */
export const threadsOnNewerReleasesSql = `
  SELECT r.agent, r.id AS "releaseId", count(*)::integer AS threads
  FROM threads t JOIN releases r ON r.id = t.release_id
  WHERE r.id IN (${newerReleasesSql('$1')}) AND t.ready_at IS NOT NULL AND t.status NOT IN ${finished}
  GROUP BY r.agent, r.id, r.ordinal ORDER BY r.ordinal`;
