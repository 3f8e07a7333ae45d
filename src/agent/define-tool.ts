/**
 * defineTool: a typed interface the model can call. The input schema is a zod object;
 * the model sees its JSON Schema, and the runtime validates arguments before `run`.
 */
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface ToolContext {
  threadId: string;
  callId: string;
  /** `threadId:callId`: the same on every retry of this call, so side effects can be deduplicated. */
  idempotencyKey: string;
  /** 1 on the first run, 2+ when a previous run was interrupted (crash) before recording a result. */
  attempt: number;
  agent: string;
  signal: AbortSignal;
  logger: Logger;
}

export interface ToolOptions<I extends z.ZodType, O extends z.ZodType | undefined> {
  name: string;
  description: string;
  input: I;
  output?: O;
  /** Abort the run after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  run: (input: z.output<I>, ctx: ToolContext) => Promise<O extends z.ZodType ? z.input<O> : unknown> | (O extends z.ZodType ? z.input<O> : unknown);
}

export interface Tool<I extends z.ZodType = z.ZodType, O extends z.ZodType | undefined = z.ZodType | undefined> extends ToolOptions<I, O> {
  readonly kind: 'twelve.tool';
  /** JSON Schema of the input, as the model sees it. */
  readonly inputJsonSchema: Record<string, unknown>;
}

const toolName = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/**
 * @example
 * const lookupOrder = defineTool({
 *   name: 'lookup_order',
 *   description: 'Find an order by id',
 *   input: z.object({ orderId: z.string() }),
 *   run: async ({ orderId }) => orders.get(orderId),
 * });
 */
export function defineTool<I extends z.ZodType, O extends z.ZodType | undefined = undefined>(options: ToolOptions<I, O>): Tool<I, O> {
  if (!toolName.test(options.name ?? '')) {
    throw new TwelveError('agent_invalid', `defineTool: name "${options.name}" must start with a letter and use only letters, digits, _ or - (max 64)`);
  }
  if (!options.description?.trim()) throw new TwelveError('agent_invalid', `defineTool ${options.name}: description is required (the model reads it)`);
  if (!(options.input instanceof z.ZodType)) throw new TwelveError('agent_invalid', `defineTool ${options.name}: input must be a zod schema`);
  if (typeof options.run !== 'function') throw new TwelveError('agent_invalid', `defineTool ${options.name}: run must be a function`);
  let inputJsonSchema: Record<string, unknown>;
  try {
    inputJsonSchema = z.toJSONSchema(options.input, { io: 'input' }) as Record<string, unknown>;
  } catch (cause) {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: input schema cannot be expressed as JSON Schema`, { cause });
  }
  if (inputJsonSchema.type !== 'object') {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: input must be a z.object(...) (providers require an object of arguments)`);
  }
  delete inputJsonSchema.$schema;
  return { ...options, kind: 'twelve.tool', inputJsonSchema };
}
