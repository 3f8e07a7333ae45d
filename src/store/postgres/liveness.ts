/**
 * Worker liveness on PostgreSQL: how a claimer on any host knows at once that the worker
 * holding a lease is dead, instead of waiting out the lease (30 s by default).
 *
 * Each store instance (one per process, in practice) holds a session-level advisory lock,
 * (livenessLockClass, lock_key), on a dedicated connection for as long as it lives, and
 * registers every lease owner it claims for in `twelve_workers` (owner -> lock_key), right
 * after its first claim (not before: a new worker's first step waits for nothing more; an
 * owner not registered yet is unknown, and its leases expire as they always did). When the
 * process dies, the kernel closes its socket, the server ends the session and the lock is
 * gone: a registered owner whose lock is not in `pg_locks` is dead (`deadOwnersSql`), and its
 * threads are taken over before fresh work.
 *
 * A server restart drops every session, live workers' included, until they reconnect. So a
 * row counts only if it was written since the server last started (`server_started`, set on
 * the lock's own connection, which cannot outlive a restart): right after a restart an owner
 * that has not re-registered yet is unknown, not dead, and its leases expire as before.
 * A connection that drops WITHOUT a restart (a terminated backend, a network cut) makes a
 * live worker look dead for a moment; it reconnects and re-registers at once, and a thread
 * taken over meanwhile is noticed by its lease renewal (the runtime stops driving it).
 *
 * The lock connection must be a real session: behind a pooler in transaction mode
 * (pgbouncer) session locks, like LISTEN, do not work.
 */
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { postgresError } from './connection.js';

/** First key of every Twelve worker lock (a fixed number, the same in every process). */
export const livenessLockClass = 7_311_201;

/** The advisory lock of the `twelve_workers` row `w` is held by a live session of this database. */
const lockHeld = (w: string) => `EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.classid = ${livenessLockClass}::oid AND l.objid = ${w}.lock_key::oid
        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))`;

/** Registered owners whose process is gone: registered since the server last started, and their lock is not held. */
export const deadOwnersSql = `
  SELECT w.owner FROM twelve_workers w
  WHERE w.server_started = pg_postmaster_start_time() AND NOT ${lockHeld('w')}`;

const tryLockSql = `SELECT pg_try_advisory_lock(${livenessLockClass}, $1::integer) AS locked`;

const registerSql = `
  INSERT INTO twelve_workers (owner, lock_key, server_started, registered_at)
  SELECT o, $2::integer, pg_postmaster_start_time(), now() FROM unnest($1::text[]) AS o
  ON CONFLICT (owner) DO UPDATE SET lock_key = excluded.lock_key, server_started = excluded.server_started, registered_at = excluded.registered_at`;

/** Housekeeping: rows of owners that are gone (or from before a restart) and hold no lease any more. */
const forgetGoneSql = `
  DELETE FROM twelve_workers w
  WHERE NOT EXISTS (SELECT 1 FROM threads t WHERE t.lease_owner = w.owner)
    AND (w.server_started <> pg_postmaster_start_time() OR NOT ${lockHeld('w')})`;

export interface LivenessOptions {
  createClient: () => Promise<pg.Client>;
  /** Resolves once the schema is migrated (twelve_workers exists). */
  migrated: () => Promise<unknown>;
  /** host:port/database, for error messages. */
  where: string;
  /** First reconnect delay after the lock's connection dropped; doubles up to 5 s. */
  backoffMs?: number;
}

export class Liveness {
  private current: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Owners registered on the current connection (a promise per owner, shared by concurrent claims). */
  private readonly registered = new Map<string, Promise<void>>();
  /** Registrations that failed, until ensureRegistered() reports them. */
  private readonly failed = new Map<string, Error>();
  private key = newKey();
  private closed = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LivenessOptions) {}

  /** Resolves once `owner` is registered under this process's lock. */
  register(owner: string): Promise<void> {
    let done = this.registered.get(owner);
    if (!done) {
      done = this.connect().then(async (client) => {
        await client.query(registerSql, [[owner], this.key]);
        this.housekeep(client);
      });
      this.registered.set(owner, done);
      done.catch(() => {
        if (this.registered.get(owner) === done) this.registered.delete(owner);
      });
    }
    return done.catch((error: unknown) => {
      throw postgresError(error, this.options.where);
    });
  }

  /**
   * Starts registering `owner` unless it is registered or on its way, without waiting.
   * Returns the error of an earlier attempt that failed (once; the next call tries again).
   */
  ensureRegistered(owner: string): Error | undefined {
    const failure = this.failed.get(owner);
    if (failure) {
      this.failed.delete(owner);
      return failure;
    }
    if (!this.registered.has(owner) && !this.closed) {
      this.register(owner).catch((error: Error) => {
        if (this.closed) return;
        this.failed.set(owner, error);
        this.retry(owner);
      });
    }
    return undefined;
  }

  private connect(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (this.current) return Promise.resolve(this.current);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    // Connect and lock while the pool connects and checks the schema (a worker's first claim waits for both).
    const migrated = this.options.migrated();
    migrated.catch(() => undefined); // awaited below; a failure while connecting must not go unhandled
    const client = await this.options.createClient();
    let dropped = false;
    const onDrop = () => {
      if (dropped) return;
      dropped = true;
      client.end().catch(() => undefined);
      if (this.current === client) this.lost();
    };
    client.on('error', onDrop);
    client.on('end', onDrop);
    try {
      await client.connect();
      // Another live process may hold the same random key (1 in 2^31): then pick another.
      for (let tries = 0; !(await client.query<{ locked: boolean }>(tryLockSql, [this.key])).rows[0]?.locked; tries++) {
        if (tries > 10) throw new Error('could not take a worker liveness lock');
        this.key = newKey();
      }
      await migrated; // twelve_workers exists
    } catch (error) {
      onDrop();
      throw error;
    }
    if (dropped) throw new Error('the liveness connection dropped while opening');
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('the store is closed');
    }
    this.current = client;
    this.failures = 0;
    return client;
  }

  private housekept: pg.Client | undefined;

  /** Once per connection, after the first registration (nobody waits for it): forget owners long gone. */
  private housekeep(client: pg.Client): void {
    if (this.housekept === client) return;
    this.housekept = client;
    client.query(forgetGoneSql).catch(() => undefined);
  }

  /** The lock's connection dropped: register every owner again on a new one, at once. */
  private lost(): void {
    this.current = undefined;
    const owners = [...this.registered.keys()];
    this.registered.clear();
    for (const owner of owners) this.register(owner).catch(() => this.retry(owner));
  }

  private readonly retrying = new Set<string>();

  /** Registers `owner` again later (backing off while the server is away), with or without claims. */
  private retry(owner: string): void {
    this.retrying.add(owner);
    if (this.timer || this.closed) return;
    const delay = Math.min(5_000, (this.options.backoffMs ?? 100) * 2 ** Math.min(this.failures++, 10));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const owners = [...this.retrying];
      this.retrying.clear();
      for (const again of owners) if (!this.closed) this.register(again).catch(() => this.retry(again));
    }, delay);
    this.timer.unref();
  }

  /** Unregisters (so nothing is taken over as if this process had died) and lets go of the lock. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.connecting?.catch(() => undefined);
    const client = this.current;
    this.current = undefined;
    const owners = [...this.registered.keys()];
    this.registered.clear();
    if (!client) return;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    // Leases still held (a step abandoned after the grace period) then wait for their expiry.
    await client.query(`DELETE FROM twelve_workers WHERE owner = ANY ($1::text[]) AND lock_key = $2::integer`, [owners, this.key]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

function newKey(): number {
  return randomInt(1, 2 ** 31 - 1);
}
