/**
 * Crash recovery, the hard way: a real `twelve run` process is killed with SIGKILL in
 * the middle of a model call and in the middle of the refund tool; a second process
 * resumes each thread to completion, and the ledger shows the refund exactly once.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { ThreadEvent } from '../src/thread/events.js';
import { refundsModel, type ChatMessage } from './support/example-models.js';
import { runCli, startCli, eventually } from './support/cli.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import type { RecordedRequest, ScriptedServer } from './support/scripted-openai-server.js';

const request = 'Hi, the headphones from order A-1001 arrived with a broken left speaker. Refund please. - Sam';

function setUp(server: ScriptedServer) {
  const dir = tempDir();
  const env = {
    TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`,
    REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'),
    OPENAI_API_KEY: testApiKey,
    OPENAI_BASE_URL: server.baseURL,
    // `twelve run` checks every model of the chain up front; the Anthropic fallback is never reached here.
    ANTHROPIC_API_KEY: testApiKey,
    TWELVE_MODEL_MODE: 'live',
  };
  const ledgerRows = () => {
    try {
      const db = new Database(env.REFUNDS_LEDGER_PATH, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT * FROM refunds').all() as Array<{ idempotency_key: string; order_id: string }>;
      } finally {
        db.close();
      }
    } catch {
      return [];
    }
  };
  const events = async (threadId: string): Promise<ThreadEvent[]> => {
    const store = openSqliteStore({ path: join(dir, 'twelve.db') });
    try {
      return await store.loadEvents(threadId);
    } finally {
      await store.close();
    }
  };
  return { env, ledgerRows, events };
}

/** The scripted refunds model, except that the requests `hang` picks never get an answer. */
function playRefunds(server: ScriptedServer, hang: (request: RecordedRequest, index: number) => boolean) {
  let index = 0;
  server.setFallback((recorded) => (hang(recorded, index++) ? { hang: true } : refundsModel((recorded.body?.messages ?? []) as ChatMessage[])));
}

function expectGaplessLog(events: ThreadEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

describe('crash recovery', () => {
  it('resumes a thread killed in the middle of a model call, and refunds exactly once', async () => {
    const server = await startServer();
    const { env, ledgerRows, events } = setUp(server);
    let hangArmed = true;
    // The second model call (the one that decides to refund) never returns while the first process lives.
    playRefunds(server, (_request, index) => hangArmed && index === 1);
    const first = startCli(['run', 'refunds', '--input', request], { env });
    const threadId = (await first.waitForLine(/^th_/)).split(/\s+/)[0]!;
    await eventually(() => server.requests.length >= 2);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const before = await events(threadId);
    expect(before.map((e) => e.type)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_started', 'tool_succeeded']);
    expect(ledgerRows()).toHaveLength(0);

    hangArmed = false;
    const second = await runCli(['resume', threadId], { env });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const after = await events(threadId);
    expectGaplessLog(after);
    expect(after.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: { decision: 'refunded', orderId: 'A-1001', amountCents: 4999 } } });
    expect(ledgerRows()).toHaveLength(1);
  });

  it('resumes a thread killed in the middle of the refund tool, re-running it with the same idempotency key', async () => {
    const server = await startServer();
    const { env, ledgerRows, events } = setUp(server);
    playRefunds(server, () => false);
    // The ledger writes the refund, then the "payment provider" takes a minute to answer: the kill lands in between.
    const first = startCli(['run', 'refunds', '--input', request], { env: { ...env, REFUNDS_LEDGER_LATENCY_MS: '60000' } });
    const threadId = (await first.waitForLine(/^th_/)).split(/\s+/)[0]!;
    await eventually(() => ledgerRows().length === 1, 45_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const before = await events(threadId);
    expect(before.at(-1)).toMatchObject({ type: 'tool_started', data: { attempt: 1 } });
    const key = (before.at(-1) as Extract<ThreadEvent, { type: 'tool_started' }>).data.idempotencyKey;

    const second = await runCli(['resume', threadId], { env });
    expect(second.code).toBe(0);
    const after = await events(threadId);
    expectGaplessLog(after);
    const starts = after.filter((e): e is Extract<ThreadEvent, { type: 'tool_started' }> => e.type === 'tool_started' && e.data.idempotencyKey === key);
    expect(starts.map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(after.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: { decision: 'refunded' } } });
    const rows = ledgerRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.idempotency_key).toBe(key);
  });
});
