// OpenAI Agents SDK peer: in-memory runs (no session, no durability) via
// run(agent, input). The fake sits at the SDK's own Model interface, so the
// runner, tool execution and item bookkeeping all run as with a real model.
import { Agent, Usage, run, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { checkThread, nextMove, stepsPerThread } from '../lib/script.mjs';

// Tracing would buffer spans and try to export them to OpenAI: keep it off so
// nothing leaves the process and its cost is not counted.
setTracingDisabled(true);

const isToolResult = (item) => item.type === 'function_call_result';

class ScriptedModel {
  constructor(turns) {
    this.turns = turns;
  }
  async getResponse(request) {
    const input = typeof request.input === 'string' ? [] : request.input;
    const move = nextMove(input.filter(isToolResult).length, this.turns);
    const output = move.call
      ? [{ type: 'function_call', callId: `call_${move.call.a}`, name: 'add', arguments: JSON.stringify(move.call), status: 'completed' }]
      : [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: move.text }] }];
    return { usage: new Usage(), output };
  }
  // Streaming is not used by the workload; one final event keeps the interface whole.
  async *getStreamedResponse(request) {
    const { output } = await this.getResponse(request);
    yield {
      type: 'response_done',
      response: { id: 'fake', usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0 }, output },
    };
  }
}

const add = tool({
  name: 'add',
  description: 'Add two numbers.',
  parameters: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => a + b,
});

// Tool results come back as text, either bare or as a {type:'text'} part.
const outputText = (out) => (typeof out === 'string' ? out : out?.text);

export async function runWorkload({ threads, turns }) {
  const agent = new Agent({ name: 'adder', instructions: 'Add numbers.', model: new ScriptedModel(turns), tools: [add] });
  // The SDK's default cap is 10 model turns, exactly our per-thread count: leave headroom.
  const maxTurns = turns + 5;

  const t0 = performance.now();
  for (let t = 0; t < threads; t++) {
    const result = await run(agent, `Add up, thread ${t}.`, { maxTurns });
    checkThread(
      `thread-${t}`,
      { finalText: result.finalOutput, toolOutputs: result.history.filter(isToolResult).map((i) => outputText(i.output)) },
      turns,
    );
  }
  return { modelSteps: threads * stepsPerThread(turns), elapsedMs: performance.now() - t0 };
}
