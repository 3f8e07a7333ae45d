/** `twelve eval add`: a real thread of the refunds example becomes a case, with its recorded tool results as fixtures. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseFromThread } from '../src/eval/case-from-thread.js';
import { readSuiteFile } from '../src/eval/suite-file.js';
import { keys, startApi, waitForStatus } from './support/api.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

function dbEnv() {
  const dir = tempDir();
  return { dir, env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'), TWELVE_MODEL_MODE: 'replay' } };
}

describe('twelve eval add', () => {
  it('turns a completed refunds thread into a case: input, fixtures from its tool results, its output and (--expect-tools) the tools it called', async () => {
    const { dir, env } = dbEnv();
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt', '--json'], { env });
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const threadId = events[0].threadId as string;
    const output = events.at(-1).data.output;
    const suite = join(dir, 'suite.jsonl');

    const added = await runCli(['eval', 'add', threadId, '--expect-tools', '--suite', suite], { env });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = `refunds-${threadId.slice(-6)}`;
    expect(added.stdout).toBe(`added case ${id} to ${suite}\n`);
    const [evalCase, ...rest] = readSuiteFile(suite);
    expect(rest).toEqual([]);
    const lookup = events.find((e) => e.type === 'tool_succeeded' && e.data.result.item);
    const refund = events.find((e) => e.type === 'tool_succeeded' && e.data.result.refundId);
    expect(evalCase).toEqual({
      id,
      input: events[0].data.input,
      fixtures: {
        tools: [
          { tool: 'lookup_order', args: { orderId: 'A-1001' }, result: lookup.data.result },
          { tool: 'issue_refund', args: { orderId: 'A-1001', amountCents: 4999, reason: expect.any(String) }, result: refund.data.result },
        ],
      },
      expect: { status: 'completed', output, tools: { called: [{ tool: 'lookup_order' }, { tool: 'issue_refund' }] } },
      source: { threadId, kind: 'thread' },
    });

    // The same thread again: the id is taken (exit 5), the file is unchanged.
    const again = await runCli(['eval', 'add', threadId, '--suite', suite], { env });
    expect(again.code).toBe(5);
    expect(again.stderr).toContain(`already has a case "${id}"`);
    expect(readSuiteFile(suite)).toHaveLength(1);
  }, 30_000);

  it('takes the expected output from --expect-output @file, and refuses an unfinished thread without one', async () => {
    const { dir, env } = dbEnv();
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-large.txt'], { env });
    expect(run.code).toBe(4);
    const threadId = run.stdout.split(/\s+/)[0]!;
    const suite = join(dir, 'suite.jsonl');
    const refused = await runCli(['eval', 'add', threadId, '--suite', suite], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`thread ${threadId} is awaiting_approval: add a finished thread, or say what it should answer with --expect-output`);

    const expected = { decision: 'declined', orderId: 'A-1005', reason: 'needs photos first' };
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
    const added = await runCli(['eval', 'add', threadId, '--suite', suite, '--expect-output', `@${join(dir, 'expected.json')}`], { env });
    expect(added.code).toBe(0);
    expect(readSuiteFile(suite)[0]).toMatchObject({ expect: { status: 'completed', output: expected }, fixtures: { tools: [{ tool: 'lookup_order' }] } });

    const bad = await runCli(['eval', 'add', threadId, '--suite', suite, '--expect-output', '{nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--expect-output: not JSON/);
  }, 30_000);
});

describe('twelve eval add against a server, and what the people of a thread become', () => {
  it('adds a case from a thread on the server (TWELVE_URL): approvals per tool and answers go to humans, not fixtures', async () => {
    const api = await startApi({ worker: true });
    const paid = (await api.call('POST', '/v1/threads', { body: { agent: 'payer', input: 'pay 250' } })).body.thread.id as string;
    await waitForStatus(api, paid, ['awaiting_approval']);
    await api.call('POST', `/v1/threads/${paid}/approvals`, { key: 'fiona', body: { approved: true } });
    await waitForStatus(api, paid, ['completed']);
    const asked = (await api.call('POST', '/v1/threads', { body: { agent: 'asker', input: 'paint it' } })).body.thread.id as string;
    await waitForStatus(api, asked, ['awaiting_human']);
    await api.call('POST', `/v1/threads/${asked}/answer`, { key: 'fiona', body: { answer: 'blue' } });
    await waitForStatus(api, asked, ['completed']);

    const suite = join(tempDir(), 'remote.jsonl');
    const env = { TWELVE_URL: api.url, TWELVE_API_KEY: keys.reader.key };
    for (const threadId of [paid, asked]) {
      const added = await runCli(['eval', 'add', threadId, '--suite', suite, '--expect-tools'], { env });
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
    }
    const [payCase, askCase] = readSuiteFile(suite);
    expect(payCase).toMatchObject({
      input: 'pay 250',
      fixtures: { tools: [{ tool: 'pay', args: { amount: 250 }, result: { paid: 250 } }] },
      humans: { approvals: { pay: 'approve' } },
      expect: { status: 'completed', output: 'paid', tools: { called: [{ tool: 'pay' }] } },
    });
    expect(askCase).toMatchObject({ input: 'paint it', humans: { answers: ['blue'] }, expect: { status: 'completed', output: 'noted' } });
    expect(askCase!.fixtures).toBeUndefined();
    expect(askCase!.expect!.tools).toBeUndefined();
    // The same, folded in process: an eval run's own thread is refused.
    const events = await api.runtime.loadEvents(paid);
    const started = { ...events[0]!, data: { ...(events[0]!.data as object), metadata: { twelveEval: true } } } as unknown as (typeof events)[number];
    expect(() => caseFromThread([started!, ...events.slice(1)])).toThrow("is an eval run's thread");
  }, 30_000);
});
