/**
 * Approval gates. A call that needs a person's approval gets `approval_requested` in the
 * same transaction as its `tool_requested`, so no crash can leave a window where it
 * might run unapproved; the tool step checks again right before `tool_started` (the
 * release, or an operator's environment override, may have tightened the policy since).
 */
import type { Deciders } from '../agent/deciders.js';
import type { AgentRelease } from '../agent/release.js';
import { TwelveError, errorMessage } from '../errors.js';
import { timeoutDecider } from '../thread/deadlines.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';

export function approvalRequest(release: AgentRelease, state: ThreadState, call: { callId: string; tool: string; args: unknown }, now: number): NewEvent | undefined {
  const policy = release.approvals.get(call.tool);
  const tool = release.agent.tools.get(call.tool);
  if (!policy || !tool || policy.policy === 'never') return undefined;
  let reason: string;
  if (policy.policy === 'always') {
    reason = policy.source === 'environment' ? 'an operator requires approval for every call of this tool' : 'this tool always needs approval';
  } else {
    try {
      const parsed = tool.input.safeParse(call.args);
      const args = parsed.success ? parsed.data : call.args;
      const verdict = (tool.approval as Exclude<typeof tool.approval, string | undefined>)(args, { threadId: state.threadId, agent: release.agent.name, input: state.input });
      const required = typeof verdict === 'boolean' ? verdict : verdict?.required !== false;
      if (!required) return undefined;
      reason = (typeof verdict === 'object' && verdict?.reason) || 'the approval policy requires it for these arguments';
    } catch (error) {
      // Fail safe: a policy that cannot decide means a person decides.
      reason = `the approval policy failed (${errorMessage(error)}), so approval is required`;
    }
  }
  return event('approval_requested', {
    callId: call.callId,
    tool: call.tool,
    args: call.args,
    reason,
    approvers: policy.approvers,
    people: policy.people,
    ...(policy.timeoutMs ? { deadline: new Date(now + policy.timeoutMs).toISOString() } : {}),
    onTimeout: policy.onTimeout,
  });
}

/** A person who acts on threads: a name, and roles (from TWELVE_HUMANS or the caller's API key). */
export interface Human {
  name: string;
  roles?: string[];
}

/** Throws `forbidden` unless the person has one of the roles or is one of the people; nobody listed allows anyone. */
export function assertAllowed(allowed: Deciders, human: Human, what: string): void {
  if (human.name === timeoutDecider) throw new TwelveError('forbidden', `"${timeoutDecider}" is reserved for decisions the runtime applies at a deadline`);
  const { roles, people } = allowed;
  if (roles.length === 0 && people.length === 0) return;
  const has = human.roles ?? [];
  if (people.includes(human.name) || has.some((role) => roles.includes(role))) return;
  const options = [roles.length ? `anyone with the role ${roles.join(' or ')}` : '', people.length ? `${people.join(', ')} (by name)` : ''].filter(Boolean);
  throw new TwelveError('forbidden', `${human.name} may not ${what}: allowed are ${options.join(', and ')}; ${human.name} has ${has.length ? `the roles ${has.join(', ')}` : 'no roles'}`, {
    details: { allowedRoles: roles, allowedPeople: people, name: human.name, roles: has },
  });
}
