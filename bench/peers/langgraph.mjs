// LangGraph.js peer: prebuilt ReAct agent (model node + ToolNode) with a durable
// SqliteSaver checkpointer on a real SQLite file, one thread_id per thread.
// The fake model sits at LangChain's own chat-model interface (BaseChatModel),
// so every LangChain/LangGraph layer above it runs as it would with a real model.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { z } from 'zod';
import { checkThread, nextMove, stepsPerThread } from '../lib/script.mjs';

class ScriptedChatModel extends BaseChatModel {
  constructor(turns) {
    super({});
    this.turns = turns;
  }
  _llmType() {
    return 'scripted-fake';
  }
  // Real chat models bind tools as call options; do the same so the agent takes
  // its ordinary path (the fake itself does not need the tool schemas).
  bindTools(tools, kwargs) {
    return this.withConfig({ tools, ...kwargs });
  }
  async _generate(messages) {
    const move = nextMove(messages.filter((m) => ToolMessage.isInstance(m)).length, this.turns);
    const message = move.call
      ? new AIMessage({
          content: '',
          tool_calls: [{ id: `call_${move.call.a}`, name: 'add', args: move.call, type: 'tool_call' }],
        })
      : new AIMessage({ content: move.text });
    return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
  }
}

const add = tool(async ({ a, b }) => a + b, {
  name: 'add',
  description: 'Add two numbers.',
  schema: z.object({ a: z.number(), b: z.number() }),
});

export async function runWorkload({ threads, turns, workDir }) {
  // A fresh database file per call, so warm-up and timed runs never share threads.
  const dbPath = join(mkdtempSync(join(workDir, 'langgraph-')), 'checkpoints.sqlite');
  const checkpointer = SqliteSaver.fromConnString(dbPath);
  const agent = createReactAgent({ llm: new ScriptedChatModel(turns), tools: [add], checkpointer });
  // Each ReAct step is two supersteps (model, tools); leave headroom over LangGraph's default 25.
  const recursionLimit = 2 * turns + 10;

  const t0 = performance.now();
  for (let t = 0; t < threads; t++) {
    const threadId = `thread-${t}`;
    const out = await agent.invoke(
      { messages: [{ role: 'user', content: `Add up, thread ${t}.` }] },
      { configurable: { thread_id: threadId }, recursionLimit },
    );
    const last = out.messages.at(-1);
    checkThread(
      threadId,
      {
        finalText: last.content,
        toolOutputs: out.messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.content),
      },
      turns,
    );
  }
  const elapsedMs = performance.now() - t0;

  // Durability check: the last thread's state must be readable back from SQLite.
  const saved = await checkpointer.getTuple({ configurable: { thread_id: `thread-${threads - 1}` } });
  if (!saved || saved.checkpoint.channel_values.messages.at(-1).content !== 'done') {
    throw new Error('langgraph: last thread not found in the SQLite checkpoint store');
  }
  checkpointer.db.close();
  return { modelSteps: threads * stepsPerThread(turns), elapsedMs };
}
