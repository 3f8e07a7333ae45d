/**
 * An agent for the output-review CLI tests (loaded by `twelve ... --config` in a child process,
 * and by the test itself): a refund decision with a confidence, every answer reviewed.
 */
import { z } from 'zod';
import { defineAgent } from 'twelve-agents';

export default defineAgent({
  name: 'review-cli',
  purpose: 'Decide refunds, every decision reviewed by a person, for CLI tests.',
  model: 'openai:gpt-4o-2024-08-06',
  prompt: { text: 'You decide refunds. Answer with JSON.' },
  output: z.object({ decision: z.enum(['refunded', 'denied']), amountCents: z.number().int().nonnegative(), confidence: z.number() }),
  confidence: 'confidence',
  review: 'always',
  modelSettings: { maxRetries: 0, timeoutMs: 5_000 },
});
