/**
 * The fault suite's side-effect ledger, in the thread store's own database (SQLite file or
 * PostgreSQL): `fault_effects` holds one row per idempotency key (the effect), and
 * `fault_attempts` one row per execution (re-runs after kills are expected and harmless).
 */
import Database from 'better-sqlite3';

export interface EffectLedger {
  apply(options: { key: string; threadId: string; step: number; attempt: number }): Promise<{ applied: boolean; step: number }>;
  effects(): Promise<Array<{ key: string; threadId: string }>>;
  attempts(): Promise<number>;
  close(): Promise<void>;
}

const ledgers = new Map<string, Promise<EffectLedger>>();

export function effectLedger(url: string): Promise<EffectLedger> {
  let ledger = ledgers.get(url);
  if (!ledger) {
    ledger = /^postgres(ql)?:/.test(url) ? postgresLedger(url) : Promise.resolve(sqliteLedger(url.replace(/^sqlite:(\/\/)?/, '')));
    ledgers.set(url, ledger);
  }
  return ledger;
}

function sqliteLedger(path: string): EffectLedger {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS fault_effects (key TEXT PRIMARY KEY, thread_id TEXT NOT NULL, step INTEGER NOT NULL);
           CREATE TABLE IF NOT EXISTS fault_attempts (key TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL)`);
  const attempt = db.prepare(`INSERT INTO fault_attempts (key, attempt, pid) VALUES (?, ?, ?)`);
  const effect = db.prepare(`INSERT INTO fault_effects (key, thread_id, step) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`);
  return {
    async apply({ key, threadId, step, attempt: n }) {
      const applied = db.transaction(() => {
        attempt.run(key, n, process.pid);
        return effect.run(key, threadId, step).changes === 1;
      }).immediate();
      return { applied, step };
    },
    async effects() {
      return (db.prepare(`SELECT key, thread_id AS threadId FROM fault_effects`).all() as Array<{ key: string; threadId: string }>);
    },
    async attempts() {
      return db.prepare(`SELECT count(*) FROM fault_attempts`).pluck().get() as number;
    },
    async close() {
      db.close();
    },
  };
}

async function postgresLedger(url: string): Promise<EffectLedger> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query(`CREATE TABLE IF NOT EXISTS fault_effects (key TEXT PRIMARY KEY, thread_id TEXT NOT NULL, step INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS fault_attempts (key TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL)`);
  return {
    async apply({ key, threadId, step, attempt }) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO fault_attempts (key, attempt, pid) VALUES ($1, $2, $3)`, [key, attempt, process.pid]);
        const result = await client.query(`INSERT INTO fault_effects (key, thread_id, step) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [key, threadId, step]);
        await client.query('COMMIT');
        return { applied: result.rowCount === 1, step };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async effects() {
      return (await pool.query(`SELECT key, thread_id AS "threadId" FROM fault_effects`)).rows;
    },
    async attempts() {
      return Number((await pool.query(`SELECT count(*) AS n FROM fault_attempts`)).rows[0].n);
    },
    async close() {
      await pool.end();
    },
  };
}
