/**
 * Tools bound by configuration: TWELVE_TOOL_<NAME> (or the config's toolBindings) chooses which
 * implementation a call runs; bad names fail the start in the one config error; the binding is
 * part of the release (id, manifest, lock, diff) while unbound tools keep their release ids; an
 * eval's fixtures and fakes are not overridden by it; `twelve agents ls` shows the binding.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRelease, defineAgent, defineTool, loadConfig, type ToolContext } from '../src/index.js';
import { diffManifests } from '../src/release/diff.js';
import { diffLocks } from '../src/release/lock-diff.js';
import { buildLock } from '../src/release/lockfile.js';
import { withToolBindings } from '../src/config/project.js';
import { version } from '../src/version.js';
import { repoRoot, runCli } from './support/cli.js';
import { eventsOfType, makeRuntime, startServer } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

function bindableAgent() {
  const calls: Array<{ implementation: string; orderId: string; key: string }> = [];
  const record = (implementation: string) => async ({ orderId }: { orderId: string }, ctx: ToolContext) => {
    calls.push({ implementation, orderId, key: ctx.idempotencyKey });
    return { orderId, status: implementation };
  };
  const lookup = defineTool({
    name: 'lookup_order',
    description: 'Find an order by its id',
    input: z.object({ orderId: z.string() }),
    run: record('live'),
    fake: record('fake'),
    implementations: { sandbox: record('sandbox') },
  });
  const agent = defineAgent({ name: 'support', purpose: 'Answer questions about one order', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Help with orders.' }, tools: [lookup] });
  return { agent, calls };
}

describe('tools bound by configuration', () => {
  it('TWELVE_TOOL_<NAME> picks the implementation a call runs; the events are as always', async () => {
    const server = await startServer();
    const { agent, calls } = bindableAgent();
    const { runtime } = makeRuntime({ agents: [agent], server, env: { TWELVE_TOOL_LOOKUP_ORDER: 'sandbox' } });
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'It is in the sandbox.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(calls).toEqual([{ implementation: 'sandbox', orderId: 'A-1001', key: expect.stringContaining(thread.id) }]);
    const events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'tool_succeeded')[0]!.data.result).toEqual({ orderId: 'A-1001', status: 'sandbox' });
    const release = runtime.agents[0]!;
    expect(release.toolBindings).toEqual({ lookup_order: { implementation: 'sandbox', source: 'TWELVE_TOOL_LOOKUP_ORDER' } });
    expect(events.every((e) => e.releaseId === release.releaseId)).toBe(true);
  });

  it('the config binds too, the environment wins, and "fake" runs the fake', async () => {
    const { agent } = bindableAgent();
    const [configured] = withToolBindings([agent], { lookup_order: 'fake' });
    expect(loadConfig({}, [configured!]).agents.support?.toolBindings).toEqual({ lookup_order: { implementation: 'fake', source: 'config' } });
    expect(loadConfig({ TWELVE_TOOL_LOOKUP_ORDER: 'sandbox' }, [configured!]).agents.support?.toolBindings?.lookup_order?.implementation).toBe('sandbox');
    // live is the default: nothing recorded, the release is the unbound one.
    expect(loadConfig({ TWELVE_TOOL_LOOKUP_ORDER: 'live' }, [agent]).agents.support?.toolBindings).toBeUndefined();

    const server = await startServer();
    const { agent: fresh, calls } = bindableAgent();
    const { runtime } = makeRuntime({ agents: [fresh], server, toolBindings: { lookup_order: 'fake' } });
    server.enqueue({ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'B-2002' } }] }, { text: 'done' });
    const thread = await runtime.launch({ agent: 'support', input: 'B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(calls.map((c) => c.implementation)).toEqual(['fake']);
  });

  it('refuses unknown implementations and bindings of tools no agent has, in the one config error', () => {
    const { agent } = bindableAgent();
    const [configured] = withToolBindings([agent], { lookup_ordr: 'sandbox' });
    let message = '';
    try {
      loadConfig({ TWELVE_TOOL_LOOKUP_ORDER: 'staging', TWELVE_TOOL_REFUND: 'fake' }, [configured!]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('invalid configuration (3 problems)');
    expect(message).toContain('TWELVE_TOOL_LOOKUP_ORDER: tool lookup_order of agent support has no implementation "staging" (it has live, fake, sandbox)');
    expect(message).toContain('TWELVE_TOOL_REFUND: no agent has a tool named like that (tools: TWELVE_TOOL_LOOKUP_ORDER)');
    expect(message).toContain('toolBindings.lookup_ordr: no agent has a tool of that name (tools: lookup_order)');
    expect(() => defineTool({ name: 't', description: 'd', input: z.object({}), run: () => 1, implementations: { live: () => 2 } })).toThrow(/"live" is reserved/);
  });

  it('is part of the release: a new id, the manifest, the lock and the diff say so; unbound keeps the id', () => {
    const { agent } = bindableAgent();
    const unbound = createRelease(agent, loadConfig({}, [agent]).agents.support, version);
    expect(unbound.manifest.toolBindings).toBeUndefined();
    // Declaring implementations alone does not change the release: run is not part of it.
    const plain = defineAgent({ ...agent.options, tools: [defineTool({ name: 'lookup_order', description: 'Find an order by its id', input: z.object({ orderId: z.string() }), run: () => null })] });
    expect(createRelease(plain, {}, version).releaseId).toBe(unbound.releaseId);

    const env = { TWELVE_TOOL_LOOKUP_ORDER: 'sandbox' };
    const bound = createRelease(agent, loadConfig(env, [agent]).agents.support, version);
    expect(bound.releaseId).not.toBe(unbound.releaseId);
    expect(bound.manifest.toolBindings).toEqual({ lookup_order: 'sandbox' });
    expect(diffManifests(unbound.manifest, bound.manifest)).toEqual([
      expect.objectContaining({ kind: 'tool_binding', tool: 'lookup_order', detail: 'tool lookup_order: binding live → sandbox' }),
    ]);
    const dir = tempDir();
    const before = buildLock({ releases: [unbound], env: {}, projectDir: dir, lockDir: dir });
    const after = buildLock({ releases: [bound], env, projectDir: dir, lockDir: dir });
    expect(before.agents.support!.toolBindings).toBeUndefined();
    expect(after.agents.support!.toolBindings).toEqual({ lookup_order: 'sandbox' });
    expect(after.agents.support!.environment).toEqual({ TWELVE_TOOL_LOOKUP_ORDER: 'sandbox' });
    expect(diffLocks(before, after).map((d) => d.detail)).toEqual(
      expect.arrayContaining(['tool lookup_order: binding live → sandbox', 'environment TWELVE_TOOL_LOOKUP_ORDER unset → "sandbox"', `release ${unbound.releaseId} → ${bound.releaseId}`]),
    );
  });

  it('twelve agents ls shows the binding in force per tool', async () => {
    const dir = tempDir();
    const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;
    mkdirSync(join(dir, 'agents'));
    writeFileSync(
      join(dir, 'twelve.config.mjs'),
      `import { z } from 'zod';
import { defineAgent, defineConfig, defineTool } from '${twelve}';
const lookup = defineTool({ name: 'lookup_order', description: 'Find an order', input: z.object({ orderId: z.string() }), run: () => 'live', fake: () => 'fake', implementations: { sandbox: () => 'sandbox' } });
const support = defineAgent({ name: 'support', purpose: 'Answer about orders', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Help.' }, tools: [lookup] });
export default defineConfig({ agents: [support], toolBindings: { lookup_order: 'fake' } });
`,
    );
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off' };
    const text = await runCli(['agents', 'ls'], { cwd: dir, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('bindings: lookup_order=fake [config] of live, fake, sandbox');
    const json = await runCli(['agents', 'ls', '--json'], { cwd: dir, env: { ...env, TWELVE_TOOL_LOOKUP_ORDER: 'sandbox' } });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).bindings).toEqual([{ name: 'lookup_order', binding: 'sandbox', bindingSource: 'TWELVE_TOOL_LOOKUP_ORDER', implementations: ['live', 'fake', 'sandbox'], mcpServer: null }]);
    const bad = await runCli(['agents', 'ls'], { cwd: dir, env: { ...env, TWELVE_TOOL_LOOKUP_ORDER: 'nope' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TWELVE_TOOL_LOOKUP_ORDER: tool lookup_order of agent support has no implementation "nope"');
  });
});

describe('bindings in evals', () => {
  it("an eval's tools are not rebound: the case's fixtures and fakes serve, whatever TWELVE_TOOL_<NAME> says", async () => {
    const { bindTools, CaseBindings } = await import('../src/eval/tool-bindings.js');
    const { boundRun } = await import('../src/agent/tool-binding.js');
    const { agent, calls } = bindableAgent();
    const bindings = new CaseBindings();
    bindings.add('th_1', { evalCase: { id: 'c1', input: 'x' } as never, unbound: () => undefined });
    const tool = bindTools(agent, { bindings, code: 'own' }).tools.get('lookup_order')!;
    const ctx = { threadId: 'th_1', callId: 'c', idempotencyKey: 'th_1:c', attempt: 1, agent: 'support' } as ToolContext;
    // The session runs boundRun(tool, binding): with the sandbox bound, an eval's tool still serves its fake.
    expect(await boundRun(tool, 'sandbox')({ orderId: 'A-1' }, ctx)).toEqual({ orderId: 'A-1', status: 'fake' });
    expect(calls.map((c) => c.implementation)).toEqual(['fake']);
  });
});
