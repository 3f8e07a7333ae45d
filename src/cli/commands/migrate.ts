/** `twelve migrate`: apply the store's migrations (every process also does it at start, under a lock). */
import { expectArgs, print, type CommandSpec } from '../command.js';

export const migrate: CommandSpec = {
  name: 'migrate',
  summary: 'apply the store\'s migrations (also done at start, under a lock)',
  usage: ['migrate'],
  flags: {},
  details: 'Migrates the store named by TWELVE_DATABASE_URL (SQLite or PostgreSQL). Safe to run from many processes at once.',
  async run(args) {
    expectArgs(args, 0, migrate);
    const { loadConfig } = await import('../../config/env.js');
    const url = loadConfig(process.env).databaseUrl;
    if (/^postgres(ql)?:/.test(url)) {
      const { migratePostgres } = await import('../../store/postgres/migrations.js');
      const result = await migratePostgres(url);
      return print(`${result.location}: schema version ${result.version}${result.applied.length ? ` (applied ${result.applied.join(', ')})` : ' (up to date)'}`);
    }
    const { openStore } = await import('../../store/open.js');
    const store = openStore(url);
    await store.close();
    return print(`${store.location}: migrated`);
  },
};
