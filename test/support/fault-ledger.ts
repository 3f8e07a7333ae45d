/**
 * The fault suite's side-effect ledger, in the thread store's own database (SQLite file or
 * PostgreSQL): `fault_effects` holds one row per idempotency key (the effect), and
 * `fault_attempts` one row per execution of the tool (written when the execution starts,
 * so a run cut short by a kill stays visible next to its re-run; re-runs are expected and
 * harmless, a second effect would be a bug).
 *
 * Like a payment API client, the PostgreSQL ledger retries through a database restart:
 * every write is idempotent (the effect by its key, the attempt by a random row id), so a
 * retry after a lost reply changes nothing.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';

export interface EffectLedger {
  /** Records one execution of the tool for `key`; call it first, before any latency. */
  attempt(options: { key: string; threadId: string; step: number; attempt: number }): Promise<void>;
  /** Applies the effect for `key`; later calls with the same key change nothing (applied: false). */
  apply(options: { key: string; threadId: string; step: number }): Promise<{ applied: boolean; step: number }>;
  effects(): Promise<Array<{ key: string; threadId: string }>>;
  /** Executions recorded per key. */
  attempts(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

const schema = `CREATE TABLE IF NOT EXISTS fault_effects (key TEXT PRIMARY KEY, thread_id TEXT NOT NULL, step INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS fault_attempts (id TEXT PRIMARY KEY, key TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL)`;

const ledgers = new Map<string, Promise<EffectLedger>>();

export function effectLedger(url: string): Promise<EffectLedger> {
  let ledger = ledgers.get(url);
  if (!ledger) {
    const opened = /^postgres(ql)?:/.test(url) ? postgresLedger(url) : Promise.resolve(sqliteLedger(url.replace(/^sqlite:(\/\/)?/, '')));
    // close() forgets the ledger, so a later run on the same URL opens a new one.
    ledger = opened.then((open) => ({
      ...open,
      close: async () => {
        ledgers.delete(url);
        await open.close();
      },
    }));
    // A ledger that could not open (database down) is not cached: the next call tries again.
    ledger.catch(() => ledgers.delete(url));
    ledgers.set(url, ledger);
  }
  return ledger;
}

function sqliteLedger(path: string): EffectLedger {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  const attempt = db.prepare(`INSERT INTO fault_attempts (id, key, attempt, pid) VALUES (?, ?, ?, ?)`);
  const effect = db.prepare(`INSERT INTO fault_effects (key, thread_id, step) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`);
  return {
    async attempt({ key, attempt: n }) {
      attempt.run(randomUUID(), key, n, process.pid);
    },
    async apply({ key, threadId, step }) {
      return { applied: effect.run(key, threadId, step).changes === 1, step };
    },
    async effects() {
      return db.prepare(`SELECT key, thread_id AS threadId FROM fault_effects`).all() as Array<{ key: string; threadId: string }>;
    },
    async attempts() {
      const rows = db.prepare(`SELECT key, count(*) AS n FROM fault_attempts GROUP BY key`).all() as Array<{ key: string; n: number }>;
      return new Map(rows.map((row) => [row.key, row.n]));
    },
    async close() {
      db.close();
    },
  };
}

/** A server going away or coming back (restart, terminated backend, refused connection). */
function transient(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  if (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  return /Connection terminated|not queryable|ECONNRESET|ECONNREFUSED|socket hang up|timeout exceeded when trying to connect/i.test((error as Error)?.message ?? '');
}

/** Runs an idempotent database call, retrying through outages for up to `forMs`. */
async function retrying<T>(work: () => Promise<T>, forMs = 30_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let failures = 0; ; failures++) {
    try {
      return await work();
    } catch (error) {
      if (!transient(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** failures)));
    }
  }
}

async function postgresLedger(url: string): Promise<EffectLedger> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
  // A connection dying (the server restarting), idle or checked out, must not crash the worker process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await retrying(() => pool.query(schema));
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return {
    async attempt({ key, attempt }) {
      const id = randomUUID();
      await retrying(() => pool.query(`INSERT INTO fault_attempts (id, key, attempt, pid) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [id, key, attempt, process.pid]));
    },
    async apply({ key, threadId, step }) {
      const result = await retrying(() => pool.query(`INSERT INTO fault_effects (key, thread_id, step) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [key, threadId, step]));
      return { applied: result.rowCount === 1, step };
    },
    async effects() {
      return (await retrying(() => pool.query<{ key: string; threadId: string }>(`SELECT key, thread_id AS "threadId" FROM fault_effects`))).rows;
    },
    async attempts() {
      const { rows } = await retrying(() => pool.query<{ key: string; n: string }>(`SELECT key, count(*) AS n FROM fault_attempts GROUP BY key`));
      return new Map(rows.map((row) => [row.key, Number(row.n)]));
    },
    async close() {
      await pool.end();
    },
  };
}
