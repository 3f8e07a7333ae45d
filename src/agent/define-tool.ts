/**
 * defineTool: a typed interface the model can call. The input schema is a zod object;
 * the model sees its JSON Schema, and the runtime validates arguments before `run`.
 */
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { parseDeciders, type DeciderSpec } from './deciders.js';

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

export type ToolEffect = 'pure' | 'idempotent' | 'external';
export const toolEffects: readonly ToolEffect[] = ['pure', 'idempotent', 'external'];

export interface ApprovalContext {
  threadId: string;
  agent: string;
  /** The thread's input. */
  input: unknown;
}

/**
 * When a person must approve a call before it runs: always, never, or a predicate over
 * the (validated) arguments. A predicate that throws counts as "required" (fail safe).
 */
export type ApprovalPolicy<Args = unknown> =
  | 'always'
  | 'never'
  | ((args: Args, ctx: ApprovalContext) => boolean | { required: boolean; reason?: string });

export interface ToolOptions<I extends z.ZodType, O extends z.ZodType | undefined> {
  name: string;
  description: string;
  input: I;
  output?: O;
  /** Abort the run after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Default "never". Operators can force "always" per tool from the environment. */
  approval?: ApprovalPolicy<z.output<I>>;
  /**
   * Who may approve or reject: roles (`['finance']`), or `{ roles, people }` to also name
   * people (the name an API key or `--as` acts under). Default: anyone.
   */
  approvers?: DeciderSpec;
  /** After this long without a decision, `onApprovalTimeout` is applied (by "timeout"). */
  approvalTimeoutMs?: number;
  /** Default "reject": a call nobody approved in time does not run. */
  onApprovalTimeout?: 'approve' | 'reject';
  /**
   * What running the tool does to the world (default "external"):
   * - "pure": reads nothing that changes and writes nothing; safe to run in replays and forks.
   * - "idempotent": may act, but running it twice with the same idempotency key acts once.
   * - "external": acts on the world; an interrupted run goes to a person before it is retried past `maxAttempts`.
   */
  effect?: ToolEffect;
  /** Runs of one call interrupted by a dying worker before the call is given up (default 3). */
  maxAttempts?: number;
  /**
   * A stand-in used where the tool must not act for real (replays, shadow threads): same input,
   * output shaped like the real one. Not part of the release.
   */
  fake?: (input: z.output<I>, ctx: ToolContext) => Promise<O extends z.ZodType ? z.input<O> : unknown> | (O extends z.ZodType ? z.input<O> : unknown);
  run: (input: z.output<I>, ctx: ToolContext) => Promise<O extends z.ZodType ? z.input<O> : unknown> | (O extends z.ZodType ? z.input<O> : unknown);
  /**
   * Other implementations beside `run` (which is "live") and `fake`, chosen per environment by
   * TWELVE_TOOL_<NAME>=<implementation> or the config's `toolBindings` (src/agent/tool-binding.ts).
   * @example implementations: { sandbox: ({ orderId }) => sandboxOrders.get(orderId) }
   */
  implementations?: Record<string, (input: z.output<I>, ctx: ToolContext) => Promise<O extends z.ZodType ? z.input<O> : unknown> | (O extends z.ZodType ? z.input<O> : unknown)>;
}

export interface Tool<I extends z.ZodType = z.ZodType, O extends z.ZodType | undefined = z.ZodType | undefined> extends ToolOptions<I, O> {
  readonly kind: 'twelve.tool';
  /** JSON Schema of the input, as the model sees it. */
  readonly inputJsonSchema: Record<string, unknown>;
  /** Set on the built-in ask_human tool: the runtime asks a person instead of running code. */
  readonly human?: HumanToolSettings;
  /** Set where the runtime's binding must not choose the implementation (an eval's tools serve fixtures). */
  readonly bindingFixed?: boolean;
  /** Set on a tool of an MCP server (src/mcp/): which server, and the tool's name there. */
  readonly mcp?: { server: string; tool: string };
}

export interface HumanToolSettings {
  timeoutMs: number | undefined;
  defaultAnswer: string | undefined;
  /** Roles allowed to answer; with `people`, empty means anyone. */
  answerers: string[];
  /** People (by name) allowed to answer. */
  people: string[];
}

/** What a tool returns to be called again later (durable: the thread sleeps in the store). */
export interface SleepRequest {
  readonly kind: 'twelve.sleep';
  until: Date;
  reason: string | undefined;
}

/**
 * Return this from a tool's run() to be called again at (or after) `until`, with the same
 * idempotency key: for polling a slow job, waiting for a settlement window, and so on.
 * @example return callAgainAt(new Date(Date.now() + 15 * 60_000), 'payout still pending');
 */
export function callAgainAt(until: Date, reason?: string): SleepRequest {
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) throw new TwelveError('usage', 'callAgainAt: until must be a valid Date');
  return { kind: 'twelve.sleep', until, reason };
}

export function isSleepRequest(value: unknown): value is SleepRequest {
  return typeof value === 'object' && value !== null && (value as SleepRequest).kind === 'twelve.sleep';
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
  const approval = options.approval ?? 'never';
  if (approval !== 'always' && approval !== 'never' && typeof approval !== 'function') {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: approval must be "always", "never" or a function (args, ctx) => boolean | { required, reason }`);
  }
  parseDeciders(options.approvers, `defineTool ${options.name}: approvers`);
  if (options.effect !== undefined && !toolEffects.includes(options.effect)) {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: effect must be "pure", "idempotent" or "external" (got ${JSON.stringify(options.effect)})`);
  }
  if (options.maxAttempts !== undefined && !(Number.isInteger(options.maxAttempts) && options.maxAttempts > 0)) {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: maxAttempts must be a positive whole number`);
  }
  if (options.fake !== undefined && typeof options.fake !== 'function') throw new TwelveError('agent_invalid', `defineTool ${options.name}: fake must be a function like run`);
  checkImplementations(options.name, options.implementations);
  if (options.output !== undefined && !(options.output instanceof z.ZodType)) throw new TwelveError('agent_invalid', `defineTool ${options.name}: output must be a zod schema`);
  if (options.approvalTimeoutMs !== undefined && !(options.approvalTimeoutMs > 0)) {
    throw new TwelveError('agent_invalid', `defineTool ${options.name}: approvalTimeoutMs must be a positive number of milliseconds`);
  }
  return { ...options, kind: 'twelve.tool', inputJsonSchema };
}

const implementationName = /^[a-z][a-z0-9_-]{0,31}$/;

function checkImplementations(tool: string, implementations: unknown): void {
  if (implementations === undefined) return;
  if (typeof implementations !== 'object' || implementations === null || Array.isArray(implementations)) {
    throw new TwelveError('agent_invalid', `defineTool ${tool}: implementations must be an object of name -> function, e.g. { sandbox: async (input, ctx) => ... }`);
  }
  for (const [name, fn] of Object.entries(implementations)) {
    if (name === 'live' || name === 'fake') throw new TwelveError('agent_invalid', `defineTool ${tool}: implementations.${name}: "${name}" is reserved (live is run, fake is fake)`);
    if (!implementationName.test(name)) throw new TwelveError('agent_invalid', `defineTool ${tool}: implementation name "${name}" must be lower-case letters, digits, _ or - (max 32)`);
    if (typeof fn !== 'function') throw new TwelveError('agent_invalid', `defineTool ${tool}: implementations.${name} must be a function like run`);
  }
}
