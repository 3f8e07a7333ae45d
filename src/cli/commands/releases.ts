/**
 * `twelve releases ls | show | diff`: the releases in the store with their threads, one
 * release in full, and what changed between two of one agent (local store or TWELVE_URL).
 * `current` is the release the working tree's code makes (remotely: the one the server runs).
 */
import { TwelveError, errorMessage } from '../../errors.js';
import { currentRef, type CurrentReleases } from '../../release/lookup.js';
import type { ReleaseDiffView, ReleaseView } from '../../release/present.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

interface Row {
  id: string;
  agent: string;
  createdAt: string;
  ordinal: number;
  current: boolean;
  threadsByStatus: Record<string, number>;
}

export const releases: CommandSpec = {
  name: 'releases',
  summary: 'releases of the agents, with their threads; one in full; what changed between two',
  usage: [
    'releases ls [--agent a] [--limit n] [--json]',
    'releases show <release|current> [--agent a] [--json]',
    'releases diff <a> <b> [--agent a] [--json]',
    'releases promote <release|current> [--agent a]',
  ],
  flags: {
    agent: 'ls: only this agent\'s releases; show, diff: which agent "current" means when there are several',
    limit: 'ls: at most this many releases (default 50)',
    json: 'ls: one release per line; show, diff: one JSON object',
  },
  details: `A release is what an agent is made of (prompt, models, tools and their schemas, limits,
approval policies); its id is a hash of exactly that, and every event records the release that wrote it.
"current" stands for the release the code in the working tree makes (twelve.config.ts); with
TWELVE_URL, the release the server runs. ls marks those with *. diff compares two releases of one agent:
the prompt as a line diff, tool schemas field by field, model, setting, limit and policy changes.
Workers never step a thread a newer release of its agent wrote last (newer: saved in the store later).
promote makes a release the newest: after rolling back to an older build (or forward again), run
twelve releases promote current, or the threads the later release touched wait for its workers.`,
  async run(args, flags) {
    const [sub, ...rest] = args;
    const { openStoreForReading } = await import('../local.js');
    const current = await workingTreeReleases(flags, args.includes(currentRef));
    const store = await openStoreForReading();
    try {
      if (sub === 'ls' || sub === 'list') {
        if (rest.length) throw usageError(releases);
        const found = await store.listReleases({ ...(flags.agent ? { agent: flags.agent } : {}), limit: parseLimit(flags) });
        return printList(found.map((r) => ({ ...r, current: current.get(r.agent)?.id === r.id, threadsByStatus: r.threadsByStatus as Record<string, number> })), flags, current);
      }
      const { findPair, findRelease } = await import('../../release/lookup.js');
      const { releaseDiffView, releaseView } = await import('../../release/present.js');
      const options = { current, ...(flags.agent ? { agent: flags.agent } : {}) };
      if (sub === 'show') {
        if (rest.length !== 1) throw usageError(releases);
        return printRelease(releaseView(await findRelease(store, rest[0]!, options)), flags);
      }
      if (sub === 'diff') {
        if (rest.length !== 2) throw usageError(releases);
        const [from, to] = await findPair(store, rest[0]!, rest[1]!, options);
        return printDiff(releaseDiffView(from, to), flags);
      }
      if (sub === 'promote') {
        if (rest.length !== 1) throw usageError(releases);
        const found = await findRelease(store, rest[0]!, options);
        // The working tree's release may never have run: save it first, so it can be promoted.
        if (!(await store.getRelease(found.id))) await store.saveRelease({ id: found.id, agent: found.agent, manifest: found.manifest });
        const newer = (await store.listReleases({ agent: found.agent, limit: 500 })).filter((r) => r.ordinal > (found.ordinal ?? 0) && r.id !== found.id);
        const promoted = (await store.promoteRelease(found.id))!;
        const moved = newer.reduce((sum, r) => sum + Object.entries(r.threadsByStatus).filter(([status]) => !['completed', 'failed', 'cancelled'].includes(status)).reduce((n, [, count]) => n + (count ?? 0), 0), 0);
        return print(
          newer.length === 0
            ? `${promoted.id} (${promoted.agent}) is already the newest release of the agent`
            : `${promoted.id} (${promoted.agent}) is now the newest release: workers running it take the ${moved} thread${moved === 1 ? '' : 's'} in flight last stepped by ${newer.map((r) => r.id).join(', ')} (each records release_changed), and workers on those leave them`,
        );
      }
      throw usageError(releases);
    } finally {
      await store.close();
    }
  },
  async remote(args, flags) {
    const [sub, ...rest] = args;
    const { withClient } = await import('../remote/connection.js');
    const agent = flags.agent ? { agent: flags.agent } : {};
    if (sub === 'ls' || sub === 'list') {
      if (rest.length) throw usageError(releases);
      const limit = parseLimit(flags);
      return withClient(async (client) => printList((await client.listReleases({ ...agent, limit })).releases, flags));
    }
    if (sub === 'show') {
      if (rest.length !== 1) throw usageError(releases);
      return withClient(async (client) => printRelease((await client.getRelease(rest[0]!, agent)) as ReleaseView, flags));
    }
    if (sub === 'promote') throw new TwelveError('usage', 'twelve releases promote changes the store: run it where TWELVE_DATABASE_URL reaches the database (without TWELVE_URL)');
    if (sub === 'diff') {
      if (rest.length !== 2) throw usageError(releases);
      return withClient(async (client) => printDiff((await client.diffReleases(rest[0]!, rest[1]!, agent)) as ReleaseDiffView, flags));
    }
    throw usageError(releases);
  },
};

function parseLimit(flags: Flags): number {
  const limit = flags.limit === undefined ? 50 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit <= 0 || limit > 500) throw new TwelveError('usage', `--limit must be an integer from 1 to 500, got "${flags.limit}"`);
  return limit;
}

/**
 * The releases the working tree's agents make, with the environment's overrides (none without a
 * project). A project that does not load only matters when `current` is asked for; otherwise
 * nothing is marked current, and a note says why.
 */
async function workingTreeReleases(flags: Flags, needed: boolean): Promise<CurrentReleases> {
  try {
    return await releasesOfProject(flags);
  } catch (error) {
    if (needed) throw error;
    process.stderr.write(`twelve: note: the project's agents did not load, so no release is marked current: ${errorMessage(error)}\n`);
    return new Map();
  }
}

async function releasesOfProject(flags: Flags): Promise<CurrentReleases> {
  const { loadAgents } = await import('../local.js');
  const agents = await loadAgents(flags);
  if (agents.length === 0) return new Map();
  const { loadConfig } = await import('../../config/env.js');
  const { createRelease } = await import('../../agent/release.js');
  const { version } = await import('../../version.js');
  const config = loadConfig(process.env, agents);
  return new Map(agents.map((agent) => {
    const release = createRelease(agent, config.agents[agent.name], version);
    return [agent.name, { id: release.releaseId, manifest: release.manifest }];
  }));
}

async function printList(rows: Row[], flags: Flags, current?: CurrentReleases): Promise<number> {
  if (flags.json) {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  }
  if (rows.length === 0) return print(flags.agent ? `no releases of ${flags.agent} yet (one is saved when a thread first runs on it)` : 'no releases yet (one is saved when a thread first runs on it)');
  const { table } = await import('../format.js');
  const { countsText } = await import('../../release/present.js');
  const marks = rows.some((r) => r.current);
  const lines = [[...(marks ? [''] : []), 'RELEASE', 'AGENT', 'CREATED', 'THREADS']];
  for (const r of rows) lines.push([...(marks ? [r.current ? '*' : ''] : []), r.id, r.agent, r.createdAt, countsText(r.threadsByStatus)]);
  const notes: string[] = [];
  if (marks) notes.push(`* current: the release ${current ? 'the working tree\'s code makes' : 'the server runs'}`);
  // A working tree whose release no thread has run on yet is not in the store: say so.
  for (const [agent, release] of current ?? []) {
    if ((!flags.agent || flags.agent === agent) && !rows.some((r) => r.id === release.id)) notes.push(`${agent}: the working tree's release ${release.id} is not in the store yet`);
  }
  return print([table(lines), ...notes].join('\n'));
}

async function printRelease(view: ReleaseView, flags: Flags): Promise<number> {
  if (flags.json) return print(JSON.stringify(view));
  const { renderReleaseText } = await import('../../release/present.js');
  return print(renderReleaseText(view));
}

async function printDiff(view: ReleaseDiffView, flags: Flags): Promise<number> {
  if (flags.json) return print(JSON.stringify(view));
  const { renderReleaseDiffText } = await import('../../release/present.js');
  return print(renderReleaseDiffText(view));
}
