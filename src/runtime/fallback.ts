/**
 * The non-LLM fallback (`fallback` in defineAgent): when no model can answer (every model of
 * the chain failed, the provider configuration blocks them all, or, when the agent says so, a
 * budget ran out), the agent's own deterministic code answers instead. Its output is checked
 * like a model's and completes the thread through completionEvents, recorded as fallback_used
 * right after the failure it stands in for, in the same commit. A fallback that throws, hangs
 * or answers badly changes nothing about what happens without one, except that the failure
 * says so ("fallback failed: ..."), in the log and in the recorded error.
 */
import { fallbackOnOf, type FallbackReason } from '../agent/fallback-options.js';
import type { AgentRelease } from '../agent/release.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import { toJsonValue, zodIssues } from './compact-error.js';
import { completionEvents } from './completion.js';

/** A fallback is keyword rules or a lookup: anything slower is a bug, and the thread must not hang on it. */
export const fallbackTimeoutMs = 10_000;

/** The failures a fallback may stand in for. */
export type FallbackFailure = Extract<NewEvent, { type: 'model_failed' | 'blocked' | 'budget_exceeded' }>;

export interface WithFallbackOptions {
  release: AgentRelease;
  state: ThreadState;
  logger: Logger;
  /** What happened (model_failed, blocked, budget_exceeded): recorded as without a fallback, followed by its answer when there is one. */
  failure: NewEvent;
  now: number;
  timeoutMs?: number;
}

const reasonOf = { model_failed: 'models_failed', blocked: 'blocked', budget_exceeded: 'budget' } as const satisfies Record<FallbackFailure['type'], FallbackReason>;

/**
 * The events to commit for a failure: [failure] when the agent's fallback does not cover it;
 * [failure, fallback_used, ...completion] when it answered; [failure, its message saying why
 * the fallback failed] when it did not.
 */
export async function withFallback(options: WithFallbackOptions): Promise<NewEvent[]> {
  const { release, state, logger, failure, now } = options;
  if (!(failure.type in reasonOf)) return [failure];
  const reason = reasonOf[(failure as FallbackFailure).type];
  if (!fallbackOnOf(release.agent.options).includes(reason)) return [failure];
  const detail = oneLine(failureDetail(failure as FallbackFailure), 500);
  const agent = release.agent.name;
  const fields = { threadId: state.threadId, agent, reason };
  const answer = await runFallback({ release, state, reason, detail, timeoutMs: options.timeoutMs ?? fallbackTimeoutMs });
  if (!answer.ok) {
    logger.error({ ...fields, error: answer.why }, `thread ${state.threadId}: the non-LLM fallback of ${agent} failed (${reason.replace('_', ' ')}): ${answer.why}`);
    return [noteFailure(failure as FallbackFailure, `fallback failed: ${oneLine(answer.why, 300)}`)];
  }
  logger.warn(fields, `thread ${state.threadId}: answered by the non-LLM fallback of ${agent} (${reason.replace('_', ' ')}): ${detail}`);
  return [failure, event('fallback_used', { reason, detail, output: answer.output }), ...completionEvents({ release, state, output: answer.output, source: 'fallback', now })];
}

type FallbackAnswer = { ok: true; output: unknown } | { ok: false; why: string };

/** Runs the fallback with a time bound and checks its output against the output schema (no schema: a non-empty string). */
export async function runFallback(options: { release: AgentRelease; state: ThreadState; reason: FallbackReason; detail: string; timeoutMs: number }): Promise<FallbackAnswer> {
  const { release, state, reason, detail, timeoutMs } = options;
  const fallback = release.agent.options.fallback;
  if (typeof fallback !== 'function') return { ok: false, why: 'the agent has no fallback' };
  let timer: NodeJS.Timeout | undefined;
  let raw: unknown;
  try {
    const ctx = { threadId: state.threadId, agent: release.agent.name, reason, detail };
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms (a fallback must be fast: rules or a lookup)`)), timeoutMs);
    });
    // A synchronous fallback that never returns cannot be bounded here: it blocks the process.
    raw = await Promise.race([Promise.resolve().then(() => fallback(state.input as never, ctx)), timeout]);
  } catch (error) {
    return { ok: false, why: `threw: ${errorMessage(error)}` };
  } finally {
    clearTimeout(timer);
  }
  const schema = release.agent.outputSchema;
  if (!schema) {
    return typeof raw === 'string' && raw.trim() ? { ok: true, output: raw } : { ok: false, why: `returned ${describe(raw)}; the agent has no output schema, so it must return a non-empty string` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, why: `returned output that fails the output schema: ${zodIssues(parsed.error)}` };
  return { ok: true, output: toJsonValue(parsed.data) };
}

function failureDetail(failure: FallbackFailure): string {
  return failure.type === 'budget_exceeded' ? failure.data.message : failure.data.error.message;
}

/** The failure as recorded today, with why the fallback did not answer at the end of its message (kept whole, the original clipped). */
function noteFailure(failure: FallbackFailure, note: string): FallbackFailure {
  const append = (message: string, max: number) => `${message.length + note.length + 2 > max ? `${message.slice(0, Math.max(0, max - note.length - 3))}…` : message}; ${note}`;
  switch (failure.type) {
    case 'budget_exceeded':
      return { ...failure, data: { ...failure.data, message: append(failure.data.message, 2000) } };
    case 'blocked':
      return { ...failure, data: { ...failure.data, error: { ...failure.data.error, message: append(failure.data.error.message, 2000) } } };
    case 'model_failed':
      // Compact errors are one short line (the model reads them): the note is kept whole.
      return { ...failure, data: { ...failure.data, error: { ...failure.data.error, message: append(failure.data.error.message, 400 + note.length) } } };
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return 'an empty string';
  return `a ${value === null ? 'null' : typeof value}`;
}
