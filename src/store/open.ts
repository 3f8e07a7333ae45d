/**
 * Opens the store named by TWELVE_DATABASE_URL:
 *   sqlite:.twelve/twelve.db      relative to the working directory (the default)
 *   sqlite:///var/lib/twelve.db   absolute
 *   sqlite::memory:               in memory (tests)
 *   postgres://user:password@host:5432/db   PostgreSQL (also postgresql://); `?schema=name`
 *                                 keeps Twelve's tables in that schema (created if missing)
 * `?synchronous=full` (SQLite) fsyncs every commit.
 *
 * Opening is synchronous for both: the PostgreSQL store loads its modules and `pg`, connects
 * and migrates on first use, so SQLite users never load any of it.
 */
import { TwelveError } from '../errors.js';
import type { Store } from './types.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { parsePostgresUrl, withoutPassword } from './postgres/connection.js';
import { DeferredStore } from './deferred-store.js';

export type DatabaseUrl =
  | { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full' }
  | { kind: 'postgres'; url: string; schema: string; location: string };

export function parseDatabaseUrl(url: string): DatabaseUrl {
  const [location = '', query = ''] = url.split('?', 2);
  if (location.startsWith('sqlite:')) {
    let path = location.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs -> /abs ; sqlite://rel -> rel
    if (!path) throw new TwelveError('config_invalid', `TWELVE_DATABASE_URL: "${url}" names no file (example: sqlite:.twelve/twelve.db)`);
    const synchronous = new URLSearchParams(query).get('synchronous');
    if (synchronous !== null && synchronous !== 'normal' && synchronous !== 'full') {
      throw new TwelveError('config_invalid', `TWELVE_DATABASE_URL: synchronous must be normal or full, got "${synchronous}"`);
    }
    return { kind: 'sqlite', path, synchronous: synchronous ?? 'normal' };
  }
  if (/^postgres(ql)?:\/\//.test(location)) {
    const target = parsePostgresUrl(url);
    return { kind: 'postgres', url, schema: target.schema, location: target.location };
  }
  throw new TwelveError(
    'config_invalid',
    `TWELVE_DATABASE_URL: "${withoutPassword(url)}" is not a database URL Twelve understands (examples: sqlite:.twelve/twelve.db, postgres://user:password@localhost:5432/twelve)`,
  );
}

export function openStore(url: string, options: { mustExist?: boolean } = {}): Store {
  const parsed = parseDatabaseUrl(url);
  if (parsed.kind === 'postgres') {
    // Its modules load on first use (the first statement connects anyway): see deferred-store.ts.
    const mustExist = options.mustExist ?? false;
    return new DeferredStore('postgres', parsed.location, async () => new (await import('./postgres/postgres-store.js')).PostgresStore({ url: parsed.url, mustExist }));
  }
  return new SqliteStore({ path: parsed.path, synchronous: parsed.synchronous, mustExist: options.mustExist ?? false });
}
