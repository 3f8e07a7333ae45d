/**
 * People's corrections become proposed eval cases: a rejection with a comment, guidance after
 * an escalation, a review edit or send-back. Each proposal is written in the same transaction
 * as the correcting event (SQLite and PostgreSQL), and its draft is a valid suite line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Runtime } from '../src/index.js';
import { defineAgent } from '../src/index.js';
import { parseEvalCase } from '../src/eval/case-schema.js';
import { proposalId } from '../src/eval/proposals.js';
import { readSuiteFile } from '../src/eval/suite-file.js';
import { lookupOrderTool } from './support/agents.js';
import { keys, startApi, waitForStatus } from './support/api.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';
import { payTool, scriptedAgent, stepModel } from './support/hitl.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { makeRuntime } from './support/runtime.js';

/** Looks an order up, pays 250 (above the 100 approval threshold), then answers. */
function refunder() {
  const pay = payTool({ approval: ({ amount }) => amount > 100 });
  const agent = scriptedAgent({ name: 'refunder', tools: [lookupOrderTool().tool, pay.tool] });
  const model = stepModel((step) =>
    step === 0 ? { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1001' }, callId: 'call_lookup' }] }
    : step === 1 ? { toolCalls: [{ tool: 'pay', args: { amount: 250 }, callId: 'call_pay' }] }
    : { text: 'declined' },
  );
  return { agents: [agent], models: { 'scripted:refunder': model } };
}

async function waitForApproval(runtime: Runtime) {
  const thread = await runtime.launch({ agent: 'refunder', input: 'Refund order A-1001 in full', metadata: { ticket: 'T-7' } });
  expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
  return thread.id;
}

async function rejectionProposesOneCase(runtime: Runtime) {
  const threadId = await waitForApproval(runtime);
  await runtime.decide(threadId, { by: 'fiona', approved: false, comment: 'over the limit for a lamp; offer a partial refund' });
  const events = await runtime.loadEvents(threadId);
  const decided = events.find((e) => e.type === 'approval_decided')!;
  const proposals = await runtime.store.listProposals({ threadId });
  expect(proposals).toHaveLength(1);
  const [proposal] = proposals;
  expect(proposal).toMatchObject({ id: proposalId(threadId, decided.seq), agent: 'refunder', seq: decided.seq, kind: 'rejection', status: 'pending', decidedBy: null });
  expect(proposal!.draft).toEqual({
    id: `refunder-rejection-${threadId.slice(-6)}-${decided.seq}`,
    input: 'Refund order A-1001 in full',
    metadata: { ticket: 'T-7' },
    fixtures: { tools: [{ tool: 'lookup_order', args: { orderId: 'A-1001' }, result: { orderId: 'A-1001', amount: 42.5, status: 'delivered' } }] },
    expect: { tools: { never: [{ tool: 'pay', args: { amount: 250 } }] } },
    // The person is replayed too: in the eval, a call like it is rejected again.
    humans: { approvals: { pay: 'reject' } },
    note: 'over the limit for a lamp; offer a partial refund',
    source: { threadId, kind: 'rejection', seq: decided.seq, by: 'fiona' },
  });
  expect(parseEvalCase(proposal!.draft, 'draft')).toEqual(proposal!.draft);
  // The thread goes on and finishes: nothing more is proposed.
  expect((await runtime.runThread(threadId)).outcome).toBe('completed');
  expect(await runtime.store.listProposals({ threadId })).toHaveLength(1);
  return threadId;
}

describe('proposals from rejections', () => {
  it('a rejection with a comment proposes exactly one pending case, written with the decision (SQLite)', async () => {
    const { runtime } = makeRuntime(refunder());
    await rejectionProposesOneCase(runtime);
  });

  it('a rejection with a comment proposes exactly one pending case, written with the decision (PostgreSQL)', async () => {
    const database = await freshPostgresDatabase();
    try {
      const { runtime } = makeRuntime({ ...refunder(), env: { TWELVE_DATABASE_URL: database.url } });
      await rejectionProposesOneCase(runtime);
      await runtime.close();
    } finally {
      await database.cleanup();
    }
  }, 30_000);

  it('a rejection without a comment, and an approval, propose nothing', async () => {
    const { runtime } = makeRuntime(refunder());
    const bare = await waitForApproval(runtime);
    await runtime.decide(bare, { by: 'fiona', approved: false });
    const approved = await waitForApproval(runtime);
    await runtime.decide(approved, { by: 'fiona', approved: true, comment: 'fine' });
    expect(await runtime.store.listProposals()).toEqual([]);
  });

  it('eval threads (launch metadata twelveEval: true) propose nothing', async () => {
    const { runtime } = makeRuntime(refunder());
    const thread = await runtime.launch({ agent: 'refunder', input: 'Refund order A-1001 in full', metadata: { twelveEval: true } });
    await runtime.runThread(thread.id);
    await runtime.decide(thread.id, { by: 'script', approved: false, comment: 'scripted rejection' });
    expect(await runtime.store.listProposals()).toEqual([]);
  });
});

describe('proposals from guidance', () => {
  it('an answer to an escalation (errors) proposes a case that must finish without a person', async () => {
    let calls = 0;
    const agent = scriptedAgent({ name: 'strict', output: z.object({ label: z.string() }), limits: { maxConsecutiveErrors: 2 } });
    const model = stepModel(() => (++calls <= 2 ? { text: 'not json' } : { text: '{"label":"billing"}' }));
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:strict': model } });
    const thread = await runtime.launch({ agent: 'strict', input: 'I was charged twice' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    await runtime.answer(thread.id, { by: 'sam', answer: 'Answer with JSON only: {"label": "..."}' });
    const resumed = (await runtime.loadEvents(thread.id)).find((e) => e.type === 'resumed')!;
    const [proposal] = await runtime.store.listProposals({ threadId: thread.id });
    expect(proposal).toMatchObject({ kind: 'guidance', seq: resumed.seq, status: 'pending' });
    expect(proposal!.draft).toMatchObject({ input: 'I was charged twice', expect: { noHuman: true }, note: 'Answer with JSON only: {"label": "..."}', source: { kind: 'guidance', by: 'sam' } });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(await runtime.store.listProposals({ threadId: thread.id })).toHaveLength(1);
  });
});

describe('proposals from output review', () => {
  // The review action is built elsewhere: these append review_requested/review_decided through a session, as it will.
  /** A writer whose answers are always reviewed, and a reviewer's decision through the real review action. */
  async function reviewed(decision: 'edited' | 'sent_back' | 'approved') {
    const echo = defineAgent({ name: 'writer', purpose: 'Writes replies, for tests', model: 'scripted:writer', prompt: { text: 'Reply to {{input}}' }, review: 'always' });
    const { runtime } = makeRuntime({ agents: [echo], models: { 'scripted:writer': stepModel(() => ({ text: 'Dear customer' })) } });
    const thread = await runtime.launch({ agent: 'writer', input: 'Where is my parcel?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_review');
    const action =
      decision === 'edited' ? { decision, output: 'Dear Kim, your parcel left today.', comment: 'use the name' }
      : decision === 'sent_back' ? { decision, feedback: 'Say when the parcel left and use the customer name' }
      : { decision };
    await runtime.review(thread.id, { by: 'rita', ...action });
    const decided = (await runtime.loadEvents(thread.id)).find((e) => e.type === 'review_decided')!;
    return { runtime, threadId: thread.id, seq: decided.seq };
  }

  it('an edited output proposes a case expecting the edit', async () => {
    const { runtime, threadId, seq } = await reviewed('edited');
    const [proposal] = await runtime.store.listProposals({ threadId });
    expect(proposal).toMatchObject({ kind: 'review_edit', seq });
    expect(proposal!.draft).toEqual({
      id: `writer-review-edit-${threadId.slice(-6)}-${seq}`,
      input: 'Where is my parcel?',
      humans: { review: 'approve' },
      expect: { output: 'Dear Kim, your parcel left today.' },
      note: 'use the name',
      source: { threadId, kind: 'review_edit', seq, by: 'rita' },
    });
  });

  it('a send-back proposes a case judged by the feedback', async () => {
    const { runtime, threadId, seq } = await reviewed('sent_back');
    const [proposal] = await runtime.store.listProposals({ threadId });
    expect(proposal).toMatchObject({ kind: 'review_send_back', seq });
    expect(proposal!.draft).toMatchObject({ expect: { judge: 'Say when the parcel left and use the customer name' }, note: 'Say when the parcel left and use the customer name' });
  });

  it('an approval in review proposes nothing', async () => {
    const { runtime, threadId } = await reviewed('approved');
    expect(await runtime.store.listProposals({ threadId })).toEqual([]);
  });
});

describe('twelve eval proposals (the refunds example)', () => {
  function dbEnv() {
    const dir = tempDir();
    return { dir, env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'), TWELVE_MODEL_MODE: 'replay', TWELVE_HUMANS: 'fiona@example.com=finance' } };
  }

  /** A refund above the approval threshold, rejected with a comment: its thread id. */
  async function rejectedRefund(env: NodeJS.ProcessEnv, comment: string) {
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-large.txt'], { env });
    expect(run.code).toBe(4);
    const threadId = run.stdout.split(/\s+/)[0]!;
    const rejected = await runCli(['reject', threadId, '--as', 'fiona@example.com', '--comment', comment], { env });
    expect(rejected.stderr).toBe('');
    expect(rejected.code).toBe(0);
    return threadId;
  }

  it('lists the proposal a rejection made, accepts it into the suite once (a second accept exits 5), dismisses another', async () => {
    const { dir, env } = dbEnv();
    const first = await rejectedRefund(env, 'leaks are repaired under warranty first; no refund above $100 without photos');
    const listed = await runCli(['eval', 'proposals', '--json'], { env });
    expect(listed.code).toBe(0);
    const [proposal, ...more] = listed.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(more).toEqual([]);
    expect(proposal).toMatchObject({ threadId: first, agent: 'refunds', kind: 'rejection', status: 'pending' });
    // The model's free-text reason is left out: it pins the order and the amount.
    expect(proposal.draft.expect).toEqual({ tools: { never: [{ tool: 'issue_refund', args: { orderId: 'A-1005', amountCents: 24900 } }] } });
    expect(proposal.draft.fixtures.tools).toEqual([{ tool: 'lookup_order', args: { orderId: 'A-1005' }, result: expect.objectContaining({ orderId: 'A-1005' }) }]);

    const table = await runCli(['eval', 'proposals', 'ls'], { env });
    expect(table.stdout).toMatch(new RegExp(`^${proposal.id} +refunds +rejection +${first} +fiona@example.com +leaks are repaired under warranty first`, 'm'));

    const suite = join(dir, 'evals', 'refunds.jsonl');
    const accepted = await runCli(['eval', 'proposals', 'accept', proposal.id, '--suite', suite, '--as', 'rita'], { env });
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toBe(`accepted ${proposal.id}: case ${proposal.draft.id} written to ${suite}\n`);
    expect(readSuiteFile(suite)).toEqual([proposal.draft]);

    const again = await runCli(['eval', 'proposals', 'accept', proposal.id, '--suite', suite, '--as', 'sam'], { env });
    expect(again.code).toBe(5);
    expect(again.stderr).toContain(`proposal ${proposal.id} was already accepted by rita; the first decision stands`);
    expect(readSuiteFile(suite)).toHaveLength(1);
    expect((await runCli(['eval', 'proposals'], { env })).stdout).toMatch(/^no pending proposals/);

    await rejectedRefund(env, 'customer already got a replacement');
    const second = JSON.parse((await runCli(['eval', 'proposals', '--json'], { env })).stdout.trim());
    const dismissed = await runCli(['eval', 'proposals', 'dismiss', second.id, '--as', 'rita'], { env });
    expect(dismissed.stdout).toBe(`dismissed ${second.id}\n`);
    expect((await runCli(['eval', 'proposals', 'accept', second.id, '--suite', suite], { env })).code).toBe(5);
    expect(readSuiteFile(suite)).toHaveLength(1);
  }, 60_000);

  it('a rejection without a comment proposes nothing', async () => {
    const { env } = dbEnv();
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-large.txt'], { env });
    await runCli(['reject', run.stdout.split(/\s+/)[0]!, '--as', 'fiona@example.com'], { env });
    expect((await runCli(['eval', 'proposals', '--json'], { env })).stdout).toBe('');
  }, 30_000);
});

describe('proposals over the API', () => {
  async function rejectedPayment(api: Awaited<ReturnType<typeof startApi>>, comment: string) {
    const launched = await api.call('POST', '/v1/threads', { body: { agent: 'payer', input: 'pay 250' } });
    const threadId = launched.body.thread.id as string;
    await waitForStatus(api, threadId, ['awaiting_approval']);
    const decided = await api.call('POST', `/v1/threads/${threadId}/approvals`, { key: 'fiona', body: { approved: false, comment } });
    expect(decided.status).toBe(200);
    return threadId;
  }

  it('lists, accepts into the server project (once), refuses a suite outside it, and dismisses', async () => {
    const projectDir = tempDir();
    const api = await startApi({ worker: true, server: { projectDir } });
    const threadId = await rejectedPayment(api, 'pay at most 100 without a manager');
    const listed = await api.call('GET', `/v1/evals/proposals?status=pending&thread=${threadId}`, { key: 'reader' });
    expect(listed.status).toBe(200);
    const [proposal] = listed.body.proposals;
    expect(proposal).toMatchObject({ threadId, agent: 'payer', kind: 'rejection', draft: { note: 'pay at most 100 without a manager', source: { by: keys.fiona.name } } });

    expect((await api.call('POST', `/v1/evals/proposals/${proposal.id}/accept`, { key: 'reader', body: {} })).status).toBe(403);
    const outside = await api.call('POST', `/v1/evals/proposals/${proposal.id}/accept`, { body: { suite: '../elsewhere.jsonl' } });
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toContain('outside the project directory');
    expect(existsSync(join(projectDir, '..', 'elsewhere.jsonl'))).toBe(false);

    const accepted = await api.call('POST', `/v1/evals/proposals/${proposal.id}/accept`, { body: {} });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ suite: join('evals', 'payer.jsonl'), written: true, proposal: { status: 'accepted', decidedBy: 'admin', suite: join('evals', 'payer.jsonl') } });
    expect(readSuiteFile(join(projectDir, 'evals', 'payer.jsonl'))).toEqual([proposal.draft]);
    const again = await api.call('POST', `/v1/evals/proposals/${proposal.id}/accept`, { body: {} });
    expect(again.status).toBe(409);
    expect(readFileSync(join(projectDir, 'evals', 'payer.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);

    const other = await rejectedPayment(api, 'wrong customer');
    const [second] = (await api.call('GET', `/v1/evals/proposals?thread=${other}`)).body.proposals;
    // Over the CLI with TWELVE_URL: listed, then dismissed under the key's name.
    const remoteEnv = { TWELVE_URL: api.url, TWELVE_API_KEY: keys.admin.key };
    const remoteList = await runCli(['eval', 'proposals', '--json'], { env: remoteEnv });
    expect(remoteList.stdout.trim().split('\n').map((line) => JSON.parse(line).id)).toEqual([second.id]);
    const dismissed = await runCli(['eval', 'proposals', 'dismiss', second.id], { env: remoteEnv });
    expect(dismissed.stdout).toBe(`dismissed ${second.id}\n`);
    expect((await api.call('GET', `/v1/evals/proposals?thread=${other}`)).body.proposals[0]).toMatchObject({ status: 'dismissed', decidedBy: 'admin' });
    const refused = await runCli(['eval', 'proposals', 'accept', second.id], { env: remoteEnv });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('already dismissed by admin');
  }, 30_000);
});
