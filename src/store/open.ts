/**
 * Opens the store named by TWELVE_DATABASE_URL:
 *   sqlite:.twelve/twelve.db      relative to the working directory (the default)
 *   sqlite:///var/lib/twelve.db   absolute
 *   sqlite::memory:               in memory (tests)
 * `?synchronous=full` fsyncs every commit.
 */
import { TwelveError } from '../errors.js';
import type { Store } from './types.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export function parseDatabaseUrl(url: string): { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full' } {
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
    throw new TwelveError('config_invalid', 'TWELVE_DATABASE_URL: this version of Twelve stores threads in SQLite only (sqlite:path); PostgreSQL is not supported yet');
  }
  throw new TwelveError('config_invalid', `TWELVE_DATABASE_URL: "${withoutPassword(url)}" is not a database URL Twelve understands (example: sqlite:.twelve/twelve.db)`);
}

export function openStore(url: string, options: { mustExist?: boolean } = {}): Store {
  const parsed = parseDatabaseUrl(url);
  return new SqliteStore({ path: parsed.path, synchronous: parsed.synchronous, mustExist: options.mustExist ?? false });
}

/** URLs in messages never show a password. */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}
