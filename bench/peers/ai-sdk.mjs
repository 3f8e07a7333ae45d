// AI SDK peer: the AI SDK's own agent loop, generateText with tools that have an
// `execute` and a stopWhen step cap, in memory (not durable). The fake is the SDK's
// own test model (MockLanguageModelV3 from ai/test), answering from the prompt it is
// handed like every other peer's fake, so the SDK's prompt standardisation, tool-call
// parsing, input validation, tool execution and step bookkeeping all run as with a
// real model. This is the floor a durable runtime is compared with: the same loop
// with nothing written anywhere.
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { checkThread, nextMove, stepsPerThread } from '../lib/script.mjs';

/** Tool results the model holds: the tool-result parts of the prompt's tool messages. */
function countToolResults(prompt) {
  let n = 0;
  for (const m of prompt) if (m.role === 'tool') for (const part of m.content) if (part.type === 'tool-result') n++;
  return n;
}

const usage = {
  inputTokens: { total: 10, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: undefined, reasoning: undefined },
};

function scriptedModel(turns) {
  return new MockLanguageModelV3({
    doGenerate: async (options) => {
      const move = nextMove(countToolResults(options.prompt), turns);
      const content = move.call
        ? [{ type: 'tool-call', toolCallId: `call_${move.call.a}`, toolName: 'add', input: JSON.stringify(move.call) }]
        : [{ type: 'text', text: move.text }];
      return { content, finishReason: { unified: move.call ? 'tool-calls' : 'stop', raw: undefined }, usage, warnings: [] };
    },
  });
}

const add = tool({
  description: 'Add two numbers.',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => a + b,
});

export async function runWorkload({ threads, turns }) {
  const model = scriptedModel(turns);
  const tools = { add };
  const stopWhen = stepCountIs(turns + 5);

  const t0 = performance.now();
  for (let t = 0; t < threads; t++) {
    const result = await generateText({ model, system: 'Add numbers.', prompt: `Add up, thread ${t}.`, tools, stopWhen });
    checkThread(`thread-${t}`, { finalText: result.text, toolOutputs: result.steps.flatMap((s) => s.toolResults.map((r) => r.output)) }, turns);
    if (result.steps.length !== stepsPerThread(turns)) throw new Error(`thread-${t}: ${result.steps.length} steps, expected ${stepsPerThread(turns)}`);
    // The mock keeps every call's options for assertions; a real model keeps nothing.
    model.doGenerateCalls.length = 0;
  }
  return { modelSteps: threads * stepsPerThread(turns), elapsedMs: performance.now() - t0 };
}
