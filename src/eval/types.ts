/**
 * The eval vocabulary shared by suites, the runner, the store and the UIs: a case (input,
 * expectations, fixtures), a scorer, a case's result, a stored run, a proposal. An eval case
 * runs as a real thread of the agent on an isolated store, with tools served from its fixtures,
 * so one code path serves production, replay and evals.
 */
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadStatus } from '../thread/state.js';

/** A recorded tool outcome a case serves instead of running the tool (side effects never run in an eval). */
export interface ToolFixture {
  tool: string;
  /** Served only to calls whose arguments contain these (JSON subset); absent: any call of the tool. */
  args?: unknown;
  /** The result returned to the model; exactly one of result and error. */
  result?: unknown;
  /** The tool fails with this message instead. */
  error?: string;
}

/** An expected tool call: the tool, and arguments that must contain these (JSON subset). */
export interface ToolCallExpectation {
  tool: string;
  args?: unknown;
}

/** What a case must show. Every field is optional; each one present becomes a check (a scorer). */
export interface Expectations {
  /** How the thread must end. Default "completed". */
  status?: ThreadStatus;
  /** The output must equal this (deep, key order ignored). */
  output?: unknown;
  /** The output must contain this (JSON subset: objects by key, arrays element by element). */
  outputSubset?: unknown;
  tools?: {
    /** Each must be called (arguments containing `args` when given). */
    called?: ToolCallExpectation[];
    /** None of these may be called (a name: never at all; with args: never with such arguments). */
    never?: Array<string | ToolCallExpectation>;
    /** No call may need a person's approval. */
    noApproval?: boolean;
  };
  /** The thread must finish without a person (no approval, question, escalation or review). */
  noHuman?: boolean;
  maxCostUsd?: number;
  maxSteps?: number;
  maxTokens?: number;
  /** Graded by the suite's LLM judge against these criteria (see judge in eval/scorers). */
  judge?: string;
}

/** How the people in the loop act during a case (an eval never waits for a real person). */
export interface HumanScript {
  /** Approvals: one decision for every call, or per tool. Default: the case stops awaiting approval. */
  approvals?: 'approve' | 'reject' | Record<string, 'approve' | 'reject'>;
  /** Answers to ask_human questions, in order. */
  answers?: string[];
  /** Output review (when the agent's policy asks for one). Default "approve". */
  review?: 'approve' | 'reject';
}

/** Where a case came from, when a thread (or a person's correction of one) proposed it. */
export interface CaseSource {
  threadId: string;
  kind: ProposalKind | 'thread';
  /** The seq of the correcting event. */
  seq?: number;
  /** Who made the correction. */
  by?: string;
}

export interface EvalCase {
  /** Unique within its suite: names the case in reports and regressions. */
  id: string;
  input: unknown;
  /** Launch metadata of the case's thread. */
  metadata?: Record<string, unknown>;
  expect?: Expectations;
  fixtures?: { tools?: ToolFixture[] };
  humans?: HumanScript;
  /** Why the case exists (a reviewer's comment, a bug it pins). */
  note?: string;
  source?: CaseSource;
}

/** What a scorer sees: the case and its finished (or stopped) thread. */
export interface CaseRun {
  case: EvalCase;
  threadId: string;
  status: ThreadStatus;
  output: unknown;
  error: { code: string; message: string } | null;
  events: ThreadEvent[];
  /** Spend of priced calls; null when a call had no known price. */
  costUsd: number | null;
  /**
   * The same calls (the case's child threads' included) at the uncached rates: what maxCostUsd is
   * scored on, so a provider's prompt cache being warm or cold cannot pass or fail a case. Null
   * when a call had no known price; absent: as costUsd.
   */
  listCostUsd?: number | null;
  inputTokens: number;
  outputTokens: number;
  /** Model calls. */
  steps: number;
  latencyMs: number;
}

export interface ScoreResult {
  name: string;
  pass: boolean;
  /** 0..1 (1 for a passed check, 0 for a failed one unless the scorer grades). */
  score: number;
  /** One line saying what was wrong (or what the judge said). */
  detail?: string;
}

/** A check of one case run. Built-in ones come from a case's expectations; suites add custom ones and a judge. */
export interface Scorer {
  name: string;
  score(run: CaseRun): ScoreResult | Promise<ScoreResult>;
}

/** One case's result in a run (what the store keeps and the reports show). */
export interface CaseResult {
  id: string;
  pass: boolean;
  /** Mean of the scores. */
  score: number;
  scores: ScoreResult[];
  status: ThreadStatus | 'error';
  output: unknown;
  costUsd: number | null;
  tokens: number;
  steps: number;
  latencyMs: number;
  /** The case's thread in the run's isolated store (kept only for the run's duration unless asked). */
  threadId?: string;
  /** Set when the case could not run at all (a missing recording, a tool with no fixture). */
  error?: string;
}

export interface EvalSummary {
  cases: number;
  passed: number;
  failed: number;
  /** Mean case score. */
  score: number;
  /** null when a call had no known price. */
  costUsd: number | null;
  tokens: number;
  steps: number;
  durationMs: number;
}

/** A stored eval run: one suite on one release. */
export interface EvalRunRecord {
  id: string;
  suite: string;
  agent: string;
  releaseId: string;
  /** The model pin the run used when it overrode the agent's (--model). */
  model: string | null;
  baselineReleaseId: string | null;
  createdAt: string;
  summary: EvalSummary;
  results: CaseResult[];
}

export type ProposalKind = 'rejection' | 'guidance' | 'review_edit' | 'review_send_back';
export type ProposalStatus = 'pending' | 'accepted' | 'dismissed';

/** A person's correction, proposed as an eval case. */
export interface ProposalRecord {
  id: string;
  threadId: string;
  agent: string;
  /** The seq of the correcting event (one proposal per event). */
  seq: number;
  kind: ProposalKind;
  status: ProposalStatus;
  /** The case it proposes (input, fixtures from the thread's recorded tool results, expectations). */
  draft: EvalCase;
  createdAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The suite it was written to, once accepted. */
  suite: string | null;
}
