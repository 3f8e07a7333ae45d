/** `twelve resume`: continue an interrupted, paused or escalated thread, here or (TWELVE_URL) on the server. */
import { TwelveError } from '../../errors.js';
import { defaultUser, expectArgs, type CommandSpec } from '../command.js';
import { takesResume } from '../waiting-hint.js';

const isTerminal = (status: string) => status === 'completed' || status === 'failed' || status === 'cancelled';

export const resume: CommandSpec = {
  name: 'resume',
  summary: 'continue an interrupted, paused or escalated thread',
  usage: ['resume <thread> [--as <who>] [--comment <text>] [--wait] [--json]'],
  flags: {
    as: 'who resumes a paused or escalated thread (recorded; default $TWELVE_USER or $USER)',
    comment: 'guidance the model reads when an escalated thread goes on',
    wait: 'when the thread waits for a person, keep waiting here and continue when they act',
    json: 'one JSON event per line',
  },
  details:
    'A thread that was merely interrupted (a killed process, Ctrl-C) needs no resume event: this runs it from\nwhere its log ends. A tool call that was running when the process died runs again with the same idempotency key.\nA thread held after a deploy (waiting for "release: ...") goes on, on the new release, recorded with --as and --comment.',
  async run(args, flags) {
    expectArgs(args, 1, resume);
    const { requireAgents, makeRuntime } = await import('../local.js');
    const runtime = await makeRuntime(await requireAgents(flags));
    try {
      const thread = await runtime.getThreadOrThrow(args[0]!);
      runtime.release(thread.agent); // a clear error when this project does not define the thread's agent
      await runtime.resume(thread.id, { by: flags.as ?? defaultUser(), ...(flags.comment ? { comment: flags.comment } : {}) });
      if (!flags.json) process.stdout.write(`${thread.id}  agent ${thread.agent}  resuming after seq ${thread.seq}\n`);
      const { follow } = await import('../follow.js');
      return await follow(runtime, thread.id, flags, { printAfterSeq: thread.seq });
    } finally {
      await runtime.close();
    }
  },
  async remote(args, flags) {
    expectArgs(args, 1, resume);
    const { withClient, noteIgnoredAs } = await import('../remote/connection.js');
    return withClient(async (client) => {
      const thread = await client.getThread(args[0]!);
      if (isTerminal(thread.status)) throw new TwelveError('thread_not_runnable', `thread ${thread.id} is ${thread.status}; there is nothing to resume`);
      if (thread.status === 'awaiting_review') {
        throw new TwelveError('conflict', `thread ${thread.id} waits for a review of its answer (${thread.waitingReason}); review it instead: twelve review show ${thread.id}, then approve, edit, send-back or reject`);
      }
      await noteIgnoredAs(client, flags);
      // Paused or escalated threads need a resume event; a runnable (or waiting) one is just followed.
      if (thread.status === 'paused' || (thread.status === 'awaiting_human' && takesResume(thread.waitingReason))) {
        await client.resume(thread.id, flags.comment ? { comment: flags.comment } : {});
      }
      if (!flags.json) process.stdout.write(`${thread.id}  agent ${thread.agent}  resuming after seq ${thread.seq}\n`);
      const { followRemote } = await import('../remote/follow.js');
      return followRemote(client, thread.id, flags, { printAfterSeq: thread.seq });
    });
  },
};
