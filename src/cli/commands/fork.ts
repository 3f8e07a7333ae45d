/** `twelve fork`: a new thread from another's events up to a seq, run here on the current release (or, with TWELVE_URL, on the server). */
import { TwelveError } from '../../errors.js';
import { defaultUser, expectArgs, type CommandSpec, type Flags } from '../command.js';

export const fork: CommandSpec = {
  name: 'fork',
  summary: 'copy a thread up to a seq into a new thread and run it on the current release',
  usage: ['fork <thread> --at <seq> [--release current] [--detach] [--as <who>] [--wait] [--json]'],
  flags: {
    at: 'the last event of the thread to copy (its seq, as twelve threads show prints it)',
    release: 'the release the fork runs on: only "current" (the code here) is possible',
    detach: 'only create the fork and print its id; a worker (or twelve resume <fork>) runs it',
    as: 'who forks (recorded in thread_forked; default $TWELVE_USER or $USER)',
    wait: 'when the fork waits for a person, keep waiting here and continue when they act',
    json: 'one JSON event per line (with --detach: the new thread as JSON)',
  },
  details:
    'The copies keep the release ids and times they were written with; the fork then records thread_forked and goes on\non the current release, from the middle of a run without paying for its prefix. A cut inside a started call of a tool\nthat is not pure is refused (running it again could repeat its side effect): the error lists the seqs that work.',
  async run(args, flags) {
    const atSeq = parseAt(args, flags);
    const { requireAgents, makeRuntime } = await import('../local.js');
    const runtime = await makeRuntime(await requireAgents(flags));
    try {
      const created = await runtime.fork(args[0]!, { atSeq, by: flags.as ?? defaultUser(), ...(flags.release ? { release: flags.release } : {}) });
      if (flags.detach) return printCreated(created, flags);
      if (!flags.json) process.stdout.write(`${created.id}  forked from ${args[0]} at seq ${atSeq}  release ${created.releaseId}\n`);
      const { follow } = await import('../follow.js');
      return await follow(runtime, created.id, flags, { printAfterSeq: atSeq });
    } finally {
      await runtime.close();
    }
  },
  async remote(args, flags) {
    const atSeq = parseAt(args, flags);
    const { withClient, noteIgnoredAs } = await import('../remote/connection.js');
    return withClient(async (client) => {
      await noteIgnoredAs(client, flags);
      const { thread } = await client.fork(args[0]!, { atSeq, ...(flags.release ? { release: flags.release } : {}) });
      if (flags.detach) return printCreated(thread, flags);
      if (!flags.json) process.stdout.write(`${thread.id}  forked from ${args[0]} at seq ${atSeq}  release ${thread.releaseId}\n`);
      const { followRemote } = await import('../remote/follow.js');
      return followRemote(client, thread.id, flags, { printAfterSeq: atSeq });
    });
  },
};

function parseAt(args: string[], flags: Flags): number {
  expectArgs(args, 1, fork);
  if (flags.at === undefined) throw new TwelveError('usage', 'twelve fork needs --at <seq>: the last event of the thread to copy (see twelve threads show <thread>)');
  const atSeq = Number(flags.at);
  if (!/^\d+$/.test(flags.at) || atSeq < 1) throw new TwelveError('usage', `--at must be a seq of the thread (a whole number from 1); got "${flags.at}"`);
  return atSeq;
}

function printCreated(thread: { id: string }, flags: Flags): number {
  process.stdout.write(flags.json ? `${JSON.stringify(thread)}\n` : `${thread.id}\n`);
  return 0;
}
