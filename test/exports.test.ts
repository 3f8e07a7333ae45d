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
        'askHuman',
        'callAgainAt',
        'createRelease',
        'createRuntime',
        'decide',
        'defaultPrices',
        'defaultRenderContext',
        'defineAgent',
        'defineConfig',
        'defineTool',
        'eventTypes',
        'floatingReason',
        'foldEvents',
        'isAgent',
        'loadConfig',
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

  it('reports the version in package.json', async () => {
    const { version } = await import('twelve-agents');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(version).toBe(pkg.version);
  });
});
