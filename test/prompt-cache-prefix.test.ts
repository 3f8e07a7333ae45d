/**
 * Providers cache the start of a request that repeats byte for byte (OpenAI automatically,
 * OpenAI-compatible servers such as vLLM on their own). Over real HTTP: each step's request body
 * starts with the previous step's, through its last message, even when another runtime (a
 * fresh worker that rebuilt the thread from its log) sends the next step.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool } from '../src/index.js';
import { lookupOrderTool } from './support/agents.js';
import { makeRuntime, startServer } from './support/runtime.js';
import type { RecordedRequest } from './support/scripted-openai-server.js';

/** The request body's text through the end of its last message (the `]` of `messages` left out). */
function throughLastMessage(request: RecordedRequest): string {
  const messages = `"messages":${JSON.stringify(request.body!.messages)}`;
  const at = request.rawBody.indexOf(messages);
  expect(at, 'the body carries its messages as JSON.stringify writes them').toBeGreaterThanOrEqual(0);
  return request.rawBody.slice(0, at + messages.length - 1);
}

for (const model of ['openai:gpt-4o-2024-08-06', 'openai-compatible:llama3.1-8b']) {
  describe(`a thread's requests to ${model}`, () => {
    it('each start with the previous one byte for byte, across a worker change', async () => {
      const server = await startServer();
      const refund = defineTool({
        name: 'issue_refund',
        description: 'Refund an order',
        input: z.object({ orderId: z.string(), amountCents: z.number().int() }),
        approval: 'always',
        run: async ({ orderId }) => ({ refundId: `rf_${orderId}`, at: '2026-12-02T10:00:00.000Z', lines: [{ sku: 'HP-1', cents: 4250 }] }),
      });
      const agent = defineAgent({
        name: 'refunder',
        purpose: 'Refund one order after looking it up',
        model,
        prompt: { text: 'You refund orders within policy. Tools:\n{{tools}}' },
        tools: [lookupOrderTool().tool, refund],
        input: z.object({ customer: z.string(), message: z.string() }),
        modelSettings: { temperature: 0 },
      });
      server.enqueue(
        { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
        { toolCalls: [{ name: 'issue_refund', arguments: { orderId: 'A-1001', amountCents: 4250 } }] },
        { text: 'Refunded 42.50 for A-1001.' },
      );
      const first = makeRuntime({ agents: [agent], server });
      const thread = await first.runtime.launch({ agent: 'refunder', input: { customer: 'Priya', message: 'Refund A-1001, please.' } });
      expect((await first.runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
      await first.runtime.close();

      // Another worker: it holds nothing from the first, and rebuilds the context from the stored log.
      const second = makeRuntime({ agents: [agent], server, dir: first.dir });
      await second.runtime.decide(thread.id, { by: 'ann', approved: true });
      expect((await second.runtime.runThread(thread.id)).outcome).toBe('completed');

      const requests = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
      expect(requests).toHaveLength(3);
      for (let i = 1; i < requests.length; i++) {
        const previous = throughLastMessage(requests[i - 1]!);
        expect(requests[i]!.rawBody.startsWith(previous), `request ${i + 1} starts with request ${i}`).toBe(true);
        expect(JSON.stringify(requests[i]!.body!.tools)).toBe(JSON.stringify(requests[0]!.body!.tools));
      }
      // The last request holds the first's messages, then only what the steps added.
      expect(requests[2]!.body!.messages.length).toBeGreaterThan(requests[0]!.body!.messages.length + 3);
    });
  });
}
