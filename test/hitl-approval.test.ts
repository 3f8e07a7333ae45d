/**
 * Approvals, end to end on real SQLite files: a tool that needs approval never runs
 * without a recorded approval (checked directly, by a seeded property test over random
 * operation sequences with restarts and deadlines, through environment tightening, and
 * across a release change); decisions (approve, reject, the first one stands, who may
 * decide), and two `twelve` processes racing to decide one call.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRelease, foldEvents, loadConfig, TwelveError, type Runtime, type ThreadEvent } from '../src/index.js';
import { event, type NewEvent } from '../src/thread/events.js';
import { eventually, runCli } from './support/cli.js';
import {
  dbFileIn,
  expectTwelveError,
  gate,
  ofType,
  openRuntime,
  payTool,
  prng,
  scriptedAgent,
  sleep,
  stepModel,
  toolResults,
} from './support/hitl.js';
import { makeRuntime, startServer, typesOf } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const payOnce = (amount = 120) =>
  stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount }, callId: 'call_pay' }] } : { text: `done after ${step} steps` }));

describe('a tool whose approval is "always"', () => {
  it('never runs without a recorded approval: the thread waits, run() is not called, no tool_started', async () => {
    const pay = payTool({ approval: 'always' });
    const model = payOnce();
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });

    const thread = await runtime.launch({ agent: 'payer', input: 'Refund 120 to Sam' });
    const { outcome, thread: after } = await runtime.runThread(thread.id);

    expect(outcome).toBe('awaiting_approval');
    expect(after.status).toBe('awaiting_approval');
    expect(after.waitingReason).toBe('approval for pay: this tool always needs approval');
    expect(pay.runs).toHaveLength(0);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'approval_requested']);
    expect(ofType(events, 'approval_requested')[0]!.data).toEqual({
      callId: 'call_pay',
      tool: 'pay',
      args: { amount: 120 },
      reason: 'this tool always needs approval',
      approvers: [],
      people: [],
      onTimeout: 'reject',
    });
    // tool_requested and approval_requested were appended in one transaction: same timestamp.
    expect(events[2]!.at).toBe(events[3]!.at);

    // Running it again (another worker, a restart) changes nothing.
    expect(await runtime.runUntilIdle()).toBe(0);
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    expect(pay.runs).toHaveLength(0);
    expect(await runtime.loadEvents(thread.id)).toHaveLength(4);
    expect(model.calls).toHaveLength(1);
    expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);
  });

  it('runs once approved, with the approval recorded before tool_started', async () => {
    const pay = payTool({ approval: 'always' });
    const model = payOnce();
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'Refund 120 to Sam' });
    await runtime.runThread(thread.id);

    const decided = await runtime.decide(thread.id, { by: 'alice', approved: true, comment: 'customer is right' });
    expect(decided.status).toBe('runnable');
    expect(pay.runs).toHaveLength(0); // deciding records; running is a worker's job
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    expect(pay.runs).toEqual([expect.objectContaining({ amount: 120, callId: 'call_pay', attempt: 1 })]);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual([
      'thread_started',
      'model_called',
      'tool_requested',
      'approval_requested',
      'approval_decided',
      'tool_started',
      'tool_succeeded',
      'model_called',
      'thread_completed',
    ]);
    expect(ofType(events, 'approval_decided')[0]!.data).toEqual({ callId: 'call_pay', approved: true, by: 'alice', comment: 'customer is right' });
    expect(toolResults(model.calls[1])).toEqual([{ toolCallId: 'call_pay', toolName: 'pay', type: 'json', value: { paid: 120 } }]);
  });
});

describe('approval policies from code and the environment', () => {
  it('tightens a "never" tool to "always" with TWELVE_AGENT_<NAME>_APPROVAL_<TOOL>=always', async () => {
    const pay = payTool({ name: 'issue-refund', approval: 'never' });
    const agent = scriptedAgent({ name: 'refund-desk', tools: [pay.tool] });
    const model = stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'issue-refund', args: { amount: 5 }, callId: 'c1' }] } : { text: 'done' }));
    const { runtime } = makeRuntime({
      agents: [agent],
      models: { 'scripted:refund-desk': model },
      env: { TWELVE_AGENT_REFUND_DESK_APPROVAL_ISSUE_REFUND: 'always' },
    });
    expect(runtime.release('refund-desk').approvals.get('issue-refund')).toMatchObject({ policy: 'always', source: 'environment' });

    const thread = await runtime.launch({ agent: 'refund-desk', input: 'refund 5' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    expect(pay.runs).toHaveLength(0);
    const requested = ofType(await runtime.loadEvents(thread.id), 'approval_requested')[0]!;
    expect(requested.data.reason).toBe('an operator requires approval for every call of this tool');
  });

  it('refuses an environment value other than "always": the environment can only tighten', () => {
    const agent = scriptedAgent({ tools: [payTool({ approval: 'always' }).tool] });
    const attempt = (value: string) => {
      try {
        loadConfig({ TWELVE_AGENT_PAYER_APPROVAL_PAY: value }, [agent]);
        return undefined;
      } catch (error) {
        return error as TwelveError;
      }
    };
    const never = attempt('never');
    expect(TwelveError.is(never, 'config_invalid')).toBe(true);
    expect(never!.message).toBe(
      'invalid configuration (1 problem):\n  - TWELVE_AGENT_PAYER_APPROVAL_PAY: the environment can only tighten approval, so the value must be "always" (got "never")',
    );
    expect(attempt('ALWAYS')!.message).toContain('must be "always" (got "ALWAYS")');
    expect(attempt('always')).toBeUndefined();
    // A tool the agent does not have is named, with the ones it has.
    expect(() => loadConfig({ TWELVE_AGENT_PAYER_APPROVAL_REFUND: 'always' }, [agent])).toThrow(/TWELVE_AGENT_PAYER_APPROVAL_REFUND: agent payer has no tool "REFUND" \(tools: PAY\)/);
    // createRuntime refuses it too, before opening anything.
    expect(() => openRuntime({ agents: [agent], dbFile: dbFileIn(tempDir()), env: { TWELVE_AGENT_PAYER_APPROVAL_PAY: 'never' } })).toThrow(/can only tighten approval/);
  });

  it('gives the release a different id when an operator forces approval', () => {
    const agent = scriptedAgent({ tools: [payTool({ approval: 'never' }).tool] });
    const plain = createRelease(agent, loadConfig({}, [agent]).agents.payer);
    const forced = createRelease(agent, loadConfig({ TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' }, [agent]).agents.payer);
    expect(forced.releaseId).not.toBe(plain.releaseId);
    expect(forced.manifest.approvals).toMatchObject({ pay: { policy: 'always', source: 'environment' } });
    expect(plain.manifest.approvals).toMatchObject({ pay: { policy: 'never', source: 'code' } });
    // The same configuration gives the same id (content-addressed).
    expect(createRelease(agent, loadConfig({ TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' }, [agent]).agents.payer).releaseId).toBe(forced.releaseId);
  });

  it('asks for approval when a predicate says so, and fails safe when the predicate throws', async () => {
    const big = payTool({ approval: (args) => (args.amount > 100 ? { required: true, reason: `${args.amount} is over the 100 limit` } : false) });
    const broken = payTool({
      name: 'pay_broken',
      approval: () => {
        throw new Error('policy service down');
      },
    });
    const model = stepModel((step) =>
      step === 0
        ? {
            toolCalls: [
              { tool: 'pay', args: { amount: 50 }, callId: 'small' },
              { tool: 'pay', args: { amount: 500 }, callId: 'large' },
              { tool: 'pay_broken', args: { amount: 1 }, callId: 'broken' },
            ],
          }
        : { text: 'done' },
    );
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [big.tool, broken.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');

    const requests = ofType(await runtime.loadEvents(thread.id), 'approval_requested');
    expect(requests.map((e) => [e.data.callId, e.data.reason])).toEqual([
      ['large', '500 is over the 100 limit'],
      ['broken', 'the approval policy failed (policy service down), so approval is required'],
    ]);
    // The small payment needed no approval and ran; the others wait.
    expect(big.runs.map((r) => r.callId)).toEqual(['small']);
    expect(broken.runs).toHaveLength(0);
    // Two calls wait: a decision must name one, and a wrong name is told which ones wait.
    const unnamed = await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: true }), 'usage');
    expect(unnamed.message).toBe(`thread ${thread.id} has 2 calls waiting for approval; name one: large (pay), broken (pay_broken)`);
    const typo = await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: true, callId: 'lrage' }), 'conflict');
    expect(typo.message).toBe(`thread ${thread.id} has no call "lrage"; calls waiting for approval: large (pay), broken (pay_broken)`);
    expect(typo.details).toEqual({ callId: 'lrage', waiting: ['large', 'broken'] });
    const ungated = await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: true, callId: 'small' }), 'conflict');
    expect(ungated.message).toBe('call "small" (pay) is not one waiting for approval; calls waiting for approval: large (pay), broken (pay_broken)');
    await runtime.decide(thread.id, { by: 'alice', approved: true, callId: 'large' });
    await runtime.decide(thread.id, { by: 'alice', approved: false, callId: 'broken', comment: 'not while the policy is down' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(big.runs.map((r) => r.callId)).toEqual(['small', 'large']);
    expect(broken.runs).toHaveLength(0);
  });

  it('requests approval at run time when a call from a laxer release is continued under a stricter one', async () => {
    const dir = tempDir();
    const pay = payTool({ approval: 'never' });
    const agent = scriptedAgent({ tools: [pay.tool] });
    const model = payOnce(75);

    // Release A (no approval): the model asks for the call, then this process stops before running it.
    const a = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, dir });
    const thread = await a.runtime.launch({ agent: 'payer', input: 'pay 75' });
    const stop = new AbortController();
    a.runtime.subscribe((e) => {
      if (e.type === 'tool_requested') stop.abort();
    });
    expect((await a.runtime.runThread(thread.id, { stop: stop.signal })).outcome).toBe('interrupted');
    const releaseA = a.runtime.release('payer').releaseId;
    expect(typesOf(await a.runtime.loadEvents(thread.id))).toEqual(['thread_started', 'model_called', 'tool_requested']);
    await a.runtime.close();

    // Release B: an operator now forces approval. The run-time gate asks instead of running.
    const b = makeRuntime({ agents: [agent], models: { 'scripted:payer': model }, dir, env: { TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' } });
    const releaseB = b.runtime.release('payer').releaseId;
    expect(releaseB).not.toBe(releaseA);
    expect((await b.runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    expect(pay.runs).toHaveLength(0);
    const events = await b.runtime.loadEvents(thread.id);
    expect(events.at(-1)).toMatchObject({ type: 'approval_requested', releaseId: releaseB, data: { callId: 'call_pay', reason: 'an operator requires approval for every call of this tool' } });
    expect(ofType(events, 'tool_started')).toHaveLength(0);

    await b.runtime.decide(thread.id, { by: 'alice', approved: true });
    expect((await b.runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(pay.runs).toHaveLength(1);
  });
});

describe('a call interrupted mid-run and then gated by a stricter release', () => {
  it('tells the model that an interrupted call may have run when the re-run is then rejected', async () => {
    const dir = tempDir();
    const dbFile = dbFileIn(dir);
    const hang = { started: gate(), release: gate() };
    const pay = payTool({
      approval: 'never',
      run: async (_input, ctx) => {
        if (ctx.attempt === 1) {
          hang.started.resolve();
          await hang.release.promise;
        }
        return { ok: true };
      },
    });
    const agent = scriptedAgent({ tools: [pay.tool] });
    const model = payOnce(30);

    // Release A needs no approval: attempt 1 starts (and pays), then the process dies mid-run.
    const a = openRuntime({ agents: [agent], models: { 'scripted:payer': model }, dbFile, leaseMs: 50 });
    const thread = await a.launch({ agent: 'payer', input: 'pay 30' });
    const running = a.runThread(thread.id).catch(() => 'died');
    await hang.started.promise;
    await a.close();
    hang.release.reject(new Error('process died'));
    await running;
    await sleep(80);
    expect(pay.effects.size).toBe(1);

    // Release B forces approval: the re-run is gated, and a person rejects it.
    const b = openRuntime({ agents: [agent], models: { 'scripted:payer': model }, dbFile, env: { TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' } });
    try {
      expect((await b.runThread(thread.id)).outcome).toBe('awaiting_approval');
      await b.decide(thread.id, { by: 'alice', approved: false, comment: 'stop paying' });
      expect((await b.runThread(thread.id)).outcome).toBe('completed');
      const events = await b.loadEvents(thread.id);
      expect(ofType(events, 'tool_started').map((e) => e.data.attempt)).toEqual([1]); // nothing ran after the rejection
      expect(pay.runs).toHaveLength(1);
      // Attempt 1 started (and here, took effect): the model must not be told the call "did not run".
      const result = toolResults(model.calls.at(-1)).find((r) => r.toolCallId === 'call_pay')!;
      expect(result.type).toBe('error-text');
      expect(String(result.value)).toContain('alice');
      expect(String(result.value)).not.toContain('It did not run');
    } finally {
      await b.close();
    }
  });
});

describe('approval safety over random operation sequences (seeded property test)', () => {
  type Policy = 'always' | 'never' | 'predicate' | 'throws';
  type Op = 'run' | 'runStopped' | 'approve' | 'reject' | 'approveTwice' | 'crash' | 'deadline' | 'decideLate' | 'crashMidTool';
  const threshold = 50;
  const leaseMs = 40;
  /** Decisions refused for coming after the deadline, over every scenario (the generator must reach that case). */
  let lateRefusals = 0;
  const opWeights: Array<[Op, number]> = [
    ['run', 6],
    ['runStopped', 2],
    ['approve', 4],
    ['reject', 2],
    ['approveTwice', 2],
    ['crash', 2],
    ['deadline', 2],
    ['decideLate', 2],
    ['crashMidTool', 1],
  ];

  function scenarioOf(seed: number) {
    const rng = prng(seed);
    const policy = rng.pick<Policy>(['always', 'never', 'predicate', 'throws']);
    // undefined: no deadline; 1: a deadline that has passed by the next step; 25: one that passes while the test waits.
    const timeoutMs = rng.pick([undefined, undefined, 1, 25]);
    const onTimeout = rng.pick<'approve' | 'reject'>(['approve', 'reject']);
    const rounds = Array.from({ length: rng.int(1, 3) }, () => Array.from({ length: rng.int(1, 2) }, () => rng.int(0, 100)));
    const total = opWeights.reduce((sum, [, w]) => sum + w, 0);
    const ops = Array.from({ length: rng.int(3, 9) }, () => {
      let r = rng.next() * total;
      for (const [op, w] of opWeights) if ((r -= w) < 0) return op;
      return 'run' as Op;
    });
    return { seed, policy, timeoutMs, onTimeout, rounds, ops, rng };
  }

  async function runScenario(dir: string, seed: number) {
    const s = scenarioOf(seed);
    const { rng } = s;
    const dbFile = dbFileIn(dir, `scenario-${seed}.db`);
    const hang = { armed: false, started: gate(), release: gate() };
    const pay = payTool({
      approval:
        s.policy === 'predicate'
          ? (args) => args.amount > threshold
          : s.policy === 'throws'
            ? () => {
                throw new Error('policy down');
              }
            : s.policy,
      ...(s.timeoutMs !== undefined ? { approvalTimeoutMs: s.timeoutMs, onApprovalTimeout: s.onTimeout } : {}),
      run: async () => {
        if (hang.armed) {
          hang.armed = false;
          hang.started.resolve();
          await hang.release.promise; // the process "dies" while the tool runs
        }
        return { ok: true };
      },
    });
    const agent = scriptedAgent({ tools: [pay.tool] });
    const script = (step: number) => {
      const round = s.rounds[step];
      return round ? { toolCalls: round.map((amount, j) => ({ tool: 'pay', args: { amount }, callId: `r${step}_${j}` })) } : { text: `done after ${step} steps` };
    };
    const overrides: boolean[] = [];
    // Which release each environment makes: a restart may go back to an older release (a rollback).
    const overrideOf = new Map<string, boolean>();
    const open = (forced?: boolean): Runtime => {
      const override = forced ?? rng.chance(0.3);
      overrides.push(override);
      const opened = openRuntime({
        agents: [agent],
        models: { 'scripted:payer': stepModel(script) },
        dbFile,
        leaseMs,
        env: override ? { TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always' } : {},
      });
      overrideOf.set(opened.release('payer').releaseId, override);
      return opened;
    };
    const redeploy = (override: boolean) => open(override);
    /** The thread was last stepped by a newer release than this runtime's: it never touches it (no downgrade). */
    const newerThanUs = async (threadId: string) => {
      const t = (await runtime.getThread(threadId))!;
      const mine = runtime.release('payer').releaseId;
      if (t.releaseId === mine) return false;
      const [theirs, ours] = await Promise.all([runtime.store.getRelease(t.releaseId), runtime.store.getRelease(mine)]);
      return Boolean(theirs && ours && theirs.ordinal > ours.ordinal);
    };
    let runtime = open();
    const history: string[] = [];
    const manifests = new Map<string, Record<string, any>>();

    const pending = (events: ThreadEvent[]) => {
      const decided = new Set(ofType(events, 'approval_decided').map((e) => e.data.callId));
      return ofType(events, 'approval_requested')
        .map((e) => e.data.callId)
        .filter((callId) => !decided.has(callId));
    };

    const check = async (threadId: string) => {
      const events = await runtime.loadEvents(threadId);
      const thread = (await runtime.getThread(threadId))!;
      const folded = foldEvents(threadId, events);
      expect(thread.status, 'the thread row agrees with its log').toBe(folded.status);
      const args = new Map(ofType(events, 'tool_requested').map((e) => [e.data.callId, e.data.args as { amount: number }]));
      const decisions = new Map<string, Array<{ index: number; approved: boolean }>>();
      const requested = new Map<string, number>();
      const deadlines = new Map<string, string | undefined>();
      events.forEach((e, index) => {
        if (e.type === 'approval_requested' && !requested.has(e.data.callId)) {
          requested.set(e.data.callId, index);
          deadlines.set(e.data.callId, e.data.deadline);
        }
        if (e.type === 'approval_decided') {
          decisions.set(e.data.callId, [...(decisions.get(e.data.callId) ?? []), { index, approved: e.data.approved }]);
          // The default is never applied early (a person's decision after the deadline is checked in decideOp).
          if (e.data.by === 'timeout') expect(Date.parse(e.at), `the timeout of ${e.data.callId} is not early`).toBeGreaterThanOrEqual(Date.parse(deadlines.get(e.data.callId)!));
        }
      });
      for (const [callId, list] of decisions) expect(list, `at most one approval_decided for ${callId}`).toHaveLength(1);
      const startedCalls = new Set<string>();
      for (const [index, e] of events.entries()) {
        if (e.type !== 'tool_started') continue;
        const callId = e.data.callId;
        startedCalls.add(callId);
        let manifest = manifests.get(e.releaseId);
        if (!manifest) {
          manifest = (await runtime.store.getRelease(e.releaseId))!.manifest;
          manifests.set(e.releaseId, manifest);
        }
        const policy = manifest.approvals.pay.policy as 'always' | 'never' | 'predicate';
        const amount = args.get(callId)!.amount;
        const required = policy === 'always' || (policy === 'predicate' && (s.policy === 'throws' || amount > threshold));
        const decision = decisions.get(callId)?.[0];
        // Required by the release that started it, or requested before it started (by any release).
        if (required || (requested.get(callId) ?? Infinity) < index) {
          expect(decision, `tool_started for ${callId} (seq ${e.seq}, policy ${policy}) has an approval`).toBeDefined();
          expect(decision!.index, `the approval of ${callId} comes before its tool_started`).toBeLessThan(index);
        }
        if (decision && !decision.approved) {
          // Nothing runs after a rejection. A start BEFORE it is only possible for an attempt that was
          // interrupted under a release that required no approval (asserted above), and then gated by a
          // stricter one; see "tells the model that an interrupted call may have run ..." for that case.
          expect(index, `rejected call ${callId} never starts after its rejection`).toBeLessThan(decision.index);
          expect(required || (requested.get(callId) ?? Infinity) < index, `rejected call ${callId} started without needing approval`).toBe(false);
        }
      }
      for (const run of pay.runs) {
        expect(
          ofType(events, 'tool_started').some((e) => e.data.callId === run.callId && e.data.attempt === run.attempt),
          `run ${run.callId}#${run.attempt} has its tool_started`,
        ).toBe(true);
      }
      expect(pay.effects.size, 'side effects = distinct calls that started').toBe(startedCalls.size);
      return { events, thread };
    };

    /** A person lets a thread held by a release move go on. */
    const resumeIfHeld = async (threadId: string) => {
      const t = (await runtime.getThread(threadId))!;
      if (t.status === 'awaiting_human' && t.waitingReason?.startsWith('release:')) await runtime.resume(threadId, { by: 'alice', comment: 'the looser policy is fine' });
    };

    /** A person decides a waiting call; `late`: only once its deadline has passed (if it has one). */
    const decideOp = async (threadId: string, approved: boolean, twice: boolean, late = false) => {
      if (await newerThanUs(threadId)) {
        const refused = await expectTwelveError(runtime.decide(threadId, { by: 'alice', approved }), 'thread_not_runnable');
        expect(refused.message).toMatch(/no downgrade/);
        history.push('(no downgrade)');
        return;
      }
      const events = await runtime.loadEvents(threadId);
      const open = pending(events);
      if (open.length === 0) {
        await expectTwelveError(runtime.decide(threadId, { by: 'alice', approved }), 'conflict');
        return;
      }
      const callId = rng.pick(open);
      const { deadline, onTimeout } = ofType(events, 'approval_requested').find((e) => e.data.callId === callId)!.data;
      if (late && deadline) {
        await sleep(Math.max(0, Date.parse(deadline) - Date.now()) + 2);
        history.push('(after the deadline)');
      }
      const before = Date.now();
      const refused = await runtime.decide(threadId, { by: 'alice', approved, callId, ...(approved ? {} : { comment: 'no' }) }).then(
        () => undefined,
        (error: unknown) => error as TwelveError,
      );
      if (deadline !== undefined && before >= Date.parse(deadline)) expect(refused, 'a decision after the deadline is refused').toBeDefined();
      if (refused && /is held for a person/.test(refused.message)) {
        // A restart on a release whose policy is looser than the one that asked: the move holds
        // the thread, and nothing but the move is recorded until a person lets it go on.
        history.push('(release hold)');
        expect(refused.message).toMatch(/approval policy always → (never|predicate) is looser/);
        await resumeIfHeld(threadId);
        return;
      }
      if (refused) {
        lateRefusals++;
        // Only for being late, and the default is then recorded in its place.
        expect(TwelveError.is(refused, 'conflict'), String(refused)).toBe(true);
        expect(refused.message).toBe(`too late: the approval deadline of call ${callId} (pay) passed at ${deadline}, and the policy default (${onTimeout}) was applied; your decision was not recorded`);
        const decided = ofType(await runtime.loadEvents(threadId), 'approval_decided').filter((e) => e.data.callId === callId);
        expect(decided.map((e) => [e.data.by, e.data.approved])).toEqual([['timeout', onTimeout === 'approve']]);
      }
      if (twice) await expectTwelveError(runtime.decide(threadId, { by: 'bob', approved: rng.chance(0.5) ? approved : !approved, callId }), 'conflict');
    };

    try {
      const thread = await runtime.launch({ agent: 'payer', input: 'pay what is owed' });
      for (const op of s.ops) {
        history.push(op);
        switch (op) {
          case 'run':
            await runtime.runUntilIdle();
            break;
          case 'runStopped': {
            // A worker told to stop right after the model asked for a call: the call is left requested, not run.
            const stop = new AbortController();
            const unsubscribe = runtime.subscribe((e) => {
              if (e.type === 'tool_requested') stop.abort();
            });
            await runtime.runUntilIdle({ stop: stop.signal });
            unsubscribe();
            break;
          }
          case 'approve':
            await decideOp(thread.id, true, false);
            break;
          case 'reject':
            await decideOp(thread.id, false, false);
            break;
          case 'approveTwice':
            await decideOp(thread.id, true, true);
            break;
          case 'decideLate':
            await decideOp(thread.id, rng.chance(0.5), rng.chance(0.3), true);
            break;
          case 'crash':
            await runtime.close();
            runtime = open();
            break;
          case 'deadline':
            if (s.timeoutMs !== undefined) await sleep(s.timeoutMs + 5);
            break;
          case 'crashMidTool': {
            hang.armed = true;
            hang.started = gate();
            hang.release = gate();
            const running = runtime.runUntilIdle().then(
              () => 'idle',
              () => 'died',
            );
            const first = await Promise.race([hang.started.promise.then(() => 'hung'), running]);
            hang.armed = false;
            if (first === 'hung') {
              history.push('(died mid-tool)');
              await runtime.close(); // the database goes away under the running tool
              hang.release.reject(new Error('process died'));
              await running;
              await sleep(leaseMs + 15); // its lease must expire before another process takes the thread
              runtime = open();
            }
            break;
          }
        }
        await check(thread.id);
      }
      // Liveness: approving whatever waits and running brings every scenario to completion.
      for (let i = 0; i < 30; i++) {
        const { events, thread: t } = await check(thread.id);
        if (t.status === 'completed') break;
        const open = pending(events);
        history.push(`drain:${t.status}`);
        if (await newerThanUs(thread.id)) {
          // After a rollback only the newer release moves the thread on: deploy it again.
          await runtime.close();
          runtime = redeploy(overrideOf.get(t.releaseId)!);
        } else if (t.status === 'awaiting_human') await resumeIfHeld(thread.id);
        else if (t.status === 'awaiting_approval' && open.length > 0) {
          await runtime.decide(thread.id, { by: 'closer', approved: true, callId: open[0]! }).catch((error: unknown) => {
            // A release hold recorded instead: resumed on the next round.
            if (TwelveError.is(error, 'conflict') && /is held for a person/.test(error.message)) return;
            if (!(TwelveError.is(error, 'conflict') && error.message.startsWith('too late:'))) throw error;
          });
        } else await runtime.runUntilIdle();
      }
      const { thread: final } = await check(thread.id);
      expect(final.status).toBe('completed');
      await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: true }), 'conflict');
    } catch (error) {
      const { rng: _rng, ...described } = s;
      throw new Error(
        `scenario seed ${seed} failed: ${JSON.stringify(described)}, env overrides per runtime ${JSON.stringify(overrides)}\n  ops run: ${history.join(' ')}\n  ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      await runtime.close();
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbFile}${suffix}`, { force: true });
  }

  // A failure names its seed; replay just that scenario with TWELVE_HITL_SEED=<seed> TWELVE_HITL_SCENARIOS=1.
  it('never starts a call without the approval its release requires, keeps the first decision, and counts each effect once', async () => {
    const dir = tempDir();
    const base = Number(process.env.TWELVE_HITL_SEED ?? 20_261_127);
    const count = Number(process.env.TWELVE_HITL_SCENARIOS ?? 200);
    for (let i = 0; i < count; i++) await runScenario(dir, base + i);
    if (count >= 50) expect(lateRefusals, 'scenarios where a person decided after the deadline').toBeGreaterThan(0);
  }, 60_000);
});

describe('decisions', () => {
  it('tells the model who rejected the call and why, and the model re-plans to a final answer', async () => {
    const pay = payTool({ approval: 'always' });
    const model = stepModel((step, request) => {
      if (step === 0) return { toolCalls: [{ tool: 'pay', args: { amount: 900 }, callId: 'call_pay' }] };
      const rejected = toolResults(request).find((r) => r.type === 'error-text' && String(r.value).startsWith('rejected:'));
      return { text: rejected ? 'I could not pay: a person declined it.' : 'paid' };
    });
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': model } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay 900' });
    await runtime.runThread(thread.id);

    await runtime.decide(thread.id, { by: 'alice', approved: false, comment: 'over the refund limit' });
    const { outcome, thread: done } = await runtime.runThread(thread.id);

    expect(outcome).toBe('completed');
    expect(done.output).toBe('I could not pay: a person declined it.');
    expect(pay.runs).toHaveLength(0);
    expect(model.calls).toHaveLength(2);
    expect(toolResults(model.calls[1])).toEqual([
      {
        toolCallId: 'call_pay',
        toolName: 'pay',
        type: 'error-text',
        value: 'rejected: a human (alice) rejected this call: over the refund limit. It did not run. Do not retry it unchanged.',
      },
    ]);
    const events = await runtime.loadEvents(thread.id);
    expect(ofType(events, 'tool_started')).toHaveLength(0);
    // A rejection is not an agent error: no escalation counter, no tool_failed.
    expect(ofType(events, 'tool_failed')).toHaveLength(0);
  });

  it('keeps the first decision: a second one on the same call is a conflict', async () => {
    const pay = payTool({ approval: 'always' });
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': payOnce() } });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(thread.id);

    await runtime.decide(thread.id, { by: 'alice', approved: false, comment: 'no' });
    const second = await expectTwelveError(runtime.decide(thread.id, { by: 'bob', approved: true }), 'conflict');
    expect(second.message).toBe('call call_pay (pay) was already rejected by alice; the first decision stands');
    expect(second.exitCode).toBe(5);
    const byId = await expectTwelveError(runtime.decide(thread.id, { by: 'bob', approved: true, callId: 'call_pay' }), 'conflict');
    expect(byId.message).toContain('already rejected by alice');
    const nope = await expectTwelveError(runtime.decide(thread.id, { by: 'bob', approved: true, callId: 'call_nope' }), 'conflict');
    expect(nope.message).toBe(`thread ${thread.id} has no call "call_nope"; no call is waiting for approval (status runnable)`);

    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const decisions = ofType(await runtime.loadEvents(thread.id), 'approval_decided');
    expect(decisions.map((d) => d.data)).toEqual([{ callId: 'call_pay', approved: false, by: 'alice', comment: 'no' }]);
    expect(pay.runs).toHaveLength(0);
    // And once the thread is over, deciding is a conflict too.
    expect(TwelveError.is(await runtime.decide(thread.id, { by: 'bob', approved: true }).catch((e: unknown) => e), 'conflict')).toBe(true);
  });

  it('lets only the approvers decide: plain strings are roles (TWELVE_HUMANS or the caller’s), people are named apart', async () => {
    const pay = payTool({ approval: 'always', approvers: { roles: ['finance'], people: ['alice'] } });
    const { runtime } = makeRuntime({
      agents: [scriptedAgent({ tools: [pay.tool] })],
      models: { 'scripted:payer': payOnce() },
      env: { TWELVE_HUMANS: 'carol=finance,ops; dave=support; finance=support' },
    });
    const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(thread.id);
    expect(ofType(await runtime.loadEvents(thread.id), 'approval_requested')[0]!.data).toMatchObject({ approvers: ['finance'], people: ['alice'] });

    const bob = await expectTwelveError(runtime.decide(thread.id, { by: 'bob', approved: true }), 'forbidden');
    expect(bob.message).toBe('bob may not decide on pay: allowed are anyone with the role finance, and alice (by name); bob has no roles');
    expect(bob.exitCode).toBe(2);
    await expectTwelveError(runtime.decide(thread.id, { by: 'dave', approved: true }), 'forbidden'); // support, from TWELVE_HUMANS
    await expectTwelveError(runtime.decide(thread.id, { by: { name: 'frank', roles: ['support', 'ops'] }, approved: true }), 'forbidden');
    // A person or an API key merely NAMED like a role does not have it.
    const named = await expectTwelveError(runtime.decide(thread.id, { by: 'finance', approved: true }), 'forbidden');
    expect(named.message).toBe('finance may not decide on pay: allowed are anyone with the role finance, and alice (by name); finance has the roles support');
    await expectTwelveError(runtime.decide(thread.id, { by: { name: 'finance', roles: ['approver'] }, approved: true }), 'forbidden');
    // Nor does someone who has a role named like the person.
    await expectTwelveError(runtime.decide(thread.id, { by: { name: 'erin', roles: ['alice'] }, approved: true }), 'forbidden');
    // Roles given by the caller replace the ones from TWELVE_HUMANS.
    await expectTwelveError(runtime.decide(thread.id, { by: { name: 'carol', roles: [] }, approved: true }), 'forbidden');
    // "timeout" is reserved for the runtime.
    await expectTwelveError(runtime.decide(thread.id, { by: 'timeout', approved: true }), 'forbidden');
    await expectTwelveError(runtime.decide(thread.id, { by: '  ', approved: true }), 'usage');
    expect(ofType(await runtime.loadEvents(thread.id), 'approval_decided')).toHaveLength(0);
    expect((await runtime.getThread(thread.id))!.status).toBe('awaiting_approval');

    // carol has the finance role in TWELVE_HUMANS; the decider recorded is her name.
    await runtime.decide(thread.id, { by: 'carol', approved: true });
    expect(ofType(await runtime.loadEvents(thread.id), 'approval_decided').map((e) => e.data.by)).toEqual(['carol']);

    // A { name, roles } caller (an API key with roles) and a person named in `people` work on other threads.
    const t2 = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(t2.id);
    await runtime.decide(t2.id, { by: { name: 'erin', roles: ['finance'] }, approved: true });
    const t3 = await runtime.launch({ agent: 'payer', input: 'pay' });
    await runtime.runThread(t3.id);
    await runtime.decide(t3.id, { by: 'alice', approved: false });
    expect(ofType(await runtime.loadEvents(t3.id), 'approval_decided')[0]!.data).toMatchObject({ by: 'alice', approved: false });
    expect(await runtime.runUntilIdle()).toBe(3);
    expect(pay.runs.map((r) => r.threadId).sort()).toEqual([thread.id, t2.id].sort());
  });

  it('reads an approval recorded before roles and people were apart (no `people`) as roles, unless the running release names the person', async () => {
    // The agent now says: role finance, person alice. The old event said "names or roles": ['alice', 'finance', 'ops'].
    const pay = payTool({ approval: 'always', approvers: { roles: ['finance'], people: ['alice'] } });
    const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': payOnce() } });
    const release = runtime.release('payer');
    const legacy = async () => {
      const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
      await runtime.store.append(
        thread.id,
        1,
        release.releaseId,
        [
          event('model_called', { model: 'scripted:payer', attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0, text: '', toolCalls: [{ callId: 'call_pay', tool: 'pay' }], finishReason: 'tool-calls', contextMessages: 2 }),
          event('tool_requested', { callId: 'call_pay', tool: 'pay', args: { amount: 120 }, source: 'model' }),
          // As recorded by an earlier version: no `people` field.
          { type: 'approval_requested', data: { callId: 'call_pay', tool: 'pay', args: { amount: 120 }, reason: 'always', approvers: ['alice', 'finance', 'ops'], onTimeout: 'reject' } } as NewEvent,
        ],
        { status: 'awaiting_approval', modelSteps: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, waitingReason: 'approval for pay: always' },
      );
      const state = foldEvents(thread.id, await runtime.loadEvents(thread.id));
      expect(state.status).toBe('awaiting_approval');
      expect(state.calls.get('call_pay')!.approval).toMatchObject({ approvers: ['alice', 'finance', 'ops'], people: undefined });
      return thread.id;
    };
    const id = await legacy();
    // A key named "finance" or "ops" no longer passes; the entries are roles.
    const finance = await expectTwelveError(runtime.decide(id, { by: { name: 'finance', roles: [] }, approved: true }), 'forbidden');
    expect(finance.message).toBe('finance may not decide on pay: allowed are anyone with the role finance or ops, and alice (by name); finance has no roles');
    await expectTwelveError(runtime.decide(id, { by: { name: 'ops', roles: ['support'] }, approved: true }), 'forbidden');
    // The ops role still does (the old list named it), and alice, whom the release names as a person.
    await runtime.decide(id, { by: { name: 'zoe', roles: ['ops'] }, approved: true });
    const id2 = await legacy();
    await runtime.decide(id2, { by: 'alice', approved: true });
    expect(await runtime.runUntilIdle()).toBe(2);
    expect(pay.runs).toHaveLength(2);
  });

  it('refuses a decision that arrives after the deadline, recording the policy default in its place in the same commit', async () => {
    for (const onApprovalTimeout of ['reject', 'approve'] as const) {
      const pay = payTool({ approval: 'always', approvalTimeoutMs: 150, onApprovalTimeout });
      const { runtime } = makeRuntime({ agents: [scriptedAgent({ tools: [pay.tool] })], models: { 'scripted:payer': payOnce() } });
      const thread = await runtime.launch({ agent: 'payer', input: 'pay' });
      expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
      const requested = ofType(await runtime.loadEvents(thread.id), 'approval_requested')[0]!;
      const deadline = requested.data.deadline!;
      await sleep(Date.parse(deadline) - Date.now() + 5); // no worker looks meanwhile: the thread still says awaiting_approval
      expect((await runtime.getThread(thread.id))!.status).toBe('awaiting_approval');
      const before = (await runtime.getThread(thread.id))!.seq;

      const opposite = onApprovalTimeout === 'reject';
      const late = await expectTwelveError(runtime.decide(thread.id, { by: 'alice', approved: opposite, comment: 'sorry, I was out' }), 'conflict');
      expect(late.message).toBe(
        `too late: the approval deadline of call call_pay (pay) passed at ${deadline}, and the policy default (${onApprovalTimeout}) was applied; your decision was not recorded`,
      );
      expect(late.details).toEqual({ callId: 'call_pay', deadline, applied: onApprovalTimeout });
      // One event, one commit: the timeout, not alice.
      const appended = (await runtime.loadEvents(thread.id)).slice(before);
      expect(appended.map((e) => [e.type, e.data])).toEqual([
        ['approval_decided', { callId: 'call_pay', approved: !opposite, by: 'timeout', comment: `nobody decided before the deadline; the policy default (${onApprovalTimeout}) applies` }],
      ]);
      // Asking again (or the other way) finds the timeout standing, with the same explanation.
      expect((await expectTwelveError(runtime.decide(thread.id, { by: 'bob', approved: !opposite }), 'conflict')).message).toBe(late.message);
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
      expect(pay.runs).toHaveLength(onApprovalTimeout === 'approve' ? 1 : 0);
      expect(ofType(await runtime.loadEvents(thread.id), 'approval_decided')).toHaveLength(1);
    }
  });

  it('prints the refusal when `twelve approve` comes after the deadline, and the thread goes on with the default', async () => {
    const server = await startServer();
    const dir = tempDir();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/hitl-cli-agent.js')).default], server, dir });
    server.enqueue({ toolCalls: [{ id: 'call_late', name: 'transfer_by_deadline', arguments: { amount: 7 } }] });
    const thread = await runtime.launch({ agent: 'hitl-cli', input: 'transfer 7' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    const deadline = ofType(await runtime.loadEvents(thread.id), 'approval_requested')[0]!.data.deadline!;
    await sleep(Date.parse(deadline) - Date.now() + 5);

    const approve = await runCli(['approve', thread.id, '--as', 'alice', '--config', 'test/support/hitl-cli-agent.ts'], { env: { TWELVE_DATABASE_URL: env.TWELVE_DATABASE_URL } });
    // A conflict (its exit code is the CLI's conflict code, not 0); the message says what happened instead.
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toBe(
      `twelve: too late: the approval deadline of call call_late (transfer_by_deadline) passed at ${deadline}, and the policy default (reject) was applied; your decision was not recorded\n`,
    );
    expect(ofType(await runtime.loadEvents(thread.id), 'approval_decided').map((e) => e.data)).toEqual([expect.objectContaining({ callId: 'call_late', approved: false, by: 'timeout' })]);
    server.setFallback(() => ({ text: 'not transferred' }));
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
  }, 30_000);

  it('records one decision per call when two workers and a person race at the deadline', async () => {
    const dir = tempDir();
    const pay = payTool({ approval: 'always', approvalTimeoutMs: 150, onApprovalTimeout: 'approve' });
    const agents = [scriptedAgent({ tools: [pay.tool] })];
    const models = { 'scripted:payer': payOnce() };
    const a = makeRuntime({ agents, models, dir });
    const b = makeRuntime({ agents, models, dir });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const thread = await a.runtime.launch({ agent: 'payer', input: `pay #${i}` });
      expect((await a.runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
      ids.push(thread.id);
    }
    await sleep(170); // every deadline has passed

    const workers = [a.runtime.startWorker({ pollMs: 5 }), b.runtime.startWorker({ pollMs: 5 })];
    const people = await Promise.allSettled(ids.map((id) => b.runtime.decide(id, { by: 'alice', approved: false, comment: 'late' })));
    await eventually(async () => (await a.runtime.listThreads({ status: ['completed'] })).length === ids.length, 45_000);
    await Promise.all(workers.map((w) => w.stop()));

    let approved = 0;
    for (const [index, id] of ids.entries()) {
      const events = await a.runtime.loadEvents(id);
      const decisions = ofType(events, 'approval_decided');
      expect(decisions).toHaveLength(1);
      const person = people[index]!;
      if (decisions[0]!.data.by === 'alice') {
        expect(person.status).toBe('fulfilled');
        expect(ofType(events, 'tool_started')).toHaveLength(0);
      } else {
        expect(decisions[0]!.data).toMatchObject({ by: 'timeout', approved: true });
        expect(person.status).toBe('rejected');
        expect(TwelveError.is((person as PromiseRejectedResult).reason, 'conflict')).toBe(true);
        expect(ofType(events, 'tool_started')).toHaveLength(1);
        approved++;
      }
    }
    expect(pay.runs).toHaveLength(approved);
    expect(new Set(pay.runs.map((r) => r.idempotencyKey)).size).toBe(approved);
  });

  it('records exactly one decision when `twelve approve` and `twelve reject` race in two processes', async () => {
    const server = await startServer();
    const dir = tempDir();
    const { runtime, env } = makeRuntime({ agents: [(await import('./support/hitl-cli-agent.js')).default], server, dir });
    const rounds = 4;
    const threads: string[] = [];
    for (let i = 0; i < rounds; i++) {
      server.enqueue({ toolCalls: [{ id: `call_t${i}`, name: 'transfer', arguments: { amount: 100 + i } }] });
      const thread = await runtime.launch({ agent: 'hitl-cli', input: `transfer ${100 + i}` });
      expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
      threads.push(thread.id);
    }
    const cliEnv = { TWELVE_DATABASE_URL: env.TWELVE_DATABASE_URL };
    const config = ['--config', 'test/support/hitl-cli-agent.ts'];
    const winners: string[] = [];
    for (const threadId of threads) {
      const [approve, reject] = await Promise.all([
        runCli(['approve', threadId, '--as', 'alice', ...config], { env: cliEnv }),
        runCli(['reject', threadId, '--as', 'bob', '--comment', 'too much', ...config], { env: cliEnv }),
      ]);
      const results = [approve, reject];
      const ok = results.filter((r) => r.code === 0);
      const lost = results.filter((r) => r.code !== 0);
      expect(ok, results.map((r) => `${r.code}: ${r.stdout} ${r.stderr}`).join('\n')).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.code).toBe(5);
      expect(lost[0]!.stderr).toMatch(/^twelve: call call_t\d \(transfer\) was already (approved by alice|rejected by bob); the first decision stands\n$/);
      const decisions = ofType(await runtime.loadEvents(threadId), 'approval_decided');
      expect(decisions).toHaveLength(1);
      expect(decisions[0]!.data.by).toBe(approve.code === 0 ? 'alice' : 'bob');
      expect(decisions[0]!.data.approved).toBe(approve.code === 0);
      winners.push(decisions[0]!.data.by);
    }
    // Whoever won, the thread continues from that one decision.
    server.setFallback(() => ({ text: 'done' }));
    await runtime.runUntilIdle();
    for (const [index, threadId] of threads.entries()) {
      const events = await runtime.loadEvents(threadId);
      expect(ofType(events, 'tool_started')).toHaveLength(winners[index] === 'alice' ? 1 : 0);
      expect(events.at(-1)!.type).toBe('thread_completed');
    }
  }, 60_000);
});
