/**
 * Re-creates the recorded model responses `twelve init` ships (templates/init/agents/recordings),
 * so `twelve run support --input @samples/question.txt` replays offline in a new project.
 *
 *   npx tsx scripts/record-init-template.ts
 *
 * Runs the template's own agent on the template's sample in TWELVE_MODEL_MODE=record, with a
 * scripted model playing gpt-4o-mini (a lookup, then the answer). Run it after changing the
 * template's prompt, tool or output schema: test/init.test.ts replays the sample and fails until then.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRuntime } from 'twelve-agents';
import { scriptedModel } from 'twelve-agents/testing';
import support from '../templates/init/agents/support.js';

rmSync(support.recordingsDir!, { recursive: true, force: true });
const model = scriptedModel([
  { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1001' } }], usage: { inputTokens: 212, outputTokens: 18 } },
  {
    text: JSON.stringify({
      answer: 'Your order A-1001 shipped on 28 November with DHL, so it is on its way; carriers can run a day or two late at this time of year.',
      orderId: 'A-1001',
      needsHuman: false,
    }),
    usage: { inputTokens: 268, outputTokens: 41 },
  },
]);
const runtime = createRuntime({
  agents: [support],
  models: { [support.options.model]: model },
  modelMode: 'record',
  env: { TWELVE_DATABASE_URL: 'sqlite::memory:', TWELVE_LOG: 'off' },
});
try {
  const input = readFileSync(new URL('../templates/init/samples/question.txt', import.meta.url), 'utf8').trimEnd();
  const launched = await runtime.launch({ agent: 'support', input });
  const { outcome, thread } = await runtime.runThread(launched.id);
  console.log(`${outcome} ${JSON.stringify(thread.output)} -> ${support.recordingsDir}`);
  if (outcome !== 'completed') process.exitCode = 1;
} finally {
  await runtime.close();
}
