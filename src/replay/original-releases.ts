/**
 * The releases that recorded a thread's model calls, rebuilt from their stored manifests
 * (once per release id, shared by every thread of a batch). A release whose manifest is
 * missing, unreadable or another agent's is remembered with the reason it cannot serve.
 */
import type { RenderContextOptions } from '../agent/define-agent.js';
import type { AgentRelease } from '../agent/release.js';
import { errorMessage } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ContextMessage } from '../thread/render-context.js';
import { releaseFromManifest } from './release-from-manifest.js';

export type ReleaseLookup = { release: AgentRelease } | { missing: string };

export class OriginalReleases {
  private readonly found = new Map<string, Promise<ReleaseLookup>>();

  constructor(
    private readonly store: Pick<Store, 'getRelease'>,
    /** The candidate: a thread recorded by the candidate's own release needs no manifest. */
    private readonly candidate: AgentRelease,
    /** An agent's own renderContext is code, not in a manifest: the candidate's is used on both sides. */
    private readonly renderContext: ((options: RenderContextOptions) => ContextMessage[]) | undefined,
  ) {}

  get(releaseId: string): Promise<ReleaseLookup> {
    let lookup = this.found.get(releaseId);
    if (!lookup) this.found.set(releaseId, (lookup = this.load(releaseId)));
    return lookup;
  }

  private async load(releaseId: string): Promise<ReleaseLookup> {
    if (releaseId === this.candidate.releaseId) return { release: this.candidate };
    const stored = await this.store.getRelease(releaseId);
    if (!stored) return { missing: `the manifest of release ${releaseId}, which made a recorded model call, is not in the store` };
    if (stored.agent !== this.candidate.agent.name) return { missing: `release ${releaseId} is a release of agent ${stored.agent}, not ${this.candidate.agent.name}` };
    try {
      return { release: releaseFromManifest(stored.manifest, { releaseId, ...(this.renderContext ? { renderContext: this.renderContext } : {}) }) };
    } catch (error) {
      return { missing: `the manifest of release ${releaseId} cannot be read: ${errorMessage(error)}` };
    }
  }
}
