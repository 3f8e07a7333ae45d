/**
 * The CLI against a Twelve server (TWELVE_URL + TWELVE_API_KEY) instead of the local store.
 * Commands with a remote form go through the typed client (twelve-agents/client): threads
 * run on the server's workers; the CLI launches, acts and follows the event stream, printing
 * with the same formatter and exiting with the same codes. Every decision is recorded under
 * the API key's name (--as is ignored, with a note).
 */
import { TwelveError } from '../../errors.js';
import { ApiError, createClient, type Event, type TwelveClient } from '../../client/index.js';
import { exitCodes, type Flags } from '../command.js';

/** Runs a remote command with a client for TWELVE_URL; API refusals become one line and an exit code. */
export async function withClient(work: (client: TwelveClient) => Promise<number>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const url = env.TWELVE_URL!;
  const apiKey = env.TWELVE_API_KEY;
  if (!apiKey) throw new TwelveError('config_invalid', `TWELVE_URL is set (${url}), so the CLI talks to that server: set TWELVE_API_KEY to one of its API keys`);
  let client: TwelveClient;
  try {
    client = createClient({ url, apiKey });
  } catch (error) {
    throw new TwelveError('config_invalid', `TWELVE_URL: ${(error as Error).message.replace(/^createClient: /, '')}`);
  }
  try {
    return await work(client);
  } catch (error) {
    if (!ApiError.is(error)) throw error;
    process.stderr.write(`twelve: ${describe(error, client)}\n`);
    return error.status >= 500 ? 1 : error.status === 409 ? exitCodes.conflict : exitCodes.usage;
  }
}

function describe(error: ApiError, client: TwelveClient): string {
  if (error.status === 401) return `${error.message} (TWELVE_API_KEY is not a key of ${client.url})`;
  if (error.status === 0) return `${error.message} (TWELVE_URL)`;
  return error.message;
}

/** --as names nobody remotely: the server records the key's owner. Says so when they differ. */
export async function noteIgnoredAs(client: TwelveClient, flags: Flags): Promise<void> {
  if (!flags.as) return;
  const me = await client.me();
  if (me.name !== flags.as) process.stderr.write(`twelve: note: --as is ignored with TWELVE_URL: the server records the API key's owner, ${me.name}\n`);
}

/** Every event of a thread after `after`, page by page. */
export async function allEvents(client: TwelveClient, threadId: string, after = 0): Promise<Event[]> {
  const events: Event[] = [];
  for (;;) {
    const page = await client.events(threadId, after, { limit: 1000 });
    events.push(...page.events);
    if (page.events.length < 1000) return events;
    after = page.lastSeq;
  }
}
