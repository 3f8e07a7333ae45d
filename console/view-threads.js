/** Threads: every thread, newest first, filtered by status and agent, refreshed every 2 s. */
import { endpoints } from './api.js';
import { h, mount, syncChildren } from './dom.js';
import { confidenceText, count, fallbackBadge, preview, statusBadge, statusLabel, threadCost, timeAgo, tokens } from './format.js';
import { poll, quietErrors } from './live.js';
import { showError } from './toast.js';

const filters = [
  { id: 'all', label: 'All', statuses: [] },
  { id: 'waiting', label: 'Waiting for a person', statuses: ['awaiting_approval', 'awaiting_human', 'awaiting_review'] },
  { id: 'runnable', label: statusLabel('runnable'), statuses: ['runnable'] },
  { id: 'sleeping', label: statusLabel('sleeping'), statuses: ['sleeping'] },
  { id: 'paused', label: statusLabel('paused'), statuses: ['paused'] },
  { id: 'completed', label: statusLabel('completed'), statuses: ['completed'] },
  { id: 'failed', label: statusLabel('failed'), statuses: ['failed'] },
  { id: 'cancelled', label: statusLabel('cancelled'), statuses: ['cancelled'] },
];

const pageSize = 50;
/** The largest page GET /v1/threads serves. */
const maxLivePage = 200;

export function threadsView(root, params) {
  const state = {
    filter: filters.some((f) => f.id === params.get('status')) ? params.get('status') : 'all',
    agent: params.get('agent') ?? '',
    /**
     * Rows asked for: "Show more" adds a page. Up to the API's largest page they are all read
     * live, so a new thread pushes the rows down rather than out of a gap; beyond that, older
     * pages are read once and kept in `older`.
     */
    shown: pageSize,
    older: [],
    firstCursor: null,
    olderCursor: null,
  };
  const errors = quietErrors(showError);

  const chips = h(
    'div',
    { class: 'chip-bar', role: 'group', 'aria-label': 'Filter by status' },
    filters.map((f) =>
      h('button', { type: 'button', class: 'filter-chip', testid: `filter-${f.id}`, dataset: { filter: f.id }, 'aria-pressed': String(f.id === state.filter), onclick: () => setFilter(f.id) }, f.label),
    ),
  );
  const agentSelect = h('select', { id: 'agent-filter', testid: 'agent-filter', onchange: () => setFilter(state.filter, agentSelect.value) }, h('option', { value: '' }, 'All agents'));
  const summary = h('p', { class: 'page-sub', testid: 'threads-summary' }, 'Loading…');
  const tbody = h('tbody', { testid: 'threads-body' });
  const table = h(
    'table',
    { class: 'threads-table', testid: 'threads-table' },
    h('thead', {}, h('tr', {}, ['Thread', 'Agent', 'Status', 'Steps', 'Tokens in → out', 'Cost', 'Confidence', 'Updated'].map((t, i) => h('th', { scope: 'col', class: i >= 3 && i <= 6 ? 'num' : undefined }, t)))),
    tbody,
  );
  const empty = h('div', { class: 'empty', testid: 'threads-empty', hidden: true });
  const more = h('button', { type: 'button', class: 'btn', testid: 'show-more', hidden: true, onclick: () => showMore() }, 'Show more');

  mount(
    root,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Threads'), summary)),
    h('div', { class: 'toolbar' }, chips, h('div', { class: 'toolbar-right' }, h('label', { for: 'agent-filter', class: 'visually-hidden' }, 'Agent'), agentSelect)),
    h('div', { class: 'table-wrap card' }, table, empty),
    h('div', { class: 'center' }, more),
  );

  endpoints
    .agents()
    .then(({ agents }) => {
      for (const agent of agents) agentSelect.appendChild(h('option', { value: agent.name, selected: agent.name === state.agent }, agent.name));
      if (state.agent && !agents.some((a) => a.name === state.agent)) agentSelect.appendChild(h('option', { value: state.agent, selected: true }, state.agent));
    })
    .catch(showError);

  /** A new filter starts again from its first page. */
  function setFilter(id, agent = state.agent) {
    state.filter = id;
    state.agent = agent;
    state.shown = pageSize;
    state.older = [];
    state.olderCursor = null;
    for (const chip of chips.children) chip.setAttribute('aria-pressed', String(chip.dataset.filter === id));
    updateHash();
    refresh.now();
  }

  function updateHash() {
    const search = new URLSearchParams();
    if (state.filter !== 'all') search.set('status', state.filter);
    if (state.agent) search.set('agent', state.agent);
    const text = search.toString();
    history.replaceState(null, '', `#/threads${text ? `?${text}` : ''}`);
  }

  const refresh = poll(async () => {
    const filter = filters.find((f) => f.id === state.filter);
    const asked = { ...state };
    try {
      const result = await endpoints.threads({ status: filter.statuses, agent: state.agent, limit: Math.min(state.shown, maxLivePage) });
      // A filter changed while this request was in flight: its answer is stale.
      if (asked.filter !== state.filter || asked.agent !== state.agent) return;
      errors.ok();
      state.firstCursor = result.nextCursor;
      render(result.threads);
    } catch (error) {
      errors.fail(error);
    }
  }, 2000);

  let lastFirstPage = [];
  async function showMore() {
    const cursor = state.older.length ? state.olderCursor : state.firstCursor;
    if (!cursor) return;
    if (state.shown + pageSize <= maxLivePage) {
      state.shown += pageSize;
      return refresh.now();
    }
    more.disabled = true;
    try {
      const filter = filters.find((f) => f.id === state.filter);
      const asked = { filter: state.filter, agent: state.agent };
      const result = await endpoints.threads({ status: filter.statuses, agent: state.agent, limit: pageSize, cursor });
      if (asked.filter !== state.filter || asked.agent !== state.agent) return; // the filter changed meanwhile
      state.older.push(...result.threads);
      state.olderCursor = result.nextCursor;
      state.shown += pageSize;
      render(lastFirstPage);
    } catch (error) {
      showError(error);
    } finally {
      more.disabled = false;
    }
  }

  function render(firstPage) {
    lastFirstPage = firstPage;
    const seen = new Set(firstPage.map((t) => t.id));
    const threads = [...firstPage, ...state.older.filter((t) => !seen.has(t.id))];
    const nextCursor = state.older.length ? state.olderCursor : state.firstCursor;
    const existing = new Map([...tbody.children].map((row) => [row.dataset.id, row]));
    syncChildren(
      tbody,
      threads.map((thread) => {
        const version = `${thread.updatedAt}|${thread.status}|${thread.running}|${thread.seq}`;
        const old = existing.get(thread.id);
        return old && old.dataset.version === version ? old : row(thread, version);
      }),
    );
    table.hidden = threads.length === 0;
    empty.hidden = threads.length > 0;
    if (!threads.length) {
      mount(
        empty,
        h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, '∅'),
        h('h2', {}, state.filter === 'all' && !state.agent ? 'No threads yet' : 'No threads match'),
        h('p', {}, state.filter === 'all' && !state.agent ? 'Launch one with `twelve run <agent>`, POST /v1/threads, or from the Agents page.' : 'Try another status or agent.'),
      );
    }
    more.hidden = !nextCursor;
    const filterLabel = state.filter === 'all' ? '' : ` · ${filters.find((f) => f.id === state.filter).label.toLowerCase()}`;
    summary.textContent = `${threads.length}${nextCursor ? '+' : ''} thread${threads.length === 1 ? '' : 's'}${filterLabel}${state.agent ? ` · ${state.agent}` : ''} · live`;
  }

  return () => refresh.stop();
}

function row(thread, version) {
  const href = `#/threads/${encodeURIComponent(thread.id)}`;
  return h(
    'tr',
    { dataset: { id: thread.id, version, status: thread.status }, testid: 'thread-row' },
    h(
      'td',
      { class: 'cell-thread', 'data-label': 'Thread' },
      h('a', { href, class: 'thread-link mono', testid: 'thread-link' }, thread.id),
      h('div', { class: 'input-preview' }, preview(thread.input, 90)),
    ),
    h('td', { 'data-label': 'Agent' }, h('span', { class: 'agent-name' }, thread.agent)),
    h('td', { 'data-label': 'Status' }, statusBadge(thread, 'thread-status'), ' ', fallbackBadge(thread), thread.waitingReason ? h('div', { class: 'waiting-reason' }, thread.waitingReason) : null),
    h('td', { class: 'num', 'data-label': 'Steps' }, count(thread.modelSteps)),
    h('td', { class: 'num', 'data-label': 'Tokens' }, tokens(thread.inputTokens, thread.outputTokens)),
    h('td', { class: 'num', 'data-label': 'Cost' }, threadCost(thread)),
    h('td', { class: 'num', 'data-label': 'Confidence', testid: 'thread-confidence' }, confidenceText(thread.confidence)),
    h('td', { 'data-label': 'Updated' }, timeAgo(thread.updatedAt)),
  );
}
