/**
 * The API's eval bodies (stored eval runs, proposed cases), beside schemas.ts so the quality
 * loop's shapes stay in one place; the client takes its types from them.
 */
import { z } from '@hono/zod-openapi';

const ScoreResult = z.object({ name: z.string(), pass: z.boolean(), score: z.number(), detail: z.string().optional() });

export const EvalCaseResult = z
  .object({
    id: z.string(),
    pass: z.boolean(),
    score: z.number(),
    scores: z.array(ScoreResult),
    status: z.string(),
    output: z.unknown(),
    costUsd: z.number().nullable(),
    tokens: z.number(),
    steps: z.number(),
    latencyMs: z.number(),
    threadId: z.string().optional(),
    error: z.string().optional(),
  })
  .openapi('EvalCaseResult');

export const EvalSummary = z
  .object({
    cases: z.number().int(),
    passed: z.number().int(),
    failed: z.number().int(),
    score: z.number(),
    costUsd: z.number().nullable(),
    tokens: z.number(),
    steps: z.number(),
    durationMs: z.number(),
  })
  .openapi('EvalSummary');

/** A run without its per-case results (lists); GET /v1/evals/runs/{id} has them. */
export const EvalRunSummary = z
  .object({
    id: z.string(),
    suite: z.string(),
    agent: z.string(),
    releaseId: z.string(),
    model: z.string().nullable(),
    baselineReleaseId: z.string().nullable(),
    createdAt: z.string(),
    summary: EvalSummary,
  })
  .openapi('EvalRunSummary');

export const EvalRun = EvalRunSummary.extend({ results: z.array(EvalCaseResult) }).openapi('EvalRun');
export const EvalRunList = z.object({ runs: z.array(EvalRunSummary) }).openapi('EvalRunList');

export const ProposalKind = z.enum(['rejection', 'guidance', 'review_edit', 'review_send_back']).openapi('ProposalKind');
export const ProposalStatus = z.enum(['pending', 'accepted', 'dismissed']).openapi('ProposalStatus');

/** The draft case (the suite line format; see src/eval/case-schema.ts). */
export const EvalCaseDraft = z
  .object({
    id: z.string(),
    input: z.unknown(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    expect: z.record(z.string(), z.unknown()).optional(),
    fixtures: z.object({ tools: z.array(z.record(z.string(), z.unknown())).optional() }).optional(),
    humans: z.record(z.string(), z.unknown()).optional(),
    note: z.string().optional(),
    source: z.object({ threadId: z.string(), kind: z.string(), seq: z.number().optional(), by: z.string().optional() }).optional(),
  })
  .openapi('EvalCaseDraft');

export const Proposal = z
  .object({
    id: z.string().openapi({ example: 'pr_mabc123def456_5' }),
    threadId: z.string(),
    agent: z.string(),
    seq: z.number().int(),
    kind: ProposalKind,
    status: ProposalStatus,
    draft: EvalCaseDraft,
    createdAt: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    suite: z.string().nullable(),
  })
  .openapi('Proposal');

export const ProposalList = z.object({ proposals: z.array(Proposal) }).openapi('ProposalList');

export const AcceptBody = z
  .object({
    suite: z.string().min(1).max(500).optional().openapi({ description: "The suite file, relative to the server's project directory (default evals/<agent>.jsonl)", example: 'evals/refunds.jsonl' }),
  })
  .strict()
  .openapi('AcceptProposal');

export const AcceptResult = z
  .object({
    proposal: Proposal,
    /** The suite file, relative to the project directory. */
    suite: z.string(),
    /** False when the file already had this very case. */
    written: z.boolean(),
  })
  .openapi('AcceptResult');
