// The scale benchmark's agent: SCALE_STEPS tool turns of a no-op tool, then "done".
// Imports the built library directly, so worker processes start without a TypeScript loader.
// The library's own zod (one copy, as in a project that installs both; a second copy is ~45 ms of start-up).
import { z } from '../../node_modules/zod/index.js';
import { defineAgent, defineTool } from '../../dist/index.js';

// noop is pure (two commits per tool step); SCALE_TOOL_EFFECT=external measures it with the tool_started commit.
const effect = () => process.env.SCALE_TOOL_EFFECT ?? 'pure';
const noop = defineTool({ name: 'noop', description: 'Does nothing.', input: z.object({ i: z.number() }), effect: effect(), run: ({ i }) => i });

export default defineAgent({
  name: 'scale',
  purpose: 'Benchmark load: a few tool turns per thread.',
  model: 'openai:gpt-4o-2024-08-06',
  prompt: { text: 'Call noop a few times, then answer done.' },
  tools: [noop],
  modelSettings: { maxRetries: 2, timeoutMs: 10_000 },
  limits: { maxSteps: 50 },
});
