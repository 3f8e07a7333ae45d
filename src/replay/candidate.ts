/**
 * The release a replay runs on: "current" (the working tree's release of the thread's agent)
 * or a stored release id, rebuilt from its manifest. An unknown id is a usage error that
 * lists the agent's known releases, newest first.
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import type { Store } from '../store/types.js';
import { releaseFromManifest } from './release-from-manifest.js';

export interface ResolveCandidateOptions {
  store: Pick<Store, 'getRelease' | 'listReleases'>;
  agent: string;
  /** "current" or a release id (rel_...). */
  release: string;
  /** The working tree's release of this agent, when the project has the agent. */
  current: AgentRelease | undefined;
}

export async function resolveCandidate(options: ResolveCandidateOptions): Promise<AgentRelease> {
  const { store, agent, release, current } = options;
  if (release === 'current') {
    if (!current) throw new TwelveError('usage', `--release current: agent ${agent} is not in this project (its twelve.config.ts), so it has no current release; pass a stored release id${await knownReleases(store, agent)}`);
    return current;
  }
  if (current?.releaseId === release) return current;
  const stored = await store.getRelease(release);
  if (!stored) throw new TwelveError('usage', `--release: no release "${release}" in the store${await knownReleases(store, agent)}`, { details: { release } });
  if (stored.agent !== agent) throw new TwelveError('usage', `--release: ${release} is a release of agent ${stored.agent}, not ${agent}${await knownReleases(store, agent)}`);
  // A stored release has no code: an agent's own renderContext comes from the working tree, when there.
  const renderContext = current?.agent.options.renderContext;
  return releaseFromManifest(stored.manifest, { releaseId: release, ...(renderContext ? { renderContext } : {}) });
}

async function knownReleases(store: Pick<Store, 'listReleases'>, agent: string): Promise<string> {
  const releases = await store.listReleases({ agent, limit: 20 });
  if (releases.length === 0) return `; agent ${agent} has no stored release`;
  return `; releases of ${agent}, newest first: ${releases.map((r) => `${r.id} (${r.createdAt.slice(0, 19).replace('T', ' ')})`).join(', ')}`;
}
