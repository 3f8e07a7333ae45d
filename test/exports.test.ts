/** The public surface, as a user imports it (the built package, through its export map). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the package export map', () => {
  it('exposes exactly the intended public API from twelve-agents', async () => {
    const api = await import('twelve-agents');
    expect(Object.keys(api).sort()).toEqual(
      [
        'PriceTable',
        'Runtime',
        'SeqConflictError',
        'SqliteStore',
        'TwelveError',
        'agentEnvPrefix',
        'agentTool',
        'askHuman',
        'callAgainAt',
        'connectMcpTools',
        'createRelease',
        'createRuntime',
        'decide',
        'defaultPrices',
        'defaultRenderContext',
        'defineAgent',
        'defineConfig',
        'defineEval',
        'defineTool',
        'eventTypes',
        'floatingReason',
        'foldEvents',
        'implementationNames',
        'isAgent',
        'isEvalSuite',
        'loadConfig',
        'mcpTools',
        'newEventSchema',
        'openStore',
        'parseModelId',
        'renderContext',
        'scriptedModel',
        'signWebhook',
        'threadEventSchema',
        'threadStatuses',
        'verifyWebhook',
        'version',
        'waitingStatuses',
      ].sort(),
    );
  });

  it('exposes test helpers from twelve-agents/testing', async () => {
    const testing = await import('twelve-agents/testing');
    expect(Object.keys(testing).sort()).toEqual(['SqliteStore', 'scriptedModel']);
  });

  it('exposes the PostgreSQL store from twelve-agents/postgres, and loads pg only when a PostgreSQL store is used', async () => {
    const postgres = await import('twelve-agents/postgres');
    expect(Object.keys(postgres).sort()).toEqual(['PostgresStore', 'migratePostgres']);
    // SQLite users never load pg: importing the package, opening SQLite, even constructing a PostgresStore does not.
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { createRequire } from 'node:module';
      const { openStore } = await import('twelve-agents');
      const { PostgresStore } = await import('twelve-agents/postgres');
      const sqlite = openStore('sqlite::memory:');
      await sqlite.listThreads();
      await sqlite.close();
      new PostgresStore({ url: 'postgres://nobody@127.0.0.1:1/none' }); // connects (and loads pg) on first use only
      const require = createRequire(import.meta.url);
      const loaded = Object.keys(require.cache).some((path) => /[\\/]node_modules[\\/]pg[\\/]/.test(path));
      process.stdout.write(String(loaded));`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url) }).toString()).toBe('false');
  });

  it('exposes the HTTP API client from twelve-agents/client, which loads nothing but itself', async () => {
    const client = await import('twelve-agents/client');
    expect(Object.keys(client).sort()).toEqual(['ApiError', 'createClient']);
    // A browser bundle or a small script gets fetch and the client, not the runtime, zod or hono:
    // the built module imports nothing (its types come from the server's schemas, at compile time only).
    const source = readFileSync(new URL('../dist/client/index.js', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*import\s|\bimport\(|\brequire\(/m);
    const types = readFileSync(new URL('../dist/client/index.d.ts', import.meta.url), 'utf8');
    expect(types).toMatch(/^import type \* as Schemas from '\.\.\/server\/schemas\.js';$/m);
  });

  it('reports the version in package.json', async () => {
    const { version } = await import('twelve-agents');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(version).toBe(pkg.version);
  });
});
