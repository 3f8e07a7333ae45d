/**
 * The few error classes Twelve throws. Each has a stable `code` users can branch on,
 * structured `details`, and an optional `cause`. The CLI maps `exitCode` straight to
 * the process exit status, so a bad input never surfaces as a bare stack trace.
 */
export type TwelveErrorCode =
  | 'config_invalid'
  | 'usage'
  | 'agent_invalid'
  | 'agent_not_found'
  | 'thread_not_found'
  | 'release_not_found'
  | 'input_invalid'
  | 'model_id_invalid'
  | 'model_floating_alias'
  | 'model_call_failed'
  | 'replay_missing'
  | 'store_unavailable'
  | 'store_conflict'
  | 'thread_not_runnable'
  | 'forbidden'
  | 'unauthorized'
  | 'not_found'
  | 'invalid_request'
  | 'invalid_json'
  | 'conflict'
  | 'thread_busy'
  | 'internal';

export class TwelveError extends Error {
  readonly code: TwelveErrorCode;
  readonly details: Record<string, unknown>;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number;

  constructor(
    code: TwelveErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TwelveError';
    this.code = code;
    this.details = options.details ?? {};
    this.exitCode = options.exitCode ?? exitCodeOf(code);
  }

  /**
   * Structural, not instanceof: an agent file may load its own copy of twelve-agents
   * (source vs built), and its errors must still be recognised.
   */
  static is(value: unknown, code?: TwelveErrorCode): value is TwelveError {
    if (!(value instanceof Error)) return false;
    const candidate = value as Partial<TwelveError>;
    if (typeof candidate.code !== 'string' || typeof candidate.exitCode !== 'number') return false;
    return code === undefined || candidate.code === code;
  }
}

/**
 * The thread's state refused the action (already decided, already answered, finished,
 * held by another worker): HTTP 409. Not bad usage: the same command was right a moment
 * earlier, and a script may want to treat "someone else got there first" as done.
 */
export const conflictCodes: readonly TwelveErrorCode[] = ['conflict', 'thread_not_runnable', 'thread_busy'];

/** Exit statuses: 1 internal, 2 bad usage or configuration, 5 conflict (see the CLI's help). */
function exitCodeOf(code: TwelveErrorCode): number {
  if (conflictCodes.includes(code)) return 5;
  return code !== 'internal' && code !== 'store_conflict' && code !== 'model_call_failed' ? 2 : 1;
}

/** Two writers raced for the same sequence number; the loser must drop its result. */
export class SeqConflictError extends TwelveError {
  constructor(threadId: string, expectedSeq: number, actualSeq: number) {
    super('store_conflict', `thread ${threadId}: expected to append after seq ${expectedSeq}, but the log is at seq ${actualSeq}`, {
      details: { threadId, expectedSeq, actualSeq },
    });
    this.name = 'SeqConflictError';
  }
}

/** Normalise anything thrown into an Error (user code may throw strings or objects). */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/** A one-line message for logs, events and the CLI; never a stack. */
export function errorMessage(value: unknown): string {
  const error = coerceError(value);
  return error.message.split('\n')[0] || error.name;
}
