/**
 * `twelve consume nats`: a thread per message on a NATS JetStream subject (src/triggers/nats.ts),
 * run by a worker in the same process, until SIGTERM/SIGINT. Stopping drains the worker first
 * (so the threads it finishes still get their replies), then the consumer (the message in
 * flight is launched and acked).
 */
import { TwelveError } from '../../errors.js';
import { exitCodes, type CommandSpec } from '../command.js';

export const consume: CommandSpec = {
  name: 'consume',
  summary: 'launch a thread per message from a broker (NATS JetStream), and run them',
  usage: ['consume nats [--subject twelve.launch.>] [--stream TWELVE_LAUNCH] [--durable twelve] [--concurrency n]'],
  flags: {
    subject: 'the subjects to consume (default twelve.launch.>; the agent is the last token: twelve.launch.<agent>)',
    stream: 'the JetStream stream (created when missing; default TWELVE_LAUNCH)',
    durable: 'the durable consumer name (default twelve)',
    concurrency: 'threads run at once by this process (default 1)',
  },
  details:
    'TWELVE_NATS_URL (default nats://127.0.0.1:4222). A message body is JSON: {"input": ..., "agent"?: "...", "metadata"?: {...}};\nthe agent may instead come from the subject (twelve.launch.<agent>). Each message is acknowledged only after its thread\nis durably created; redeliveries are deduplicated by message id (Nats-Msg-Id). A message that cannot launch (not JSON,\nunknown agent, input the agent refuses) is terminated, never redelivered. With a Twelve-Reply-To header, the result\n{threadId, messageId, status, output | error} is published there when the thread finishes.',
  async run(args, flags) {
    if (args.length !== 1 || args[0] !== 'nats') throw new TwelveError('usage', `usage: twelve ${consume.usage[0]} (nats is the only broker; see twelve consume --help)`);
    const concurrency = flags.concurrency === undefined ? 1 : Number(flags.concurrency);
    if (!Number.isInteger(concurrency) || concurrency <= 0) throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
    const { requireAgents, makeRuntime } = await import('../local.js');
    const agents = await requireAgents(flags);
    const servers = process.env.TWELVE_NATS_URL || 'nats://127.0.0.1:4222';
    const subject = flags.subject ?? 'twelve.launch.>';
    const stream = flags.stream ?? 'TWELVE_LAUNCH';
    const durable = flags.durable ?? 'twelve';
    const runtime = await makeRuntime(agents, { command: 'twelve consume', flags });
    const { startNatsTrigger } = await import('../../triggers/nats.js');
    let trigger;
    try {
      trigger = await startNatsTrigger({ runtime, servers, stream, subject, durable });
    } catch (error) {
      await runtime.close();
      throw error;
    }
    const worker = runtime.startWorker({ concurrency });
    process.stderr.write(`twelve consume ${runtime.owner}: ${subject} (stream ${stream}, consumer ${durable}) at ${servers.replace(/\/\/[^@/]*@/g, '//***@')} -> ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}\n`);
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(exitCodes.interrupted);
      process.stderr.write('twelve consume: draining (the step and the message in flight finish; again to force)\n');
    };
    const signalled = new Promise<void>((resolve) => {
      process.on('SIGINT', () => (onSignal(), resolve()));
      process.on('SIGTERM', () => (onSignal(), resolve()));
    });
    const failure = await Promise.race([signalled.then(() => undefined), trigger.stopped]);
    if (failure) process.stderr.write(`twelve consume: ${failure.message}\n`);
    await worker.stop();
    await trigger.stop();
    await runtime.close();
    return failure ? 1 : 0;
  },
};
