/**
 * What a real thread gives an eval case: its input and launch metadata, its recorded tool
 * outcomes as fixtures (so side-effect tools never run for real in the eval), and how its
 * people acted (approvals per tool, answers in order). Shared by `twelve eval add` and the
 * proposals people's corrections make. Pure: it reads a folded thread state.
 */
import type { ThreadState } from '../thread/state.js';
import { stableStringify } from '../util/stable-json.js';
import type { EvalCase, HumanScript, ToolFixture } from './types.js';

/** Outcomes worth serving again: what the tool itself returned or threw (not a refusal made before it ran). */
const toolErrorCodes = new Set(['tool_error', 'tool_timeout']);

export interface ThreadCaseOptions {
  /** A call left out (the rejected one: its rejection is not a tool result). */
  excludeCallId?: string;
  /** Tools that are people (ask_human): their answers go to humans.answers, not fixtures. */
  isHumanTool?: (tool: string) => boolean;
}

/** input, metadata, fixtures and humans of a case made from `state` (the thread as far as it got). */
export function threadCaseBase(state: ThreadState, options: ThreadCaseOptions = {}): Pick<EvalCase, 'input' | 'metadata' | 'fixtures' | 'humans'> {
  const fixtures: ToolFixture[] = [];
  const seen = new Set<string>();
  const decisions = new Map<string, Set<'approve' | 'reject'>>();
  const answers: string[] = [];
  for (const call of state.calls.values()) {
    if (call.callId === options.excludeCallId) continue;
    const decision = call.approval?.decision;
    if (decision) {
      const set = decisions.get(call.tool) ?? new Set();
      set.add(decision.approved ? 'approve' : 'reject');
      decisions.set(call.tool, set);
    }
    const outcome = call.outcome;
    if (!outcome) continue;
    const human = options.isHumanTool?.(call.tool) || (call.question !== undefined && call.question.about === undefined);
    if (human) {
      const answer = outcome.ok ? (outcome.result as { answer?: unknown }).answer : undefined;
      if (typeof answer === 'string') answers.push(answer);
      continue;
    }
    if (!outcome.ok && !toolErrorCodes.has(outcome.error.code)) continue;
    // One fixture per tool and arguments: a fixture cannot say "first this, then that".
    const key = stableStringify({ tool: call.tool, args: call.args ?? null });
    if (seen.has(key)) continue;
    seen.add(key);
    const args = call.args === null || call.args === undefined ? {} : { args: call.args };
    fixtures.push(outcome.ok ? { tool: call.tool, ...args, result: outcome.result ?? null } : { tool: call.tool, ...args, error: outcome.error.message });
  }
  const approvals: Record<string, 'approve' | 'reject'> = {};
  // A tool decided both ways in the thread gets no scripted decision: the case stops there.
  for (const [tool, set] of decisions) if (set.size === 1) approvals[tool] = [...set][0]!;
  const humans: HumanScript = {};
  if (Object.keys(approvals).length > 0) humans.approvals = approvals;
  if (answers.length > 0) humans.answers = answers;
  return {
    input: state.input ?? null,
    ...(state.metadata && Object.keys(state.metadata).length > 0 ? { metadata: state.metadata } : {}),
    ...(fixtures.length > 0 ? { fixtures: { tools: fixtures } } : {}),
    ...(Object.keys(humans).length > 0 ? { humans } : {}),
  };
}

/** The last few characters of a thread id (its random part): enough to tell cases apart in a suite. */
export function threadIdTail(threadId: string): string {
  return threadId.slice(-6);
}
