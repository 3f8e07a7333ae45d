/** Terminal wording for what people decide and change: who may approve, how a budget changed. */
import { describeDeciders } from '../agent/deciders.js';
import type { EventData } from '../thread/events.js';

/** " (approvers: roles finance; person alice)", or "" when anyone may decide. */
export function approversText({ approvers, people }: EventData<'approval_requested'>): string {
  // Without `people`, an event from before roles and people were told apart: names or roles.
  const listed = people === undefined ? (approvers.length ? `names or roles ${approvers.join(', ')}` : '') : approvers.length || people.length ? describeDeciders({ roles: approvers, people }) : '';
  return listed ? ` (approvers: ${listed})` : '';
}

/** "raised by ana: max steps 30 (was 20)"; "lowered" or "changed" when a limit went down. */
export function budgetChangeText(data: EventData<'budget_raised'>): string {
  const previous = data.previous ?? {};
  const limits = [
    ['maxCostUsd', 'max cost', (n: number) => `$${n}`],
    ['maxTokens', 'max tokens', String],
    ['maxSteps', 'max steps', String],
  ] as const;
  let lowered = 0;
  const set = limits.flatMap(([key, label, show]) => {
    const value = data[key];
    if (value === undefined) return [];
    const before = previous[key];
    if (typeof before === 'number' && value < before) lowered++;
    return [`${label} ${show(value)}${before === undefined ? '' : ` (was ${before === null ? 'none' : show(before)})`}`];
  });
  const verb = lowered === 0 ? 'raised' : lowered === set.length ? 'lowered' : 'changed';
  return `${verb} by ${data.by}: ${set.join(', ')}`;
}
