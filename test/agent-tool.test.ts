/**
 * Agents as tools (agentTool) through the real HTTP path (a scripted OpenAI-compatible server)
 * and real stores: the child's output becomes the parent's tool result, the child's approvals
 * reach the inbox, cancel cascades, spend rolls up and the parent's budget caps the child, a
 * call run twice launches one child, and a lost wake-up only delays the parent.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentTool, createRuntime, defineAgent, TwelveError, type Store } from '../src/index.js';
import { foldEvents } from '../src/thread/state.js';
import { agentToolAgents, model, routeAgents } from './support/agent-tool-agents.js';
import { eventsOfType, makeRuntime, startServer } from './support/runtime.js';
import { sleep } from './support/hitl.js';
import { defaultPrices } from '../src/model/prices.js';

const price = defaultPrices[model]!;
const callCost = (100 * price.input + 10 * price.output) / 1_000_000;

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('agentTool', () => {
  it("runs the child as a thread of its own and gives its output to the parent as the tool's result", async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child, refunds } = agentToolAgents();
    const { runtime } = makeRuntime({ agents: [parent, child], server });

    const thread = await runtime.launch({ agent: 'triage', input: 'My order A-1001 arrived broken, refund please' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_child');
    const [started] = eventsOfType(await runtime.loadEvents(thread.id), 'child_started');
    expect(started!.data).toMatchObject({ agent: 'refunder' });
    const childId = started!.data.childThreadId;
    const childThread = await runtime.getThreadOrThrow(childId);
    expect(childThread).toMatchObject({ agent: 'refunder', parentThreadId: thread.id, input: { orderId: 'A-1001', reason: 'damaged' } });
    expect((await runtime.store.listChildren(thread.id)).map((t) => t.id)).toEqual([childId]);
    // The parent holds no worker while it waits.
    expect(await runtime.getThreadOrThrow(thread.id)).toMatchObject({ status: 'awaiting_child', leaseOwner: null });
    expect(await runtime.listWaiting()).toEqual([]);

    await runtime.runUntilIdle();
    const done = await runtime.getThreadOrThrow(thread.id);
    expect(done.status).toBe('completed');
    expect(refunds).toHaveLength(1);
    const events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'child_finished')[0]!.data).toMatchObject({ childThreadId: childId, status: 'completed', inputTokens: 200, outputTokens: 20 });
    const result = eventsOfType(events, 'tool_succeeded')[0]!.data.result;
    expect(result).toEqual({ refunded: true, orderId: 'A-1001' });
    // The child's spend rolls up: two parent calls and two child calls.
    expect(done.costUsd).toBeCloseTo(4 * callCost, 10);
    expect(done.inputTokens).toBe(400);
  });

  it("puts the child's approval in the inbox and resumes the parent once a person approves", async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child, refunds } = agentToolAgents({ childApproval: true });
    const { runtime } = makeRuntime({ agents: [parent, child], server });
    const worker = runtime.startWorker({ pollMs: 20 });

    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    const waiting = await until('the child to wait for approval', async () => (await runtime.listWaiting()).find((t) => t.status === 'awaiting_approval'));
    expect(waiting).toMatchObject({ agent: 'refunder', parentThreadId: thread.id });
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('awaiting_child');
    expect(refunds).toHaveLength(0);

    await runtime.decide(waiting.id, { by: 'alice', approved: true });
    const done = await until('the parent to complete', async () => {
      const t = await runtime.getThreadOrThrow(thread.id);
      return t.status === 'completed' && t;
    });
    expect(refunds).toHaveLength(1);
    expect(String(done.output)).toContain('refunded');
    await worker.stop();
  });

  it('cancelling the parent cancels its running child', async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child, refunds } = agentToolAgents({ childApproval: true });
    const { runtime } = makeRuntime({ agents: [parent, child], server });

    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await runtime.runUntilIdle();
    const [childThread] = await runtime.store.listChildren(thread.id);
    expect(childThread!.status).toBe('awaiting_approval');

    await runtime.cancel(thread.id, { by: 'bob', reason: 'customer withdrew' });
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('cancelled');
    const cancelledChild = await runtime.getThreadOrThrow(childThread!.id);
    expect(cancelledChild.status).toBe('cancelled');
    expect(eventsOfType(await runtime.loadEvents(childThread!.id), 'cancelled')[0]!.data).toEqual({ by: 'bob', reason: `parent thread ${thread.id} was cancelled` });
    expect(refunds).toHaveLength(0);
  });

  it("caps the child's budget by what the parent has left, and counts the child's spend against the parent", async () => {
    const server = await startServer();
    routeAgents(server);
    const maxCostUsd = 0.1;
    const { parent, child } = agentToolAgents({ parent: { limits: { maxCostUsd } }, child: { limits: { maxCostUsd: 5 } } });
    const { runtime } = makeRuntime({ agents: [parent, child], server });

    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await runtime.runThread(thread.id);
    const [childThread] = await runtime.store.listChildren(thread.id);
    const started = (await runtime.loadEvents(childThread!.id))[0]!;
    expect(started.type === 'thread_started' && started.data.parent).toEqual({ threadId: thread.id, callId: expect.any(String), limits: { maxCostUsd: maxCostUsd - callCost } });
    expect(foldEvents(childThread!.id, await runtime.loadEvents(childThread!.id)).limits.maxCostUsd).toBeCloseTo(maxCostUsd - callCost, 12);

    await runtime.runUntilIdle();
    const done = await runtime.getThreadOrThrow(thread.id);
    expect(done.status).toBe('completed');
    expect(done.costUsd).toBeCloseTo(4 * callCost, 10);
  });

  it('gives the child no more than the parent has: a parent with too little left sees the child wait on its budget', async () => {
    const server = await startServer();
    routeAgents(server);
    // Enough for the parent's first call's worst case, then too little for the child's.
    const { parent, child } = agentToolAgents({ parent: { limits: { maxCostUsd: 0.0105 }, modelSettings: { maxOutputTokens: 1000 } }, child: { modelSettings: { maxOutputTokens: 1000 } } });
    const { runtime } = makeRuntime({ agents: [parent, child], server });

    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await runtime.runUntilIdle();
    const [childThread] = await runtime.store.listChildren(thread.id);
    const breach = eventsOfType(await runtime.loadEvents(childThread!.id), 'budget_exceeded')[0];
    expect(breach?.data).toMatchObject({ limit: 'cost', used: 0 });
    expect(breach!.data.max).toBeCloseTo(0.0105 - callCost, 12);
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('awaiting_child');
  });

  it('launches one child when the same call runs twice (the parent died before recording the launch)', async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child } = agentToolAgents();
    const { runtime: plain, env } = makeRuntime({ agents: [parent, child], server });
    let failOnce = true;
    // A store that loses the parent's child_started append once, as a worker dying right after the launch would.
    const store = new Proxy(plain.store, {
      get(target, name, receiver) {
        if (name === 'append') {
          return async (...args: Parameters<Store['append']>) => {
            if (failOnce && args[3].some((e) => e.type === 'child_started')) {
              failOnce = false;
              throw new TwelveError('store_unavailable', 'connection lost (test)');
            }
            return target.append(...args);
          };
        }
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runtime = createRuntime({ agents: [parent, child], store, env, retryBaseMs: 1 });

    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await expect(runtime.runThread(thread.id)).rejects.toThrow(/connection lost/);
    expect(await runtime.store.listChildren(thread.id)).toHaveLength(1);
    await runtime.runThread(thread.id);
    const children = await runtime.store.listChildren(thread.id);
    expect(children).toHaveLength(1);
    expect(eventsOfType(await runtime.loadEvents(thread.id), 'child_started').map((e) => e.data.childThreadId)).toEqual([children[0]!.id]);
    await runtime.runUntilIdle();
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('completed');
    await runtime.close();
  });

  it("goes on when the child's wake-up is lost: the waiting parent looks at its child by itself", async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child } = agentToolAgents();
    const { runtime: plain, env } = makeRuntime({ agents: [parent, child], server });
    let woken = 0;
    const store = new Proxy(plain.store, {
      get(target, name, receiver) {
        // Drop every "wake now" (the child's nudge); keep the parent's own "look again at" times.
        if (name === 'wakeThread') return async (id: string, at?: number) => (at === undefined ? void woken++ : target.wakeThread(id, at));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runtime = createRuntime({ agents: [parent, child], store, env, retryBaseMs: 1, childCheckMs: 300 });
    const worker = runtime.startWorker({ pollMs: 20 });
    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await until('the parent to complete', async () => (await runtime.getThreadOrThrow(thread.id)).status === 'completed');
    expect(woken).toBe(1);
    await worker.stop();
    await runtime.close();
  });

  it('leaves a paused parent alone when its child ends, and goes on when it is resumed', async () => {
    const server = await startServer();
    routeAgents(server);
    const { parent, child } = agentToolAgents();
    const { runtime } = makeRuntime({ agents: [parent, child], server });
    const thread = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await runtime.runThread(thread.id);
    await runtime.pause(thread.id, { by: 'ops' });
    // Only the child is driven: the paused parent is not made due (it would be claimed for nothing, forever).
    expect(await runtime.runUntilIdle()).toBe(1);
    expect((await runtime.store.listChildren(thread.id))[0]!.status).toBe('completed');
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('paused');
    await runtime.resume(thread.id, { by: 'ops' });
    await runtime.runUntilIdle();
    expect((await runtime.getThreadOrThrow(thread.id)).status).toBe('completed');
  });

  it('refuses at createRuntime an agentTool whose agent the runtime does not run', () => {
    const { parent } = agentToolAgents();
    let error: unknown;
    try {
      createRuntime({ agents: [parent], env: { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_LOG: 'off' } });
    } catch (caught) {
      error = caught;
    }
    expect(TwelveError.is(error, 'agent_invalid')).toBe(true);
    expect((error as Error).message).toMatch(/tool handle_refund hands work to agent refunder, which this runtime does not run/);
  });

  it('wraps a child that takes a string as { input } and validates a child output again', () => {
    const echo = defineAgent({ name: 'echo', purpose: 'Echo', model, prompt: { text: 'x' } });
    const tool = agentTool(echo);
    expect(tool.name).toBe('echo');
    expect(tool.inputJsonSchema).toMatchObject({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] });
    expect(tool.child.inputOf({ input: 'hi' })).toBe('hi');
    expect(() => agentTool({} as never)).toThrow(/defineAgent/);
    const typed = defineAgent({ name: 'typed', purpose: 'Typed', model, prompt: { text: 'x' }, input: z.object({ a: z.number() }) });
    expect(agentTool(typed, { name: 'ask_typed' }).child.inputOf({ a: 1 })).toEqual({ a: 1 });
  });
});

describe('agentTool in the API and the CLI', () => {
  it('links parent and children both ways in the thread API, the inbox and `twelve threads show`', async () => {
    const { startApi } = await import('./support/api.js');
    const { runCli } = await import('./support/cli.js');
    const server = await startServer();
    routeAgents(server);
    const { parent, child } = agentToolAgents({ childApproval: true });
    const api = await startApi({ agents: [parent, child], models: {}, env: { OPENAI_BASE_URL: server.baseURL }, hookSecrets: new Map() });
    const thread = await api.runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    await api.runtime.runUntilIdle();
    const [childThread] = await api.runtime.store.listChildren(thread.id);

    const shown = await api.call('GET', `/v1/threads/${thread.id}`, { key: 'reader' });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ status: 'awaiting_child', parentThreadId: null, children: [{ id: childThread!.id, agent: 'refunder', status: 'awaiting_approval' }] });
    const shownChild = await api.call('GET', `/v1/threads/${childThread!.id}`, { key: 'reader' });
    expect(shownChild.body).toMatchObject({ parentThreadId: thread.id, children: [] });
    const inbox = await api.call('GET', '/v1/inbox', { key: 'reader' });
    expect(inbox.body.items.map((item: { thread: { id: string; parentThreadId: string } }) => [item.thread.id, item.thread.parentThreadId])).toEqual([[childThread!.id, thread.id]]);

    const env = { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}` };
    const parentView = await runCli(['threads', 'show', thread.id], { env });
    expect(parentView.stdout).toMatch(new RegExp(`children ${childThread!.id}  refunder  awaiting_approval`));
    expect(parentView.stdout).toMatch(/child\s+handle_refund → thread th_c/);
    const childView = await runCli(['threads', 'show', childThread!.id], { env });
    expect(childView.stdout).toContain(`parent   ${thread.id}`);
    const inboxView = await runCli(['inbox'], { env });
    expect(inboxView.stdout).toContain(`(for parent ${thread.id})`);
  });
});

describe('the triage example', () => {
  it('hands the refund to the refunds agent as a child thread, offline from its recordings, in one `twelve run`', async () => {
    const { runCli } = await import('./support/cli.js');
    const { tempDir } = await import('./support/temp-dir.js');
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${dir}/twelve.db`, REFUNDS_LEDGER_PATH: `${dir}/ledger.db`, TWELVE_MODEL_MODE: 'replay' };
    const run = await runCli(['run', 'triage', '--input', '@examples/triage/sample-refund.txt'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/child\s+handle_refund → thread th_c\w+ \(refunds\)/);
    expect(run.stdout).toMatch(/completed\s+\{"route":"refunds","reply":"Refunded: /);
    const listed = await runCli(['threads', 'ls', '--json'], { env });
    const threads = listed.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(threads.map((t: { agent: string; status: string }) => [t.agent, t.status]).sort()).toEqual([['refunds', 'completed'], ['triage', 'completed']]);
    expect(threads.find((t: { agent: string }) => t.agent === 'refunds').parentThreadId).toBe(threads.find((t: { agent: string }) => t.agent === 'triage').id);
  });
});

describe('agentTool on PostgreSQL with two worker processes', () => {
  it('finishes the parent when the worker that ended the child is killed before waking it, and launches one child', async () => {
    const { spawn } = await import('node:child_process');
    const { freshPostgresDatabase } = await import('./support/postgres.js');
    const { PostgresStore } = await import('../src/store/postgres/postgres-store.js');
    const server = await startServer();
    routeAgents(server);
    const database = await freshPostgresDatabase();
    const store = new PostgresStore({ url: database.url });
    const { parent, child } = agentToolAgents();
    const runtime = createRuntime({ agents: [parent, child], store, env: { TWELVE_DATABASE_URL: database.url, TWELVE_LOG: 'off', OPENAI_API_KEY: 'sk-test-4f9c2a7b1e8d6035' } });
    const workers: Array<{ child: ReturnType<typeof spawn>; exited: Promise<NodeJS.Signals | number | null>; out: () => string }> = [];
    const startWorker = (kill: boolean) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'test/support/agent-tool-worker.ts'], {
        env: { ...process.env, TWELVE_DATABASE_URL: database.url, TWELVE_LOG: 'off', OPENAI_API_KEY: 'sk-test-4f9c2a7b1e8d6035', OPENAI_BASE_URL: server.baseURL, CHILD_CHECK_MS: '500', KILL_AFTER_CHILD: kill ? '1' : '0' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      proc.stdout!.on('data', (chunk) => (out += chunk));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('close', (code, signal) => resolve(signal ?? code)));
      workers.push({ child: proc, exited, out: () => out });
      return workers.at(-1)!;
    };
    try {
      // Both workers may take any step; whichever appends the child's completion dies before the wake-up.
      const a = startWorker(true);
      const b = startWorker(true);
      await until('both workers to start', async () => a.out().includes('ready') && b.out().includes('ready'), 60_000);
      const thread = await runtime.launch({ agent: 'triage', input: 'My order A-1001 arrived broken, refund please' });
      const dead = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
      expect(await dead.exited).toBe('SIGKILL');
      expect(dead.out()).toMatch(/dying after th_c/);
      // A third, ordinary worker as well, so the survivor is not alone in the race for the parent.
      startWorker(false);
      const done = await until('the parent to complete', async () => {
        const t = await runtime.getThreadOrThrow(thread.id);
        return t.status === 'completed' && t;
      }, 60_000);
      const children = await store.listChildren(thread.id);
      expect(children).toHaveLength(1);
      expect(children[0]).toMatchObject({ status: 'completed', parentThreadId: thread.id });
      const events = await runtime.loadEvents(thread.id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(eventsOfType(events, 'child_started')).toHaveLength(1);
      expect(eventsOfType(events, 'tool_succeeded')[0]!.data.result).toEqual({ refunded: true, orderId: 'A-1001' });
      expect(done.costUsd).toBeCloseTo(4 * callCost, 10);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await runtime.close();
      await store.close();
      await database.cleanup();
    }
  }, 120_000);
});
