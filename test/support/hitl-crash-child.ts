/**
 * A process that dies (SIGKILL, no clean-up) right after a thread's approval_requested is
 * appended: run by the notification tests with `node --import tsx` to show that the outbox
 * row was committed with the event, so the next process still delivers the notification.
 * Environment: the usual TWELVE_* variables (database, notify URL and secret).
 */
import { z } from 'zod';
import { createRuntime, defineAgent, defineTool, scriptedModel } from '../../src/index.js';

const transfer = defineTool({
  name: 'transfer',
  description: 'Transfers money',
  input: z.object({ amount: z.number() }),
  approval: 'always',
  run: ({ amount }) => ({ transferred: amount }),
});

const agent = defineAgent({
  name: 'crashy',
  purpose: 'Asks for approval, then its process dies',
  model: 'scripted:crashy',
  prompt: { text: 'You transfer money.' },
  tools: [transfer],
});

const runtime = createRuntime({
  agents: [agent],
  models: { 'scripted:crashy': scriptedModel([{ toolCalls: [{ tool: 'transfer', args: { amount: 99 }, callId: 'call_t' }] }]) },
});
runtime.subscribe((event) => {
  // Synchronously, in the listener called right after the append committed: nothing else runs.
  if (event.type === 'approval_requested') process.kill(process.pid, 'SIGKILL');
});
const thread = await runtime.launch({ agent: 'crashy', input: 'transfer 99' });
await runtime.runThread(thread.id);
// Not reached when the kill lands; if it does, say so (the test then fails on the exit signal).
process.stdout.write('still alive\n');
