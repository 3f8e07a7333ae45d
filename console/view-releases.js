/**
 * Releases: every release per agent with the threads whose latest step it wrote (pick two of
 * one agent to compare them), one release in full (prompt, models, limits, tools with schemas,
 * policies and effects), and the diff of two (the prompt line by line, the rest by kind).
 */
import { endpoints } from './api.js';
import { h, jsonView, mount } from './dom.js';
import { absoluteTime, statusLabel, timeAgo } from './format.js';
import { showError } from './toast.js';
import { limitsView, toolView } from './view-agents.js';

const enc = encodeURIComponent;
const releaseHref = (id) => `#/releases/${enc(id)}`;

function failed(root, what, error) {
  showError(error);
  mount(root, h('div', { class: 'empty card', testid: 'release-error' }, h('h2', {}, `Could not load ${what}`), h('p', {}, error.message)));
}

function counts(threadsByStatus) {
  const entries = Object.entries(threadsByStatus ?? {}).filter(([, n]) => n > 0);
  if (!entries.length) return h('span', { class: 'muted' }, 'no threads');
  return entries.map(([status, n]) => h('span', { class: `pill status-${status}`, dataset: { status } }, `${n} ${statusLabel(status).toLowerCase()}`));
}

const currentPill = (release) => (release.current ? h('span', { class: 'pill pill-good', testid: 'release-current', title: 'the server runs this release' }, 'current') : null);

export function releasesView(root, params) {
  const body = h('div', { class: 'releases-list', testid: 'releases-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const summary = h('p', { class: 'page-sub' }, '');
  const picked = [];
  const compare = h('button', { type: 'button', class: 'btn btn-primary', testid: 'compare-button', disabled: true, onclick: () => go() }, 'Compare');
  const hint = h('span', { class: 'hint', testid: 'compare-hint' }, 'Pick two releases of one agent to compare them.');
  mount(
    root,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Releases'), summary), h('div', { class: 'button-row' }, hint, compare)),
    params.get('agent') ? h('p', { class: 'crumbs' }, `Only ${params.get('agent')}'s releases · `, h('a', { href: '#/releases', testid: 'releases-all' }, 'all agents')) : null,
    body,
  );
  let cancelled = false;
  let releases = [];

  function update() {
    const [a, b] = picked.map((id) => releases.find((r) => r.id === id));
    const ok = picked.length === 2 && a.agent === b.agent;
    compare.disabled = !ok;
    hint.textContent = picked.length === 2 && !ok ? 'Those are releases of two agents: pick two of one agent.' : picked.length === 2 ? `Compare ${a.agent}'s releases.` : 'Pick two releases of one agent to compare them.';
  }

  function go() {
    // Older first, so the diff reads as "what the newer one changed".
    const [a, b] = picked.map((id) => releases.find((r) => r.id === id)).sort((x, y) => x.ordinal - y.ordinal);
    location.hash = `#/releases/${enc(a.id)}/diff/${enc(b.id)}`;
  }

  function pick(id, checked) {
    const at = picked.indexOf(id);
    if (checked && at < 0) picked.push(id);
    if (!checked && at >= 0) picked.splice(at, 1);
    // Two at most: a third pick drops the oldest pick.
    while (picked.length > 2) {
      const dropped = picked.shift();
      const box = body.querySelector(`[data-testid="release-row"][data-id="${CSS.escape(dropped)}"] input`);
      if (box) box.checked = false;
    }
    update();
  }

  endpoints
    .releases({ agent: params.get('agent') ?? undefined, limit: 500 })
    .then(({ releases: found }) => {
      if (cancelled) return;
      releases = found;
      const agents = [...new Set(found.map((r) => r.agent))].sort();
      summary.textContent = `${found.length} release${found.length === 1 ? '' : 's'} of ${agents.length} agent${agents.length === 1 ? '' : 's'}, newest first`;
      if (!found.length) return mount(body, h('div', { class: 'empty card', testid: 'releases-empty' }, h('h2', {}, 'No releases yet'), h('p', {}, 'A release is saved when a thread first runs on it.')));
      mount(
        body,
        agents.map((agent) =>
          h(
            'section',
            { class: 'card release-group', testid: 'release-group', dataset: { agent } },
            h('h2', {}, agent),
            h(
              'table',
              { class: 'threads-table releases-table' },
              h('thead', {}, h('tr', {}, ['', 'Release', 'Created', 'Threads (latest step on it)'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                found
                  .filter((r) => r.agent === agent)
                  .map((r) =>
                    h(
                      'tr',
                      { testid: 'release-row', dataset: { id: r.id, agent: r.agent } },
                      h('td', {}, h('input', { type: 'checkbox', testid: 'release-pick', 'aria-label': `pick ${r.id} to compare`, onchange: (e) => pick(r.id, e.target.checked) })),
                      h('td', {}, h('a', { href: releaseHref(r.id), testid: 'release-link' }, h('code', {}, r.id)), ' ', currentPill(r)),
                      h('td', { title: absoluteTime(r.createdAt) }, timeAgo(r.createdAt)),
                      h('td', { class: 'release-counts', testid: 'release-threads' }, counts(r.threadsByStatus)),
                    ),
                  ),
              ),
            ),
          ),
        ),
      );
    })
    .catch((error) => !cancelled && failed(body, 'releases', error));
  return () => (cancelled = true);
}

export function releaseView(root, params) {
  const id = params.get('id');
  mount(root, h('p', { class: 'muted' }, 'Loading…'));
  let cancelled = false;
  endpoints
    .release(id)
    .then((r) => {
      if (cancelled) return;
      const [primary, ...fallbacks] = r.models;
      mount(
        root,
        h('nav', { class: 'crumbs' }, h('a', { href: '#/releases' }, 'Releases'), ' / ', h('a', { href: `#/releases?agent=${enc(r.agent)}` }, r.agent)),
        h(
          'article',
          { class: 'card agent-card', testid: 'release-detail', dataset: { id: r.id } },
          h('header', { class: 'agent-head' }, h('h1', { class: 'release-title' }, 'Release ', h('code', { testid: 'release-id' }, r.id)), currentPill(r)),
          h('p', { class: 'purpose' }, r.purpose),
          h(
            'dl',
            { class: 'facts facts-inline' },
            fact('Agent', h('a', { href: `#/agents?name=${enc(r.agent)}` }, r.agent)),
            fact('Created', r.createdAt ? h('span', { title: absoluteTime(r.createdAt) }, timeAgo(r.createdAt)) : 'not in the store yet'),
            r.ordinal !== null ? fact('Ordinal', String(r.ordinal)) : null,
            fact('Threads', h('span', { testid: 'release-threads' }, counts(r.threadsByStatus))),
            fact('On a new release', r.onNewRelease),
          ),
          r.current ? null : h('p', {}, h('a', { class: 'btn btn-small', href: `#/releases/${enc(r.id)}/diff/current`, testid: 'diff-current' }, 'Compare with the current release')),
          h('h3', {}, 'Prompt'),
          h('pre', { class: 'prompt-text', testid: 'release-prompt' }, r.prompt),
          h(
            'div',
            { class: 'agent-grid' },
            h(
              'section',
              {},
              h('h3', {}, 'Models'),
              h(
                'ol',
                { class: 'models', testid: 'release-models' },
                primary ? h('li', {}, h('code', {}, primary), h('span', { class: 'pill' }, 'primary')) : null,
                fallbacks.map((m, i) => h('li', {}, h('code', {}, m), h('span', { class: 'pill pill-muted' }, `fallback ${i + 1}`))),
              ),
              h('h3', {}, 'Model settings'),
              limitsView(r.settings),
            ),
            h('section', {}, h('h3', {}, 'Limits'), limitsView(r.limits)),
          ),
          h('h3', {}, `Tools (${r.tools.length})`),
          r.tools.length
            ? h(
                'div',
                { class: 'tools' },
                r.tools.map((tool) => {
                  const view = toolView(tool);
                  view.dataset.testid = 'release-tool';
                  view.querySelector('.tool-name').after(h('span', { class: 'pill pill-muted release-effect', title: 'effect: whether a re-run or a replay may run it', testid: 'tool-effect' }, tool.effect));
                  if (tool.outputSchema) view.append(h('details', { class: 'expander' }, h('summary', {}, 'Result schema'), jsonView(tool.outputSchema)));
                  return view;
                }),
              )
            : h('p', { class: 'muted' }, 'No tools: the agent answers directly.'),
          r.outputSchema ? h('details', { class: 'expander' }, h('summary', {}, 'Output schema'), jsonView(r.outputSchema)) : null,
          h('details', { class: 'expander' }, h('summary', {}, 'Manifest (what the release id hashes)'), jsonView(r.manifest)),
        ),
      );
    })
    .catch((error) => !cancelled && failed(root, `release ${id}`, error));
  return () => (cancelled = true);
}

export function releaseDiffView(root, params) {
  const a = params.get('a');
  const b = params.get('b');
  mount(root, h('p', { class: 'muted' }, 'Loading…'));
  let cancelled = false;
  endpoints
    .releaseDiff(a, b)
    .then((d) => {
      if (cancelled) return;
      const side = (s) => h('a', { href: releaseHref(s.id) }, h('code', {}, s.id), s.current ? ' (current)' : '');
      mount(
        root,
        h('nav', { class: 'crumbs' }, h('a', { href: '#/releases' }, 'Releases'), ' / ', h('a', { href: `#/releases?agent=${enc(d.agent)}` }, d.agent)),
        h(
          'article',
          { class: 'card agent-card', testid: 'release-diff' },
          h('h1', {}, `${d.agent}: `, side(d.from), ' → ', side(d.to)),
          h('p', { class: 'page-sub', testid: 'diff-summary' }, d.same ? 'No differences: the two manifests are the same.' : `${d.changes.length} change${d.changes.length === 1 ? '' : 's'}`),
          d.prompt
            ? h(
                'section',
                {},
                h('h3', {}, `Prompt (+${d.prompt.added} −${d.prompt.removed} lines)`),
                h(
                  'pre',
                  { class: 'diff', testid: 'diff-prompt' },
                  d.prompt.unified.split('\n').map((line) => {
                    const kind = line.startsWith('@@') ? 'hunk' : line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'same';
                    return h('span', { class: `diff-line diff-${kind}`, dataset: { kind } }, `${line}\n`);
                  }),
                ),
              )
            : null,
          d.groups
            .map((group) => ({ ...group, changes: group.changes.filter((c) => c.kind !== 'prompt') }))
            .filter((group) => group.changes.length)
            .map((group) =>
              h(
                'section',
                { testid: 'diff-group', dataset: { group: group.group } },
                h('h3', {}, group.title),
                h('ul', { class: 'diff-changes' }, group.changes.map((c) => h('li', { testid: 'diff-change', dataset: { kind: c.kind, path: c.path } }, c.detail))),
              ),
            ),
        ),
      );
    })
    .catch((error) => !cancelled && failed(root, 'the diff', error));
  return () => (cancelled = true);
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));
}
