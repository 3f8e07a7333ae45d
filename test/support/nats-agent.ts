/**
 * The agent the NATS trigger tests launch, shared by the test process and its child
 * processes (so both compute the same release): `echo`, on a scripted model that answers
 * `echo: <input>` in one step. No vitest imports: the crash child loads this file too.
 */
import { defineAgent, scriptedModel, type ScriptedModel } from '../../src/index.js';

export const echoAgent = defineAgent({
  name: 'echo',
  purpose: 'Says its input back, for the broker trigger tests',
  model: 'scripted:echo',
  prompt: { text: 'Repeat the request.\n\nRequest: {{input}}' },
});

/** The model registry for createRuntime: one reply per call, echoing the rendered request. */
export function echoModels(): { 'scripted:echo': ScriptedModel } {
  return {
    'scripted:echo': scriptedModel((request) => {
      const text = JSON.stringify(request.prompt);
      const match = /Request: ([^"\\]*)/.exec(text);
      return { text: `echo: ${match?.[1] ?? '?'}` };
    }),
  };
}
