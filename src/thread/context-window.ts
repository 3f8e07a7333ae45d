/**
 * A conversation's context window: which of its turns the model is shown. The system prompt
 * and the first input are always shown; then as many of the latest turns as fit the agent's
 * `maxContextTokens` and `maxTurns`, after a one-line note that the earlier ones are left out
 * (they stay in the thread log: nothing is deleted, only not sent).
 *
 * The window's start moves only forward and only in blocks: when the kept turns overflow a
 * bound, it advances until they fit in three quarters of `maxContextTokens` and half of
 * `maxTurns`. Between overflows every request starts with the same messages, byte for byte,
 * so provider prompt caches stay warm for several turns instead of missing on every turn.
 *
 * The start is a pure function of the events (it is re-fitted only when an event is folded,
 * never when messages are read), so a worker that held the thread for many steps and one that
 * folds the log once send the same request, and replay re-derives it exactly.
 *
 * Tokens are approximated from the messages' JSON (one token per 3 characters, on the safe
 * side for English text and JSON); tool definitions and the output schema are not counted.
 */
import type { LanguageModelV3Message } from '@ai-sdk/provider';

export interface WindowLimits {
  maxContextTokens?: number | undefined;
  maxTurns?: number | undefined;
}

/** Approximate tokens of one message (its JSON, 3 characters a token, plus a small per-message overhead). */
export function approximateTokens(message: LanguageModelV3Message): number {
  return Math.ceil(JSON.stringify(message.content).length / 3) + 4;
}

/** The note the model reads where turns were left out (stable text: part of the cached prefix). */
export function omittedNote(omitted: number): LanguageModelV3Message {
  const turns = omitted === 1 ? '1 earlier turn' : `${omitted} earlier turns`;
  return { role: 'user', content: [{ type: 'text', text: `(${turns} of this conversation are omitted here to keep the context short; they are still in the thread log.)` }] };
}

/**
 * The first turn to keep, given the current one and each turn's size: `start` unless the kept
 * turns overflow, else advanced in one block (see the header). The latest turn is always kept.
 * `pinned`: tokens of what is always sent (system prompt, first input, the note).
 */
export function fitWindow(limits: WindowLimits, start: number, turnTokens: readonly number[], pinned: number): number {
  const { maxContextTokens, maxTurns } = limits;
  const last = turnTokens.length - 1;
  if (last <= 0 || (maxContextTokens === undefined && maxTurns === undefined)) return start;
  const total = (from: number) => pinned + turnTokens.slice(from).reduce((sum, tokens) => sum + tokens, 0);
  const overflows = (from: number, tokens: number | undefined, turns: number | undefined) =>
    (tokens !== undefined && total(from) > tokens) || (turns !== undefined && last - from + 1 > turns);
  if (!overflows(start, maxContextTokens, maxTurns)) return start;
  const tokenTarget = maxContextTokens === undefined ? undefined : Math.floor((maxContextTokens * 3) / 4);
  const turnTarget = maxTurns === undefined ? undefined : Math.max(1, Math.ceil(maxTurns / 2));
  let from = start;
  while (from < last && overflows(from, tokenTarget, turnTarget)) from += 1;
  return from;
}
