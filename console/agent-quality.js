/** An agent card's quality section: output review, non-LLM fallback, where confidence is read, and a link to its evals. */
import { deciders, people } from './actions.js';
import { h } from './dom.js';
import { duration } from './format.js';

const reviewText = {
  never: 'answers count without review',
  always: 'every answer is reviewed',
  predicate: 'depends on the answer',
};

const reasonText = { models_failed: 'every model failed', blocked: 'no model can be called', budget: 'a budget is exhausted' };

export function qualityView(agent) {
  const review = agent.review ?? { policy: 'never', reviewers: [], people: [] };
  const fact = (label, value, testid) => h('div', { class: 'fact', testid }, h('dt', {}, label), h('dd', {}, value));
  return h(
    'section',
    { class: 'agent-quality', testid: 'agent-quality' },
    h('div', { class: 'quality-head' }, h('h3', {}, 'Quality'), h('a', { href: `#/evals?agent=${encodeURIComponent(agent.name)}`, testid: 'agent-evals-link' }, 'Eval runs →')),
    h(
      'dl',
      { class: 'facts facts-inline' },
      fact('Output review', h('span', { class: `policy policy-${review.policy}`, dataset: { policy: review.policy } }, reviewText[review.policy] ?? review.policy), 'agent-review'),
      review.policy !== 'never' ? fact('Reviewers', people(deciders({ approvers: review.reviewers, people: review.people }))) : null,
      review.policy !== 'never' ? fact('Review within', review.timeoutMs ? `${duration(review.timeoutMs)}, then ${review.onTimeout === 'approve' ? 'approved' : 'failed'}` : 'no deadline') : null,
      fact('Non-LLM fallback', agent.fallback ? `answers when ${agent.fallback.on.map((r) => reasonText[r] ?? r).join(' or ')}` : h('span', { class: 'muted' }, 'none'), 'agent-fallback'),
      fact('Confidence', confidenceText(agent.confidence), 'agent-confidence'),
    ),
  );
}

function confidenceText(confidence) {
  if (!confidence) return h('span', { class: 'muted' }, 'not declared');
  if (confidence.field) return h('span', {}, 'output field ', h('code', {}, confidence.field));
  return 'computed from the output (a function)';
}
