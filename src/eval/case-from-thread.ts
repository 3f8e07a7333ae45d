/**
 * `twelve eval add`: one thread's log as an eval case. The thread's input, metadata and tool
 * results (eval/thread-case.ts), what it ended as (status; the output unless another is
 * expected), and optionally the tools it called. Pure.
 */
import { TwelveError } from '../errors.js';
import type { ThreadEvent } from '../thread/events.js';
import { applyEvent, initialState, isTerminal } from '../thread/state.js';
import { threadCaseBase, threadIdTail } from './thread-case.js';
import type { EvalCase, Expectations } from './types.js';

export interface CaseFromThreadOptions {
  /** The output the case expects instead of the thread's. */
  expectOutput?: unknown;
  /** Expect each tool the thread ran (successfully) to be called again. */
  expectTools?: boolean;
}

export function caseFromThread(events: ThreadEvent[], options: CaseFromThreadOptions = {}): EvalCase {
  const first = events[0];
  if (!first || first.type !== 'thread_started') throw new TwelveError('usage', 'the thread has no thread_started event to make a case from');
  const state = initialState(first.threadId);
  for (const e of events) applyEvent(state, e);
  if (state.metadata?.twelveEval === true) throw new TwelveError('usage', `thread ${state.threadId} is an eval run's thread; add a production thread instead`);
  // A case runs one input to one answer; a conversation's later turns would be lost silently.
  if (state.turns > 1) {
    throw new TwelveError('usage', `thread ${state.threadId} is a conversation (${state.turns} turns); an eval case runs one input to one answer: add a one-turn thread, or fork this one at its first answer (twelve fork)`);
  }
  if (!isTerminal(state.status) && options.expectOutput === undefined) {
    throw new TwelveError('usage', `thread ${state.threadId} is ${state.status}: add a finished thread, or say what it should answer with --expect-output`);
  }
  const expect: Expectations = {};
  if (options.expectOutput !== undefined) {
    expect.status = 'completed';
    expect.output = options.expectOutput;
  } else {
    expect.status = state.status;
    if (state.status === 'completed') expect.output = state.output;
  }
  if (options.expectTools) {
    const tools = [...new Set([...state.calls.values()].filter((c) => c.outcome?.ok && !(c.question && !c.question.about)).map((c) => c.tool))];
    if (tools.length > 0) expect.tools = { called: tools.map((tool) => ({ tool })) };
  }
  return {
    id: `${state.agent}-${threadIdTail(state.threadId)}`,
    ...threadCaseBase(state),
    expect,
    source: { threadId: state.threadId, kind: 'thread' },
  };
}
