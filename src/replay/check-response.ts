/**
 * What the candidate would do with a recorded model response, compared with what the
 * original recorded in the same commit: each tool call accepted, refused (unknown tool,
 * arguments failing the input schema) or sent for approval, and a final answer completed
 * or refused by the output schema. The response itself is served, never requested again.
 */
import type { AgentRelease } from '../agent/release.js';
import { approvalRequest } from '../runtime/approval.js';
import { parseJsonAnswer, toJsonValue, zodIssues } from '../runtime/compact-error.js';
import { clipText } from '../thread/clip-text.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import { stableStringify } from '../util/stable-json.js';
import type { Difference } from './compare-request.js';

type ModelCalled = Extract<ThreadEvent, { type: 'model_called' }>;

/** How a requested call was taken when it was requested (before any run). */
type CallFate = { fate: 'accepted' | 'approval' | 'unknown_tool' | 'invalid_arguments' | 'invalid_json' | 'unknown'; why?: string };

/** Event types the runtime appends with a model_called, in the same commit. */
const sameCommit = new Set<ThreadEvent['type']>(['tool_requested', 'tool_failed', 'approval_requested', 'thread_completed', 'review_requested', 'model_output_invalid']);

/** The events recorded with `events[index]` (a model_called) in its commit. */
export function responseEvents(events: readonly ThreadEvent[], index: number): ThreadEvent[] {
  const called = events[index] as ModelCalled;
  const calls = new Set(called.data.toolCalls.map((call) => call.callId));
  const group: ThreadEvent[] = [];
  for (let next = index + 1; next < events.length; next++) {
    const e = events[next]!;
    if (!sameCommit.has(e.type) || e.releaseId !== called.releaseId) break;
    if ('callId' in e.data && !calls.has(e.data.callId)) break;
    if (e.type === 'tool_requested' && e.data.source !== 'model') break;
    group.push(e);
  }
  return group;
}

export function checkResponse(candidate: AgentRelease, state: ThreadState, called: ModelCalled, recorded: readonly ThreadEvent[], now: number): Difference | undefined {
  for (const call of called.data.toolCalls) {
    const requested = recorded.find((e): e is Extract<ThreadEvent, { type: 'tool_requested' }> => e.type === 'tool_requested' && e.data.callId === call.callId);
    if (!requested) continue; // an older log without the request: nothing to compare
    const failed = recorded.find((e): e is Extract<ThreadEvent, { type: 'tool_failed' }> => e.type === 'tool_failed' && e.data.callId === call.callId);
    const asked = recorded.find((e) => e.type === 'approval_requested' && e.data.callId === call.callId);
    const original: CallFate['fate'] = failed ? (failed.data.error.code as CallFate['fate']) : asked ? 'approval' : 'accepted';
    const mine = fateOf(candidate, state, requested.data, now);
    if (original === 'invalid_json' || mine.fate === 'unknown' || mine.fate === original) continue;
    const what = `${call.tool} ${clipText(JSON.stringify(requested.data.args), 160)}`;
    if (original === 'unknown_tool' || mine.fate === 'unknown_tool') {
      return {
        kind: 'tool_missing',
        detail: mine.fate === 'unknown_tool' ? `the model called ${call.tool}, which the candidate does not have` : `the model called ${call.tool}, which the original did not have and the candidate has`,
        expected: original,
        actual: mine.fate,
      };
    }
    if (original === 'invalid_arguments' || mine.fate === 'invalid_arguments') {
      return {
        kind: 'tool_arguments',
        detail: mine.fate === 'invalid_arguments' ? `${what}: the candidate's input schema refuses these arguments (${mine.why})` : `${what}: the candidate accepts arguments the original refused (${failed?.data.error.message ?? ''})`,
        expected: original,
        actual: mine.fate,
      };
    }
    if (original === 'approval' || mine.fate === 'approval') {
      return {
        kind: 'approval',
        detail: mine.fate === 'approval' ? `${what}: the candidate would ask for approval (${mine.why}); the original did not` : `${what}: the original asked for approval; the candidate would not`,
        expected: original,
        actual: mine.fate,
      };
    }
  }
  if (called.data.toolCalls.length === 0) return checkAnswer(candidate, called.data.text, recorded);
  return undefined;
}

function fateOf(release: AgentRelease, state: ThreadState, call: { callId: string; tool: string; args: unknown; argsText?: string | undefined }, now: number): CallFate {
  if (call.args === null && call.argsText !== undefined) return { fate: 'invalid_json' };
  const tool = release.agent.tools.get(call.tool);
  if (!tool) return { fate: 'unknown_tool' };
  const parsed = tool.input.safeParse(call.args);
  if (!parsed.success) return { fate: 'invalid_arguments', why: zodIssues(parsed.error) };
  // A predicate is code a stored manifest does not hold: then the recorded decision stands.
  if (release.approvals.get(call.tool)?.policy === 'predicate' && typeof tool.approval !== 'function') return { fate: 'unknown' };
  const approval = approvalRequest(release, state, call, now);
  return approval?.type === 'approval_requested' ? { fate: 'approval', why: approval.data.reason } : { fate: 'accepted' };
}

/** The candidate's verdict on a final answer (as ThreadSession.finalAnswer) against the recorded one. */
function checkAnswer(release: AgentRelease, text: string, recorded: readonly ThreadEvent[]): Difference | undefined {
  // An answer sent for review was accepted by the output schema just like one that completed.
  const completed = recorded.find((e) => e.type === 'thread_completed' || e.type === 'review_requested');
  const invalid = recorded.find((e) => e.type === 'model_output_invalid');
  if (!completed && !invalid) return undefined;
  const expected = completed ? { completed: completed.data.output } : { refused: invalid!.type === 'model_output_invalid' ? invalid!.data.error.code : '' };
  const actual = verdict(release, text);
  if (stableStringify(expected) === stableStringify('completed' in actual ? { completed: actual.completed } : { refused: actual.refused })) return undefined;
  const detail =
    'refused' in actual && completed ? `the candidate refuses the recorded final answer (${actual.why})`
    : 'completed' in actual && invalid ? 'the candidate accepts a final answer the original refused'
    : 'the candidate turns the recorded final answer into another output';
  return { kind: 'output', detail, expected, actual: 'completed' in actual ? { completed: actual.completed } : { refused: actual.refused } };
}

function verdict(release: AgentRelease, text: string): { completed: unknown } | { refused: string; why: string } {
  const schema = release.agent.outputSchema;
  if (!schema) return text.trim() ? { completed: text } : { refused: 'empty_answer', why: 'the answer is empty' };
  const json = parseJsonAnswer(text);
  if (!json.ok) return { refused: 'invalid_json', why: json.message };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { refused: 'invalid_output', why: zodIssues(parsed.error) };
  return { completed: toJsonValue(parsed.data) };
}
