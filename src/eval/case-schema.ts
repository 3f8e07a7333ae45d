/**
 * The zod form of an eval case (eval/types.ts), for suite files and proposals: a line of
 * `evals/<agent>.jsonl` that does not match is refused with its line number and the field.
 */
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import { threadStatuses } from '../thread/state.js';
import type { EvalCase } from './types.js';

const toolCall = z.strictObject({ tool: z.string().min(1), args: z.unknown().optional() });

export const evalCaseSchema = z.strictObject({
  id: z.string().min(1).max(200),
  input: z.unknown().refine((value) => value !== undefined, 'input is required'),
  metadata: z.record(z.string(), z.unknown()).optional(),
  expect: z
    .strictObject({
      status: z.enum(threadStatuses as [string, ...string[]]).optional(),
      output: z.unknown().optional(),
      outputSubset: z.unknown().optional(),
      tools: z
        .strictObject({
          called: z.array(toolCall).optional(),
          never: z.array(z.union([z.string().min(1), toolCall])).optional(),
          noApproval: z.boolean().optional(),
        })
        .optional(),
      noHuman: z.boolean().optional(),
      maxCostUsd: z.number().nonnegative().optional(),
      maxSteps: z.number().int().positive().optional(),
      maxTokens: z.number().int().positive().optional(),
      judge: z.string().min(1).optional(),
    })
    .optional(),
  fixtures: z
    .strictObject({
      tools: z
        .array(
          z
            .strictObject({ tool: z.string().min(1), args: z.unknown().optional(), result: z.unknown().optional(), error: z.string().optional() })
            .refine((f) => (f.result === undefined) !== (f.error === undefined), 'a tool fixture has exactly one of result and error'),
        )
        .optional(),
    })
    .optional(),
  humans: z
    .strictObject({
      approvals: z.union([z.enum(['approve', 'reject']), z.record(z.string(), z.enum(['approve', 'reject']))]).optional(),
      answers: z.array(z.string()).optional(),
      review: z.enum(['approve', 'reject']).optional(),
    })
    .optional(),
  note: z.string().optional(),
  source: z
    .strictObject({
      threadId: z.string(),
      kind: z.enum(['thread', 'rejection', 'guidance', 'review_edit', 'review_send_back']),
      seq: z.number().int().positive().optional(),
      by: z.string().optional(),
    })
    .optional(),
});

/** Checks one case; throws a readable error naming `where` and the fields. */
export function parseEvalCase(value: unknown, where: string): EvalCase {
  const parsed = evalCaseSchema.safeParse(value);
  if (parsed.success) return parsed.data as EvalCase;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(case)'}: ${issue.message}`);
  throw new TwelveError('usage', `${where}: ${problems.join('; ')}`, { details: { problems } });
}
