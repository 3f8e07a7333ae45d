/**
 * The store's connection pool: `pg` loaded, the pool created and the schema migrated on
 * first use (behind one promise; a failure is retried by the next call), statements run
 * with dead-connection retries, and every error turned into a TwelveError.
 */
import type pg from 'pg';
import { TwelveError } from '../../errors.js';
import { isConnectionError, loadPg, postgresError, type PostgresTarget } from './connection.js';
import { migrateSchema } from './migrations.js';

export interface PostgresPoolOptions {
  poolSize: number;
  connectTimeoutMs: number;
  mustExist: boolean;
}

export class PostgresPool {
  private pool: pg.Pool | undefined;
  private preparing: Promise<pg.Pool> | undefined;
  private closed = false;

  constructor(
    readonly target: PostgresTarget,
    private readonly options: PostgresPoolOptions,
  ) {}

  /** The pool, once `pg` is loaded and the schema is current. A failure is retried by the next call. */
  private ready(): Promise<pg.Pool> {
    if (this.closed) return Promise.reject(new TwelveError('store_unavailable', `the store for ${this.target.where} is closed`));
    this.preparing ??= this.prepare().catch((error: unknown) => {
      this.preparing = undefined;
      throw postgresError(error, this.target.where);
    });
    return this.preparing;
  }

  private async prepare(): Promise<pg.Pool> {
    const pg = await loadPg();
    if (!this.pool) {
      const pool = new pg.Pool({ ...this.clientConfig(), max: this.options.poolSize });
      // An idle connection dying (server restart, pg_terminate_backend) is routine: the pool
      // drops it and the next query connects afresh. Unhandled, it would crash the process.
      pool.on('error', () => undefined);
      // pg-pool listens for errors on idle connections only. A checked-out one can get the
      // server's "terminating connection" (57P01) right after its query's last message (both
      // in one read, before the caller's release runs): unheard, that 'error' crashes the
      // process. The connection is then marked unusable; release() drops it and the next
      // statement reconnects.
      pool.on('connect', (client) => client.on('error', () => undefined));
      this.pool = pool;
    }
    const client = await this.pool.connect();
    try {
      await migrateSchema(client, { schema: this.target.schema, where: this.target.where, mustExist: this.options.mustExist });
      client.release();
    } catch (error) {
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      throw error;
    }
    return this.pool;
  }

  /** Resolves once `pg` is loaded and the schema is current. */
  async whenReady(): Promise<void> {
    await this.ready();
  }

  clientConfig(): pg.ClientConfig {
    return {
      connectionString: this.target.connectionString,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      application_name: 'twelve',
      // Every connection resolves Twelve's tables in its schema, with no per-query qualification.
      ...(this.target.schema === 'public' ? {} : { options: `-c search_path=${this.target.schema}` }),
    };
  }

  /**
   * One statement on a pooled connection. Connections that turn out to be dead (the server
   * restarted or killed them since they were opened) are thrown away and the statement is
   * retried on another, when that is safe: always for idempotent statements, otherwise only
   * when the server provably did not run it. Several idle connections may have died at once,
   * hence up to one retry per pooled connection; a server that is down fails at connect, at
   * once. Everything else surfaces as a TwelveError (store_unavailable for outages) and the
   * worker loop backs off.
   */
  async run<R extends pg.QueryResultRow>(text: string, values: unknown[], { idempotent }: { idempotent: boolean }): Promise<pg.QueryResult<R>> {
    const pool = await this.ready();
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect(pool);
      try {
        const result = await client.query<R>(text, values);
        client.release();
        return result;
      } catch (error) {
        const broken = isConnectionError(error);
        client.release(broken ? (error as Error) : undefined);
        if (broken && attempt < this.options.poolSize && !this.closed && (idempotent || didNotRun(error))) continue;
        throw postgresError(error, this.target.where);
      }
    }
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw postgresError(error, this.target.where);
    }
  }

  /** A transaction on one connection, for locks held across statements. BEGIN on a dead connection is retried. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = await this.ready();
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect(pool);
      let begun = false;
      let broken = false;
      try {
        await client.query('BEGIN');
        begun = true;
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = isConnectionError(error);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        if (broken && !begun && attempt < this.options.poolSize && !this.closed) continue;
        throw postgresError(error, this.target.where);
      } finally {
        client.release(broken ? new Error('connection lost') : undefined);
      }
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.preparing?.catch(() => undefined);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

/** The server refused the statement before running it (shutting down, not accepting yet), or pg never sent it. */
function didNotRun(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '57P01' || code === '57P02' || code === '57P03' || /not queryable/.test((error as Error)?.message ?? '');
}
