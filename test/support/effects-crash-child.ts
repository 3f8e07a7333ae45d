/**
 * A worker process for the tool-effects tests: launches a thread of the effects agent (input
 * EFFECTS_INPUT) or continues EFFECTS_THREAD, and runs it. With EFFECTS_KILL_IN it dies by
 * SIGKILL inside that tool's run (test/fixtures/effects-agent.ts), leaving what a dead worker
 * leaves. Prints the thread id first. Environment: TWELVE_DATABASE_URL and the above.
 */
import { createRuntime } from '../../src/index.js';
import { effectsAgent, effectsModels } from '../fixtures/effects-agent.js';

const runtime = createRuntime({ agents: [effectsAgent], models: effectsModels });
const id = process.env.EFFECTS_THREAD || (await runtime.launch({ agent: 'effects', input: process.env.EFFECTS_INPUT ?? 'refund' })).id;
process.stdout.write(`${id}\n`);
const { thread } = await runtime.runThread(id);
process.stdout.write(`${thread.status}\n`);
await runtime.close();
