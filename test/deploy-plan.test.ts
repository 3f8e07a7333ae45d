/**
 * `twelve deploy plan`: before a deploy, what it would do to each thread in flight. Threads
 * are made by runtimes on the old build (a) and the new one (b) of test/fixtures/rolling-agent.ts;
 * the real CLI plans from either build, on the same SQLite file, and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { makeRuntime, startServer } from './support/runtime.js';
import { rollingAgent, rollingScript } from './fixtures/rolling-agent.js';

const config = 'test/fixtures/rolling-agent.ts';

describe('twelve deploy plan', () => {
  it('groups in-flight threads by release and says which stay, continue or hold, and why', async () => {
    const server = await startServer();
    server.setFallback(rollingScript);
    const old = makeRuntime({ agents: [rollingAgent('a')], server });
    const next = makeRuntime({ agents: [rollingAgent('b')], server, dir: old.dir });
    const [n1, r1, c1, l1] = await Promise.all(['notify', 'refund', 'close', 'lookup'].map((input) => old.runtime.launch({ agent: 'rolling', input })));
    await old.runtime.runUntilIdle();
    const b1 = await next.runtime.launch({ agent: 'rolling', input: 'notify' });
    await next.runtime.runUntilIdle();
    expect((await old.runtime.getThread(l1!.id))!.status).toBe('completed');
    const relA = old.runtime.release('rolling').releaseId;
    const relB = next.runtime.release('rolling').releaseId;
    const seqs = async () => Promise.all([n1, r1, c1, b1].map(async (t) => (await old.runtime.getThread(t!.id))!.seq));
    const before = await seqs();

    const env = { ...old.env, TWELVE_LOG: 'off' };
    const [json, text, rollback, unknown, bare] = await Promise.all([
      runCli(['deploy', 'plan', '--config', config, '--json'], { env: { ...env, ROLLING_BUILD: 'b' } }),
      runCli(['deploy', 'plan', '--config', config], { env: { ...env, ROLLING_BUILD: 'b' } }),
      runCli(['deploy', 'plan', '--config', config, '--json'], { env: { ...env, ROLLING_BUILD: 'a' } }),
      runCli(['deploy', 'plan', '--config', config, '--agent', 'nobody'], { env }),
      runCli(['deploy', '--config', config], { env }),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.summary).toEqual({ threads: 4, stays: 1, continue: 1, hold: 2, left: 0 });
    expect(plan.agents).toHaveLength(1);
    const [current, previous] = plan.agents[0].groups;
    expect(plan.agents[0]).toMatchObject({ agent: 'rolling', releaseId: relB });
    expect(current).toEqual({ releaseId: relB, known: true, changes: [], threads: [{ id: b1!.id, status: 'awaiting_approval', action: 'stays', compatible: true, reason: 'already on this release' }] });
    expect(previous.releaseId).toBe(relA);
    expect(previous.changes.map((c: { kind: string }) => c.kind)).toEqual(expect.arrayContaining(['prompt', 'tool_input', 'approval']));
    const byId = new Map(previous.threads.map((t: { id: string }) => [t.id, t]));
    expect(byId.get(n1!.id)).toMatchObject({ action: 'continue', compatible: true });
    expect(byId.get(r1!.id)).toMatchObject({ action: 'hold', compatible: false, reason: expect.stringMatching(/\(refund\): the tool's input schema changed/) });
    expect(byId.get(c1!.id)).toMatchObject({ action: 'hold', compatible: false, reason: expect.stringMatching(/approval policy always → never is looser/) });
    expect(byId.has(l1!.id)).toBe(false);

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`rolling: this code is release ${relB}`);
    expect(text.stdout).toContain(`from ${relA}: 3 threads`);
    expect(text.stdout).toMatch(/changed: prompt text changed/);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('4 threads in flight: 1 stay, 1 continue, 2 hold for a person, 0 left to a newer release');

    // Planning the old build again (a rollback): the thread b stepped is never taken back.
    expect(rollback.code, rollback.stderr).toBe(0);
    const back = JSON.parse(rollback.stdout);
    expect(back.summary).toEqual({ threads: 4, stays: 3, continue: 0, hold: 0, left: 1 });
    expect(back.agents[0].groups.flatMap((g: { threads: unknown[] }) => g.threads)).toContainEqual(expect.objectContaining({ id: b1!.id, action: 'left' }));

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown agent "nobody" (known: rolling)');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('deploy plan [--agent a] [--json]');
    // A plan writes nothing.
    expect(await seqs()).toEqual(before);
  }, 60_000);
});
