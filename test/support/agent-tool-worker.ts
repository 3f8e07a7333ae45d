/**
 * A worker process for the agentTool crash test: runs the triage parent and its refunder child
 * (test/support/agent-tool-agents.ts) on the store named by TWELVE_DATABASE_URL. With
 * KILL_AFTER_CHILD=1 it dies (SIGKILL, no clean-up) right after it appends the child's
 * completion, before the child's wake-up reaches the parent. Prints "ready" once working.
 * Environment: TWELVE_DATABASE_URL, OPENAI_BASE_URL, OPENAI_API_KEY, CHILD_CHECK_MS.
 */
import { createRuntime } from '../../src/index.js';
import { agentToolAgents } from './agent-tool-agents.js';

const { parent, child } = agentToolAgents();
const runtime = createRuntime({ agents: [parent, child], childCheckMs: Number(process.env.CHILD_CHECK_MS ?? 30_000), retryBaseMs: 1 });
if (process.env.KILL_AFTER_CHILD === '1') {
  runtime.subscribe((event) => {
    // Synchronously, in the listener called right after the append committed: the wake-up never runs.
    if (event.type === 'thread_completed' && event.threadId.startsWith('th_c')) {
      process.stdout.write(`dying after ${event.threadId}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  });
}
runtime.startWorker({ pollMs: 50 });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void runtime.close().then(() => process.exit(0)));
