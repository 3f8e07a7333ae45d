/** `twelve say`: continue a completed thread with the next message (a conversation), then print the reply. */
import { TwelveError } from '../../errors.js';
import { defaultUser, usageError, type CommandSpec, type Flags } from '../command.js';

export const say: CommandSpec = {
  name: 'say',
  summary: 'continue a completed thread with your next message, and print the reply',
  usage: ['say <thread> <text> [--as <who>] [--message-id <id>] [--no-wait] [--wait] [--json]', 'say <thread> --input <text|@file|-> [...]'],
  flags: {
    input: 'the message instead of <text>: text, @file to read a file, - for standard input',
    as: 'who says it (recorded; default $TWELVE_USER or $USER; ignored with TWELVE_URL, where the API key names you)',
    'message-id': 'your id for this message: sending it again (a retry) records it once',
    'no-wait': 'record the message and exit (a worker, or twelve resume <thread>, runs the next turn)',
    wait: 'when the thread waits for a person, keep waiting here and continue when they act',
    json: 'one JSON event per line',
  },
  details:
    'Only a completed thread takes a message: the model reads the whole conversation (its earlier answers and this\ntext) and answers again, appending another thread_completed. A failed or cancelled thread cannot be continued,\nand a thread still working or waiting refuses the message until it has answered (exit 5). Runs the turn here\nlike twelve run (or, with TWELVE_URL, follows it on the server) and prints its events and the answer.',
  async run(args, flags) {
    const { threadId, text } = await parse(args, flags);
    const { requireAgents, makeRuntime } = await import('../local.js');
    const runtime = await makeRuntime(await requireAgents(flags));
    try {
      const before = await runtime.getThreadOrThrow(threadId);
      runtime.release(before.agent); // a clear error when this project does not define the thread's agent
      const said = await runtime.say(threadId, { by: flags.as ?? defaultUser(), text, ...(flags['message-id'] ? { messageId: flags['message-id'] } : {}) });
      const from = said.added ? said.seq - 1 : said.seq;
      if (flags['no-wait']) return await printNoWait(threadId, said.added, flags, async () => runtime.loadEvents(threadId, from));
      const { follow } = await import('../follow.js');
      return await follow(runtime, threadId, flags, { printAfterSeq: from });
    } finally {
      await runtime.close();
    }
  },
  async remote(args, flags) {
    const { threadId, text } = await parse(args, flags);
    const { withClient, noteIgnoredAs } = await import('../remote/connection.js');
    return withClient(async (client) => {
      await noteIgnoredAs(client, flags);
      const said = await client.say(threadId, text, flags['message-id'] ? { messageId: flags['message-id'] } : {});
      const from = said.added ? said.seq - 1 : said.seq;
      if (flags['no-wait']) return printNoWait(threadId, said.added, flags, async () => (await client.events(threadId, from)).events as never);
      const { followRemote } = await import('../remote/follow.js');
      return followRemote(client, threadId, flags, { printAfterSeq: from });
    });
  },
};

async function parse(args: string[], flags: Flags): Promise<{ threadId: string; text: string }> {
  if (args.length === 2 && flags.input === undefined) return { threadId: args[0]!, text: args[1]! };
  if (args.length === 1 && flags.input !== undefined) {
    const { readInputText } = await import('../input.js');
    return { threadId: args[0]!, text: readInputText(flags.input) };
  }
  if (args.length === 1) throw new TwelveError('usage', `say what? twelve say ${args[0]} "<your message>" (or --input <text|@file|->)`);
  throw usageError(say);
}

async function printNoWait(threadId: string, added: boolean, flags: Flags, events: () => Promise<import('../../thread/events.js').ThreadEvent[]>): Promise<number> {
  const { EventFormatter } = await import('../format.js');
  const formatter = new EventFormatter();
  for (const event of await events()) if (event.type === 'message_added' || event.type === 'release_changed') process.stdout.write(`${flags.json ? JSON.stringify(event) : formatter.format(event)}\n`);
  if (!flags.json) process.stdout.write(added ? `${threadId} is runnable: a worker answers it, or here: twelve resume ${threadId}\n` : `${threadId}: this message was already recorded (same --message-id); nothing added\n`);
  return 0;
}
