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
import { startScriptedOpenAIServer, type RecordedRequest, type ScriptStep } from '../test/support/scripted-openai-server.js';
import emailClassifier from './email-classifier/agent.js';
import refunds from './refunds/agent.js';

type ChatMessage = { role: string; content?: string | null; tool_calls?: Array<{ function: { name: string } }> };

/** Plays the refunds model: look up, then refund or decline by the policy, then answer. */
function refundsModel(messages: ChatMessage[]): ScriptStep {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const orderId = /A-\d{4}/.exec(user)?.[0] ?? 'A-0000';
  const tools = messages.filter((m) => m.role === 'tool');
  const last = tools[tools.length - 1];
  if (!last) return { toolCalls: [{ name: 'lookup_order', arguments: { orderId } }], usage: { prompt_tokens: 412, completion_tokens: 18 } };
  const result = JSON.parse(last.content ?? '{}');
  if ('refundId' in result) {
    const answer = { decision: 'refunded', orderId, amountCents: result.amountCents, refundId: result.refundId, reason: 'Your order arrived damaged, so we refunded the full amount to your original payment method.' };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 560, completion_tokens: 52 } };
  }
  const order = result as { totalCents: number; status: string; daysSinceDelivery: number | null; digital: boolean };
  const rule =
    order.status !== 'delivered' ? 'the order has not been delivered yet'
    : order.digital ? 'digital items are not refundable'
    : (order.daysSinceDelivery ?? 0) > 30 ? `it was delivered ${order.daysSinceDelivery} days ago, beyond the 30-day refund window`
    : undefined;
  if (rule) {
    const answer = { decision: 'declined', orderId, reason: `We can't refund this order because ${rule}.` };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 498, completion_tokens: 41 } };
  }
  return {
    toolCalls: [{ name: 'issue_refund', arguments: { orderId, amountCents: order.totalCents, reason: 'arrived damaged' } }],
    usage: { prompt_tokens: 497, completion_tokens: 31 },
  };
}

/** Plays the classifier model: keyword rules standing in for judgement. */
function classifierModel(messages: ChatMessage[]): ScriptStep {
  const email = (messages.find((m) => m.role === 'user')?.content ?? '').toLowerCase();
  const answer =
    /billed|charge|invoice|refund/.test(email) ? { label: 'billing', confidence: 0.93, reason: 'The customer reports a duplicate charge and asks for a refund.' }
    : /locked out|two-factor|password|login/.test(email) ? { label: 'account_access', confidence: 0.9, reason: 'The customer cannot sign in after changing phones (two-factor).' }
    : { label: 'other', confidence: 0.5, reason: 'No specific category matches.' };
  return { text: JSON.stringify(answer), usage: { prompt_tokens: 231, completion_tokens: 29 } };
}

const samples = [
  { agent: 'refunds', file: 'examples/refunds/sample-request.txt' },
  { agent: 'refunds', file: 'examples/refunds/sample-late.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-email.txt' },
  { agent: 'email-classifier', file: 'examples/email-classifier/sample-login.txt' },
];

const server = await startScriptedOpenAIServer();
server.setFallback((request: RecordedRequest) => {
  const messages = (request.body?.messages ?? []) as ChatMessage[];
  return request.model === 'gpt-4o-2024-08-06' ? refundsModel(messages) : classifierModel(messages);
});
const work = mkdtempSync(join(tmpdir(), 'twelve-record-'));
const runtime = createRuntime({
  agents: [emailClassifier, refunds],
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
    const { outcome, thread: done } = await runtime.runThread(thread.id);
    console.log(`${sample.file}: ${outcome} ${JSON.stringify(done.output)}`);
    if (outcome !== 'completed') process.exitCode = 1;
  }
} finally {
  await runtime.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
