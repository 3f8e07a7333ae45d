/**
 * An agent's quality settings as people read them (`twelve agents ls`, GET /v1/agents, the
 * console): who reviews its answers, when its non-LLM fallback answers, where its confidence
 * is read. Derived from the release, so what is shown is what runs.
 */
import type { AgentRelease } from './release.js';
import { fallbackOnOf, type FallbackReason } from './fallback-options.js';

export interface AgentQuality {
  review: { policy: 'always' | 'never' | 'predicate'; reviewers: string[]; people: string[]; timeoutMs: number | null; onTimeout: 'approve' | 'fail' };
  /** When the non-LLM fallback answers; null: the agent has none. */
  fallback: { on: FallbackReason[] } | null;
  /** Where the output's confidence is read; null: it declares none. */
  confidence: { field: string } | { function: true } | null;
}

export function qualityOf(release: Pick<AgentRelease, 'agent' | 'review'>): AgentQuality {
  const { review, agent } = release;
  const on = fallbackOnOf(agent.options);
  const confidence = agent.options.confidence;
  return {
    review: { policy: review.policy, reviewers: [...review.reviewers], people: [...review.people], timeoutMs: review.timeoutMs ?? null, onTimeout: review.onTimeout },
    fallback: on.length > 0 ? { on: [...on] } : null,
    confidence: confidence === undefined ? null : typeof confidence === 'string' ? { field: confidence } : { function: true },
  };
}
