/**
 * A NATS consumer that dies (SIGKILL, no clean-up) after the launch is committed and
 * before the message is acked: run by test/trigger-nats.test.ts with `node --import tsx`
 * to show that the redelivery, taken by the next consumer, finds the same thread.
 * Environment: TWELVE_DATABASE_URL, and NATS_URL, NATS_STREAM, NATS_SUBJECT,
 * NATS_DURABLE, NATS_ACK_WAIT_MS for the trigger. Prints `launched <threadId> <created>`.
 */
import { writeSync } from 'node:fs';
import { createRuntime } from '../../src/index.js';
import { startNatsTrigger } from '../../src/triggers/nats.js';
import { echoAgent, echoModels } from './nats-agent.js';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`nats-crash-child: ${name} is not set`);
  return value;
};

const runtime = createRuntime({ agents: [echoAgent], models: echoModels() });
await startNatsTrigger({
  runtime,
  servers: need('NATS_URL'),
  stream: need('NATS_STREAM'),
  subject: need('NATS_SUBJECT'),
  durable: need('NATS_DURABLE'),
  ackWaitMs: Number(need('NATS_ACK_WAIT_MS')),
  maxDeliver: 5,
  hooks: {
    beforeAck(launch) {
      writeSync(1, `launched ${launch.threadId} ${launch.created}\n`);
      // The thread row is committed, the ack not sent: die here, as a crash would.
      process.kill(process.pid, 'SIGKILL');
    },
  },
});
writeSync(1, 'consuming\n');
// Keep running until the message arrives (and the kill lands); the test times out otherwise.
setTimeout(() => {
  writeSync(2, 'nats-crash-child: no message within 20 s\n');
  process.exit(1);
}, 20_000);
