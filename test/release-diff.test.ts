import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool, type AgentOptions } from '../src/index.js';
import type { RenderContextOptions } from '../src/agent/define-agent.js';
import { createRelease } from '../src/agent/release.js';
import { diffManifests } from '../src/release/diff.js';

const refundInput = z.object({ orderId: z.string(), amountCents: z.number().int() });

function refunds(change: { input?: z.ZodObject; approval?: 'always' | 'never'; effect?: 'pure' | 'external'; output?: z.ZodType; agent?: Partial<AgentOptions<any, any>> } = {}) {
  const refund = defineTool({
    name: 'refund',
    description: 'Refund an order',
    input: change.input ?? refundInput,
    approval: change.approval ?? 'never',
    ...(change.effect ? { effect: change.effect } : {}),
    run: async () => ({ ok: true }),
  });
  return defineAgent({
    name: 'refunds',
    purpose: 'Refund orders',
    model: 'openai:gpt-4o-2024-08-06',
    prompt: { text: 'You refund orders.\nBe brief.' },
    tools: [refund],
    output: change.output ?? z.object({ decision: z.enum(['refunded', 'declined']) }),
    ...change.agent,
  } as AgentOptions<any, any>);
}

const diff = (after: ReturnType<typeof refunds>) => diffManifests(createRelease(refunds()).manifest, createRelease(after).manifest);

describe('diffManifests', () => {
  it('finds nothing between a release and itself, and the release id is stable', () => {
    expect(diff(refunds())).toEqual([]);
    expect(createRelease(refunds()).releaseId).toBe(createRelease(refunds()).releaseId);
  });

  it('names a prompt change with its line counts', () => {
    const changes = diff(refunds({ agent: { prompt: { text: 'You refund orders.\nBe kind.\nBe brief.' } } }));
    expect(changes).toEqual([expect.objectContaining({ kind: 'prompt', path: 'prompt', detail: 'prompt text changed (+1 −0 lines)' })]);
  });

  it('names a model change and a limit change', () => {
    const changes = diff(refunds({ agent: { model: 'openai:gpt-4o-2024-11-20', limits: { maxSteps: 30 } } }));
    expect(changes.map((c) => c.detail)).toEqual(['models openai:gpt-4o-2024-08-06 → openai:gpt-4o-2024-11-20', 'limits.maxSteps 20 → 30']);
  });

  it('compares tool input schemas field by field', () => {
    const changes = diff(refunds({ input: z.object({ orderId: z.number(), note: z.string().optional(), reason: z.string() }) }));
    expect(changes.filter((c) => c.kind === 'tool_input').map((c) => c.detail)).toEqual([
      'tool refund input.amountCents removed',
      'tool refund input.note added (optional)',
      'tool refund input.orderId: type string → number',
      'tool refund input.reason added (required)',
    ]);
    expect(changes.find((c) => c.detail.includes('orderId'))).toMatchObject({ path: 'tools.refund.input.orderId', tool: 'refund', before: 'string', after: 'number' });
  });

  it('says whether an approval policy got tighter or looser, and sees effects', () => {
    expect(diff(refunds({ approval: 'always' })).map((c) => c.detail)).toEqual(['tool refund: approval never → always (tighter)']);
    expect(diff(refunds({ effect: 'pure' })).map((c) => c.detail)).toEqual(['tool refund: effect external → pure']);
  });

  it('compares the output schema, enum values included', () => {
    const changes = diff(refunds({ output: z.object({ decision: z.enum(['refunded', 'declined', 'escalated']) }) }));
    expect(changes.map((c) => c.detail)).toEqual(['output.decision: allowed values ["refunded","declined"] → ["refunded","declined","escalated"]']);
  });

  it('sees a tool added and removed', () => {
    const other = defineTool({ name: 'lookup', description: 'Look up', input: z.object({ id: z.string() }), run: async () => null });
    const changes = diff(refunds({ agent: { tools: [other] } }));
    expect(changes.filter((c) => c.kind.startsWith('tool_')).map((c) => c.detail)).toEqual(['tool lookup added', 'tool refund removed']);
  });

  it('sees a renderContext function change through its source hash', () => {
    const one = refunds({ agent: { renderContext: ({ defaultMessages }: RenderContextOptions) => defaultMessages } });
    const two = refunds({ agent: { renderContext: ({ defaultMessages }: RenderContextOptions) => defaultMessages.slice(-10) } });
    const changes = diffManifests(createRelease(one).manifest, createRelease(two).manifest);
    expect(changes).toEqual([expect.objectContaining({ kind: 'code', path: 'code.renderContext' })]);
    expect(createRelease(one).releaseId).not.toBe(createRelease(two).releaseId);
  });
});
