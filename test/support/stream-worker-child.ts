/**
 * A worker process for test/ui-stream.test.ts: the streaming agent on the store at
 * TWELVE_DATABASE_URL (PostgreSQL), its model at OPENAI_BASE_URL. Prints `ready` once the
 * worker runs; SIGTERM stops it. Run with `node --import tsx`.
 */
import { writeSync } from 'node:fs';
import { createRuntime } from '../../src/index.js';
import { chatty } from './stream-agents.js';

const runtime = createRuntime({ agents: [chatty], retryBaseMs: 1 });
runtime.startWorker({ concurrency: 2, pollMs: 50 });
writeSync(1, 'ready\n');
process.on('SIGTERM', () => {
  void runtime.close().then(() => process.exit(0));
});
