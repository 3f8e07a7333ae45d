/**
 * People's corrections become proposed eval cases: a rejection with a comment, guidance after
 * an escalation, an output edited or sent back in review. `proposalFor` looks at one event about
 * to be appended, with the thread's state *before* it, and drafts the case that pins what the
 * person wanted; the session writes it in the same transaction as the event. Pure.
 *
 * Eval threads (launch metadata `twelveEval: true`) and shadow (replay) threads propose nothing:
 * their "people" are scripts, and a replay is not production.
 */
import type { AgentRelease } from '../agent/release.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import type { NewProposal } from '../store/types.js';
import { threadCaseBase, threadIdTail } from './thread-case.js';
import type { EvalCase, ProposalKind } from './types.js';

/** The launch metadata key the eval runner sets on its threads (`metadata.twelveEval === true`). */
export const evalMetadataKey = 'twelveEval';

/** Deterministic, so a retried append proposes the same thing (the store ignores a repeat). */
export function proposalId(threadId: string, seq: number): string {
  return `pr_${threadId.replace(/^th_/, '')}_${seq}`;
}

/** The proposal an event makes, or undefined. `state` is the thread before `event` is applied. */
export function proposalFor(event: ThreadEvent, state: ThreadState, release: AgentRelease): NewProposal | undefined {
  if (state.replayOf || state.metadata?.[evalMetadataKey] === true) return undefined;
  const draft = draftFor(event, state, release);
  if (!draft) return undefined;
  return { id: proposalId(event.threadId, event.seq), threadId: event.threadId, agent: state.agent || release.agent.name, seq: event.seq, kind: draft.kind, draft: draft.case };
}

function draftFor(event: ThreadEvent, state: ThreadState, release: AgentRelease): { kind: ProposalKind; case: EvalCase } | undefined {
  const isHumanTool = (tool: string) => Boolean(release.agent.tools.get(tool)?.human);
  const make = (kind: ProposalKind, by: string, body: Pick<EvalCase, 'expect' | 'note'> & { humans?: EvalCase['humans'] }, excludeCallId?: string) => {
    const base = threadCaseBase(state, { isHumanTool, ...(excludeCallId ? { excludeCallId } : {}) });
    const humans = { ...base.humans, ...body.humans };
    const [before, extra] = [base.humans?.approvals, body.humans?.approvals];
    if (typeof before === 'object' && typeof extra === 'object') humans.approvals = { ...before, ...extra };
    const evalCase: EvalCase = {
      id: `${state.agent || release.agent.name}-${kind.replace(/_/g, '-')}-${threadIdTail(event.threadId)}-${event.seq}`,
      ...base,
      ...(Object.keys(humans).length > 0 ? { humans } : {}),
      ...(body.expect ? { expect: body.expect } : {}),
      ...(body.note ? { note: body.note } : {}),
      source: { threadId: event.threadId, kind, seq: event.seq, by },
    };
    return { kind, case: evalCase };
  };
  switch (event.type) {
    case 'approval_decided': {
      const comment = event.data.comment?.trim();
      const call = state.calls.get(event.data.callId);
      // Only a person's first decision counts (a repeat is a no-op in the reducer); a bare "no" teaches nothing to pin.
      if (event.data.approved || !comment || !call?.approval || call.approval.decision) return undefined;
      // The case replays the person too: a call like it is rejected again, and the agent must not have made it.
      return make(
        'rejection',
        event.data.by,
        { expect: { tools: { never: [{ tool: call.tool, args: identifyingArgs(call.args) }] } }, humans: { approvals: { [call.tool]: 'reject' } }, note: comment },
        call.callId,
      );
    }
    case 'resumed': {
      const guidance = event.data.comment?.trim();
      const kind = state.escalation?.kind;
      if (!guidance || (kind !== 'errors' && kind !== 'budget')) return undefined;
      return make('guidance', event.data.by, { expect: { noHuman: true }, note: guidance });
    }
    case 'review_decided': {
      if (!state.review || event.data.by === 'timeout') return undefined;
      const { decision, by, comment } = event.data;
      if (decision === 'edited' && event.data.output !== undefined) {
        return make('review_edit', by, { expect: { output: event.data.output }, humans: { review: 'approve' }, note: comment?.trim() || `output edited in review by ${by}` });
      }
      const feedback = event.data.feedback?.trim();
      if (decision === 'sent_back' && feedback) {
        return make('review_send_back', by, { expect: { judge: feedback }, humans: { review: 'approve' }, note: comment?.trim() ? `${feedback} (${comment.trim()})` : feedback });
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The arguments that say which call was rejected: free text (a string with spaces, like a
 * refund's "reason") is left out, because the model words it differently each time and the
 * "never" check matches arguments as a JSON subset. {orderId, amountCents, reason} pins
 * {orderId, amountCents}. When nothing else is left, all of them.
 */
export function identifyingArgs(args: unknown): unknown {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args ?? {};
  const kept = Object.fromEntries(Object.entries(args).filter(([, value]) => !(typeof value === 'string' && /\s/.test(value.trim()))));
  return Object.keys(kept).length > 0 ? kept : args;
}
