/** What a replay reports: the shared result types of replay-thread.ts, replay-batch.ts and the CLI. */

/** What differs at the first divergence. */
export type DivergenceKind =
  /** The system prompt the candidate renders (template, purpose, tool list) differs. */
  | 'system_prompt'
  /** The other messages differ (a changed renderer, prefetch, or human text). */
  | 'messages'
  /** Tools offered: added, removed, description or input schema changed. */
  | 'tools'
  /** The primary model, or the fallback chain. */
  | 'model'
  /** temperature, maxOutputTokens; or the step limit, reached earlier. */
  | 'settings'
  /** A recorded call's arguments pass one release's input schema and not the other's. */
  | 'tool_arguments'
  /** A recorded call names a tool one release has and the other has not. */
  | 'tool_missing'
  /** One release would ask a person to approve a recorded call, the other would not. */
  | 'approval'
  /** The output schema asked of the model, or what becomes of a recorded final answer. */
  | 'output';

export interface Divergence {
  /** The model step (1 = the first model_called of the thread). */
  step: number;
  /** The seq of that step's recorded model_called event. */
  seq: number;
  kind: DivergenceKind;
  /** One short readable text (a few lines for a prompt diff). */
  detail: string;
  /** What the recorded (original) side had, short. */
  expected?: unknown;
  /** What the candidate has instead, short. */
  actual?: unknown;
  /** Other kinds that differ at the same step (the first one is `kind`). */
  also?: DivergenceKind[];
}

export type ReplayOutcome = 'same' | 'diverged' | 'stopped';

export interface ReplayResult {
  threadId: string;
  agent: string;
  /** The releases that made the recorded model calls, in order of first use. */
  fromReleases: string[];
  /** The candidate release. */
  toRelease: string;
  outcome: ReplayOutcome;
  /** Model steps compared (a diverged step counts). */
  stepsCompared: number;
  /** Model steps recorded in the thread. */
  stepsRecorded: number;
  divergence?: Divergence;
  stoppedReason?: string;
  /**
   * The candidate agrees with the recorded log up to and including this seq: a live
   * continuation (`--live`, a fork) copies events 1..servedThroughSeq and lets the candidate
   * take the next step itself (at a divergence, the model step is made again). Equals
   * `threadSeq` when the outcome is "same".
   */
  servedThroughSeq: number;
  /** The recorded thread's seq (a replay never changes it). */
  threadSeq: number;
  durationMs: number;
}
