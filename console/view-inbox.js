/** Inbox: everything waiting for a person, oldest first, with the form to act on each. */
import { endpoints } from './api.js';
import { pendingForm, pendingKey } from './actions.js';
import { h, mount, syncChildren } from './dom.js';
import { count, preview, statusBadge, threadCost, timeAgo } from './format.js';
import { poll, quietErrors } from './live.js';
import { showError } from './toast.js';

export function inboxView(root, _params, { onCount } = {}) {
  const errors = quietErrors(showError);
  const summary = h('p', { class: 'page-sub', testid: 'inbox-summary' }, 'Loading…');
  const list = h('div', { class: 'inbox-list', testid: 'inbox-list' });
  const empty = h(
    'div',
    { class: 'empty card', testid: 'inbox-empty', hidden: true },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, '✓'),
    h('h2', {}, 'Nothing is waiting for you'),
    h('p', {}, 'Approvals, questions from agents, answers to review, escalations and budget stops appear here as they happen.'),
  );
  mount(root, h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Inbox'), summary)), empty, list);

  const refresh = poll(async () => {
    try {
      const { items } = await endpoints.inbox();
      errors.ok();
      render(items);
    } catch (error) {
      errors.fail(error);
      // The list is what the last good read said: do not call it live.
      summary.textContent = `${summary.dataset.base ?? 'Nothing loaded'} · not updating (${error.message})`;
    }
  }, 2000);

  function render(items) {
    const cards = items.flatMap((item) => item.pending.map((pending) => ({ thread: item.thread, pending })));
    // Threads that wait without a form we know (defensive): still list them.
    for (const item of items) if (!item.pending.length) cards.push({ thread: item.thread, pending: undefined });
    const existing = new Map([...list.children].map((el) => [el.dataset.key, el]));
    syncChildren(
      list,
      cards.map(({ thread, pending }) => {
        const key = pending ? pendingKey(thread, pending) : `${thread.id}:none`;
        const old = existing.get(key);
        if (old) {
          // Keep the form (someone may be typing); refresh the thread line.
          old.querySelector('.inbox-thread')?.replaceWith(threadLine(thread));
          return old;
        }
        return h(
          'article',
          { class: 'card inbox-item', dataset: { key, threadId: thread.id, kind: pending?.kind ?? 'none' }, testid: 'inbox-item' },
          threadLine(thread),
          pending ? pendingForm(thread, pending, { onDone: () => refresh.now() }) : h('p', { class: 'muted' }, thread.waitingReason ?? 'Waiting.'),
        );
      }),
    );
    empty.hidden = cards.length > 0;
    summary.dataset.base = cards.length ? `${cards.length} item${cards.length === 1 ? '' : 's'} waiting for a person` : 'All clear';
    summary.textContent = `${summary.dataset.base} · live`;
    onCount?.(cards.length);
  }

  return () => refresh.stop();
}

function threadLine(thread) {
  return h(
    'header',
    { class: 'inbox-thread' },
    h(
      'div',
      { class: 'inbox-thread-main' },
      h('a', { href: `#/threads/${encodeURIComponent(thread.id)}`, class: 'mono thread-link', testid: 'inbox-thread-link' }, thread.id),
      h('span', { class: 'agent-name' }, thread.agent),
      statusBadge(thread),
      // A child thread (agentTool): whose work waits on this decision.
      thread.parentThreadId
        ? h('span', { class: 'muted small', testid: 'inbox-parent' }, 'for ', h('a', { href: `#/threads/${encodeURIComponent(thread.parentThreadId)}`, class: 'mono' }, thread.parentThreadId))
        : null,
    ),
    h('p', { class: 'input-preview' }, preview(thread.input, 200)),
    h(
      'div',
      { class: 'muted small' },
      'waiting since ',
      timeAgo(thread.updatedAt),
      ` · ${count(thread.modelSteps)} steps · `,
      threadCost(thread),
      ' · started ',
      timeAgo(thread.createdAt),
    ),
  );
}
