/**
 * The event vocabulary of a thread: one zod discriminated union shared by the store,
 * the runtime, the logs and the CLI. A thread's log is append-only; everything else
 * (status, context window, cost) is derived from it.
 */
import { z } from 'zod';

const compactError = z.object({
  /** Stable machine code: unknown_tool, invalid_json, invalid_arguments, tool_error, ... */
  code: z.string(),
  /** One short line the model (and a human) can act on. */
  message: z.string(),
});
export type CompactError = z.infer<typeof compactError>;

const usage = z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() });
export type TokenUsage = z.infer<typeof usage>;

const modelAttemptFailure = z.object({ model: z.string(), attempt: z.number().int(), error: z.string(), status: z.number().int().optional() });
export type ModelAttemptFailure = z.infer<typeof modelAttemptFailure>;

export const eventDataSchemas = {
  thread_started: z.object({
    agent: z.string(),
    input: z.unknown(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  tool_requested: z.object({
    callId: z.string(),
    tool: z.string(),
    /** Parsed arguments; null when the model sent arguments that are not JSON. */
    args: z.unknown(),
    /** The raw argument text, kept only when it could not be parsed. */
    argsText: z.string().optional(),
    source: z.enum(['model', 'prefetch']),
  }),
  tool_started: z.object({ callId: z.string(), idempotencyKey: z.string(), attempt: z.number().int().positive() }),
  tool_succeeded: z.object({ callId: z.string(), result: z.unknown(), durationMs: z.number().nonnegative() }),
  tool_failed: z.object({ callId: z.string(), error: compactError, durationMs: z.number().nonnegative().optional() }),
  model_called: z.object({
    model: z.string(),
    attempt: z.number().int().positive(),
    /** 0 for the agent's primary model, n for the n-th fallback. */
    fallbackIndex: z.number().int().nonnegative(),
    latencyMs: z.number().nonnegative(),
    usage,
    /** null when the model has no known price. */
    costUsd: z.number().nonnegative().nullable(),
    text: z.string(),
    toolCalls: z.array(z.object({ callId: z.string(), tool: z.string() })),
    finishReason: z.string(),
    /** Number of messages the model was shown (the messages are re-derivable from earlier events). */
    contextMessages: z.number().int().nonnegative(),
    /** Attempts that failed before this one succeeded (retries and fallbacks). */
    failures: z.array(modelAttemptFailure).optional(),
  }),
  model_failed: z.object({ error: compactError, failures: z.array(modelAttemptFailure) }),
  model_output_invalid: z.object({ text: z.string(), error: compactError }),
  escalated: z.object({ reason: z.string(), consecutiveErrors: z.number().int().nonnegative() }),
  resumed: z.object({ by: z.string(), comment: z.string().optional() }),
  thread_completed: z.object({ output: z.unknown() }),
  thread_failed: z.object({ error: compactError }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const eventTypes = Object.keys(eventDataSchemas) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** An event before it is stored: the store assigns `seq`. */
export type NewEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/** A stored event. `releaseId` names the exact agent definition that produced it. */
export type ThreadEvent = NewEvent & { threadId: string; seq: number; at: string; releaseId: string };

const envelope = { threadId: z.string(), seq: z.number().int().positive(), at: z.string(), releaseId: z.string() };

export const threadEventSchema = z.discriminatedUnion(
  'type',
  eventTypes.map((type) => z.object({ ...envelope, type: z.literal(type), data: eventDataSchemas[type] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

export const newEventSchema = z.discriminatedUnion(
  'type',
  eventTypes.map((type) => z.object({ type: z.literal(type), data: eventDataSchemas[type] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

/** Build a typed event; `event('tool_started', {...})` checks the data shape at compile time. */
export function event<T extends EventType>(type: T, data: EventData<T>): NewEvent {
  return { type, data } as NewEvent;
}
