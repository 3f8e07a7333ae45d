/** `twelve agents ls`'s second line per agent: review policy, non-LLM fallback, confidence, eval suites. */
import type { AgentQuality } from '../agent/quality.js';
import type { AgentSuite } from '../eval/agent-suites.js';

/** "review: always by roles finance, within 2h then fail  fallback: on models_failed,blocked  confidence: field score  evals: refunds (evals/refunds.jsonl, 5 cases)" */
export function qualityLine(quality: AgentQuality, suites: readonly AgentSuite[] | undefined): string {
  const parts = [`review: ${reviewText(quality.review)}`, `fallback: ${quality.fallback ? `on ${quality.fallback.on.join(',')}` : 'none'}`, `confidence: ${confidenceText(quality.confidence)}`];
  // A remote listing has no suites: they live in the project, not on the server.
  if (suites) parts.push(`evals: ${suites.length === 0 ? 'none' : suites.map(suiteText).join(', ')}`);
  return parts.join('  ');
}

function reviewText(review: AgentQuality['review']): string {
  if (review.policy === 'never') return 'never';
  const who = [review.reviewers.length ? `roles ${review.reviewers.join(', ')}` : '', review.people.length ? `people ${review.people.join(', ')}` : ''].filter(Boolean).join('; ') || 'anyone';
  const deadline = review.timeoutMs !== null ? `, within ${deadlineText(review.timeoutMs)} then ${review.onTimeout}` : '';
  return `${review.policy} by ${who}${deadline}`;
}

function confidenceText(confidence: AgentQuality['confidence']): string {
  if (!confidence) return 'none';
  return 'field' in confidence ? `field ${confidence.field}` : 'function';
}

function suiteText(suite: AgentSuite): string {
  if (suite.problem !== undefined) return `${suite.name} (${suite.file ?? 'config'}, suite invalid: ${suite.problem})`;
  const cases = `${suite.cases} case${suite.cases === 1 ? '' : 's'}`;
  return suite.name === suite.file ? `${suite.name} (${cases})` : `${suite.name} (${suite.file ?? 'config'}, ${cases})`;
}

/** "90s", "15m", "2h", "1d"; an uneven amount in ms. */
function deadlineText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms} ms`;
}
