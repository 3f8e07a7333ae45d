/**
 * The support agent with a scripted model: no key, no network, no recordings. Each reply of
 * the script is one model turn; the runtime, the tool and the output schema are the real ones.
 * Run with `npm test`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRuntime } from 'twelve-agents';
import { scriptedModel } from 'twelve-agents/testing';
import support from '../agents/support.js';

test('support looks the order up, then answers', async () => {
  const model = scriptedModel([
    { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1002' } }] },
    { text: JSON.stringify({ answer: 'Your order A-1002 is being prepared.', orderId: 'A-1002', needsHuman: false }) },
  ]);
  const runtime = createRuntime({
    agents: [support],
    models: { [support.options.model]: model }, // the scripted model answers for the pinned one
    env: { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_LOG: 'off' },
  });
  try {
    const launched = await runtime.launch({ agent: 'support', input: 'Where is my order A-1002?' });
    const { outcome, thread } = await runtime.runThread(launched.id);
    assert.equal(outcome, 'completed');
    assert.deepEqual(thread.output, { answer: 'Your order A-1002 is being prepared.', orderId: 'A-1002', needsHuman: false });
    // The tool really ran: its result is in the second request the model received.
    assert.match(JSON.stringify(model.calls[1]?.prompt), /processing/);
  } finally {
    await runtime.close();
  }
});

test('an answer that does not match the output schema goes back to the model', async () => {
  const model = scriptedModel([
    { text: '{"answer": ""}' },
    { text: JSON.stringify({ answer: 'Could you send me your order id?', needsHuman: false }) },
  ]);
  const runtime = createRuntime({
    agents: [support],
    models: { [support.options.model]: model },
    env: { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_LOG: 'off' },
  });
  try {
    const launched = await runtime.launch({ agent: 'support', input: 'Where is my parcel?' });
    const { outcome, thread } = await runtime.runThread(launched.id);
    assert.equal(outcome, 'completed');
    assert.equal((thread.output as { answer: string }).answer, 'Could you send me your order id?');
    assert.equal(model.calls.length, 2);
  } finally {
    await runtime.close();
  }
});
