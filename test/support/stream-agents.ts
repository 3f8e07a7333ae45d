/**
 * The streaming agent of test/ui-stream.test.ts (and of its worker child process): a real
 * OpenAI chat model (driven against the scripted server) with `stream: true` and one tool.
 */
import { z } from 'zod';
import { defineAgent, defineTool } from '../../src/index.js';

export const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an order up',
  input: z.object({ order: z.string() }),
  effect: 'pure',
  run: async ({ order }) => ({ order, ships: 'tomorrow' }),
});

export const chatty = defineAgent({
  name: 'chatty',
  purpose: 'Answers about orders, streaming its words',
  model: 'openai:gpt-4o-2024-08-06',
  prompt: { text: 'Answer about {{input}}' },
  tools: [lookup],
  stream: true,
});
