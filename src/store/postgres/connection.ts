/**
 * Where a PostgreSQL store connects, and what its failures mean to a user.
 *
 * `pg` is imported on first use only, so processes on SQLite never load it. Every error
 * leaving the store goes through `postgresError`: connection failures and server restarts
 * become TwelveError `store_unavailable` (the worker loop backs off and retries), with a
 * message naming host:port/database and never the password.
 */
import type pg from 'pg';
import { TwelveError } from '../../errors.js';

export type Pg = typeof pg;

let loading: Promise<Pg> | undefined;

/** The `pg` module, loaded once. */
export function loadPg(): Promise<Pg> {
  loading ??= import('pg').then((module) => module.default);
  return loading;
}

export interface PostgresTarget {
  /** The URL for `pg`, without Twelve's own parameters. */
  connectionString: string;
  /** The schema holding Twelve's tables (`public` unless `?schema=` says otherwise). */
  schema: string;
  /** `host:port/database`, for messages. */
  where: string;
  /** `postgres://user@host:port/database[?schema=...]`: never a password. */
  location: string;
}

const schemaName = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Parses `postgres://user:password@host:port/database?schema=name&sslmode=...`.
 * `schema` is Twelve's; every other parameter is passed to `pg` as it is.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TwelveError('config_invalid', `TWELVE_DATABASE_URL: "${withoutPassword(url)}" is not a valid PostgreSQL URL (example: postgres://user:password@localhost:5432/twelve)`);
  }
  const schema = parsed.searchParams.get('schema') ?? 'public';
  if (!schemaName.test(schema)) {
    throw new TwelveError('config_invalid', `TWELVE_DATABASE_URL: schema must be a lower-case SQL identifier (letters, digits, _), got "${schema}"`);
  }
  parsed.searchParams.delete('schema');
  const host = decodeURIComponent(parsed.hostname) || parsed.searchParams.get('host') || process.env.PGHOST || 'localhost';
  const port = parsed.port || process.env.PGPORT || '5432';
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || '';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || user;
  const where = `${host.includes('/') ? host : `${host}:${port}`}/${database}`;
  return {
    connectionString: parsed.toString(),
    schema,
    where,
    location: `postgres://${user ? `${user}@` : ''}${where}${schema === 'public' ? '' : `?schema=${schema}`}`,
  };
}

/** URLs in messages never show a password. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}

/** SQLSTATEs and socket errors of a server going away or not being there yet: retrying helps. */
const transientCodes = new Set([
  '57P01', // admin_shutdown: the server is shutting down, or pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node's happy-eyeballs connect reports an AggregateError of the per-address failures.
  const inner = (error as { errors?: unknown[] }).errors?.[0];
  return inner ? codeOf(inner) : '';
}

function messageOf(error: unknown): string {
  return (error as Error)?.message || String(error);
}

/**
 * The connection broke (server restart, terminated backend, network): the statement may
 * not have reached the server, and a fresh connection will likely work.
 */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (transientCodes.has(code) && code !== '40001' && code !== '40P01') return true;
  return /Connection terminated|not queryable|ECONNRESET|socket hang up/i.test(messageOf(error));
}

/** Turns a `pg` failure into a TwelveError a user can act on. */
export function postgresError(error: unknown, where: string): TwelveError {
  if (error instanceof TwelveError) return error;
  const code = codeOf(error);
  const message = messageOf(error);
  const at = `PostgreSQL at ${where}`;
  const unavailable = (text: string) => new TwelveError('store_unavailable', text, { cause: error, details: { postgresCode: code, where } });
  switch (code) {
    case 'ECONNREFUSED':
      return unavailable(`cannot connect to ${at}: connection refused; is the server running and TWELVE_DATABASE_URL right?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return unavailable(`cannot connect to ${at}: host not found`);
    case '28P01':
    case '28000':
      return unavailable(`cannot connect to ${at}: authentication failed (${message}); check the user and password in TWELVE_DATABASE_URL`);
    case '3D000':
      return unavailable(`cannot connect to ${at}: the database does not exist; create it (createdb) or fix TWELVE_DATABASE_URL`);
    case '53300':
      return unavailable(`${at} has too many clients connected; lower worker concurrency or raise max_connections`);
    case '57P03':
      return unavailable(`${at} is starting up or in recovery; retrying`);
    case '42501':
      return unavailable(`${at}: permission denied (${message}); the user needs rights to create and write Twelve's tables`);
  }
  if (/timeout exceeded when trying to connect/i.test(message)) {
    return unavailable(`timed out waiting for a free connection to ${at}: every pooled connection is busy (lower worker concurrency or raise poolSize)`);
  }
  if (/timeout/i.test(message) && /connect|expired/i.test(message)) {
    return unavailable(`cannot connect to ${at}: connection timed out`);
  }
  if (isConnectionError(error) || transientCodes.has(code)) {
    return unavailable(`lost the connection to ${at} (${message}); retrying should help once the server is back`);
  }
  return new TwelveError('internal', `${at}: ${message}${code ? ` (${code})` : ''}`, { cause: error, details: { postgresCode: code, where }, exitCode: 1 });
}
