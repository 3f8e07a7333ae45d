/**
 * The pure kernel: foldEvents, decide and renderContext, with no I/O at all. The
 * property-style section drives many generated logs through decide itself (with random
 * outcomes, crashes, escalations, budget breaches, resumes and cancels) and checks that every prefix renders to a
 * valid provider transcript.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRelease, type AgentRelease } from '../src/agent/release.js';
import { decide, defineAgent, defineTool, foldEvents, renderContext, type AgentOptions, type ContextMessage, type NewEvent, type ThreadEvent } from '../src/index.js';
import { event } from '../src/thread/events.js';
import { applyEvent, initialState } from '../src/thread/state.js';
import { ContextBuilder } from '../src/thread/render-context.js';

const lookup = defineTool({
  name: 'lookup_order',
  description: 'Find an order',
  input: z.object({ orderId: z.string() }),
  run: () => ({ ok: true }),
});
const refund = defineTool({
  name: 'refund',
  description: 'Refund an order',
  input: z.object({ orderId: z.string(), amount: z.number() }),
  run: () => 'refunded',
});

function release(options: Partial<AgentOptions<any, any>> = {}): AgentRelease {
  return createRelease(
    defineAgent({
      name: 'kernel',
      purpose: 'Exercise the pure kernel',
      model: 'scripted:kernel',
      prompt: { text: 'You are the kernel test agent. Input: {{input}}' },
      tools: [lookup, refund],
      ...options,
    } as AgentOptions<any, any>),
  );
}

/** An in-memory log: appends stamp seq/at/releaseId the way a store would. */
class Log {
  readonly events: ThreadEvent[] = [];
  constructor(readonly threadId = 'th_test') {}

  append(...events: NewEvent[]): this {
    for (const e of events) {
      this.events.push({ ...e, threadId: this.threadId, seq: this.events.length + 1, at: '2026-01-01T00:00:00.000Z', releaseId: 'rel_test' } as ThreadEvent);
    }
    return this;
  }

  get state() {
    return foldEvents(this.threadId, this.events);
  }
}

/** The clock decide sees: five minutes after every event of a Log (deadlines are compared with it). */
const now = Date.parse('2026-01-01T00:05:00.000Z');

const started = (input: unknown = 'Where is my order A-1001?') => event('thread_started', { agent: 'kernel', input });
const usage = { inputTokens: 10, outputTokens: 5 };
function modelCalled(calls: Array<{ callId: string; tool: string }> = [], text = '', extra: Partial<{ costUsd: number | null; usage: typeof usage }> = {}) {
  return event('model_called', {
    model: 'scripted:kernel',
    attempt: 1,
    fallbackIndex: 0,
    latencyMs: 1,
    usage: extra.usage ?? usage,
    costUsd: extra.costUsd ?? null,
    text,
    toolCalls: calls,
    finishReason: calls.length ? 'tool-calls' : 'stop',
    contextMessages: 2,
  });
}
const requested = (callId: string, tool = 'lookup_order', args: unknown = { orderId: 'A-1001' }, source: 'model' | 'prefetch' = 'model') =>
  event('tool_requested', { callId, tool, args, source });
const toolStarted = (callId: string, attempt = 1) => event('tool_started', { callId, idempotencyKey: `th_test:${callId}`, attempt });
const succeeded = (callId: string, result: unknown = { status: 'delivered' }) => event('tool_succeeded', { callId, result, durationMs: 1 });
const failed = (callId: string, code = 'tool_error') => event('tool_failed', { callId, error: { code, message: `${code} happened` } });
const modelFailed = () => event('model_failed', { error: { code: 'model_call_failed', message: 'HTTP 500' }, failures: [] });

describe('foldEvents', () => {
  it('derives status, open calls, steps and spend from the log alone', () => {
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'lookup_order' }, { callId: 'c2', tool: 'refund' }], '', { costUsd: 0.25 }),
      requested('c1'),
      requested('c2', 'refund', { orderId: 'A-1001', amount: 5 }),
      toolStarted('c1'),
      succeeded('c1'),
    );
    const state = log.state;
    expect(state).toMatchObject({ agent: 'kernel', input: 'Where is my order A-1001?', seq: 6, status: 'runnable', modelSteps: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.25 });
    expect(state.openCalls).toEqual(['c2']);
    expect(state.calls.get('c1')?.outcome).toEqual({ ok: true, result: { status: 'delivered' } });
    expect(state.lastReleaseId).toBe('rel_test');
  });

  it('refuses a log with a gap in its sequence numbers', () => {
    const log = new Log().append(started(), modelCalled([], 'done'));
    const gapped = [log.events[0]!, { ...log.events[1]!, seq: 3 }];
    expect(() => foldEvents('th_test', gapped)).toThrow(/seq 3 follows 1/);
  });

  it('gives the same state folded at once or one event at a time', () => {
    const log = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }]), requested('c1'), toolStarted('c1'), failed('c1'), modelFailed());
    const incremental = initialState('th_test');
    for (const e of log.events) applyEvent(incremental, e);
    expect(incremental).toEqual(log.state);
    expect(incremental.consecutiveErrors).toBe(2);
  });
});

describe('decide', () => {
  it('returns prefetch first, with arguments built from the input', () => {
    const rel = release({
      input: z.object({ orderId: z.string() }),
      prefetch: [{ tool: 'lookup_order', args: (input: { orderId: string }) => ({ orderId: input.orderId }) }],
    });
    const log = new Log().append(started({ orderId: 'B-2002' }));
    expect(decide(rel, log.state, now)).toEqual({ type: 'prefetch', calls: [{ callId: 'prefetch_1', tool: 'lookup_order', args: { orderId: 'B-2002' } }] });

    log.append(requested('prefetch_1', 'lookup_order', { orderId: 'B-2002' }, 'prefetch'));
    expect(decide(rel, log.state, now)).toEqual({ type: 'runTool', callId: 'prefetch_1', attempt: 1 });
    log.append(toolStarted('prefetch_1'), succeeded('prefetch_1'));
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });
  });

  it('fails the thread with prefetch_failed when prefetch arguments cannot be built', () => {
    const rel = release({
      prefetch: [
        {
          tool: 'lookup_order',
          args: () => {
            throw new Error('no order id in the input');
          },
        },
      ],
    });
    expect(decide(rel, new Log().append(started()).state, now)).toEqual({
      type: 'fail',
      error: { code: 'prefetch_failed', message: 'prefetch arguments could not be built: no order id in the input' },
    });
  });

  it('calls the model when nothing is open', () => {
    expect(decide(release(), new Log().append(started()).state, now)).toEqual({ type: 'callModel' });
  });

  it('runs open tool calls in the order they were requested', () => {
    const rel = release();
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'lookup_order' }, { callId: 'c2', tool: 'refund' }, { callId: 'c3', tool: 'lookup_order' }]),
      requested('c1'),
      requested('c2', 'refund'),
      requested('c3'),
    );
    const order: string[] = [];
    for (;;) {
      const decision = decide(rel, log.state, now);
      if (decision.type !== 'runTool') {
        expect(decision).toEqual({ type: 'callModel' });
        break;
      }
      order.push(decision.callId);
      log.append(toolStarted(decision.callId), succeeded(decision.callId));
    }
    expect(order).toEqual(['c1', 'c2', 'c3']);
  });

  it('re-runs an external call whose run never finished with the next attempt number, then asks a person after maxToolAttempts starts', () => {
    const rel = release();
    const log = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }]), requested('c1'), toolStarted('c1', 1));
    expect(decide(rel, log.state, now)).toEqual({ type: 'runTool', callId: 'c1', attempt: 2 });
    log.append(toolStarted('c1', 2));
    expect(decide(rel, log.state, now)).toEqual({ type: 'runTool', callId: 'c1', attempt: 3 });
    log.append(toolStarted('c1', rel.limits.maxToolAttempts));
    expect(decide(rel, log.state, now)).toEqual({ type: 'confirmTool', callId: 'c1', interrupted: 3 });
  });

  it('abandons an idempotent call after maxAttempts recorded starts (starts written before it was declared idempotent)', () => {
    const idempotent = defineTool({ name: 'lookup_order', description: 'Find an order', input: z.object({ orderId: z.string() }), effect: 'idempotent', maxAttempts: 2, run: () => ({}) });
    const rel = release({ tools: [idempotent, refund] });
    const log = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }]), requested('c1'), toolStarted('c1', 1));
    expect(decide(rel, log.state, now)).toEqual({ type: 'runTool', callId: 'c1', attempt: 2 });
    log.append(toolStarted('c1', 2));
    const decision = decide(rel, log.state, now);
    expect(decision).toMatchObject({ type: 'abandonTool', callId: 'c1', error: { code: 'tool_interrupted' } });
    expect(decision.type === 'abandonTool' && decision.error.message).toContain('2 times');
  });

  it('escalates after K consecutive errors, waits while escalated, and a resumed event resets the error count', () => {
    const rel = release({ limits: { maxConsecutiveErrors: 3 } });
    const log = new Log().append(started(), modelFailed(), modelFailed());
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });
    log.append(modelFailed());
    expect(log.state.consecutiveErrors).toBe(3);
    const escalate = decide(rel, log.state, now);
    expect(escalate.type).toBe('escalate');
    expect(escalate.type === 'escalate' && escalate.reason).toBe(
      '3 consecutive errors (limit 3); a human must look before the agent goes on. Last errors: model_call_failed: HTTP 500; model_call_failed: HTTP 500; model_call_failed: HTTP 500',
    );

    log.append(event('escalated', { reason: 'too many errors', consecutiveErrors: 3, kind: 'errors' }));
    // Escalated is not a status of its own: the thread waits for a person, and says why.
    expect(log.state).toMatchObject({ status: 'awaiting_human', waitingReason: 'escalated: too many errors', escalation: { kind: 'errors', reason: 'too many errors' } });
    expect(decide(rel, log.state, now)).toEqual({ type: 'wait', reason: 'escalated: too many errors' });
    // Still waiting however late it gets: an escalation has no deadline.
    expect(decide(rel, log.state, now + 365 * 24 * 3_600_000)).toEqual({ type: 'wait', reason: 'escalated: too many errors' });

    // A log written before escalations had kinds folds the same way.
    const older = new Log().append(started(), event('escalated', { reason: 'too many errors', consecutiveErrors: 3 }));
    expect(older.state).toMatchObject({ status: 'awaiting_human', waitingReason: 'escalated: too many errors', escalation: { kind: 'errors' } });

    log.append(event('resumed', { by: 'ops', comment: 'try again' }));
    expect(log.state.consecutiveErrors).toBe(0);
    expect(log.state.status).toBe('runnable');
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });
  });

  it('counts tool failures, invalid answers and failed model calls together, and a tool success resets the count', () => {
    const rel = release({ limits: { maxConsecutiveErrors: 2 } });
    const log = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }]), requested('c1'), failed('c1', 'invalid_json'));
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });
    log.append(modelCalled([{ callId: 'c2', tool: 'lookup_order' }]), requested('c2'), toolStarted('c2'), succeeded('c2'));
    expect(log.state.consecutiveErrors).toBe(0);
    log.append(modelCalled([], 'not json'), event('model_output_invalid', { text: 'not json', error: { code: 'invalid_json', message: 'x' } }), modelFailed());
    expect(decide(rel, log.state, now).type).toBe('escalate');
  });

  it('says in the escalation what the last errors were: the latest three, each clipped, naming the tool', () => {
    const rel = release({ limits: { maxConsecutiveErrors: 4 } });
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'refund' }]),
      event('tool_requested', { callId: 'c1', tool: 'refund', args: null, argsText: '{"orderId": ', source: 'model' }),
      event('tool_failed', { callId: 'c1', error: { code: 'invalid_json', message: 'arguments are not valid JSON (Unexpected end of JSON input); send one JSON object' } }),
      modelFailed(),
      modelCalled([{ callId: 'c2', tool: 'lookup_order' }]),
      requested('c2'),
      toolStarted('c2'),
      event('tool_failed', { callId: 'c2', error: { code: 'tool_error', message: `lookup_order: ${'the order service answered 503 '.repeat(10)}` } }),
      modelCalled([], '{"label": "spam"'),
      event('model_output_invalid', { text: '{"label": "spam"', error: { code: 'invalid_json', message: 'the final answer must be JSON matching the output schema' } }),
    );
    expect(log.state.recentErrors.map((e) => e.code)).toEqual(['model_call_failed', 'tool_error', 'invalid_json']);
    const escalate = decide(rel, log.state, now);
    expect(escalate.type === 'escalate' && escalate.reason).toMatch(
      /^4 consecutive errors \(limit 4\); a human must look before the agent goes on\. Last errors \(of 4\): model_call_failed: HTTP 500; tool_error: lookup_order: the order service answered 503 the order .*…\[\d+ characters left out\]… .*answered 503 ; invalid_json: the final answer must be JSON matching the output schema$/,
    );
    // The invalid arguments error did not start with its tool's name: the state added it.
    const first = new Log().append(...log.events.slice(0, 4).map(({ type, data }) => ({ type, data }) as NewEvent)).state;
    expect(first.recentErrors).toEqual([{ code: 'invalid_json', message: 'refund: arguments are not valid JSON (Unexpected end of JSON input); send one JSON object' }]);
    // A success ends the run of errors, and the list with it.
    expect(new Log().append(...log.events.slice(0, 8).map(({ type, data }) => ({ type, data }) as NewEvent), succeeded('c2')).state).toMatchObject({ consecutiveErrors: 0, recentErrors: [] });
  });

  it('escalates before running open calls when the error limit is reached', () => {
    const rel = release({ limits: { maxConsecutiveErrors: 1 } });
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'nope' }, { callId: 'c2', tool: 'lookup_order' }]),
      requested('c1', 'nope'),
      failed('c1', 'unknown_tool'),
      requested('c2'),
    );
    expect(decide(rel, log.state, now).type).toBe('escalate');
  });

  it('leaves the step, token and cost budgets to the runtime’s check before each model call: it never fails a thread on them', () => {
    // The runtime checks budgets with a token estimate of the request about to be sent
    // (runtime/budget.ts; see the "limits and cost" tests in providers.test.ts).
    const rel = release({ limits: { maxSteps: 2 } });
    const log = new Log().append(started());
    for (const callId of ['c1', 'c2']) {
      expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });
      log.append(modelCalled([{ callId, tool: 'lookup_order' }]), requested(callId), toolStarted(callId), succeeded(callId));
    }
    expect(log.state.modelSteps).toBe(2);
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });

    const spent = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }], '', { costUsd: 0.5, usage: { inputTokens: 900, outputTokens: 200 } }), requested('c1'), toolStarted('c1'), succeeded('c1'));
    expect(decide(release({ limits: { maxTokens: 1000 } }), spent.state, now)).toEqual({ type: 'callModel' });
    expect(decide(release({ limits: { maxCostUsd: 0.5 } }), spent.state, now)).toEqual({ type: 'callModel' });
  });

  it('waits for a person after a budget breach, until someone raises the limit; a cancel ends the thread', () => {
    const rel = release({ limits: { maxSteps: 2 } });
    const breached = () =>
      new Log().append(
        started(),
        modelCalled([{ callId: 'c1', tool: 'lookup_order' }]),
        requested('c1'),
        toolStarted('c1'),
        succeeded('c1'),
        modelCalled([{ callId: 'c2', tool: 'lookup_order' }]),
        requested('c2'),
        toolStarted('c2'),
        succeeded('c2'),
        event('budget_exceeded', { limit: 'steps', used: 2, estimate: 1, max: 2, message: 'reached the limit of 2 model steps without a final answer' }),
      );
    const log = breached();
    expect(log.state).toMatchObject({ status: 'awaiting_human', waitingReason: 'budget: reached the limit of 2 model steps without a final answer', escalation: { kind: 'budget' } });
    expect(decide(rel, log.state, now)).toEqual({ type: 'wait', reason: 'budget: reached the limit of 2 model steps without a final answer' });

    log.append(event('budget_raised', { by: 'ana@example.com', maxSteps: 5 }));
    expect(log.state).toMatchObject({ status: 'runnable', waitingReason: undefined, escalation: undefined, limits: { maxSteps: 5 } });
    expect(decide(rel, log.state, now)).toEqual({ type: 'callModel' });

    const cancelled = breached().append(event('cancelled', { by: 'ana@example.com', reason: 'not worth more steps' }));
    expect(cancelled.state).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'cancelled by ana@example.com: not worth more steps' } });
    expect(decide(rel, cancelled.state, now)).toEqual({ type: 'done' });
  });

  it('reads deadlines against the clock it is given', () => {
    const rel = release();
    const deadline = '2026-01-01T00:10:00.000Z';
    const asked = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'refund' }]),
      requested('c1', 'refund', { orderId: 'A-1001', amount: 500 }),
      event('approval_requested', { callId: 'c1', tool: 'refund', args: { orderId: 'A-1001', amount: 500 }, reason: 'large refund', approvers: [], deadline, onTimeout: 'reject' }),
    );
    expect(asked.state).toMatchObject({ status: 'awaiting_approval', wakeAt: deadline });
    expect(decide(rel, asked.state, now)).toEqual({ type: 'wait', reason: 'approval for refund: large refund' });
    expect(decide(rel, asked.state, Date.parse(deadline))).toEqual({ type: 'approvalTimeout', callId: 'c1', approved: false });

    const sleeping = new Log().append(started(), modelCalled([{ callId: 'c1', tool: 'lookup_order' }]), requested('c1'), toolStarted('c1'), event('tool_sleeping', { callId: 'c1', until: deadline }));
    expect(sleeping.state).toMatchObject({ status: 'sleeping', wakeAt: deadline });
    expect(decide(rel, sleeping.state, now)).toMatchObject({ type: 'wait' });
    // A sleep is not an interrupted run: the next run is attempt 2, not an abandoned call.
    expect(decide(rel, sleeping.state, Date.parse(deadline))).toEqual({ type: 'runTool', callId: 'c1', attempt: 2 });
  });

  it('is done once the thread completed, failed or was cancelled', () => {
    const rel = release();
    expect(decide(rel, new Log().append(started(), modelCalled([], 'bye'), event('thread_completed', { output: 'bye' })).state, now)).toEqual({ type: 'done' });
    expect(decide(rel, new Log().append(started(), event('thread_failed', { error: { code: 'prefetch_failed', message: 'x' } })).state, now)).toEqual({ type: 'done' });
    expect(decide(rel, new Log().append(started(), event('cancelled', { by: 'ops' })).state, now)).toEqual({ type: 'done' });
  });
});

describe('renderContext', () => {
  it('renders the system prompt from the template, the input as the user turn, and tool turns in order', () => {
    const log = new Log().append(
      started('Where is A-1001?'),
      modelCalled([{ callId: 'c1', tool: 'lookup_order' }], 'Let me look.'),
      requested('c1'),
      toolStarted('c1'),
      succeeded('c1', { status: 'delivered' }),
      modelCalled([], 'It was delivered.'),
    );
    expect(renderContext(release(), log.events)).toEqual([
      { role: 'system', content: 'You are the kernel test agent. Input: Where is A-1001?' },
      { role: 'user', content: [{ type: 'text', text: 'Where is A-1001?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup_order', input: { orderId: 'A-1001' } },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'lookup_order', output: { type: 'json', value: { status: 'delivered' } } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'It was delivered.' }] },
    ]);
  });

  it('gives pending, failed and rejected calls a result so the transcript never dangles', () => {
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'lookup_order' }, { callId: 'c2', tool: 'nope' }, { callId: 'c3', tool: 'refund' }, { callId: 'c4', tool: 'lookup_order' }]),
      requested('c1'),
      requested('c2', 'nope'),
      failed('c2', 'unknown_tool'),
      event('tool_requested', { callId: 'c3', tool: 'refund', args: null, argsText: '{"orderId": ', source: 'model' }),
      failed('c3', 'invalid_json'),
      requested('c4'),
      toolStarted('c1'),
      failed('c1', 'tool_error'),
      toolStarted('c4'),
    );
    const messages = renderContext(release(), log.events);
    const toolMessage = messages[3]!;
    expect(toolMessage.role).toBe('tool');
    const outputs = (toolMessage.content as Array<{ toolCallId: string; output: { type: string; value: unknown } }>).map((part) => [part.toolCallId, part.output]);
    expect(outputs).toEqual([
      ['c1', { type: 'error-text', value: 'tool_error: tool_error happened' }],
      ['c2', { type: 'error-text', value: 'unknown_tool: unknown_tool happened' }],
      ['c3', { type: 'error-text', value: 'invalid_json: invalid_json happened\nThe arguments you sent (12 characters): {"orderId": ' }],
      ['c4', { type: 'text', value: expect.stringContaining('pending') }],
    ]);
    // A call whose arguments were not JSON is shown with empty arguments, never with null (providers
    // need an object there); the text the model sent is quoted with its error instead.
    const assistant = messages[2]!.content as Array<{ toolCallId?: string; input?: unknown }>;
    expect(assistant.find((part) => part.toolCallId === 'c3')?.input).toEqual({});
  });

  it('quotes malformed arguments back to the model next to invalid_json, keeping both ends of a long text', () => {
    const long = `{"orderId": "A-1001", "note": "${'x'.repeat(2_000)}", "amount": 12`;
    const log = new Log().append(
      started(),
      modelCalled([{ callId: 'c1', tool: 'refund' }]),
      event('tool_requested', { callId: 'c1', tool: 'refund', args: null, argsText: long, source: 'model' }),
      event('tool_failed', { callId: 'c1', error: { code: 'invalid_json', message: "arguments are not valid JSON (Expected ',' or '}' after property value in JSON at position 2055); send one JSON object" } }),
    );
    const value = String(((renderContext(release(), log.events)[3]!.content as Array<{ output: { value: unknown } }>)[0]!.output.value));
    const [error, quoted] = value.split('\n');
    expect(error).toBe("invalid_json: arguments are not valid JSON (Expected ',' or '}' after property value in JSON at position 2055); send one JSON object");
    expect(quoted!.startsWith(`The arguments you sent (${long.length} characters): {"orderId": "A-1001", "note": "xxx`)).toBe(true);
    // The end, where the JSON broke, is kept; the middle is left out, and says how much.
    expect(quoted!.endsWith('xxx", "amount": 12')).toBe(true);
    expect(quoted).toMatch(/ …\[\d+ characters left out\]… /);
    expect(quoted!.length).toBeLessThan(700);
  });

  it('shows an invalid answer once, then the correction request, and a human comment after a resume', () => {
    const log = new Log().append(
      started(),
      modelCalled([], '{"label":'),
      event('model_output_invalid', { text: '{"label":', error: { code: 'invalid_json', message: 'the final answer must be JSON' } }),
      event('escalated', { reason: 'x', consecutiveErrors: 3, kind: 'errors' }),
      event('resumed', { by: 'ana@example.com', comment: 'Use the label "billing".' }),
    );
    const messages = renderContext(release(), log.events);
    expect(messages.slice(2)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: '{"label":' }] },
      { role: 'user', content: [{ type: 'text', text: 'Your answer was not accepted (invalid_json): the final answer must be JSON. Answer again.' }] },
      { role: 'user', content: [{ type: 'text', text: 'A human operator (ana@example.com) says: Use the label "billing".' }] },
    ]);
  });

  it('uses the agent’s own renderContext, which receives the events and the default messages', () => {
    let seen: { events: number; defaults: number } | undefined;
    const rel = release({
      renderContext: ({ events, defaultMessages }) => {
        seen = { events: events.length, defaults: defaultMessages.length };
        return [...defaultMessages.filter((m) => m.role !== 'system'), { role: 'user', content: [{ type: 'text', text: 'custom tail' }] }];
      },
    });
    const log = new Log().append(started('hello'));
    expect(renderContext(rel, log.events)).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hello' }] },
      { role: 'user', content: [{ type: 'text', text: 'custom tail' }] },
    ]);
    expect(seen).toEqual({ events: 1, defaults: 2 });
  });
});

/** mulberry32: a tiny seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, chance: (p: number) => next() < p, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

/**
 * Generates one plausible log by asking decide what comes next and choosing a random
 * outcome for it: tool successes, failures and crashes, malformed and unknown calls,
 * failed model calls, invalid answers, escalations, budget breaches (the runtime's
 * pre-call step check, played here), and people resuming, raising the budget or
 * cancelling. Stops at a terminal event, an unanswered wait, or a length cap.
 */
function generateLog(seed: number, rel: AgentRelease): ThreadEvent[] {
  const random = prng(seed);
  const log = new Log(`th_${seed}`).append(started(random.chance(0.5) ? 'plain text input' : { orderId: 'A-1001', note: 'json input' }));
  let nextCall = 1;
  for (let guard = 0; guard < 60; guard++) {
    const state = log.state;
    const decision = decide(rel, state, now);
    switch (decision.type) {
      case 'done':
        return log.events;
      case 'wait': {
        const roll = random.next();
        if (roll < 0.2) return log.events; // nobody has answered yet
        if (roll < 0.3) log.append(event('cancelled', { by: 'ops', ...(random.chance(0.5) ? { reason: 'giving up' } : {}) }));
        else if (state.escalation?.kind === 'budget' && random.chance(0.7)) {
          const maxSteps = (state.limits.maxSteps ?? rel.limits.maxSteps) + 1 + random.int(5);
          log.append(event('budget_raised', { by: 'ops', maxSteps, ...(random.chance(0.5) ? { comment: 'a few more steps' } : {}) }));
        } else log.append(event('resumed', { by: 'ops', ...(random.chance(0.5) ? { comment: 'carry on' } : {}) }));
        break;
      }
      case 'prefetch':
        log.append(...decision.calls.map((call) => event('tool_requested', { ...call, source: 'prefetch' as const })));
        break;
      case 'runTool': {
        log.append(event('tool_started', { callId: decision.callId, idempotencyKey: `k:${decision.callId}`, attempt: decision.attempt }));
        const roll = random.next();
        if (roll < 0.55) log.append(succeeded(decision.callId, random.chance(0.5) ? { n: random.int(100) } : 'plain result'));
        else if (roll < 0.8) log.append(failed(decision.callId, random.pick(['tool_error', 'tool_timeout'])));
        // else: the worker crashed mid-run, nothing recorded
        break;
      }
      case 'abandonTool':
        log.append(event('tool_failed', { callId: decision.callId, error: decision.error }));
        break;
      case 'escalate':
        log.append(event('escalated', { reason: decision.reason, consecutiveErrors: state.consecutiveErrors, kind: 'errors' }));
        break;
      case 'fail':
        log.append(event('thread_failed', { error: decision.error }));
        break;
      case 'callModel': {
        // The runtime's step budget, checked before the call (tokens and cost need a real request to estimate).
        const maxSteps = state.limits.maxSteps ?? rel.limits.maxSteps;
        if (state.modelSteps >= maxSteps) {
          log.append(event('budget_exceeded', { limit: 'steps', used: state.modelSteps, estimate: 1, max: maxSteps, message: `reached the limit of ${maxSteps} model steps without a final answer` }));
          break;
        }
        const roll = random.next();
        if (roll < 0.15) {
          log.append(modelFailed());
        } else if (roll < 0.3) {
          log.append(modelCalled([], 'final answer'), event('thread_completed', { output: 'final answer' }));
        } else if (roll < 0.4) {
          log.append(modelCalled([], ''), event('model_output_invalid', { text: '', error: { code: 'empty_answer', message: 'empty' } }));
        } else {
          const count = 1 + random.int(3);
          const calls = Array.from({ length: count }, () => ({ callId: `call_${nextCall++}`, tool: random.pick(['lookup_order', 'refund', 'unknown_thing']) }));
          const batch: NewEvent[] = [modelCalled(calls, random.chance(0.5) ? 'thinking' : '')];
          for (const call of calls) {
            const kind = random.next();
            if (call.tool === 'unknown_thing') batch.push(requested(call.callId, call.tool), failed(call.callId, 'unknown_tool'));
            else if (kind < 0.15) batch.push(event('tool_requested', { callId: call.callId, tool: call.tool, args: null, argsText: '{', source: 'model' }), failed(call.callId, 'invalid_json'));
            else if (kind < 0.25) batch.push(requested(call.callId, call.tool, { wrong: true }), failed(call.callId, 'invalid_arguments'));
            else batch.push(requested(call.callId, call.tool));
          }
          log.append(...batch);
        }
        break;
      }
    }
  }
  return log.events;
}

/**
 * The provider contract: each tool-call turn is answered, at once, by one result per call
 * id. Returns the violations (plain checks: this runs for thousands of prefixes).
 */
function transcriptProblems(messages: ContextMessage[], events: readonly ThreadEvent[]): string[] {
  const problems: string[] = [];
  const seenCalls = new Set<string>();
  const state = foldEvents(events[0]!.threadId, events);
  for (const [index, message] of messages.entries()) {
    const previous = messages[index - 1];
    if (message.role === 'assistant' && previous?.role === 'assistant') problems.push(`two assistant turns in a row at ${index}`);
    if (message.role === 'tool' && previous?.role !== 'assistant') problems.push(`tool message ${index} does not follow an assistant turn`);
    if (message.role !== 'assistant') continue;
    const callIds = message.content.flatMap((part) => (part.type === 'tool-call' ? [part.toolCallId] : []));
    if (callIds.length === 0) continue;
    const next = messages[index + 1];
    if (next?.role !== 'tool') {
      problems.push(`assistant message ${index} with tool calls is followed by ${next?.role ?? 'nothing'}`);
      continue;
    }
    const results = (next.content as Array<{ type: string; toolCallId: string; output: { type: string; value: unknown } }>).filter((part) => part.type === 'tool-result');
    if (JSON.stringify(results.map((r) => r.toolCallId)) !== JSON.stringify(callIds)) problems.push(`message ${index + 1} does not answer ${callIds.join(', ')} in order`);
    for (const result of results) {
      if (seenCalls.has(result.toolCallId)) problems.push(`call ${result.toolCallId} shown twice`);
      seenCalls.add(result.toolCallId);
      const outcome = state.calls.get(result.toolCallId)?.outcome;
      const output = result.output;
      if (!outcome) {
        if (output.type !== 'text' || !String(output.value).includes('pending')) problems.push(`pending call ${result.toolCallId} rendered as ${JSON.stringify(output)}`);
      } else if (!outcome.ok) {
        // Malformed arguments are quoted back under the error (see "quotes malformed arguments ...").
        const argsText = state.calls.get(result.toolCallId)!.argsText;
        const quoted = argsText === undefined ? '' : `\nThe arguments you sent (${argsText.length} characters): ${argsText}`;
        if (output.type !== 'error-text' || output.value !== `${outcome.error.code}: ${outcome.error.message}${quoted}`) problems.push(`failed call ${result.toolCallId} rendered as ${JSON.stringify(output)}`);
      } else if (output.type === 'error-text') {
        problems.push(`successful call ${result.toolCallId} rendered as an error`);
      }
    }
  }
  const requested = [...state.calls.keys()].sort();
  if (JSON.stringify([...seenCalls].sort()) !== JSON.stringify(requested)) problems.push(`calls in the transcript differ from the calls requested (${requested.join(', ')})`);
  return problems;
}

describe('renderContext over generated logs', () => {
  it('always renders a valid transcript, fresh or incremental, after every event of 300 generated threads', () => {
    const plain = release();
    // A small step budget, so that breaches (and raises) are common.
    const tight = release({ limits: { maxSteps: 4 } });
    const withPrefetch = release({
      input: z.union([z.string(), z.object({ orderId: z.string() })]),
      prefetch: [
        { tool: 'lookup_order', args: () => ({ orderId: 'A-1001' }) },
        { tool: 'refund', args: () => ({ orderId: 'A-1001', amount: 1 }) },
      ],
    });
    // Prefetch that cannot build its arguments: the one way decide itself fails a thread.
    const brokenPrefetch = release({
      prefetch: [
        {
          tool: 'lookup_order',
          args: () => {
            throw new Error('no order id');
          },
        },
      ],
    });
    const outcomes = new Map<string, number>();
    const reached = new Map<string, number>();
    let eventsChecked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const rel = seed % 50 === 0 ? brokenPrefetch : seed % 3 === 0 ? withPrefetch : seed % 3 === 1 ? tight : plain;
      const events = generateLog(seed, rel);
      const final = foldEvents(events[0]!.threadId, events);
      outcomes.set(final.status, (outcomes.get(final.status) ?? 0) + 1);
      for (const type of new Set(events.map((e) => e.type))) reached.set(type, (reached.get(type) ?? 0) + 1);
      // The worker's incremental builder (one per lease) must agree with a fresh render at every step.
      const builder = new ContextBuilder(rel);
      for (let length = 1; length <= events.length; length++) {
        const prefix = events.slice(0, length);
        const rendered = renderContext(rel, prefix);
        const problems = transcriptProblems(rendered, prefix);
        if (problems.length > 0) expect(problems, `seed ${seed}, first ${length} events`).toEqual([]);
        builder.apply(events[length - 1]!);
        if (seed % 2 === 0 || length === events.length) {
          const incremental = builder.messages();
          if (JSON.stringify(incremental) !== JSON.stringify(rendered)) expect(incremental, `seed ${seed}, incremental after ${length} events`).toEqual(rendered);
        }
        eventsChecked++;
      }
    }
    // The generator really reached the interesting corners.
    expect(outcomes.get('completed')).toBeGreaterThan(10);
    expect(outcomes.get('failed')).toBeGreaterThan(0);
    expect(outcomes.get('cancelled')).toBeGreaterThan(0);
    // Left waiting for a person: some on an escalation, some on a budget breach.
    expect(outcomes.get('awaiting_human')).toBeGreaterThan(0);
    for (const type of ['escalated', 'budget_exceeded', 'budget_raised', 'resumed', 'cancelled']) expect(reached.get(type), type).toBeGreaterThan(0);
    expect(eventsChecked).toBeGreaterThan(3000);
  });
});
