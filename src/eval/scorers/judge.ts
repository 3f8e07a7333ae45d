/**
 * The LLM judge: a small internal agent with a pinned model that grades one case's output
 * against the case's `expect.judge` criteria and answers { score 0..1, pass, reason }. It runs
 * as a thread in the eval's isolated store through the same runtime, so its model calls are
 * recorded (TWELVE_MODEL_MODE=record) into the suite's recordings folder and replayed like any
 * other: a suite with a judge runs offline.
 */
import { z } from 'zod';
import { defineAgent, type Agent } from '../../agent/define-agent.js';
import type { Runtime } from '../../runtime/runtime.js';
import { errorMessage } from '../../errors.js';
import type { JudgeSpec } from '../define-eval.js';
import type { CaseRun, ScoreResult } from '../types.js';

export const judgeAgentName = 'eval-judge';

const judgeOutput = z.object({
  score: z.number().min(0).max(1),
  pass: z.boolean(),
  reason: z.string().min(1).max(600),
});

// The prompt is part of the judge's requests: changing it changes the recording keys (re-record).
const judgePrompt = `You grade the answer of an AI agent against the criteria a person wrote for it.
Read the criteria, the agent's input and the agent's output in the user message.
Answer with JSON only: {"score": a number from 0 to 1 (how well the output meets the criteria),
"pass": true when the output meets the criteria, "reason": one or two sentences saying why}.
Judge only against the criteria; do not reward length or style the criteria do not ask for.`;

/** The judge as an agent: pinned model, structured verdict, recordings beside the suite. */
export function judgeAgent(spec: JudgeSpec, recordingsDir: string): Agent {
  return defineAgent({
    name: judgeAgentName,
    purpose: 'Grade an agent output against written criteria for an eval suite.',
    model: spec.model,
    prompt: { text: judgePrompt },
    output: judgeOutput,
    modelSettings: { temperature: 0, maxOutputTokens: 400 },
    limits: { maxSteps: 3 },
    recordings: recordingsDir,
  }) as unknown as Agent;
}

/** The judge's input: criteria, then the case's input and output, as plain text. */
export function judgeInput(criteria: string, run: CaseRun): string {
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return `Criteria:\n${criteria}\n\nAgent input:\n${text(run.case.input)}\n\nAgent output:\n${text(run.output ?? null)}`;
}

/** Grades one case run by launching a judge thread on `runtime` (which must hold the judge agent). */
export async function scoreJudge(runtime: Runtime, spec: JudgeSpec | undefined, criteria: string, run: CaseRun): Promise<ScoreResult> {
  const name = 'judge';
  if (!spec) return { name, pass: false, score: 0, detail: 'the case has judge criteria but the suite names no judge model (defineEval({ judge: { model } }) or TWELVE_EVAL_JUDGE_MODEL)' };
  try {
    const thread = await runtime.launch({ agent: judgeAgentName, input: judgeInput(criteria, run), metadata: { evalCase: run.case.id } });
    const { outcome, thread: done } = await runtime.runThread(thread.id);
    if (outcome !== 'completed') {
      const why = done.error?.message ?? done.waitingReason ?? outcome;
      return { name, pass: false, score: 0, detail: `the judge did not answer (${outcome}): ${why}` };
    }
    const verdict = judgeOutput.parse(done.output);
    const pass = verdict.pass && verdict.score >= (spec.passScore ?? 0);
    return { name, pass, score: verdict.score, detail: verdict.reason };
  } catch (error) {
    return { name, pass: false, score: 0, detail: `the judge failed: ${errorMessage(error)}` };
  }
}
