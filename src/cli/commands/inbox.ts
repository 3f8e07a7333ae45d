/** `twelve inbox`: everything waiting for a person, oldest first (local store or TWELVE_URL). */
import { expectArgs, print, type CommandSpec, type Flags } from '../command.js';

interface Row {
  id: string;
  agent: string;
  status: string;
  waitingReason: string | null;
  updatedAt: string;
  deadline: string | null;
  parentThreadId?: string | null;
}

export const inbox: CommandSpec = {
  name: 'inbox',
  summary: 'everything waiting for a person',
  usage: ['inbox [--agent a] [--json]'],
  flags: { agent: 'only threads of this agent', json: 'one thread per line' },
  async run(args, flags) {
    expectArgs(args, 0, inbox);
    const { openStoreForReading } = await import('../local.js');
    const store = await openStoreForReading();
    try {
      const waiting = (await store.listThreads({ status: ['awaiting_approval', 'awaiting_human', 'awaiting_review'], ...(flags.agent ? { agent: flags.agent } : {}), limit: 200 })).reverse();
      return printInbox(waiting, (t) => ({ ...t, deadline: t.wakeAt ? new Date(t.wakeAt).toISOString() : null }), flags);
    } finally {
      await store.close();
    }
  },
  async remote(args, flags) {
    expectArgs(args, 0, inbox);
    const { withClient } = await import('../remote/connection.js');
    return withClient(async (client) => {
      const { items } = await client.inbox(flags.agent ? { agent: flags.agent } : {});
      return printInbox(items, ({ thread: t }) => ({ ...t, deadline: t.wakeAt ?? null }), flags);
    });
  },
};

async function printInbox<T>(items: T[], row: (item: T) => Row, flags: Flags): Promise<number> {
  if (flags.json) {
    for (const item of items) process.stdout.write(`${JSON.stringify(item)}\n`);
    return 0;
  }
  if (items.length === 0) return print('nothing is waiting for a person');
  const { table, statusText } = await import('../format.js');
  const rows = [['THREAD', 'AGENT', 'WAITING FOR', 'SINCE', 'DEADLINE']];
  // A child thread (agentTool) names its parent: the person sees whose work waits on the decision.
  for (const t of items.map(row)) rows.push([t.id, t.agent, `${statusText(t.status)}  ${t.waitingReason ?? ''}${t.parentThreadId ? `  (for parent ${t.parentThreadId})` : ''}`, t.updatedAt, t.deadline ?? '-']);
  return print(table(rows));
}
