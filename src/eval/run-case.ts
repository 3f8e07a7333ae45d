/**
 * One case as a real thread: launched on the eval runtime, run until it ends or waits, with the
 * case's script acting for the people in the loop (approvals, answers, output review, all by
 * "eval"). A wait the script does not cover ends the run there: the case is scored with that
 * status. A tool call with nothing to serve it, or a model with nothing to answer (no recording),
 * makes the case an error.
 */
import { evalMetadataKey } from './proposals.js';
import type { AgentRelease } from '../agent/release.js';
import { errorMessage } from '../errors.js';
import type { Human } from '../runtime/approval.js';
import type { Runtime } from '../runtime/runtime.js';
import { foldEvents, type ThreadState } from '../thread/state.js';
import type { ThreadEvent } from '../thread/events.js';
import { PriceTable } from '../model/prices.js';
import type { CaseBindings } from './tool-bindings.js';
import type { CaseRun, EvalCase } from './types.js';

export interface RunCaseOptions {
  runtime: Runtime;
  release: AgentRelease;
  bindings: CaseBindings;
  evalCase: EvalCase;
}

/** A case run, or why it could not run at all. */
export type CaseOutcome = { run: CaseRun; error?: string };

/** Turns of waiting and acting before giving up on a script that never lets the thread end. */
const maxHumanTurns = 50;

export async function runCase({ runtime, release, bindings, evalCase }: RunCaseOptions): Promise<CaseOutcome> {
  const started = performance.now();
  let error: string | undefined;
  const stop = new AbortController();
  let threadId: string | undefined;
  try {
    // Marked as an eval thread: people's scripted decisions in it propose no cases (src/eval/proposals.ts).
    const thread = await runtime.launch({ agent: release.agent.name, input: evalCase.input, metadata: { ...evalCase.metadata, [evalMetadataKey]: true } });
    threadId = thread.id;
    bindings.add(thread.id, {
      evalCase,
      unbound: (message) => {
        error ??= message;
        stop.abort();
      },
    });
    const answers = [...(evalCase.humans?.answers ?? [])];
    for (let turn = 0; turn < maxHumanTurns; turn++) {
      const { outcome } = await runtime.runThread(thread.id, { stop: stop.signal });
      if (error || outcome === 'interrupted') break;
      const state = foldEvents(thread.id, await runtime.loadEvents(thread.id));
      if (outcome === 'awaiting_human' && state.escalation?.kind === 'configuration') {
        // No recording to replay, no key: the case could not run, which is not the agent's answer.
        error = `the model could not be called: ${state.escalation.reason}`;
        break;
      }
      const acted = await actForPeople(runtime, release, state, evalCase, answers);
      if (typeof acted === 'string') {
        error = acted;
        break;
      }
      if (!acted) break;
    }
  } catch (caught) {
    error ??= errorMessage(caught);
  } finally {
    if (threadId) bindings.remove(threadId);
  }
  const latencyMs = Math.round(performance.now() - started);
  const events = threadId ? await runtime.loadEvents(threadId) : [];
  const state = threadId ? foldEvents(threadId, events) : undefined;
  return {
    run: {
      case: evalCase,
      threadId: threadId ?? '',
      status: state?.status ?? 'failed',
      output: state?.output ?? null,
      error: state?.error ? { code: state.error.code, message: state.error.message } : null,
      events,
      costUsd: !state ? 0 : state.unpricedCalls > 0 ? null : state.costUsd,
      listCostUsd: threadId ? await listCost(runtime, threadId, events) : 0,
      inputTokens: state?.inputTokens ?? 0,
      outputTokens: state?.outputTokens ?? 0,
      steps: state?.modelSteps ?? 0,
      latencyMs,
    },
    ...(error ? { error } : {}),
  };
}

/**
 * What a thread's model calls, and its child threads', cost at the uncached rates (every input
 * token at the input rate): null when one has no known price.
 */
async function listCost(runtime: Runtime, threadId: string, events: readonly ThreadEvent[]): Promise<number | null> {
  const prices = new PriceTable(runtime.config.prices);
  let total = 0;
  for (const event of events) {
    if (event.type !== 'model_called') continue;
    const cost = prices.cost(event.data.model, { inputTokens: event.data.usage.inputTokens, outputTokens: event.data.usage.outputTokens });
    if (cost === null) return null;
    total += cost;
  }
  for (const child of await runtime.store.listChildren(threadId)) {
    const cost = await listCost(runtime, child.id, await runtime.loadEvents(child.id));
    if (cost === null) return null;
    total += cost;
  }
  return total;
}

/** The eval acting as an approver or answerer with the roles the release asks for. */
function evalPerson(roles: string[], people: string[] | undefined): Human {
  return { name: roles.length === 0 && people?.length ? people[0]! : 'eval', roles };
}

/**
 * Acts for the people the thread waits for, per the case's script: true when it acted (run
 * again), false when the script says nothing (the case stops there), a string for an action the
 * runtime refused.
 */
async function actForPeople(runtime: Runtime, release: AgentRelease, state: ThreadState, evalCase: EvalCase, answers: string[]): Promise<boolean | string> {
  const script = evalCase.humans ?? {};
  try {
    if (state.status === 'awaiting_approval') {
      const pending = [...state.calls.values()].find((call) => call.approval && !call.approval.decision);
      if (!pending || !script.approvals) return false;
      const decision = typeof script.approvals === 'string' ? script.approvals : script.approvals[pending.tool];
      if (!decision) return false;
      const approval = pending.approval!;
      await runtime.decide(state.threadId, { by: evalPerson(approval.approvers, approval.people), approved: decision === 'approve', callId: pending.callId, comment: `eval case ${evalCase.id}` });
      return true;
    }
    if (state.status === 'awaiting_human') {
      const pending = [...state.calls.values()].find((call) => call.question && !call.outcome);
      if (!pending || answers.length === 0) return false;
      const answerers = release.agent.tools.get(pending.tool)?.human;
      await runtime.answer(state.threadId, { by: evalPerson(answerers?.answerers ?? [], answerers?.people), answer: answers.shift()!, callId: pending.callId });
      return true;
    }
    if (state.status === 'awaiting_review') {
      const decision = (script.review ?? 'approve') === 'approve' ? 'approved' : 'rejected';
      const review = state.review!;
      await runtime.act(state.threadId, evalPerson(review.reviewers, review.people), { kind: 'review', decision, comment: `eval case ${evalCase.id}` });
      return true;
    }
    return false;
  } catch (error) {
    return `the eval could not act for a person on ${state.status}: ${errorMessage(error)}`;
  }
}
