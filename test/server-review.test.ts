/**
 * Output review over HTTP, on the real server: the pending review in the thread view and the
 * inbox, the status filter, POST /v1/threads/{id}/review for each decision with 400 (field
 * errors, an edit that fails the output schema), 403 (a key without the role, a person who is
 * not a reviewer) and 409 (a second decision), the typed client, and the OpenAPI document.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createClient } from '../src/client/index.js';
import { keys, startApi } from './support/api.js';
import { eventually } from './support/cli.js';
import { scriptedAgent, stepModel, userTexts } from './support/hitl.js';

const Decision = z.object({ decision: z.enum(['refunded', 'denied']), amountCents: z.number().int().nonnegative(), confidence: z.number() });

async function reviewApi() {
  const agent = scriptedAgent({
    name: 'reviewed',
    output: Decision,
    confidence: 'confidence',
    review: (output: z.infer<typeof Decision>, ctx: { confidence: number | undefined }) => (output.decision === 'refunded' && (ctx.confidence ?? 0) < 0.8 ? { required: true, reason: 'a refund below 0.8 confidence' } : false),
    reviewers: { roles: ['finance'], people: ['admin'] },
    reviewTimeoutMs: 3_600_000,
  });
  const model = stepModel((step, request) => ({ text: JSON.stringify({ decision: 'refunded', amountCents: step === 0 ? 4500 : 2000, confidence: userTexts(request).some((t) => t.includes('sure')) ? 0.95 : 0.6 }) }));
  const api = await startApi({ agents: [agent], models: { 'scripted:reviewed': model }, worker: true, hookSecrets: new Map() });
  const launch = async (input: string) => {
    const { thread } = (await api.call('POST', '/v1/threads', { body: { agent: 'reviewed', input } })).body;
    await eventually(async () => {
      const status = (await api.runtime.getThreadOrThrow(thread.id)).status;
      return status === 'awaiting_review' || status === 'completed';
    });
    return thread.id as string;
  };
  return { api, model, launch };
}

describe('POST /v1/threads/{id}/review', () => {
  it('shows the pending review in the thread, the inbox and the status filter, and approves it', async () => {
    const { api, launch } = await reviewApi();
    const id = await launch('Refund A-1');
    const sure = await launch('Refund A-2, I am sure');
    expect((await api.runtime.getThreadOrThrow(sure)).status).toBe('completed');

    const { body: thread } = await api.call('GET', `/v1/threads/${id}`, { key: 'reader' });
    expect(thread.status).toBe('awaiting_review');
    expect(thread.pending).toEqual([
      {
        kind: 'review',
        output: { decision: 'refunded', amountCents: 4500, confidence: 0.6 },
        confidence: 0.6,
        source: 'model',
        reason: 'a refund below 0.8 confidence',
        reviewers: ['finance'],
        people: ['admin'],
        deadline: expect.stringMatching(/^\d{4}-/),
        onTimeout: 'fail',
        seq: (await api.runtime.loadEvents(id)).find((e) => e.type === 'review_requested')!.seq,
      },
    ]);
    expect(thread.wakeAt).toBe(thread.pending[0].deadline);
    const inbox = (await api.call('GET', '/v1/inbox', { key: 'reader' })).body.items;
    expect(inbox.map((item: any) => [item.thread.id, item.pending[0].kind])).toEqual([[id, 'review']]);
    const listed = (await api.call('GET', '/v1/threads?status=awaiting_review', { key: 'reader' })).body.threads;
    expect(listed.map((t: any) => t.id)).toEqual([id]);

    const approved = await api.call('POST', `/v1/threads/${id}/review`, { key: 'fiona', body: { decision: 'approved', comment: 'photos match' } });
    expect(approved.status).toBe(200);
    expect(approved.body.thread).toMatchObject({ status: 'completed', output: { decision: 'refunded', amountCents: 4500, confidence: 0.6 } });
    const events = (await api.call('GET', `/v1/threads/${id}/events`, { key: 'reader' })).body.events;
    expect(events.slice(-2).map((e: any) => [e.type, e.data])).toEqual([
      ['review_decided', { decision: 'approved', by: 'fiona@example.com', comment: 'photos match' }],
      ['thread_completed', { output: { decision: 'refunded', amountCents: 4500, confidence: 0.6 }, confidence: 0.6, reviewedBy: 'fiona@example.com' }],
    ]);

    const again = await api.call('POST', `/v1/threads/${id}/review`, { key: 'admin', body: { decision: 'rejected' } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(`the answer of thread ${id} was already approved by fiona@example.com; the first decision stands`);
  });

  it('400 with field errors for a bad body or an edit that fails the output schema; 403 for a key without the role or a non-reviewer', async () => {
    const { api, launch } = await reviewApi();
    const id = await launch('Refund A-1');
    const post = (key: string, body: unknown) => api.call('POST', `/v1/threads/${id}/review`, { key, body });

    const noOutput = await post('fiona', { decision: 'edited' });
    expect(noOutput.status).toBe(400);
    expect(noOutput.body.error.details.issues).toEqual([{ path: 'output', message: 'an edit needs the corrected output' }]);
    const noFeedback = await post('fiona', { decision: 'sent_back' });
    expect(noFeedback.body.error.details.issues).toEqual([{ path: 'feedback', message: 'sending an answer back needs feedback' }]);
    const badDecision = await post('fiona', { decision: 'maybe' });
    expect([badDecision.status, badDecision.body.error.details.issues[0].path]).toEqual([400, 'decision']);
    const invalid = await post('fiona', { decision: 'edited', output: { decision: 'maybe', amountCents: -5, confidence: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toMatch(/^the edited output does not match the output schema of agent reviewed: decision: /);
    expect(invalid.body.error.details.issues.map((i: any) => i.path)).toEqual(['decision', 'amountCents']);

    const reader = await post('reader', { decision: 'approved' });
    expect(reader.status).toBe(403);
    const ops = await post('ops', { decision: 'approved' });
    expect(ops.status).toBe(403);
    // An approver key whose owner has neither the role nor the name the agent names.
    const outsider = { name: 'oscar', roles: ['approver' as const], key: 'tw_test_oscar_5e8d1c7a93b2f046' };
    await api.server.close();
    const second = await startApi({ dir: api.dir, agents: [api.runtime.release('reviewed').agent], models: {}, apiKeys: [...Object.values(keys), outsider], hookSecrets: new Map() });
    const refused = await second.call('POST', `/v1/threads/${id}/review`, { key: outsider.key, body: { decision: 'approved' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('oscar may not review the answers of reviewed: allowed are anyone with the role finance, and admin (by name); oscar has the roles approver');
    // By name: admin is named as a person.
    const edited = await second.call('POST', `/v1/threads/${id}/review`, { key: 'admin', body: { decision: 'edited', output: { decision: 'denied', amountCents: 0, confidence: 0.9 } } });
    expect(edited.status).toBe(200);
    expect(edited.body.thread.output).toEqual({ decision: 'denied', amountCents: 0, confidence: 0.9 });
  });

  it('the typed client sends back and rejects; the OpenAPI document describes the route', async () => {
    const { api, launch, model } = await reviewApi();
    const id = await launch('Refund A-1');
    const client = createClient({ url: api.url, apiKey: keys.fiona.key });
    const back = await client.review(id, { decision: 'sent_back', feedback: 'Only the broken item' });
    expect(back.thread.status).toBe('runnable');
    await eventually(async () => model.calls.length === 2 && (await client.getThread(id)).status === 'awaiting_review');
    expect(userTexts(model.calls[1]).at(-1)).toBe('A reviewer (fiona@example.com) sent your answer back: Only the broken item. Answer again.');
    const rejected = await client.review(id, { decision: 'rejected', comment: 'still wrong' });
    expect(rejected.thread).toMatchObject({ status: 'failed', error: { code: 'review_rejected', message: 'the answer was rejected in review by fiona@example.com: still wrong' } });

    const doc = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(doc.paths['/v1/threads/{id}/review'])).toEqual(['post']);
    expect(doc.components.schemas.ReviewRequest.properties.decision.enum).toEqual(['approved', 'edited', 'sent_back', 'rejected']);
    expect(doc.components.schemas.PendingReview.properties.kind).toBeDefined();
  });
});
