/**
 * Proposed eval cases: what people's corrections (a rejection with a comment, guidance after an
 * escalation, a review edit or send-back) suggest pinning in the agent's suite. A card shows the
 * kind, who and why, the draft case, and Accept (writes it into the server project's suite
 * file) / Dismiss. Used by the Proposals page and, per thread, by the thread page.
 */
import { can, endpoints } from './api.js';
import { h, jsonView, mount, syncChildren } from './dom.js';
import { absoluteTime, timeAgo } from './format.js';
import { showError, toast } from './toast.js';

const kindLabels = { rejection: 'Rejection', guidance: 'Guidance', review_edit: 'Review edit', review_send_back: 'Sent back in review' };
const statusPills = { pending: 'pill-wait', accepted: 'pill-good', dismissed: 'pill-muted' };

/** One proposal as a card; `onDone` runs after it was accepted or dismissed. */
export function proposalCard(p, { onDone, showThread = false } = {}) {
  const suite = h('input', { type: 'text', placeholder: `evals/${p.agent}.jsonl`, maxlength: 500, testid: 'proposal-suite', 'aria-label': 'Suite file (relative to the project)' });
  const decide = async (action, button) => {
    button.disabled = true;
    try {
      if (action === 'accept') {
        const result = await endpoints.acceptProposal(p.id, suite.value.trim() ? { suite: suite.value.trim() } : {});
        toast(`Case ${p.draft.id} ${result.written ? 'added to' : 'was already in'} ${result.suite}`, { kind: 'success' });
      } else {
        await endpoints.dismissProposal(p.id);
        toast('Proposal dismissed', { kind: 'success' });
      }
      onDone?.();
    } catch (error) {
      showError(error);
      button.disabled = false;
      // Decided elsewhere meanwhile (409): show it as it is now rather than a card that still offers the choice.
      if (error?.status === 409) onDone?.();
    }
  };
  const button = (action, label, cls) => {
    const b = h('button', { type: 'button', class: `btn btn-small ${cls}`, testid: `proposal-${action}` }, label);
    b.addEventListener('click', () => decide(action, b));
    return b;
  };
  return h(
    'article',
    { class: 'card proposal-card', testid: 'proposal', dataset: { id: p.id, kind: p.kind, status: p.status } },
    h(
      'div',
      { class: 'proposal-head' },
      h('span', { class: 'pill pill-run', testid: 'proposal-kind' }, kindLabels[p.kind] ?? p.kind),
      ' ',
      h('span', { class: `pill ${statusPills[p.status] ?? ''}`, testid: 'proposal-status' }, p.status),
      ' ',
      h('strong', {}, p.agent),
      p.draft.source?.by ? h('span', { class: 'muted' }, ' · by ', p.draft.source.by) : null,
      h('span', { class: 'muted', title: absoluteTime(p.createdAt) }, ' · ', timeAgo(p.createdAt)),
      showThread ? h('span', { class: 'muted' }, ' · ', h('a', { href: `#/threads/${encodeURIComponent(p.threadId)}`, testid: 'proposal-thread' }, h('code', {}, p.threadId))) : null,
    ),
    p.draft.note ? h('p', { class: 'proposal-note', testid: 'proposal-note' }, p.draft.note) : null,
    h('details', { class: 'expander' }, h('summary', {}, 'Draft case ', h('code', { testid: 'proposal-case-id' }, p.draft.id)), jsonView(p.draft, { testid: 'proposal-draft' })),
    p.status === 'pending' && can('operate')
      ? h('div', { class: 'control-row' }, suite, button('accept', 'Accept into suite', 'btn-primary'), button('dismiss', 'Dismiss', 'btn-ghost'))
      : p.status !== 'pending'
        ? h('p', { class: 'muted', testid: 'proposal-decided' }, `${p.status} by ${p.decidedBy ?? 'someone'}${p.suite ? ` into ${p.suite}` : ''}`)
        : null,
  );
}

/** #/proposals[?status=&agent=]: the proposals, pending first by default. */
export function proposalsView(root, params) {
  const status = params.get('status') ?? 'pending';
  const agent = params.get('agent') ?? undefined;
  const body = h('div', { class: 'proposals-list', testid: 'proposals-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const tab = (value, label) => h('a', { href: `#/proposals?status=${value}${agent ? `&agent=${encodeURIComponent(agent)}` : ''}`, class: ['tab', value === status && 'tab-current'], testid: `proposals-${value}` }, label);
  mount(
    root,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Proposed eval cases'), h('p', { class: 'page-sub' }, "People's corrections, proposed as cases for the agent's suite"))),
    h('div', { class: 'button-row tabs' }, tab('pending', 'Pending'), tab('accepted', 'Accepted'), tab('dismissed', 'Dismissed')),
    body,
  );
  let cancelled = false;
  const load = () =>
    endpoints
      .proposals({ status, agent })
      .then(({ proposals }) => {
        if (cancelled) return;
        if (!proposals.length) return mount(body, h('div', { class: 'empty card', testid: 'proposals-empty' }, h('h2', {}, `No ${status} proposals`), h('p', {}, 'A rejection with a comment, guidance after an escalation or a review edit proposes one.')));
        mount(body, proposals.map((p) => proposalCard(p, { onDone: load, showThread: true })));
      })
      .catch((error) => {
        if (cancelled) return;
        showError(error);
        mount(body, h('div', { class: 'empty card' }, h('h2', {}, 'Could not load proposals'), h('p', {}, error.message)));
      });
  load();
  return () => (cancelled = true);
}

/**
 * The thread page's panel: the proposals this thread's corrections made. `refresh()` re-reads
 * them (the page calls it on its own poll); a card is rebuilt only when its status changed,
 * so a suite path being typed is not wiped.
 */
export function threadProposalsPanel(threadId) {
  const panel = h('section', { class: 'proposals-panel', testid: 'thread-proposals', hidden: true });
  const title = h('h2', { class: 'panel-title' }, 'Proposed eval cases');
  let shown = '';
  async function refresh() {
    try {
      const { proposals } = await endpoints.proposals({ thread: threadId });
      const signature = proposals.map((p) => `${p.id}:${p.status}`).join(',');
      if (signature === shown) return;
      shown = signature;
      panel.hidden = proposals.length === 0;
      // Only the cards whose status changed are rebuilt: a suite path typed in another stays.
      const existing = new Map([...panel.querySelectorAll('[data-testid="proposal"]')].map((el) => [`${el.dataset.id}:${el.dataset.status}`, el]));
      syncChildren(panel, [title, ...proposals.map((p) => existing.get(`${p.id}:${p.status}`) ?? proposalCard(p, { onDone: refresh }))]);
    } catch {
      // The thread page reports its own errors; proposals just wait for the next poll.
    }
  }
  return { panel, refresh };
}
