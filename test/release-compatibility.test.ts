import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool, type AgentOptions } from '../src/index.js';
import { createRelease } from '../src/agent/release.js';
import { checkCompatibility, outputRelaxation, type ThreadInFlight } from '../src/release/compatibility.js';
import { planMove } from '../src/release/move.js';
import type { CallState } from '../src/thread/state.js';

const refundInput = z.object({ orderId: z.string(), amountCents: z.number().int() });

function refunds(change: { input?: z.ZodObject; approval?: 'always' | 'never'; approvers?: string[]; output?: z.ZodType; agent?: Partial<AgentOptions<any, any>> } = {}) {
  const refund = defineTool({
    name: 'refund',
    description: 'Refund an order',
    input: change.input ?? refundInput,
    approval: change.approval ?? 'always',
    ...(change.approvers ? { approvers: change.approvers } : {}),
    run: async () => ({ ok: true }),
  });
  return createRelease(
    defineAgent({
      name: 'refunds',
      purpose: 'Refund orders',
      model: 'openai:gpt-4o-2024-08-06',
      prompt: { text: 'You refund orders.' },
      tools: [refund],
      output: change.output ?? z.object({ decision: z.enum(['refunded', 'declined']) }),
      ...change.agent,
    } as AgentOptions<any, any>),
  ).manifest;
}

function call(callId: string, tool: string, pendingApproval = false): CallState {
  return {
    callId,
    tool,
    args: {},
    argsText: undefined,
    source: 'model',
    started: 0,
    forgiven: 0,
    slept: 0,
    sleepUntil: undefined,
    approval: pendingApproval ? { reason: 'policy', approvers: [], people: [], deadline: undefined, onTimeout: 'reject', decision: undefined } : undefined,
    question: undefined,
    child: undefined,
    outcome: undefined,
  };
}

function thread(...calls: CallState[]): ThreadInFlight {
  return { openCalls: calls.map((c) => c.callId), calls: new Map(calls.map((c) => [c.callId, c])) };
}

const idle = thread();
const base = refunds();

describe('checkCompatibility', () => {
  it('finds a prompt or model change compatible, even with calls open', () => {
    const after = refunds({ agent: { prompt: { text: 'You refund orders kindly.' }, model: 'openai:gpt-4o-2024-11-20' } });
    expect(checkCompatibility(thread(call('c1', 'refund', true)), base, after)).toEqual({ compatible: true, reasons: [] });
  });

  it('refuses an open call whose tool input schema changed or whose tool is gone', () => {
    const changed = refunds({ input: z.object({ orderId: z.string(), amountCents: z.string() }) });
    expect(checkCompatibility(thread(call('c1', 'refund')), base, changed)).toEqual({ compatible: false, reasons: ["open call c1 (refund): the tool's input schema changed"] });
    // The same change with no call open to that tool is fine.
    expect(checkCompatibility(idle, base, changed).compatible).toBe(true);
    const gone = refunds({ agent: { tools: [] } });
    expect(checkCompatibility(thread(call('c2', 'refund')), base, gone).reasons).toEqual(['open call c2 (refund): the tool is not in the new release']);
  });

  it('refuses an open call whose tool binding changed (tools bound by configuration)', () => {
    const sandboxed = { ...base, toolBindings: { refund: 'sandbox' } };
    expect(checkCompatibility(thread(call('c1', 'refund')), sandboxed, base).reasons).toEqual(["open call c1 (refund): the tool's binding changed (sandbox → live)"]);
    expect(checkCompatibility(idle, sandboxed, base).compatible).toBe(true);
  });

  it('refuses a pending approval whose policy got looser, and accepts a tighter one', () => {
    const looser = refunds({ approval: 'never' });
    expect(checkCompatibility(thread(call('c1', 'refund', true)), base, looser).reasons).toEqual(['open call c1 (refund) waits for approval: approval policy always → never is looser']);
    // Not waiting for approval: the policy applies afresh on the new release.
    expect(checkCompatibility(thread(call('c1', 'refund')), base, looser).compatible).toBe(true);
    expect(checkCompatibility(thread(call('c1', 'refund', true)), looser, base).compatible).toBe(true);
  });

  it('counts more possible approvers as looser and fewer as tighter', () => {
    const finance = refunds({ approvers: ['finance'] });
    const more = refunds({ approvers: ['finance', 'support'] });
    expect(checkCompatibility(thread(call('c1', 'refund', true)), finance, more).reasons).toEqual(['open call c1 (refund) waits for approval: more people may decide (role support)']);
    expect(checkCompatibility(thread(call('c1', 'refund', true)), more, finance).compatible).toBe(true);
    expect(checkCompatibility(thread(call('c1', 'refund', true)), finance, base).reasons[0]).toMatch(/anyone may now decide/);
  });

  it('accepts an output schema that only got wider, and refuses one that may reject an old answer', () => {
    const wider = refunds({ output: z.object({ decision: z.enum(['refunded', 'declined', 'escalated']), note: z.string().optional() }) });
    expect(checkCompatibility(idle, base, wider)).toEqual({ compatible: true, reasons: [] });
    const cases: Array<[z.ZodType, RegExp]> = [
      [z.object({ decision: z.enum(['refunded']) }), /decision: no longer allows "declined"/],
      [z.object({ decision: z.enum(['refunded', 'declined']), note: z.string() }), /note now required/],
      [z.object({ decision: z.number() }), /decision: type/],
      // An enum dropped for its plain type is wider: fine (below, outputRelaxation).
      [z.object({ decision: z.enum(['refunded', 'declined']), amount: z.number().min(1).optional() }).strict(), /constraints changed|extra/],
    ];
    for (const [output, reason] of cases) {
      const result = checkCompatibility(idle, base, refunds({ output }));
      expect(result.compatible, String(reason)).toBe(false);
      expect(result.reasons.join('; ')).toMatch(reason);
    }
    expect(outputRelaxation({ type: 'number', minimum: 0 }, { type: 'number', minimum: 1 })).toMatch(/constraints changed/);
    expect(outputRelaxation(null, { type: 'string' })).toMatch(/was free text/);
    expect(outputRelaxation({ type: 'string', enum: ['a'] }, { type: 'string' })).toBeUndefined();
  });

  it('treats a release whose manifest the store lost as incompatible, and says so', () => {
    expect(checkCompatibility(idle, undefined, base)).toEqual({ compatible: false, reasons: [expect.stringMatching(/not in the store/)] });
  });
});

describe('planMove', () => {
  const incompatible = refunds({ approval: 'never' });
  const waiting = thread(call('c1', 'refund', true));

  it('by default continues when compatible and holds when not, listing the changes', () => {
    const prompt = refunds({ agent: { prompt: { text: 'You refund orders kindly.' } } });
    expect(planMove({ thread: waiting, from: 'rel_a', to: 'rel_b', before: base, after: prompt })).toEqual({
      from: 'rel_a',
      to: 'rel_b',
      compatible: true,
      changes: [{ kind: 'prompt', detail: 'prompt text changed (+1 −1 lines)' }],
      decision: 'continue',
      reason: 'compatible: no open call, pending approval or output schema is affected',
    });
    const held = planMove({ thread: waiting, from: 'rel_a', to: 'rel_b', before: base, after: incompatible });
    expect(held).toMatchObject({ compatible: false, decision: 'hold', reason: 'incompatible: open call c1 (refund) waits for approval: approval policy always → never is looser' });
    expect(held.changes).toEqual([{ kind: 'approval', detail: 'tool refund: approval always → never (looser)' }]);
  });

  it("follows the agent's onNewRelease over the compatibility", () => {
    const goOn = refunds({ approval: 'never', agent: { onNewRelease: 'continue' } });
    expect(planMove({ thread: waiting, from: 'rel_a', to: 'rel_b', before: base, after: goOn })).toMatchObject({ compatible: false, decision: 'continue', reason: expect.stringMatching(/^the agent says onNewRelease: 'continue' \(incompatible: /) });
    const hold = refunds({ agent: { onNewRelease: 'hold' } });
    expect(planMove({ thread: idle, from: 'rel_a', to: 'rel_b', before: base, after: hold })).toMatchObject({ compatible: true, decision: 'hold', reason: "the agent says onNewRelease: 'hold' (compatible)" });
  });
});
