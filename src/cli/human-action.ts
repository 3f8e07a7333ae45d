/**
 * approve, reject, answer, budget, pause, cancel: one action by a named person, recorded as
 * an event (locally under --as, remotely under the API key's name), then optionally followed.
 */
import { TwelveError } from '../errors.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ActionResult, TwelveClient } from '../client/index.js';
import { humanUsage } from './arguments.js';
import { type CommandSpec, type FlagName, type Flags } from './command.js';

type HumanCommandName = 'approve' | 'reject' | 'answer' | 'budget' | 'pause' | 'cancel';

/** A CommandSpec for one of the six; the usage text is the parser's (arguments.ts). */
export function humanActionCommand(name: HumanCommandName, summary: string, flags: Partial<Record<FlagName, string>>, details?: string): CommandSpec {
  return {
    name,
    summary,
    usage: [`${humanUsage({ as: true })[name]!.replace(/^twelve /, '')} [--json]`],
    flags: {
      as: 'who acts (required locally: decisions are recorded with who made them; ignored with TWELVE_URL, where the API key names you)',
      ...flags,
      json: 'the events this appended, one JSON object per line',
    },
    ...(details ? { details } : {}),
    run: (args, parsed) => runLocal(name, args, parsed),
    remote: (args, parsed) => runRemote(name, args, parsed),
  };
}

/** Flags of the commands that can go on with the thread afterwards. */
export const followFlags = {
  run: 'continue the thread in this process afterwards (locally), or follow it on the server',
  wait: 'like --run, and when the thread waits for a person again, keep waiting and continue when they act',
} satisfies Partial<Record<FlagName, string>>;

async function runLocal(command: HumanCommandName, args: string[], flags: Flags): Promise<number> {
  const { parseHumanCommand } = await import('./arguments.js');
  const { threadId, action } = parseHumanCommand(command, args, flags, { as: true });
  const { requireAgents, makeRuntime } = await import('./local.js');
  const runtime = await makeRuntime(await requireAgents(flags));
  try {
    const before = await runtime.getThreadOrThrow(threadId);
    runtime.release(before.agent); // a clear error when this project does not define the thread's agent
    const result = await runtime.act(threadId, flags.as!, action);
    const printed = await printAppended(await runtime.loadEvents(threadId), before.seq, flags);
    if (!result.applied && !flags.json) process.stdout.write(`${command} requested: a worker is running ${threadId}; it applies after the current step\n`);
    if (flags.run || flags.wait) {
      const { follow } = await import('./follow.js');
      return await follow(runtime, threadId, flags, { printAfterSeq: Math.max(printed, result.thread.seq) });
    }
    await runtime.flushNotifications();
    if (!flags.json && result.thread.status === 'runnable') process.stdout.write(`${threadId} is runnable: it continues in a process waiting on it (--wait), in a worker (twelve worker), or here with: twelve resume ${threadId}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

async function runRemote(command: HumanCommandName, args: string[], flags: Flags): Promise<number> {
  const { parseHumanCommand } = await import('./arguments.js');
  const { threadId, action } = parseHumanCommand(command, args, flags, { as: false });
  const { withClient, noteIgnoredAs, allEvents } = await import('./remote/connection.js');
  return withClient(async (client) => {
    const act = remoteAction(client, threadId, action);
    const before = await client.getThread(threadId);
    await noteIgnoredAs(client, flags);
    const result = await act();
    const printed = await printAppended((await allEvents(client, threadId)) as unknown as ThreadEvent[], before.seq, flags);
    if (!result.applied && !flags.json) process.stdout.write(`${command} requested: a worker is running ${threadId}; it applies after the current step\n`);
    if (flags.run || flags.wait) {
      const { followRemote } = await import('./remote/follow.js');
      return followRemote(client, threadId, flags, { printAfterSeq: Math.max(printed, result.thread.seq) });
    }
    if (!flags.json && result.thread.status === 'runnable') process.stdout.write(`${threadId} is runnable: the server's workers continue it (follow it with: twelve resume ${threadId})\n`);
    return 0;
  });
}

function remoteAction(client: TwelveClient, threadId: string, action: import('../runtime/human.js').HumanAction): () => Promise<ActionResult> {
  switch (action.kind) {
    case 'decide': {
      const { kind: _kind, ...decision } = action;
      return () => client.decide(threadId, decision);
    }
    case 'answer': {
      const { kind: _kind, ...answer } = action;
      return () => client.answer(threadId, answer);
    }
    case 'raiseBudget': {
      const { kind: _kind, ...limits } = action;
      return () => client.raiseBudget(threadId, limits);
    }
    case 'pause':
    case 'cancel': {
      const body = action.reason ? { reason: action.reason } : {};
      return () => (action.kind === 'pause' ? client.pause(threadId, body) : client.cancel(threadId, body));
    }
    default:
      throw new TwelveError('usage', `"${action.kind}" has no remote form`);
  }
}

/**
 * Prints the events after `afterSeq` (what the action appended, and anything since) and
 * returns the last seq printed: workers may append while the log is read, so a follow that
 * comes next must start after it, not after the action's own event, or it prints them twice.
 */
async function printAppended(events: ThreadEvent[], afterSeq: number, flags: Flags): Promise<number> {
  const { EventFormatter } = await import('./format.js');
  const formatter = new EventFormatter();
  let printed = afterSeq;
  for (const event of events) {
    const line = formatter.format(event); // also teaches the formatter tool names
    if (event.seq > afterSeq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
    printed = Math.max(printed, event.seq);
  }
  return printed;
}
