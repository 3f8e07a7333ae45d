/**
 * An agent for the human-in-the-loop CLI tests (loaded by `twelve ... --config` in a child
 * process, and by the test itself): a money-moving tool that always needs approval, and one
 * whose approval has a short deadline.
 */
import { z } from 'zod';
import { defineAgent, defineTool } from 'twelve-agents';

const transfer = defineTool({
  name: 'transfer',
  description: 'Transfers an amount of money.',
  input: z.object({ amount: z.number() }),
  approval: 'always',
  run: ({ amount }) => ({ transferred: amount }),
});

/** The same, with a short deadline: nobody deciding within 200 ms means "reject". */
const transferByDeadline = defineTool({
  name: 'transfer_by_deadline',
  description: 'Transfers an amount of money, if a person approves in time.',
  input: z.object({ amount: z.number() }),
  approval: 'always',
  approvalTimeoutMs: 200,
  onApprovalTimeout: 'reject',
  run: ({ amount }) => ({ transferred: amount }),
});

export default defineAgent({
  name: 'hitl-cli',
  purpose: 'Transfer money once a person approves, for CLI tests.',
  model: 'openai:gpt-4o-2024-08-06',
  prompt: { text: 'You transfer money. Tools:\n{{tools}}' },
  tools: [transfer, transferByDeadline],
  modelSettings: { maxRetries: 0, timeoutMs: 5_000 },
});
