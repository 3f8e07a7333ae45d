/**
 * Helpers for the human-in-the-loop tests: tools that count their runs and their side
 * effects, scripted models that answer by the thread's step (so a model survives a
 * runtime restart), prompt inspection, error capture, and a seeded PRNG.
 */
import { join } from 'node:path';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { z } from 'zod';
import { createRuntime, defineAgent, defineTool, scriptedModel, TwelveError, type Agent, type AgentOptions, type ApprovalPolicy, type Runtime, type RuntimeOptions, type ScriptedModel, type ScriptedReply, type ThreadEvent, type ToolContext, type TwelveErrorCode } from '../../src/index.js';
import type { DeciderSpec } from '../../src/agent/deciders.js';
import { testEnv } from './runtime.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A money-moving tool that records every run and, like a real ledger, one effect per idempotency key. */
export function payTool(options: {
  name?: string;
  approval?: ApprovalPolicy<{ amount: number }>;
  approvers?: DeciderSpec;
  approvalTimeoutMs?: number;
  onApprovalTimeout?: 'approve' | 'reject';
  run?: (input: { amount: number }, ctx: ToolContext) => unknown;
} = {}) {
  const runs: Array<{ amount: number; callId: string; attempt: number; idempotencyKey: string; threadId: string }> = [];
  const effects = new Map<string, number>();
  const tool = defineTool({
    name: options.name ?? 'pay',
    description: 'Pays an amount of money to the customer',
    input: z.object({ amount: z.number().nonnegative() }),
    ...(options.approval !== undefined ? { approval: options.approval } : {}),
    ...(options.approvers ? { approvers: options.approvers } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(options.onApprovalTimeout ? { onApprovalTimeout: options.onApprovalTimeout } : {}),
    run: async (input, ctx) => {
      runs.push({ amount: input.amount, callId: ctx.callId, attempt: ctx.attempt, idempotencyKey: ctx.idempotencyKey, threadId: ctx.threadId });
      if (!effects.has(ctx.idempotencyKey)) effects.set(ctx.idempotencyKey, input.amount);
      if (options.run) return options.run(input, ctx);
      return { paid: input.amount };
    },
  });
  return { tool, runs, effects };
}

/** An agent on a scripted model (`scripted:<name>`). */
export function scriptedAgent(options: Partial<AgentOptions<any, any>> & { name?: string } = {}): Agent {
  const name = options.name ?? 'payer';
  return defineAgent({
    purpose: 'Pays customers what they are owed, for tests',
    model: `scripted:${name}`,
    prompt: { text: 'You pay customers. Tools:\n{{tools}}' },
    ...options,
    name,
  } as AgentOptions<any, any>);
}

/** How many model steps this thread has taken, read from the prompt (so it is right after a restart too). */
export function stepOf(request: LanguageModelV3CallOptions): number {
  return request.prompt.filter((m) => m.role === 'assistant').length;
}

/**
 * A scripted model that answers by the thread's step: `replies[step]`, or a function of the
 * step. The step comes from the prompt, so several runtimes (restarts) can share one script.
 */
export function stepModel(replies: ScriptedReply[] | ((step: number, request: LanguageModelV3CallOptions) => ScriptedReply)): ScriptedModel {
  return scriptedModel((request) => {
    const step = stepOf(request);
    const reply = typeof replies === 'function' ? replies(step, request) : replies[step];
    if (!reply) throw new Error(`stepModel: no reply for step ${step}`);
    return reply;
  });
}

export interface ToolResultSeen {
  toolCallId: string;
  toolName: string;
  type: string;
  value: unknown;
}

/** Every tool result in a request the model received, in order. */
export function toolResults(request: LanguageModelV3CallOptions | undefined): ToolResultSeen[] {
  const results: ToolResultSeen[] = [];
  for (const message of request?.prompt ?? []) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-result') continue;
      const output = part.output as { type: string; value?: unknown };
      results.push({ toolCallId: part.toolCallId, toolName: part.toolName, type: output.type, value: output.value });
    }
  }
  return results;
}

/** The user-message texts of a request (operator guidance shows up here). */
export function userTexts(request: LanguageModelV3CallOptions | undefined): string[] {
  const texts: string[] = [];
  for (const message of request?.prompt ?? []) {
    if (message.role !== 'user') continue;
    for (const part of message.content) if (part.type === 'text') texts.push(part.text);
  }
  return texts;
}

/** Awaits a promise that must reject with a TwelveError of `code`; returns the error. */
export async function expectTwelveError(promise: Promise<unknown>, code: TwelveErrorCode): Promise<TwelveError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a TwelveError "${code}", but it resolved`).toBeDefined();
  expect(TwelveError.is(caught), `expected a TwelveError, got ${String(caught)}`).toBe(true);
  expect((caught as TwelveError).code, (caught as Error).message).toBe(code);
  return caught as TwelveError;
}

/** A runtime that the caller closes (for tests that open and close many of them). */
export function openRuntime(options: Omit<RuntimeOptions, 'env'> & { dbFile: string; env?: NodeJS.ProcessEnv }): Runtime {
  const { dbFile, env, ...rest } = options;
  return createRuntime({ retryBaseMs: 1, ...rest, env: testEnv({ dbFile, ...(env ? { extra: env } : {}) }) });
}

export function dbFileIn(dir: string, name = 'twelve.db'): string {
  return join(dir, name);
}

/** Reads rows straight from the SQLite file with a separate connection (what another process would see). */
export function readDb<T>(dbFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function ofType<T extends ThreadEvent['type']>(events: readonly ThreadEvent[], type: T): Array<Extract<ThreadEvent, { type: T }>> {
  return events.filter((e): e is Extract<ThreadEvent, { type: T }> => e.type === type);
}

/** A promise the test resolves when it chooses (for tools that must block mid-run). */
export function gate<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** mulberry32: a small, fast, seeded PRNG (same seed, same scenarios). */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
