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
];
