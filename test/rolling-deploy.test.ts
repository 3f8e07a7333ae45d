/**
 * A rolling deploy, with real worker processes: `twelve worker` on the old build (a) and on the
 * new one (b) of one agent, sharing one database (SQLite, and PostgreSQL). People act through
 * runtimes on either build in this process, as their CLI would. What must hold: no thread is
 * stepped by the old release after the new one touched it; the first step on the new release
 * records `release_changed`; compatible threads go on; incompatible ones (a refund call open
 * whose input schema changed, an approval whose policy got looser) hold until a named person
 * resumes or cancels them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import { waitingHint } from '../src/cli/waiting-hint.js';
import type { ThreadEvent } from '../src/thread/events.js';
import { eventually, repoRoot, runCli } from './support/cli.js';
import { startApi } from './support/api.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import { rollingAgent, rollingScript } from './fixtures/rolling-agent.js';

const bin = join(repoRoot, 'bin/twelve.js');
const config = 'test/fixtures/rolling-agent.ts';

function startWorker(build: 'a' | 'b', env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, 'worker', '--config', config, '--concurrency', '2'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env, ROLLING_BUILD: build },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function rollingDeploy(databaseUrl: string): Promise<void> {
  const server = await startServer();
  server.setFallback(rollingScript);
  const env = { TWELVE_DATABASE_URL: databaseUrl, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_POLL_MS: '50', TWELVE_LOG: 'text' };
  const old = createRuntime({ agents: [rollingAgent('a')], env: { ...env, TWELVE_LOG: 'off' } });
  const next = createRuntime({ agents: [rollingAgent('b')], env: { ...env, TWELVE_LOG: 'off' } });
  const relA = old.release('rolling').releaseId;
  const relB = next.release('rolling').releaseId;
  expect(relA).not.toBe(relB);
  const workers: Array<ReturnType<typeof startWorker>> = [];
  const status = async (runtime: Runtime, id: string) => (await runtime.getThread(id))!.status;
  try {
    // Before the deploy: the old build runs everything.
    const workerA = startWorker('a', env);
    workers.push(workerA);
    await eventually(() => /ready in \d+ ms/.test(workerA.output()), 30_000);
    const launch = (input: string) => old.launch({ agent: 'rolling', input });
    const [n1, n2, n3, n4, r1, c1, l1] = await Promise.all(['notify 1', 'notify 2', 'notify 3', 'notify 4', 'refund', 'close', 'lookup'].map(launch)).then((ts) => ts.map((t) => t!.id));
    for (const id of [n1, n2, n3, n4, r1, c1]) await eventually(async () => (await status(old, id!)) === 'awaiting_approval', 30_000);
    await eventually(async () => (await status(old, l1!)) === 'completed', 30_000);
    // The old code still moves its own threads on.
    await old.decide(n3!, { by: 'ana', approved: true });
    await eventually(async () => (await status(old, n3!)) === 'completed', 30_000);

    // The deploy starts: people use the new code before any new worker runs. Their approvals
    // move two threads to release b (compatible: only the prompt changed for them).
    await next.decide(n1!, { by: 'ana', approved: true });
    await next.decide(n2!, { by: 'ana', approved: true });
    const seqs = await Promise.all([n1, n2].map(async (id) => (await old.getThread(id!))!.seq));
    // The old worker, polling all along, sees them runnable and leaves them alone, and says so.
    await eventually(() => new RegExp(`2 threads of rolling were last stepped by newer release ${relB}; this worker runs ${relA} and leaves them to workers on ${relB}`).test(workerA.output()), 30_000);
    expect(await Promise.all([n1, n2].map(async (id) => (await old.getThread(id!))!.seq))).toEqual(seqs);
    expect(await status(old, n1!)).toBe('runnable');
    // The old code refuses to run or act on them, naming both releases.
    await expect(old.runThread(n1!)).rejects.toThrow(new RegExp(`last stepped by release ${relB} of rolling, newer than release ${relA}`));
    await expect(old.cancel(n2!, { by: 'ana' })).rejects.toThrow(/will not cancel it: .*no downgrade/);
    const cli = await runCli(['resume', n1!, '--config', config], { env: { ...env, TWELVE_LOG: 'off', ROLLING_BUILD: 'a' } });
    expect(cli.code, cli.stderr).toBe(5);
    expect(cli.stderr).toContain(`newer than release ${relA} that this process runs`);

    // The new workers come up beside the old one and take them.
    const workerB = startWorker('b', env);
    workers.push(workerB);
    for (const id of [n1, n2]) await eventually(async () => (await status(next, id!)) === 'completed', 30_000);

    // An incompatible move holds: the open refund call's input schema changed.
    await expect(next.decide(r1!, { by: 'ana', approved: true })).rejects.toThrow(/held for a person .*refund.*input schema changed/);
    const held = (await next.getThread(r1!))!;
    expect(held.status).toBe('awaiting_human');
    expect(held.waitingReason).toMatch(new RegExp(`^release: moved from ${relA} to ${relB}: incompatible: open call .* \\(refund\\): the tool's input schema changed`));
    expect(waitingHint(held, { remote: false })).toContain(`twelve resume ${r1} --as <you> --comment`);
    expect((await next.listWaiting()).map((t) => t.id)).toContain(r1);
    // People are told: a notification, the inbox, the thread list.
    const notes = await next.store.claimDueNotifications({ limit: 100, leaseMs: 60_000, maxAttempts: 5 });
    expect(notes.map((n) => n.payload)).toContainEqual(expect.objectContaining({ threadId: r1, kind: 'release', summary: expect.stringMatching(/^Held after a deploy/) }));
    const cliEnv = { ...env, TWELVE_LOG: 'off', ROLLING_BUILD: 'b' };
    const [inbox, listed] = await Promise.all([runCli(['inbox', '--config', config], { env: cliEnv }), runCli(['threads', 'ls', '--config', config], { env: cliEnv })]);
    expect(inbox.stdout).toMatch(new RegExp(`${r1}.*release: moved from ${relA} to ${relB}`));
    expect(listed.stdout).toMatch(new RegExp(`${r1}.*\\(held: new release\\)`));
    // Nobody steps it, old or new, until a person decides.
    await expect(old.decide(r1!, { by: 'ana', approved: true })).rejects.toThrow(/newer than release/);
    await next.resume(r1!, { by: 'alice', comment: 'the new schema asks for a reason; let the model see the refusal' });
    expect(await status(next, r1!)).toBe('awaiting_approval');
    await next.decide(r1!, { by: 'ana', approved: true });
    await eventually(async () => (await status(next, r1!)) === 'completed', 30_000);

    // A pending approval whose policy got looser holds too; this one is cancelled.
    await expect(next.decide(c1!, { by: 'ana', approved: true })).rejects.toThrow(/approval policy always → never is looser/);
    await next.cancel(c1!, { by: 'bob', reason: 'close it by hand' });
    expect(await status(next, c1!)).toBe('cancelled');

    // The old workers go; a person on the old code approves n4, and a new worker's first step
    // on it is the recorded move.
    workerA.child.kill('SIGTERM');
    expect(await workerA.exited).toEqual({ code: 0, signal: null });
    // Said once per agent and release, though more threads moved to b meanwhile.
    expect(workerA.output().match(/last stepped by newer release/g)).toHaveLength(1);
    await old.decide(n4!, { by: 'ana', approved: true });
    await eventually(async () => (await status(next, n4!)) === 'completed', 30_000);

    // The logs, thread by thread.
    const ordinal = new Map([
      [relA, (await next.store.getRelease(relA))!.ordinal],
      [relB, (await next.store.getRelease(relB))!.ordinal],
    ]);
    const logs = new Map<string, ThreadEvent[]>();
    for (const id of [n1, n2, n3, n4, r1, c1, l1]) logs.set(id!, await next.loadEvents(id!));
    for (const [id, events] of logs) {
      const order = events.map((e) => ordinal.get(e.releaseId));
      // Never back to the old release once the new one wrote an event.
      expect(order, id).toEqual([...order].sort((a, b) => a! - b!));
      const firstOnB = events.find((e) => e.releaseId === relB);
      if (firstOnB) expect(firstOnB.type, id).toBe('release_changed');
      expect(events.filter((e) => e.type === 'release_changed').length, id).toBe(firstOnB ? 1 : 0);
    }
    const moveOf = (id: string) => logs.get(id)!.find((e) => e.type === 'release_changed')!.data as Record<string, unknown>;
    for (const id of [n1, n2, n4]) {
      expect(moveOf(id!)).toMatchObject({ from: relA, to: relB, compatible: true, decision: 'continue' });
      expect(moveOf(id!).changes).toEqual(expect.arrayContaining([{ kind: 'prompt', detail: expect.stringMatching(/^prompt text changed/) }]));
    }
    // n4 moved in the new worker's session: the move, then the tool run (its approval was recorded on a).
    expect(logs.get(n4!)!.filter((e) => e.releaseId === relB).map((e) => e.type).slice(0, 2)).toEqual(['release_changed', 'tool_started']);
    expect(moveOf(r1!)).toMatchObject({ compatible: false, decision: 'hold' });
    const r1Types = logs.get(r1!)!.map((e) => e.type);
    expect(r1Types.slice(r1Types.indexOf('release_changed'), r1Types.indexOf('release_changed') + 3)).toEqual(['release_changed', 'resumed', 'approval_decided']);
    expect(logs.get(r1!)!.find((e) => e.type === 'resumed')!.data).toEqual({ by: 'alice', comment: 'the new schema asks for a reason; let the model see the refusal' });
    expect(moveOf(c1!)).toMatchObject({ compatible: false, decision: 'hold' });
    expect(logs.get(c1!)!.at(-1)).toMatchObject({ type: 'cancelled', data: { by: 'bob' } });
    for (const id of [n3, l1]) expect(logs.get(id!)!.every((e) => e.releaseId === relA), id).toBe(true);
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
    await old.close();
    await next.close();
  }
}

describe('a rolling deploy with threads in flight', () => {
  it('never lets the old release step a thread the new one touched, and moves threads on or holds them (SQLite)', async () => {
    await rollingDeploy(`sqlite:${join(tempDir(), 'twelve.db')}`);
  }, 120_000);

  it('never lets the old release step a thread the new one touched, and moves threads on or holds them (PostgreSQL)', async () => {
    const database = await freshPostgresDatabase();
    try {
      await rollingDeploy(database.url);
    } finally {
      await database.cleanup();
    }
  }, 120_000);

  it('over HTTP: a held thread is pending kind release, an operator resumes it by name, and the old server is refused', async () => {
    // The old release forces approval of every payment; the new one asks only above 100: looser.
    const old = await startApi({ env: { TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' } });
    const thread = await old.runtime.launch({ agent: 'payer', input: 'pay 50' });
    await old.runtime.runUntilIdle();
    expect((await old.runtime.getThread(thread.id))!.status).toBe('awaiting_approval');
    const next = await startApi({ dir: old.dir });
    const [relA, relB] = [old.runtime.release('payer').releaseId, next.runtime.release('payer').releaseId];

    const approve = await next.call('POST', `/v1/threads/${thread.id}/approvals`, { key: 'fiona', body: { approved: true } });
    expect(approve.status).toBe(409);
    expect(approve.body.error.message).toMatch(new RegExp(`moved from release ${relA} to ${relB} and is held for a person \\(incompatible: .*approval policy always → predicate is looser\\)`));
    const held = await next.call('GET', `/v1/threads/${thread.id}`, { key: 'reader' });
    expect(held.body).toMatchObject({ status: 'awaiting_human', waitingReason: expect.stringMatching(/^release: /) });
    // The release hold first; the approval it asked for on the old release is still there behind it.
    expect(held.body.pending).toEqual([{ kind: 'release', reason: expect.stringMatching(`^moved from ${relA} to ${relB}`), seq: expect.any(Number) }, expect.objectContaining({ kind: 'approval', tool: 'pay' })]);

    // The old server never touches it again.
    const stale = await old.call('POST', `/v1/threads/${thread.id}/cancel`, { key: 'ops', body: {} });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toContain(`last stepped by release ${relB} of payer, newer than release ${relA}`);

    const resumed = await next.call('POST', `/v1/threads/${thread.id}/resume`, { key: 'ops', body: { comment: 'asking above 100 only is what we want' } });
    expect(resumed.status).toBe(200);
    expect((await next.runtime.loadEvents(thread.id)).at(-1)).toMatchObject({ type: 'resumed', releaseId: relB, data: { by: 'ops-bot', comment: 'asking above 100 only is what we want' } });
    expect((await next.call('POST', `/v1/threads/${thread.id}/approvals`, { key: 'fiona', body: { approved: true } })).status).toBe(200);
    await next.runtime.runUntilIdle();
    expect((await next.runtime.getThread(thread.id))!.status).toBe('completed');
  });
});
