/**
 * Finding a release by id, or by `current` (the release the code at hand makes of an agent:
 * the working tree for the CLI, the running server for the API), with its thread counts.
 * Shared by `twelve releases`, GET /v1/releases and the console; reads the Store interface only.
 */
import { TwelveError } from '../errors.js';
import type { ReleaseSummary, Store } from '../store/types.js';

/** A release as `show` and `diff` read it. Not yet in the store (a `current` never run): no createdAt, no ordinal. */
export interface ReleaseRecord {
  id: string;
  agent: string;
  manifest: Record<string, unknown>;
  createdAt: string | null;
  ordinal: number | null;
  /** The code at hand makes this release. */
  current: boolean;
  threadsByStatus: ReleaseSummary['threadsByStatus'];
}

/** agent -> the release the code at hand makes of it. */
export type CurrentReleases = ReadonlyMap<string, { id: string; manifest: Record<string, unknown> }>;

export interface FindOptions {
  current: CurrentReleases;
  /** Which agent `current` means when the code has several (and whose ids an unknown-id message lists). */
  agent?: string;
}

/** The word that names the code's own release wherever an id is expected. */
export const currentRef = 'current';

export async function findRelease(store: Store, ref: string, options: FindOptions): Promise<ReleaseRecord> {
  if (ref === currentRef) return findCurrent(store, options);
  const stored = await store.getRelease(ref);
  if (!stored) {
    const known = await store.listReleases({ ...(options.agent ? { agent: options.agent } : {}), limit: 5 });
    const listed = known.length ? `; newest known: ${known.map((r) => `${r.id} (${r.agent})`).join(', ')}` : '; the store has no releases yet (one is saved when a thread first runs on it)';
    throw new TwelveError('release_not_found', `no release "${ref}" in ${store.location}${listed}`, { details: { release: ref, known: known.map((r) => r.id) } });
  }
  return {
    id: stored.id,
    agent: stored.agent,
    manifest: stored.manifest,
    createdAt: stored.createdAt,
    ordinal: stored.ordinal,
    current: options.current.get(stored.agent)?.id === stored.id,
    threadsByStatus: await threadCounts(store, stored.agent, stored.id),
  };
}

async function findCurrent(store: Store, options: FindOptions): Promise<ReleaseRecord> {
  const agents = [...options.current.keys()];
  if (agents.length === 0) throw new TwelveError('usage', '"current" means the release of the code at hand, and no agents were found (add a twelve.config.ts, or pass --config)');
  const agent = options.agent ?? (agents.length === 1 ? agents[0]! : undefined);
  if (!agent) throw new TwelveError('usage', `"current" is ambiguous: the code has agents ${agents.join(', ')}; say which with --agent (or compare with a release id of that agent)`);
  const release = options.current.get(agent);
  if (!release) throw new TwelveError('usage', `"current": the code has no agent ${agent} (agents: ${agents.join(', ')})`);
  const stored = await store.getRelease(release.id);
  return {
    id: release.id,
    agent,
    manifest: stored?.manifest ?? release.manifest,
    createdAt: stored?.createdAt ?? null,
    ordinal: stored?.ordinal ?? null,
    current: true,
    threadsByStatus: stored ? await threadCounts(store, agent, release.id) : {},
  };
}

/** Both sides of a diff; `current` on either side means the other side's agent. */
export async function findPair(store: Store, a: string, b: string, options: FindOptions): Promise<[ReleaseRecord, ReleaseRecord]> {
  // An id fixes the agent, so resolve it first and let `current` follow it.
  const first = a === currentRef && b !== currentRef ? undefined : await findRelease(store, a, options);
  const second = await findRelease(store, b, { ...options, agent: options.agent ?? first?.agent });
  const from = first ?? (await findRelease(store, a, { ...options, agent: options.agent ?? second.agent }));
  if (from.agent !== second.agent) {
    throw new TwelveError('usage', `releases of different agents cannot be compared: ${from.id} is of ${from.agent}, ${second.id} of ${second.agent}`, {
      details: { from: { id: from.id, agent: from.agent }, to: { id: second.id, agent: second.agent } },
    });
  }
  return [from, second];
}

/** listReleases counts threads per release; one agent's releases are few, so its list is read whole. */
async function threadCounts(store: Store, agent: string, id: string): Promise<ReleaseSummary['threadsByStatus']> {
  const releases = await store.listReleases({ agent, limit: 10_000 });
  return releases.find((r) => r.id === id)?.threadsByStatus ?? {};
}
