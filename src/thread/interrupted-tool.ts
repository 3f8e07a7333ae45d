/**
 * "Did it happen?": an `external` tool call whose runs kept dying with the worker (as many
 * times as the tool allows) may or may not have acted on the world, and only a person who
 * can look at the other system knows. The call is turned into a question (human_asked with
 * `about: 'interrupted_tool'`) on the ordinary question path; the answer settles the call.
 * Pure: shared by decide/state (the reducer), the context builder and the answer path.
 */
import { clipText } from './clip-text.js';
import type { CompactError, EventData } from './events.js';

/** The answers such a question takes, in the order they are offered. */
export const interruptedAnswers = ['happened', 'did not happen', 'retry'] as const;
export type InterruptedAnswer = (typeof interruptedAnswers)[number];

/** `refund(orderId: "A-1001", amountCents: 500)`, clipped: the call as a person recognises it. */
export function callText(tool: string, args: unknown): string {
  const fields =
    args !== null && typeof args === 'object' && !Array.isArray(args)
      ? Object.entries(args as Record<string, unknown>).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ')
      : args === undefined || args === null ? '' : JSON.stringify(args);
  return `${tool}(${clipText(fields, 200)})`;
}

/** The human_asked data for a call interrupted `interrupted` times. */
export function interruptedQuestion(call: { callId: string; tool: string; args: unknown }, interrupted: number, idempotencyKey: string): EventData<'human_asked'> {
  const times = interrupted === 1 ? 'once' : `${interrupted} times`;
  return {
    callId: call.callId,
    question:
      `Did ${callText(call.tool, call.args)} happen? The worker stopped ${times} while running it; its outcome was never recorded. ` +
      `Check the other system (idempotency key ${idempotencyKey}).`,
    urgency: 'high',
    options: [...interruptedAnswers],
    about: 'interrupted_tool',
  };
}

/**
 * "happened", "did not happen" or "retry", any case, optionally followed by a comment after
 * ":" or " - " ("happened: refund R-9 in the provider's dashboard"). Undefined for anything else.
 */
export function parseInterruptedAnswer(text: string): { answer: InterruptedAnswer; comment: string | undefined } | undefined {
  const match = /^\s*(happened|did not happen|didn't happen|retry)\s*(?:(?::|\s-|—)\s*([\s\S]*))?$/i.exec(text);
  if (!match) return undefined;
  const word = match[1]!.toLowerCase();
  const answer: InterruptedAnswer = word === "didn't happen" ? 'did not happen' : (word as InterruptedAnswer);
  const comment = match[2]?.trim();
  return { answer, comment: comment ? comment : undefined };
}

/**
 * What an answer does to the call: an outcome ("happened": a result the model reads as
 * done; "did not happen": a tool_interrupted failure, so the model re-plans), or "retry"
 * (run it again, with a fresh budget of attempts and the same idempotency key).
 */
export function interruptedOutcome(
  tool: string,
  answered: { answer: string; by: string; comment?: string | undefined },
): { ok: true; result: { happened: true; confirmedBy: string; comment?: string } } | { ok: false; error: CompactError } | 'retry' | undefined {
  const parsed = parseInterruptedAnswer(answered.answer);
  if (!parsed) return undefined;
  const comment = answered.comment ?? parsed.comment;
  switch (parsed.answer) {
    case 'happened':
      return { ok: true, result: { happened: true, confirmedBy: answered.by, ...(comment ? { comment } : {}) } };
    case 'did not happen':
      return { ok: false, error: { code: 'tool_interrupted', message: `${tool} did not happen (confirmed by ${answered.by}${comment ? `: ${comment}` : ''})` } };
    case 'retry':
      return 'retry';
  }
}
