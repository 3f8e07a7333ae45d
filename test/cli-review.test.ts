/**
 * `twelve review`, the real command in child processes: locally (the project's store, --as)
 * and against a server (TWELVE_URL): list, show in full, edit (with its validation error),
 * send back, approve, and the exit codes (0, 2 usage or invalid edit, 4 waiting, 5 conflict);
 * `twelve run` stops at a review with the hint, `inbox` lists it, `resume` points at review.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { scriptedAgent, stepModel } from './support/hitl.js';
import { keys, startApi, type KeyName } from './support/api.js';
import { eventually, runCli } from './support/cli.js';
import { makeRuntime, startServer, messagesOf } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const config = ['--config', 'test/support/review-cli-agent.ts'];
const answer = (decision: 'refunded' | 'denied', amountCents: number, confidence: number) => ({ text: JSON.stringify({ decision, amountCents, confidence }) });

describe('twelve review, locally', () => {
  it('run stops at a review (exit 4, with the hint); ls, show, an invalid edit, send-back, approve, and a second decision refused', async () => {
    const server = await startServer();
    const dir = tempDir();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/review-cli-agent.js')).default], server, dir });
    const cli = (...args: string[]) => runCli([...args, ...config], { env });
    server.enqueue(answer('refunded', 4500, 0.62));

    const run = await cli('run', 'review-cli', '--input', 'Refund order A-1001, it arrived broken');
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/review +this agent has every answer reviewed {2}confidence 0\.62/);
    const threadId = /^(th_\w+)/.exec(run.stdout)![1]!;
    expect(run.stderr).toContain(`twelve: ${threadId} waits for a review of its answer: this agent has every answer reviewed\n  see it in full: twelve review show ${threadId}\n`);
    expect(run.stderr).toContain(`twelve review edit ${threadId} --as <you> --output <json|@file>`);

    const ls = await cli('review');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`${threadId} +review-cli +this agent has every answer reviewed +0\\.62 +- +\\{"decision":"refunded"`));
    const show = await cli('review', 'show', threadId);
    expect(show.stdout).toContain('confidence:  0.62');
    expect(show.stdout).toContain('{\n  "decision": "refunded",\n  "amountCents": 4500,\n  "confidence": 0.62\n}');
    const inbox = await cli('inbox');
    expect(inbox.stdout).toMatch(new RegExp(`${threadId} +review-cli +awaiting_review +review: this agent has every answer reviewed`));

    const resume = await cli('resume', threadId, '--as', 'alice');
    expect(resume.code).toBe(5);
    expect(resume.stderr).toContain(`review it instead: twelve review show ${threadId}`);

    const noAs = await cli('review', 'approve', threadId);
    expect([noAs.code, noAs.stderr]).toEqual([2, 'twelve: say who reviews: --as <you> (decisions are recorded with who made them)\n']);
    const broken = await cli('review', 'edit', threadId, '--as', 'alice', '--output', '{"decision": ');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^twelve: --output is not valid JSON: /);
    const invalid = await cli('review', 'edit', threadId, '--as', 'alice', '--output', '{"decision":"maybe","amountCents":0,"confidence":1}');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^twelve: the edited output does not match the output schema of agent review-cli: decision: /);
    const noFeedback = await cli('review', 'send-back', threadId, '--as', 'alice');
    expect(noFeedback.code).toBe(2);

    const back = await cli('review', 'send-back', threadId, '--as', 'alice', '--feedback', 'Only the broken item: 20 EUR');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/reviewed +sent back by alice: "Only the broken item: 20 EUR"/);
    expect(back.stdout).toContain(`${threadId} is runnable`);

    server.enqueue(answer('refunded', 2000, 0.7));
    const again = await cli('resume', threadId, '--as', 'alice');
    expect(again.code).toBe(4);
    const last = messagesOf(server.requests.at(-1)).at(-1);
    expect(last).toMatchObject({ role: 'user', content: 'A reviewer (alice) sent your answer back: Only the broken item: 20 EUR. Answer again.' });

    const approve = await cli('review', 'approve', threadId, '--as', 'alice', '--comment', 'ok now');
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/reviewed +approved by alice: "ok now"/);
    expect(approve.stdout).toMatch(/completed +\{"decision":"refunded","amountCents":2000,"confidence":0\.7\} +\(confidence 0\.70, reviewed by alice\)/);
    expect((await runtime.getThreadOrThrow(threadId)).status).toBe('completed');

    const second = await cli('review', 'reject', threadId, '--as', 'bob');
    expect(second.code).toBe(5);
    expect(second.stderr).toBe(`twelve: the answer of thread ${threadId} was already approved by alice; the first decision stands\n`);
    expect((await cli('review')).stdout).toBe('no answer is waiting for review\n');
  }, 60_000);

  it('edits from a file, and rejects with a comment', async () => {
    const server = await startServer();
    const dir = tempDir();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/review-cli-agent.js')).default], server, dir });
    const cli = (...args: string[]) => runCli([...args, ...config], { env });
    server.enqueue(answer('refunded', 4500, 0.5), answer('refunded', 100, 0.5));
    const first = await runtime.launch({ agent: 'review-cli', input: 'Refund A-1' });
    const second = await runtime.launch({ agent: 'review-cli', input: 'Refund A-2' });
    await runtime.runThread(first.id);
    await runtime.runThread(second.id);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/edit.json`, JSON.stringify({ decision: 'denied', amountCents: 0, confidence: 0.9 }));

    const edit = await cli('review', 'edit', first.id, '--as', 'alice', '--output', `@${dir}/edit.json`, '--comment', 'outside the window', '--json');
    expect(edit.code).toBe(0);
    const appended = edit.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(appended.map((e) => e.type)).toEqual(['review_decided', 'thread_completed']);
    expect(appended[1].data).toEqual({ output: { decision: 'denied', amountCents: 0, confidence: 0.9 }, confidence: 0.9, source: 'review', reviewedBy: 'alice' });

    const reject = await cli('review', 'reject', second.id, '--as', 'alice', '--comment', 'fraud pattern');
    expect(reject.code).toBe(0);
    expect(reject.stdout).toMatch(/failed +review_rejected: the answer was rejected in review by alice: fraud pattern/);
  }, 60_000);
});

describe('two reviewers racing', () => {
  it('`twelve review approve` and `twelve review reject` in two processes at once: one decision, the other exits 5 naming it', async () => {
    const server = await startServer();
    const dir = tempDir();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/review-cli-agent.js')).default], server, dir });
    server.enqueue(answer('refunded', 4500, 0.5));
    const thread = await runtime.launch({ agent: 'review-cli', input: 'Refund A-1' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
    const [approve, reject] = await Promise.all([
      runCli(['review', 'approve', thread.id, '--as', 'alice', ...config], { env }),
      runCli(['review', 'reject', thread.id, '--as', 'bob', '--comment', 'no', ...config], { env }),
    ]);
    const codes = [approve.code, reject.code].sort();
    expect(codes).toEqual([0, 5]);
    const decided = (await runtime.loadEvents(thread.id)).filter((e) => e.type === 'review_decided');
    expect(decided).toHaveLength(1);
    const { decision, by } = decided[0]!.data as { decision: string; by: string };
    const loser = approve.code === 5 ? approve : reject;
    expect(loser.stderr).toBe(`twelve: the answer of thread ${thread.id} was already ${decision} by ${by}; the first decision stands\n`);
  }, 60_000);
});

describe('twelve review, against a server (TWELVE_URL)', () => {
  it('lists, shows and decides under the API key\'s name; a reader key is refused, a second decision is a conflict', async () => {
    const agent = scriptedAgent({
      name: 'reviewed',
      output: z.object({ decision: z.enum(['refunded', 'denied']), amountCents: z.number().int(), confidence: z.number() }),
      confidence: 'confidence',
      review: 'always',
    });
    const model = stepModel((step) => answer('refunded', step === 0 ? 4500 : 2000, 0.6));
    const api = await startApi({ agents: [agent], models: { 'scripted:reviewed': model }, worker: true, hookSecrets: new Map() });
    const as = (key: KeyName) => ({ TWELVE_URL: api.url, TWELVE_API_KEY: keys[key].key });
    const thread = (await api.call('POST', '/v1/threads', { body: { agent: 'reviewed', input: 'Refund A-1' } })).body.thread;

    await eventually(async () => (await api.runtime.getThreadOrThrow(thread.id)).status === 'awaiting_review');
    const resume = await runCli(['resume', thread.id], { env: as('ops') });
    expect([resume.code, resume.stderr]).toEqual([5, expect.stringContaining(`review it instead: twelve review show ${thread.id}`)]);
    const ls = await runCli(['review'], { env: as('reader') });
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`${thread.id} +reviewed +this agent has every answer reviewed +0\\.6`));
    const show = await runCli(['review', 'show', thread.id], { env: as('reader') });
    expect(show.stdout).toContain('"amountCents": 4500');

    const refused = await runCli(['review', 'approve', thread.id], { env: as('reader') });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^twelve: .*approver/);
    const invalid = await runCli(['review', 'edit', thread.id, '--output', '{"decision":"maybe"}'], { env: as('fiona') });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^twelve: the edited output does not match the output schema of agent reviewed: /);

    const back = await runCli(['review', 'send-back', thread.id, '--feedback', 'Only the broken item'], { env: as('fiona') });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/sent back by fiona@example\.com: "Only the broken item"/);
    // The server's worker lets the model answer again; the new answer waits for review too.
    await eventually(async () => (await api.runtime.getThreadOrThrow(thread.id)).status === 'awaiting_review' && model.calls.length === 2);
    const approve = await runCli(['review', 'approve', thread.id, '--comment', 'fine'], { env: as('fiona') });
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/completed +\{"decision":"refunded","amountCents":2000,"confidence":0\.6\} +\(confidence 0\.60, reviewed by fiona@example\.com\)/);
    const again = await runCli(['review', 'approve', thread.id], { env: as('admin') });
    expect(again.code).toBe(5);
    expect(again.stderr).toBe(`twelve: the answer of thread ${thread.id} was already approved by fiona@example.com; the first decision stands\n`);
  }, 60_000);
});
