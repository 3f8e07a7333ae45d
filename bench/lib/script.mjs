// The fake model's script and the workload's checks, shared by every peer so
// that each framework is asked to do exactly the same thing.
//
// The fake decides its next move from the conversation it is handed (how many
// tool results it already holds), never from hidden state: a framework that
// dropped or duplicated a tool result would then visibly derail, instead of
// the fake papering over it.

/** Next move after `toolResults` results: add({a:i, b:1}) for i < turns, then "done". */
export function nextMove(toolResults, turns) {
  return toolResults < turns ? { call: { a: toolResults, b: 1 } } : { text: 'done' };
}

/** Throws unless a thread ended with "done" after `turns` correct add results (i + 1 each). */
export function checkThread(threadId, { finalText, toolOutputs }, turns) {
  if (finalText !== 'done') throw new Error(`${threadId}: final answer ${JSON.stringify(finalText)}, expected "done"`);
  if (toolOutputs.length !== turns) throw new Error(`${threadId}: ${toolOutputs.length} tool results, expected ${turns}`);
  toolOutputs.forEach((out, i) => {
    // Frameworks hand tool results back as text; compare as numbers.
    if (Number(out) !== i + 1) throw new Error(`${threadId}: tool result ${i} was ${JSON.stringify(out)}, expected ${i + 1}`);
  });
}

/** Model steps per thread: one per tool call plus the final answer. */
export const stepsPerThread = (turns) => turns + 1;
