/**
 * The thread reducer: folds events, one at a time, into the small state `decide` needs.
 * Folding is O(1) per event, so a worker that keeps the state while it holds a lease
 * pays nothing for long threads; a worker that picks a thread up folds it once.
 * Pure: no I/O, no clock.
 */
import type { CompactError, ThreadEvent } from './events.js';
import { callText, interruptedOutcome } from './interrupted-tool.js';

export type ThreadStatus =
  | 'runnable'
  | 'awaiting_approval'
  | 'awaiting_human'
  | 'awaiting_review'
  | 'awaiting_child'
  | 'sleeping'
  | 'paused'
  | 'completed'
  | 'failed'
  | 'cancelled';
export const threadStatuses: readonly ThreadStatus[] = [
  'runnable',
  'awaiting_approval',
  'awaiting_human',
  'awaiting_review',
  'awaiting_child',
  'sleeping',
  'paused',
  'completed',
  'failed',
  'cancelled',
];
/** Statuses in which a person is expected to act. */
export const waitingStatuses: readonly ThreadStatus[] = ['awaiting_approval', 'awaiting_human', 'awaiting_review'];

export interface ApprovalState {
  reason: string;
  /** Roles allowed to decide (names or roles when `people` is undefined: an event from before they were told apart). */
  approvers: string[];
  people: string[] | undefined;
  deadline: string | undefined;
  onTimeout: 'approve' | 'reject';
  decision: { approved: boolean; by: string; comment: string | undefined } | undefined;
}

export interface QuestionState {
  question: string;
  urgency: 'low' | 'normal' | 'high';
  options: string[] | undefined;
  deadline: string | undefined;
  defaultAnswer: string | undefined;
  /** Set when the runtime asks whether an interrupted external call happened (not the model via ask_human). */
  about: 'interrupted_tool' | undefined;
}

/** A final answer waiting for a person's review (review_requested), and the decision once made. */
export interface ReviewState {
  output: unknown;
  confidence: number | undefined;
  source: 'model' | 'fallback';
  reason: string;
  reviewers: string[];
  people: string[];
  deadline: string | undefined;
  onTimeout: 'approve' | 'fail';
  /** Seq of the review_requested event (a review's identity: each send-back starts a new one). */
  seq: number;
}

export interface CallState {
  callId: string;
  tool: string;
  args: unknown;
  argsText: string | undefined;
  source: 'model' | 'prefetch';
  /** Runs started (a crash leaves started > finished with no outcome). */
  started: number;
  /** Runs that ended by asking to sleep (not interruptions). */
  slept: number;
  /** Interrupted runs a person already looked at and answered "retry" to: not counted again. */
  forgiven: number;
  sleepUntil: string | undefined;
  approval: ApprovalState | undefined;
  question: QuestionState | undefined;
  outcome: { ok: true; result: unknown } | { ok: false; error: CompactError } | undefined;
  /** An agentTool call's child thread (child_started), until the call has its outcome. */
  child: { threadId: string; agent: string; checkAt: string | undefined } | undefined;
}

export interface LimitOverrides {
  maxCostUsd?: number;
  maxTokens?: number;
  maxSteps?: number;
}

export interface ThreadState {
  threadId: string;
  agent: string;
  input: unknown;
  /** The launch metadata (thread_started). */
  metadata: Record<string, unknown> | undefined;
  seq: number;
  status: ThreadStatus;
  calls: Map<string, CallState>;
  /** Requested calls without an outcome, in request order. */
  openCalls: string[];
  prefetchRequested: boolean;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those the providers read from their prompt cache / wrote to it. */
  cachedInputTokens: number;
  cacheWriteTokens: number;
  /** Spend of the priced calls; the calls counted in unpricedCalls are not in it. */
  costUsd: number;
  /** Model calls whose price was unknown: while above 0, the thread's real spend is unknown. */
  unpricedCalls: number;
  /** unpricedCalls as it stood when a person last answered a budget wait (accepting the unknown spend). */
  unpricedCallsAccepted: number;
  consecutiveErrors: number;
  /** The last few errors of that run of consecutive errors, oldest first (what an escalation reports). */
  recentErrors: CompactError[];
  output: unknown;
  error: CompactError | undefined;
  /** An unresolved escalation (errors, budget, or blocked by configuration): a person must respond. */
  /** Why a person must step in; `seq`: the event that asked (a new ask with the same reason is a new one). */
  escalation: { reason: string; kind: 'errors' | 'budget' | 'configuration' | 'release'; seq: number } | undefined;
  paused: { by: string; reason: string | undefined } | undefined;
  /** Limits a person raised for this thread. */
  limits: LimitOverrides;
  /** Why the thread waits, in one line (for lists and notifications). */
  waitingReason: string | undefined;
  /** When the runtime must look at the thread again (deadline or wake-up), ISO. */
  wakeAt: string | undefined;
  lastReleaseId: string | undefined;
  /** A fork: the thread and seq its first events were copied from. */
  forkOf: { threadId: string; seq: number } | undefined;
  /** A shadow (replay) thread: the thread whose recorded tool results it uses. */
  replayOf: string | undefined;
  /** A final answer waiting for review (undefined once decided). */
  review: ReviewState | undefined;
  /** Reviews decided so far (sent back ones included), oldest first. */
  reviews: Array<{ seq: number; decision: 'approved' | 'edited' | 'sent_back' | 'rejected'; by: string }>;
  /** The completed output's confidence, when the agent declares one. */
  confidence: number | undefined;
  /** Set when the agent's non-LLM fallback produced the output (fallback_used), with why. */
  fallback: { reason: 'models_failed' | 'blocked' | 'budget'; detail: string } | undefined;
  /** User turns so far: 1 (the input), plus one per message_added (a conversation). */
  turns: number;
  /** modelSteps when the current turn began: maxSteps counts the steps of one turn (runtime/budget.ts). */
  turnStartSteps: number;
  /** The client-chosen ids of the messages added so far, with their text (a retried send is recorded once). */
  messageIds: Map<string, string>;
  /** A child thread (agentTool): the parent thread and the call it answers. */
  parent: { threadId: string; callId: string } | undefined;
}

export function initialState(threadId: string): ThreadState {
  return {
    threadId,
    agent: '',
    input: undefined,
    metadata: undefined,
    seq: 0,
    status: 'runnable',
    calls: new Map(),
    openCalls: [],
    prefetchRequested: false,
    modelSteps: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    unpricedCalls: 0,
    unpricedCallsAccepted: 0,
    consecutiveErrors: 0,
    recentErrors: [],
    output: undefined,
    error: undefined,
    escalation: undefined,
    paused: undefined,
    limits: {},
    waitingReason: undefined,
    wakeAt: undefined,
    lastReleaseId: undefined,
    forkOf: undefined,
    replayOf: undefined,
    review: undefined,
    reviews: [],
    confidence: undefined,
    fallback: undefined,
    turns: 1,
    turnStartSteps: 0,
    messageIds: new Map(),
    parent: undefined,
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
      state.metadata = event.data.metadata;
      if (event.data.parent) {
        state.parent = { threadId: event.data.parent.threadId, callId: event.data.parent.callId };
        const limits = event.data.parent.limits;
        if (limits?.maxCostUsd !== undefined) state.limits.maxCostUsd = limits.maxCostUsd;
        if (limits?.maxTokens !== undefined) state.limits.maxTokens = limits.maxTokens;
      }
      break;
    case 'tool_requested':
      state.calls.set(event.data.callId, {
        callId: event.data.callId,
        tool: event.data.tool,
        args: event.data.args,
        argsText: event.data.argsText,
        source: event.data.source,
        started: 0,
        slept: 0,
        forgiven: 0,
        sleepUntil: undefined,
        approval: undefined,
        question: undefined,
        outcome: undefined,
        child: undefined,
      });
      state.openCalls.push(event.data.callId);
      if (event.data.source === 'prefetch') state.prefetchRequested = true;
      break;
    case 'approval_requested': {
      const call = state.calls.get(event.data.callId);
      if (call) {
        call.approval = {
          reason: event.data.reason,
          approvers: event.data.approvers,
          people: event.data.people,
          deadline: event.data.deadline,
          onTimeout: event.data.onTimeout,
          decision: undefined,
        };
      }
      break;
    }
    case 'approval_decided': {
      const call = state.calls.get(event.data.callId);
      if (call?.approval && !call.approval.decision) {
        call.approval.decision = { approved: event.data.approved, by: event.data.by, comment: event.data.comment };
        if (!event.data.approved) {
          // A rejection is the call's outcome: the model sees it and re-plans. It is not an error of the agent.
          const why = event.data.comment ? `: ${event.data.comment}` : '';
          settle(state, event.data.callId, { ok: false, error: { code: 'rejected', message: `${call.tool} was rejected by ${event.data.by}${why}` } });
        }
      }
      break;
    }
    case 'human_asked': {
      const call = state.calls.get(event.data.callId);
      if (call) {
        call.question = {
          question: event.data.question,
          urgency: event.data.urgency,
          options: event.data.options,
          deadline: event.data.deadline,
          defaultAnswer: event.data.defaultAnswer,
          about: event.data.about,
        };
      }
      break;
    }
    case 'human_answered': {
      const call = state.calls.get(event.data.callId);
      if (call?.question?.about === 'interrupted_tool') {
        const outcome = interruptedOutcome(call.tool, event.data);
        // The answer path accepts nothing else; an unknown answer leaves the question open.
        if (outcome === 'retry') {
          call.question = undefined;
          call.forgiven = call.started - call.slept;
        } else if (outcome) {
          // A person's finding, like a rejection: the model re-plans on it; not an error of the agent.
          settle(state, event.data.callId, outcome);
          if (outcome.ok) clearErrors(state);
        }
        break;
      }
      settle(state, event.data.callId, { ok: true, result: { answer: event.data.answer, answeredBy: event.data.by } });
      clearErrors(state);
      break;
    }
    case 'tool_started': {
      const call = state.calls.get(event.data.callId);
      if (call) {
        call.started = event.data.attempt;
        call.sleepUntil = undefined;
      }
      break;
    }
    case 'tool_sleeping': {
      const call = state.calls.get(event.data.callId);
      if (call) {
        call.slept += 1;
        call.sleepUntil = event.data.until;
      }
      break;
    }
    case 'tool_succeeded':
      settle(state, event.data.callId, { ok: true, result: event.data.result });
      clearErrors(state);
      break;
    case 'tool_failed': {
      const tool = state.calls.get(event.data.callId)?.tool;
      const { code, message } = event.data.error;
      // Most tool errors already start with the tool's name; the ones made before a run do not.
      countError(state, { code, message: tool && !message.startsWith(`${tool}:`) ? `${tool}: ${message}` : message });
      settle(state, event.data.callId, { ok: false, error: event.data.error });
      break;
    }
    case 'model_called':
      state.modelSteps += 1;
      state.inputTokens += event.data.usage.inputTokens;
      state.outputTokens += event.data.usage.outputTokens;
      state.cachedInputTokens += event.data.usage.cachedInputTokens ?? 0;
      state.cacheWriteTokens += event.data.usage.cacheWriteTokens ?? 0;
      if (event.data.costUsd === null) state.unpricedCalls += 1;
      else state.costUsd += event.data.costUsd;
      // A model that answers at all ends the prefetch phase (prefetch always comes first).
      state.prefetchRequested = true;
      break;
    case 'model_failed':
    case 'model_output_invalid':
      countError(state, event.data.error);
      break;
    case 'budget_exceeded':
      state.escalation = { reason: event.data.message, kind: 'budget', seq: event.seq };
      break;
    case 'budget_raised':
      if (event.data.maxCostUsd !== undefined) state.limits.maxCostUsd = event.data.maxCostUsd;
      if (event.data.maxTokens !== undefined) state.limits.maxTokens = event.data.maxTokens;
      if (event.data.maxSteps !== undefined) state.limits.maxSteps = event.data.maxSteps;
      if (state.escalation?.kind === 'budget') {
        state.escalation = undefined;
        state.unpricedCallsAccepted = state.unpricedCalls;
      }
      break;
    case 'escalated':
      state.escalation = { reason: event.data.reason, kind: event.data.kind ?? 'errors', seq: event.seq };
      break;
    case 'blocked':
      state.escalation = { reason: event.data.error.message, kind: 'configuration', seq: event.seq };
      // Shown as the thread's error while it waits, so an API reader sees why at once.
      state.error = event.data.error;
      break;
    case 'release_changed':
      if (event.data.decision === 'hold') state.escalation = { reason: `moved from ${event.data.from} to ${event.data.to}: ${event.data.reason}`, kind: 'release', seq: event.seq };
      break;
    case 'thread_forked':
      state.forkOf = { threadId: event.data.from, seq: event.data.atSeq };
      state.replayOf = event.data.shadow?.replayOf;
      break;
    case 'paused':
      state.paused = { by: event.data.by, reason: event.data.reason };
      break;
    case 'resumed':
      // Going on after a budget wait accepts what the person was shown, unpriced calls included.
      if (state.escalation?.kind === 'budget') state.unpricedCallsAccepted = state.unpricedCalls;
      state.paused = undefined;
      if (state.escalation?.kind === 'configuration') state.error = undefined;
      state.escalation = undefined;
      clearErrors(state);
      break;
    case 'review_requested':
      // A valid final answer: the run of errors that led to it is over.
      clearErrors(state);
      state.review = {
        output: event.data.output,
        confidence: event.data.confidence,
        source: event.data.source,
        reason: event.data.reason,
        reviewers: event.data.reviewers,
        people: event.data.people,
        deadline: event.data.deadline,
        onTimeout: event.data.onTimeout,
        seq: event.seq,
      };
      break;
    case 'review_decided':
      // approved/edited are followed by thread_completed, rejected by thread_failed, in the same
      // transaction; sent_back makes the thread runnable: the model reads the feedback and answers again.
      if (state.review) {
        state.reviews.push({ seq: state.review.seq, decision: event.data.decision, by: event.data.by });
        state.review = undefined;
      }
      break;
    case 'fallback_used':
      clearErrors(state);
      // A fallback answer ends the wait a budget breach or a configuration block started.
      if (state.escalation?.kind === 'configuration') state.error = undefined; // the block's error, shown while it waited
      if (state.escalation?.kind === 'budget' || state.escalation?.kind === 'configuration') state.escalation = undefined;
      state.fallback = { reason: event.data.reason, detail: event.data.detail };
      break;
    case 'child_started': {
      const call = state.calls.get(event.data.callId);
      if (call) call.child = { threadId: event.data.childThreadId, agent: event.data.agent, checkAt: event.data.checkAt };
      break;
    }
    case 'child_finished':
      // The child's spend is the parent's: it counts against the parent's budget from here on.
      state.inputTokens += event.data.inputTokens;
      state.outputTokens += event.data.outputTokens;
      state.cachedInputTokens += event.data.cachedInputTokens ?? 0;
      state.cacheWriteTokens += event.data.cacheWriteTokens ?? 0;
      if (event.data.costUsd === null) state.unpricedCalls += 1;
      else state.costUsd += event.data.costUsd;
      break;
    case 'thread_completed':
      state.output = event.data.output;
      state.confidence = event.data.confidence;
      break;
    case 'thread_failed':
      state.error = event.data.error;
      break;
    case 'message_added':
      // The next turn of a conversation: the previous answer stays as state.output until the next one.
      state.turns += 1;
      state.turnStartSteps = state.modelSteps;
      if (event.data.messageId !== undefined) state.messageIds.set(event.data.messageId, event.data.text);
      clearErrors(state);
      // The last answer's fallback is not the next one's.
      state.fallback = undefined;
      break;
    case 'cancelled':
      state.error = { code: 'cancelled', message: `cancelled by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ''}` };
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown event type ${(never as ThreadEvent).type}`);
    }
  }
  deriveStatus(state, event.type);
  return state;
}

/** How many of the latest consecutive errors the state keeps (escalation messages quote them). */
export const recentErrorsKept = 3;

function countError(state: ThreadState, error: CompactError): void {
  state.consecutiveErrors += 1;
  state.recentErrors.push(error);
  if (state.recentErrors.length > recentErrorsKept) state.recentErrors.shift();
}

function clearErrors(state: ThreadState): void {
  state.consecutiveErrors = 0;
  state.recentErrors = [];
}

function settle(state: ThreadState, callId: string, outcome: NonNullable<CallState['outcome']>): void {
  const call = state.calls.get(callId);
  if (!call || call.outcome) return;
  call.outcome = outcome;
  const index = state.openCalls.indexOf(callId);
  if (index >= 0) state.openCalls.splice(index, 1);
}

/** How a waiting reason starts, per kind of escalation: `twelve resume` and the UIs key on it. */
const waitingPrefix = { errors: 'escalated', budget: 'budget', configuration: 'blocked', release: 'release' } as const;

/** Status, waiting reason and wake-up time, from the state (O(1): only the first open call matters). */
function deriveStatus(state: ThreadState, type: ThreadEvent['type']): void {
  state.wakeAt = undefined;
  state.waitingReason = undefined;
  // Only a completed thread takes a message (runtime/conversation.ts): it becomes runnable again.
  if (type === 'message_added' && state.status === 'completed') state.status = 'runnable';
  if (type === 'thread_completed') state.status = 'completed';
  else if (type === 'thread_failed') state.status = 'failed';
  else if (type === 'cancelled') state.status = 'cancelled';
  if (isTerminal(state.status)) return;
  if (state.paused) {
    state.status = 'paused';
    state.waitingReason = `paused by ${state.paused.by}${state.paused.reason ? `: ${state.paused.reason}` : ''}`;
    return;
  }
  if (state.escalation) {
    state.status = 'awaiting_human';
    state.waitingReason = `${waitingPrefix[state.escalation.kind]}: ${state.escalation.reason}`;
    return;
  }
  if (state.review) {
    state.status = 'awaiting_review';
    state.waitingReason = `review: ${state.review.reason}`;
    state.wakeAt = state.review.deadline;
    return;
  }
  const first = state.openCalls[0] === undefined ? undefined : state.calls.get(state.openCalls[0]);
  if (first?.approval && !first.approval.decision) {
    state.status = 'awaiting_approval';
    state.waitingReason = `approval for ${first.tool}: ${first.approval.reason}`;
    state.wakeAt = first.approval.deadline;
    return;
  }
  if (first?.question?.about === 'interrupted_tool') {
    state.status = 'awaiting_human';
    const interrupted = first.started - first.slept - first.forgiven;
    state.waitingReason = `unconfirmed: did ${callText(first.tool, first.args)} happen? The worker stopped ${interrupted === 1 ? 'once' : `${interrupted} times`} while running it (answer happened, did not happen or retry)`;
    return;
  }
  if (first?.question) {
    state.status = 'awaiting_human';
    state.waitingReason = `question: ${first.question.question}`;
    state.wakeAt = first.question.deadline;
    return;
  }
  if (first?.child) {
    state.status = 'awaiting_child';
    state.waitingReason = `waiting for child thread ${first.child.threadId} (${first.child.agent})`;
    state.wakeAt = first.child.checkAt;
    return;
  }
  if (first?.sleepUntil) {
    state.status = 'sleeping';
    state.waitingReason = `sleeping until ${first.sleepUntil}`;
    state.wakeAt = first.sleepUntil;
    return;
  }
  state.status = 'runnable';
}

export function foldEvents(threadId: string, events: readonly ThreadEvent[]): ThreadState {
  const state = initialState(threadId);
  for (const event of events) applyEvent(state, event);
  return state;
}

/**
 * Whether the thread ended for now: completed, failed or cancelled. A completed thread may
 * still continue (a conversation's next message makes it runnable); failed and cancelled never do.
 */
export function isTerminal(status: ThreadStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
