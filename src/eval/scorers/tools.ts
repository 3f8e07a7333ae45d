/** Scorers of the tool calls a case's thread made: called (with arguments), never called, no approval. */
import { jsonSubset } from '../json-match.js';
import type { CaseRun, ScoreResult, ToolCallExpectation } from '../types.js';

interface Call {
  tool: string;
  args: unknown;
}

export function callsOf(run: CaseRun): Call[] {
  const calls: Call[] = [];
  for (const e of run.events) if (e.type === 'tool_requested') calls.push({ tool: e.data.tool, args: e.data.args });
  return calls;
}

const describe = (expectation: ToolCallExpectation) => (expectation.args === undefined ? expectation.tool : `${expectation.tool} ${JSON.stringify(expectation.args)}`);
const matches = (call: Call, expectation: ToolCallExpectation) => call.tool === expectation.tool && (expectation.args === undefined || jsonSubset(call.args, expectation.args));

/** Every expected call was made. */
export function scoreCalled(run: CaseRun, expected: ToolCallExpectation[]): ScoreResult {
  const calls = callsOf(run);
  const missing = expected.filter((expectation) => !calls.some((call) => matches(call, expectation)));
  const made = calls.map((call) => `${call.tool} ${JSON.stringify(call.args)}`).join('; ') || 'none';
  return missing.length === 0
    ? { name: 'tools.called', pass: true, score: 1 }
    : { name: 'tools.called', pass: false, score: 1 - missing.length / expected.length, detail: `not called: ${missing.map(describe).join(', ')} (calls made: ${made})` };
}

/** None of these calls was made. */
export function scoreNever(run: CaseRun, forbidden: Array<string | ToolCallExpectation>): ScoreResult {
  const calls = callsOf(run);
  const made = forbidden
    .map((entry) => (typeof entry === 'string' ? { tool: entry } : entry))
    .filter((expectation) => calls.some((call) => matches(call, expectation)));
  return made.length === 0 ? { name: 'tools.never', pass: true, score: 1 } : { name: 'tools.never', pass: false, score: 0, detail: `called: ${made.map(describe).join(', ')}` };
}

/** No call needed a person's approval. */
export function scoreNoApproval(run: CaseRun): ScoreResult {
  const asked = new Set<string>();
  const tools = new Map<string, string>();
  for (const e of run.events) {
    if (e.type === 'tool_requested') tools.set(e.data.callId, e.data.tool);
    if (e.type === 'approval_requested') asked.add(tools.get(e.data.callId) ?? e.data.callId);
  }
  return asked.size === 0 ? { name: 'tools.noApproval', pass: true, score: 1 } : { name: 'tools.noApproval', pass: false, score: 0, detail: `approval asked for ${[...asked].join(', ')}` };
}
