/**
 * Re-creates the examples' recorded model responses (examples/* /recordings).
 *
 *   npx tsx examples/record.ts
 *
 * It runs every sample input in TWELVE_MODEL_MODE=record against a scripted
 * OpenAI-compatible server on 127.0.0.1 that plays the model's part (the rules below),
 * through the real OpenAI provider over HTTP. Run it after changing a prompt, a tool
 * schema or a sample. With a real key you can instead record the real model:
 *   OPENAI_API_KEY=sk-... TWELVE_MODEL_MODE=record npx twelve run refunds --input @examples/refunds/sample-request.txt
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from 'twelve-agents';
import { classifierModel, isTriage, judgeModel, refundsModel, triageModel, type ChatMessage } from '../test/support/example-models.js';
import { startScriptedOpenAIServer, type RecordedRequest } from '../test/support/scripted-openai-server.js';
import emailClassifier from './email-classifier/agent.js';
import refunds from './refunds/agent.js';
import triage from './triage/agent.js';

const samples: Array<{ agent: string; file: string; decision?: 'approve' | 'reject' }> = [
  { agent: 'refunds', file: 'examples/refunds/sample-request.txt' },
  { agent: 'refunds', file: 'examples/refunds/sample-late.txt' },
  // Above the approval threshold: recorded approved. (Who approved does not reach the model, so
  // any approver replays; a rejection's comment does, so rejections are not replayable demos.)
  { agent: 'refunds', file: 'examples/refunds/sample-large.txt', decision: 'approve' },
  { agent: 'refunds', file: 'examples/refunds/sample-digital.txt' },
  { agent: 'refunds', file: 'examples/refunds/sample-shipped.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-email.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-login.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-other.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-password.txt' },
  // The refunds agent runs as triage's child thread (agentTool): both agents' responses are recorded.
  { agent: 'triage', file: 'examples/triage/sample-refund.txt' },
  { agent: 'triage', file: 'examples/triage/sample-question.txt' },
];

const server = await startScriptedOpenAIServer();
server.setFallback((request: RecordedRequest) => {
  const messages = (request.body?.messages ?? []) as ChatMessage[];
  if (messages[0]?.content?.startsWith('You grade the answer')) return judgeModel(messages);
  if (isTriage(messages)) return triageModel(messages);
  return request.model === 'gpt-4o-2024-08-06' ? refundsModel(messages) : classifierModel(messages);
});
const work = mkdtempSync(join(tmpdir(), 'twelve-record-'));
const runtime = createRuntime({
  agents: [emailClassifier, refunds, triage],
  modelMode: 'record',
  env: {
    TWELVE_DATABASE_URL: `sqlite:${join(work, 'twelve.db')}`,
    REFUNDS_LEDGER_PATH: join(work, 'ledger.db'),
    OPENAI_API_KEY: 'sk-scripted-recording',
    OPENAI_BASE_URL: server.baseURL,
  },
});
process.env.REFUNDS_LEDGER_PATH = join(work, 'ledger.db');
const { readFileSync } = await import('node:fs');
try {
  for (const sample of samples) {
    const thread = await runtime.launch({ agent: sample.agent, input: readFileSync(sample.file, 'utf8').trimEnd() });
    let { outcome, thread: done } = await runtime.runThread(thread.id);
    if (outcome === 'awaiting_child') {
      // triage's refunds child: run it, then triage again with its answer.
      await runtime.runUntilIdle();
      ({ outcome, thread: done } = await runtime.runThread(thread.id));
    }
    if (outcome === 'awaiting_approval' && sample.decision) {
      await runtime.decide(thread.id, { by: { name: 'recorder', roles: ['finance'] }, approved: sample.decision === 'approve', comment: 'recording the examples' });
      ({ outcome, thread: done } = await runtime.runThread(thread.id));
    }
    console.log(`${sample.file}: ${outcome} ${JSON.stringify(done.output)}`);
    if (outcome !== 'completed') process.exitCode = 1;
  }
  // The eval suites' LLM judge (evals/recordings): every suite of the config, recorded like the samples.
  const { default: config } = await import('../twelve.config.js');
  const { resolveSuite } = await import('../src/eval/discover.js');
  const { runSuite } = await import('../src/eval/run-suite.js');
  for (const suite of config.evals ?? []) {
    if (!suite.judge) continue;
    const resolved = resolveSuite({ target: suite.name, projectDir: process.cwd(), agents: config.agents, suites: config.evals ?? [] });
    const agent = config.agents.find((a) => a.name === suite.agent)!;
    const { summary } = await runSuite({
      agent,
      cases: resolved.cases,
      judge: suite.judge,
      judgeRecordingsDir: join(resolved.dir, 'recordings'),
      modelMode: 'record',
      env: { OPENAI_API_KEY: 'sk-scripted-recording', OPENAI_BASE_URL: server.baseURL, TWELVE_LOG: 'off' },
    });
    console.log(`eval suite ${suite.name}: ${summary.passed}/${summary.cases} passed, mean score ${summary.score}`);
    if (summary.failed > 0) process.exitCode = 1;
  }
} finally {
  await runtime.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
