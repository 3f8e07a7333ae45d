/**
 * The Twelve console: a single page over the HTTP API with hash routes
 *   #/threads[?status=&agent=]   #/threads/<id>   #/inbox   #/agents[?name=]
 *   #/releases[?agent=]   #/releases/<id>   #/releases/<a>/diff/<b>
 *   #/evals[?agent=]   #/proposals[?status=&agent=]   #/costs[?since=&agent=]
 * Plain ES modules, no build step. Views mount into <main> and return a cleanup function.
 */
import { ApiError, endpoints, loadDevSession, session, signIn, signOut } from './api.js';
import { h, mount } from './dom.js';
import { refreshRelativeTimes } from './format.js';
import { poll } from './live.js';
import { showError } from './toast.js';
import { agentsView } from './view-agents.js';
import { costsView } from './view-costs.js';
import { evalsView } from './view-evals.js';
import { inboxView } from './view-inbox.js';
import { proposalsView } from './view-proposals.js';
import { releaseDiffView, releaseView, releasesView } from './view-releases.js';
import { threadView } from './view-thread.js';
import { threadsView } from './view-threads.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup;
let inboxPoll;

const routes = [
  { pattern: /^\/threads\/([^/?]+)$/, view: threadView, section: 'threads', param: 'id' },
  { pattern: /^\/threads\/?$/, view: threadsView, section: 'threads' },
  { pattern: /^\/inbox\/?$/, view: inboxView, section: 'inbox' },
  { pattern: /^\/agents\/?$/, view: agentsView, section: 'agents' },
  { pattern: /^\/releases\/([^/?]+)\/diff\/([^/?]+)$/, view: releaseDiffView, section: 'releases', param: ['a', 'b'] },
  { pattern: /^\/releases\/([^/?]+)$/, view: releaseView, section: 'releases', param: 'id' },
  { pattern: /^\/releases\/?$/, view: releasesView, section: 'releases' },
  { pattern: /^\/evals\/?$/, view: evalsView, section: 'evals' },
  { pattern: /^\/proposals\/?$/, view: proposalsView, section: 'proposals' },
  { pattern: /^\/costs\/?$/, view: costsView, section: 'costs' },
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/threads';
  const [path, search = ''] = raw.split('?');
  return { path, params: new URLSearchParams(search) };
}

function route() {
  const { path, params } = parseHash();
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find(({ m }) => m);
  cleanup?.();
  cleanup = undefined;
  window.scrollTo(0, 0);
  if (!match) {
    mount(main, h('div', { class: 'empty card' }, h('h1', {}, 'Page not found'), h('p', {}, `Nothing at #${path}.`), h('a', { href: '#/threads', class: 'btn' }, 'Go to threads')));
    return;
  }
  [match.r.param ?? []].flat().forEach((name, i) => params.set(name, decodeURIComponent(match.m[i + 1])));
  for (const link of nav.querySelectorAll('a[data-section]')) {
    if (link.dataset.section === match.r.section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${match.r.section[0].toUpperCase()}${match.r.section.slice(1)} · Twelve`;
  main.replaceChildren();
  cleanup = match.r.view(main, params, { onCount: setInboxCount });
  main.focus({ preventScroll: true });
}

function setInboxCount(n) {
  const badge = document.getElementById('inbox-count');
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = n === 0;
  badge.setAttribute('aria-label', `${n} waiting`);
}

function renderWho() {
  const me = session.me;
  mount(
    who,
    me
      ? h(
          'span',
          { class: 'me', testid: 'me', title: me.roles?.length ? `roles: ${me.roles.join(', ')}` : 'no roles' },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, (me.name || '?').slice(0, 1).toUpperCase()),
          h('span', { class: 'me-name' }, me.name),
          me.roles?.length ? h('span', { class: 'me-roles' }, me.roles.join(' · ')) : null,
        )
      : null,
    session.source === 'stored'
      ? h('button', { type: 'button', class: 'btn btn-small btn-ghost', testid: 'sign-out', onclick: () => (signOut(), start()) }, 'Sign out')
      : null,
  );
}

/** Asks for an API key when there is none, or the one we have is refused. */
function signInView(message) {
  cleanup?.();
  cleanup = undefined;
  nav.hidden = true;
  const input = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'tw_…', testid: 'api-key-input', required: true });
  const form = h(
    'form',
    { class: 'card signin', testid: 'signin' },
    h('h1', {}, 'Sign in to Twelve'),
    h('p', { class: 'muted' }, 'Paste an API key (TWELVE_API_KEYS on the server). It stays in this browser only.'),
    message ? h('p', { class: 'error-text', role: 'alert' }, message) : null,
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'sign-in' }, 'Sign in')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    // Check the key before keeping it: a refused or throttled sign-in stores nothing.
    const button = form.querySelector('button');
    button.disabled = true;
    session.key = key;
    try {
      session.me = await endpoints.me();
    } catch (error) {
      session.key = '';
      return signInView(error instanceof ApiError && error.status === 429 ? `${error.message} (nothing was stored; try again then)` : error.message);
    }
    signIn(key);
    start();
  });
  mount(main, form);
  input.focus();
}

/** The server did not say who this key is (down, throttled, failing): why, and a way to try again. */
function unreachableView(error) {
  cleanup?.();
  cleanup = undefined;
  nav.hidden = true;
  mount(
    main,
    h(
      'div',
      { class: 'card signin', testid: 'unreachable', role: 'alert' },
      h('h1', {}, 'Cannot load your session'),
      h('p', { class: 'error-text' }, error?.message ?? String(error)),
      h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'btn btn-primary', testid: 'retry', onclick: () => start() }, 'Try again')),
    ),
  );
}

async function start() {
  inboxPoll?.stop();
  renderWho();
  if (!session.key) return signInView();
  try {
    session.me = await endpoints.me();
  } catch (error) {
    session.me = undefined;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      if (session.source === 'stored') signOut();
      return signInView(error.message);
    }
    // Without /v1/me the console does not know what this key may do: say why and offer a retry
    // rather than showing every button as allowed.
    return unreachableView(error);
  }
  nav.hidden = false;
  renderWho();
  route();
  inboxPoll = poll(async () => {
    try {
      const { items } = await endpoints.inbox();
      setInboxCount(items.reduce((n, item) => n + Math.max(1, item.pending.length), 0));
    } catch {
      // The views report errors; the badge just keeps its last value.
    }
  }, 4000);
}

window.addEventListener('twelve:changed', () => setTimeout(() => inboxPoll?.now(), 300));
window.addEventListener('hashchange', () => {
  if (session.key) route();
});
setInterval(() => refreshRelativeTimes(), 5000);
loadDevSession().finally(start);
