/**
 * The thread reducer: folds events, one at a time, into the small state `decide` needs.
 * Folding is O(1) per event, so a worker that keeps the state while it holds a lease
 * pays nothing for long threads; a worker that picks a thread up folds it once.
 * Pure: no I/O, no clock.
 */
import type { CompactError, ThreadEvent } from './events.js';

export type ThreadStatus = 'runnable' | 'escalated' | 'completed' | 'failed';
export const threadStatuses: readonly ThreadStatus[] = ['runnable', 'escalated', 'completed', 'failed'];

export interface CallState {
  callId: string;
  tool: string;
  args: unknown;
  argsText: string | undefined;
  source: 'model' | 'prefetch';
  /** How many times a run was started (a crash leaves started > 0 with no outcome). */
  started: number;
  outcome: { ok: true; result: unknown } | { ok: false; error: CompactError } | undefined;
}

export interface ThreadState {
  threadId: string;
  agent: string;
  input: unknown;
  seq: number;
  status: ThreadStatus;
  calls: Map<string, CallState>;
  /** Requested calls without an outcome, in request order. */
  openCalls: string[];
  prefetchRequested: boolean;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  consecutiveErrors: number;
  output: unknown;
  error: CompactError | undefined;
  /** Why the thread waits for a human, while status is escalated. */
  waitingReason: string | undefined;
  lastReleaseId: string | undefined;
}

export function initialState(threadId: string): ThreadState {
  return {
    threadId,
    agent: '',
    input: undefined,
    seq: 0,
    status: 'runnable',
    calls: new Map(),
    openCalls: [],
    prefetchRequested: false,
    modelSteps: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    consecutiveErrors: 0,
    output: undefined,
    error: undefined,
    waitingReason: undefined,
    lastReleaseId: undefined,
  };
}

/** Applies one event in place. Events must arrive in seq order. */
export function applyEvent(state: ThreadState, event: ThreadEvent): ThreadState {
  if (event.seq !== state.seq + 1) {
    throw new Error(`thread ${state.threadId}: event seq ${event.seq} follows ${state.seq}; the log has a gap or a duplicate`);
  }
  state.seq = event.seq;
  state.lastReleaseId = event.releaseId;
  switch (event.type) {
    case 'thread_started':
      state.agent = event.data.agent;
      state.input = event.data.input;
      break;
    case 'tool_requested':
      state.calls.set(event.data.callId, {
        callId: event.data.callId,
        tool: event.data.tool,
        args: event.data.args,
        argsText: event.data.argsText,
        source: event.data.source,
        started: 0,
        outcome: undefined,
      });
      state.openCalls.push(event.data.callId);
      if (event.data.source === 'prefetch') state.prefetchRequested = true;
      break;
    case 'tool_started': {
      const call = state.calls.get(event.data.callId);
      if (call) call.started = event.data.attempt;
      break;
    }
    case 'tool_succeeded':
      settle(state, event.data.callId, { ok: true, result: event.data.result });
      state.consecutiveErrors = 0;
      break;
    case 'tool_failed':
      settle(state, event.data.callId, { ok: false, error: event.data.error });
      state.consecutiveErrors += 1;
      break;
    case 'model_called':
      state.modelSteps += 1;
      state.inputTokens += event.data.usage.inputTokens;
      state.outputTokens += event.data.usage.outputTokens;
      state.costUsd += event.data.costUsd ?? 0;
      // A model that answers at all ends the prefetch phase (prefetch always comes first).
      state.prefetchRequested = true;
      break;
    case 'model_failed':
      state.consecutiveErrors += 1;
      break;
    case 'model_output_invalid':
      state.consecutiveErrors += 1;
      break;
    case 'escalated':
      state.status = 'escalated';
      state.waitingReason = event.data.reason;
      break;
    case 'resumed':
      state.status = 'runnable';
      state.waitingReason = undefined;
      state.consecutiveErrors = 0;
      break;
    case 'thread_completed':
      state.status = 'completed';
      state.output = event.data.output;
      break;
    case 'thread_failed':
      state.status = 'failed';
      state.error = event.data.error;
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown event type ${(never as ThreadEvent).type}`);
    }
  }
  return state;
}

function settle(state: ThreadState, callId: string, outcome: NonNullable<CallState['outcome']>): void {
  const call = state.calls.get(callId);
  if (call) call.outcome = outcome;
  const index = state.openCalls.indexOf(callId);
  if (index >= 0) state.openCalls.splice(index, 1);
}

export function foldEvents(threadId: string, events: readonly ThreadEvent[]): ThreadState {
  const state = initialState(threadId);
  for (const event of events) applyEvent(state, event);
  return state;
}

export function isTerminal(status: ThreadStatus): boolean {
  return status === 'completed' || status === 'failed';
}
