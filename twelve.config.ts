/** The agents the `twelve` CLI finds in this repository: the examples. */
import { defineConfig, defineEval } from 'twelve-agents';
import emailClassifier from './examples/email-classifier/agent.js';
import refunds from './examples/refunds/agent.js';
import triage from './examples/triage/agent.js';

// evals/refunds.jsonl needs no entry; the classifier's suite is listed for its LLM judge (a pinned model,
// recorded in evals/recordings by examples/record.ts, so the suite still runs offline).
const emailClassifierSuite = defineEval({
  agent: 'email-classifier',
  cases: new URL('./evals/email-classifier.jsonl', import.meta.url),
  judge: { model: 'openai:gpt-4o-mini-2024-07-18' },
});

export default defineConfig({ agents: [emailClassifier, refunds, triage], evals: [emailClassifierSuite] });
