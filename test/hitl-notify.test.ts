/**
 * "A thread waits for a person" notifications, end to end: the runtime configured with
 * TWELVE_NOTIFY_URL / TWELVE_NOTIFY_SECRET, a real SQLite outbox, and a real webhook receiver
 * on 127.0.0.1. One signed POST per wait (approval, question, escalation, budget), retries
 * recorded attempt by attempt, and an outbox row committed with the waiting event, so a
 * process killed right after the append still gets its notification delivered.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { askHuman, loadConfig, TwelveError, verifyWebhook } from '../src/index.js';
import { event } from '../src/thread/events.js';
import { eventually, repoRoot } from './support/cli.js';
import { ofType, payTool, readDb, scriptedAgent, stepModel, userTexts } from './support/hitl.js';
import { makeRuntime, testEnv } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from './support/webhook-receiver.js';

const secret = 'whsec_hitl_0123456789abcdef';

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  onTestFinished(() => r.close());
  return r;
}

function notifyEnv(r: WebhookReceiver): NodeJS.ProcessEnv {
  return { TWELVE_NOTIFY_URL: r.url, TWELVE_NOTIFY_SECRET: secret };
}

function expectSigned(request: ReceivedRequest) {
  expect(request.method).toBe('POST');
  expect(request.path).toBe('/hooks/twelve');
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.headers['x-twelve-event']).toBe('human.waiting');
  expect(request.headers['x-twelve-delivery']).toBe(request.body.id);
  const headers = request.headers;
  expect(verifyWebhook({ secret, body: request.rawBody, headers, direction: 'outbound' })).toEqual({ ok: true });
  // The signature covers the exact bytes and the secret.
  const tampered = Buffer.from(request.rawBody.toString('utf8').replace('"seq":', '"seq": '));
  expect(verifyWebhook({ secret, body: tampered, headers, direction: 'outbound' })).toEqual({ ok: false, reason: 'signature_mismatch' });
  expect(verifyWebhook({ secret: `${secret}x`, body: request.rawBody, headers, direction: 'outbound' })).toEqual({ ok: false, reason: 'signature_mismatch' });
}

/** One agent that, by its input, asks for approval, asks a question, keeps failing, or runs out of steps. */
function waitingAgent() {
  const pay = payTool({ approval: 'always' });
  const broken = payTool({
    name: 'broken',
    run: () => {
      throw new Error('ledger down');
    },
  });
  const free = payTool({ name: 'lookup' });
  const model = stepModel((step, request) => {
    const input = userTexts(request)[0] ?? '';
    if (input === 'approval') return { toolCalls: [{ tool: 'pay', args: { amount: 500 } }] };
    if (input === 'question') return { toolCalls: [{ tool: 'ask_human', args: { question: 'Which account?' } }] };
    if (input === 'escalation') return { toolCalls: [{ tool: 'broken', args: { amount: step } }] };
    if (input === 'budget') return { toolCalls: [{ tool: 'lookup', args: { amount: step } }] };
    return { text: 'done' };
  });
  const agent = scriptedAgent({ tools: [pay.tool, broken.tool, free.tool, askHuman()], limits: { maxSteps: 2, maxConsecutiveErrors: 2 } });
  return { agent, model, pay };
}

describe('notifications when a thread starts waiting for a person', () => {
  it('posts one signed notification per wait: approval, question, escalation, budget', async () => {
    const r = await receiver();
    const { agent, model } = waitingAgent();
    const { runtime, dbFile } = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, env: notifyEnv(r) });
    const kinds = ['approval', 'question', 'escalation', 'budget'] as const;
    const threads = new Map<string, string>();
    for (const kind of kinds) threads.set((await runtime.launch({ agent: 'payer', input: kind })).id, kind);
    expect(await runtime.runUntilIdle()).toBe(4);
    expect((await runtime.listWaiting()).length).toBe(4);

    // Written with the events, not sent yet: nothing delivers without a worker or a flush.
    expect(r.requests).toHaveLength(0);
    expect(readDb<{ id: string }>(dbFile, 'SELECT id FROM notifications WHERE delivered_at IS NULL')).toHaveLength(4);

    await runtime.flushNotifications();
    expect(r.requests).toHaveLength(4);
    const waitTypes = { approval: 'approval_requested', question: 'human_asked', escalation: 'escalated', budget: 'budget_exceeded' } as const;
    for (const request of r.requests) {
      expectSigned(request);
      const body = request.body;
      const kind = threads.get(body.threadId)!;
      expect(body.kind).toBe(kind);
      const events = await runtime.loadEvents(body.threadId);
      const waiting = events.find((e) => e.type === waitTypes[kind as keyof typeof waitTypes])!;
      expect(body).toEqual({
        id: `${body.threadId}:${waiting.seq}`,
        threadId: body.threadId,
        agent: 'payer',
        seq: waiting.seq,
        kind,
        summary: expect.any(String),
        data: waiting.data,
        at: expect.any(String),
      });
      // The payload's time is read when the session builds the events, the event's when the store commits
      // them: at most a few milliseconds apart (they are not always equal).
      expect(Math.abs(Date.parse(body.at) - Date.parse(waiting.at))).toBeLessThan(50);
      const attempts = await runtime.store.listDeliveryAttempts(body.id);
      expect(attempts).toEqual([expect.objectContaining({ notificationId: body.id, attempt: 1, ok: true, status: 200, error: null, url: r.url })]);
    }
    expect(new Set(r.requests.map((q) => q.body.kind))).toEqual(new Set(kinds));
    const summaries = Object.fromEntries(r.requests.map((q) => [q.body.kind, q.body.summary]));
    expect(summaries).toEqual({
      approval: 'Approve pay? this tool always needs approval',
      question: 'Which account?',
      escalation: '2 consecutive errors (limit 2); a human must look before the agent goes on. Last errors: tool_error: broken: ledger down; tool_error: broken: ledger down',
      budget: 'reached the limit of 2 model steps without a final answer',
    });

    // Exactly one per wait: running and flushing again sends nothing more.
    expect(await runtime.runUntilIdle()).toBe(0);
    await runtime.flushNotifications();
    expect(r.requests).toHaveLength(4);
    expect(readDb(dbFile, 'SELECT id FROM notifications WHERE delivered_at IS NULL')).toHaveLength(0);
  });

  it('retries a failing receiver and records every attempt', async () => {
    const r = await receiver();
    r.script({ status: 500 }, 2);
    const { agent, model } = waitingAgent();
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, env: notifyEnv(r) });
    const thread = await runtime.launch({ agent: 'payer', input: 'approval' });
    await runtime.runThread(thread.id);
    const id = `${thread.id}:${ofType(await runtime.loadEvents(thread.id), 'approval_requested')[0]!.seq}`;

    await runtime.flushNotifications();
    expect(r.requests).toHaveLength(1);
    // Retries are due after a backoff (up to 1 s, then 2 s): flush until the receiver has said yes.
    await eventually(async () => {
      await runtime.flushNotifications();
      return r.requests.length >= 3;
    }, 10_000);
    await runtime.flushNotifications();
    expect(r.requests).toHaveLength(3);

    for (const request of r.requests) {
      expectSigned(request);
      expect(request.body.id).toBe(id);
    }
    const attempts = await runtime.store.listDeliveryAttempts(id);
    expect(attempts.map((a) => [a.attempt, a.ok, a.status, a.error])).toEqual([
      [1, false, 500, 'HTTP 500'],
      [2, false, 500, 'HTTP 500'],
      [3, true, 200, null],
    ]);
    expect(Date.parse(attempts[1]!.at)).toBeGreaterThanOrEqual(Date.parse(attempts[0]!.at));
  });

  it('is delivered by a background worker too', async () => {
    const r = await receiver();
    const { agent, model } = waitingAgent();
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, env: notifyEnv(r) });
    const worker = runtime.startWorker({ pollMs: 25 });
    const thread = await runtime.launch({ agent: 'payer', input: 'question' });
    await r.waitFor(1, 5_000);
    await worker.stop();
    expect(r.requests[0]!.body).toMatchObject({ threadId: thread.id, kind: 'question' });
    expectSigned(r.requests[0]!);
  });

  it('commits the outbox row with the waiting event: a process killed right after the append still notifies', async () => {
    const r = await receiver();
    const dir = tempDir();
    const env = testEnv({ dbFile: `${dir}/twelve.db`, extra: notifyEnv(r) });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/hitl-crash-child.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    expect(exit.signal, output).toBe('SIGKILL');
    expect(r.requests).toHaveLength(0);

    const dbFile = `${dir}/twelve.db`;
    const [thread] = readDb<{ id: string; status: string }>(dbFile, 'SELECT id, status FROM threads');
    expect(thread!.status).toBe('awaiting_approval');
    const [last] = readDb<{ seq: number; type: string; at: string }>(dbFile, 'SELECT seq, type, at FROM events WHERE thread_id = ? ORDER BY seq DESC LIMIT 1', thread!.id);
    expect(last!.type).toBe('approval_requested');
    const [row] = readDb<{ id: string; created_at: string; attempts: number; delivered_at: string | null }>(dbFile, 'SELECT id, created_at, attempts, delivered_at FROM notifications');
    // Same transaction: the row carries the event's commit time and was never attempted.
    expect(row).toEqual({ id: `${thread!.id}:${last!.seq}`, created_at: last!.at, attempts: 0, delivered_at: null });

    // The next process (here, this one) delivers it.
    const agent = scriptedAgent({ name: 'crashy', tools: [payTool({ name: 'transfer', approval: 'always' }).tool] });
    const { runtime } = makeRuntime({ agents: [agent], dir, env: notifyEnv(r) });
    await runtime.flushNotifications();
    expect(r.requests).toHaveLength(1);
    expectSigned(r.requests[0]!);
    expect(r.requests[0]!.body).toMatchObject({ id: row!.id, threadId: thread!.id, kind: 'approval', agent: 'crashy', data: { callId: 'call_t', tool: 'transfer', args: { amount: 99 } } });
  }, 30_000);

  it('writes no outbox row when the append itself fails (a lost race)', async () => {
    const r = await receiver();
    const { agent, model } = waitingAgent();
    const { runtime, dbFile } = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, env: notifyEnv(r) });
    const thread = await runtime.launch({ agent: 'payer', input: 'approval' });
    const payload = { id: `${thread.id}:99`, threadId: thread.id, agent: 'payer', seq: 99, kind: 'approval' as const, summary: 'x', data: {}, at: new Date().toISOString() };
    const summary = { status: 'awaiting_approval' as const, modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const error = await runtime.store
      .append(thread.id, 5, thread.releaseId, [event('paused', { by: 'x' })], summary, { notifications: [payload] })
      .catch((e: unknown) => e);
    expect(TwelveError.is(error, 'store_conflict')).toBe(true);
    expect(readDb(dbFile, 'SELECT id FROM notifications')).toHaveLength(0);
    expect(await runtime.loadEvents(thread.id)).toHaveLength(1);
  });

  it('writes the outbox row without a webhook too (whichever process has one delivers it), and wants the URL and the secret together', async () => {
    const { agent, model } = waitingAgent();
    const { runtime, dbFile } = makeRuntime({ agents: [agent], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'approval' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    await runtime.flushNotifications(); // a no-op without a webhook: the row waits for a process that has one
    expect(readDb(dbFile, 'SELECT id FROM notifications')).toHaveLength(1);
    expect(readDb(dbFile, 'SELECT * FROM notification_attempts')).toHaveLength(0);

    expect(() => loadConfig({ TWELVE_NOTIFY_URL: 'http://127.0.0.1:1/hook' })).toThrow(/TWELVE_NOTIFY_URL and TWELVE_NOTIFY_SECRET go together/);
    expect(() => loadConfig({ TWELVE_NOTIFY_URL: 'http://127.0.0.1:1/hook', TWELVE_NOTIFY_SECRET: 'short' })).toThrow(/TWELVE_NOTIFY_SECRET: must be at least 16 characters/);
  });
});
