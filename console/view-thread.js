/**
 * One thread: header (status, agent, release, spend, why it waits), the forms for what it
 * waits for, operator controls, and the timeline streamed over SSE (`/stream`, resuming
 * after the last seq seen), falling back to polling `/events` if the stream cannot open.
 * While a model call streams (agents with `stream: true`), its text shows live under the
 * timeline from the stream's `delta` events, until the stored model_called replaces it.
 */
import { can, endpoints, session } from './api.js';
import { budgetForm, pendingForm, pendingKey } from './actions.js';
import { h, mount, syncChildren, valueView } from './dom.js';
import { cacheText, cacheTitle, confidenceText, count, fallbackBadge, statusBadge, terminalStatuses, threadCost, timeAgo, absoluteTime } from './format.js';
import { poll, quietErrors } from './live.js';
import { openEventStream } from './sse.js';
import { renderTimeline } from './timeline.js';
import { showError, toast } from './toast.js';
import { threadProposalsPanel } from './view-proposals.js';
import { conversationPanel } from './conversation.js';

export function threadView(root, params) {
  const id = params.get('id');
  const events = [];
  let thread;
  let stream;
  let fallback;
  let closed = false;
  const errors = quietErrors(showError);

  const header = h('section', { class: 'card thread-header', testid: 'thread-header' }, h('p', { class: 'muted' }, 'Loading…'));
  const pendingPanel = h('section', { class: 'pending-panel', testid: 'pending-panel', hidden: true });
  const pendingTitle = h('h2', { class: 'panel-title' }, 'Waiting for a person');
  const controls = h('section', { class: 'controls', testid: 'thread-controls' });
  // The eval cases people's corrections on this thread proposed (accept or dismiss them here).
  const proposals = threadProposalsPanel(id);
  // A completed thread takes the next message; the stream ended at completion, so open it again.
  const conversation = conversationPanel(id, {
    onSent: () => {
      if (!stream && !fallback) openStream();
      detail.now();
    },
  });
  const live = h('span', { class: 'live', testid: 'live-indicator', dataset: { state: 'connecting' } }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), h('span', { class: 'live-label' }, 'connecting'));
  const timeline = h('ol', { class: 'timeline', testid: 'timeline', 'aria-live': 'polite', 'aria-busy': 'true' });
  const timelineEmpty = h('p', { class: 'muted' }, 'Loading events…');
  // The model's words as they stream: ephemeral, replaced by the stored event when it lands.
  const streaming = h('div', { class: 'streaming-text', testid: 'streaming-text', 'aria-live': 'polite', hidden: true });
  let liveText; // { seq, attempt, text }

  mount(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/threads' }, 'Threads'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { class: 'mono' }, id)),
    header,
    pendingPanel,
    controls,
    conversation.panel,
    proposals.panel,
    h('section', { class: 'timeline-section' }, h('div', { class: 'section-head' }, h('h2', {}, 'Timeline'), live), timelineEmpty, timeline, streaming),
  );

  // --- thread detail (header, pending forms, controls) ---
  const detail = poll(async () => {
    try {
      const before = thread?.status;
      thread = await endpoints.thread(id);
      errors.ok();
      if (before && before !== thread.status) window.dispatchEvent(new CustomEvent('twelve:changed'));
      renderHeader();
      renderPending();
      renderControls();
      conversation.render(thread, events);
      await proposals.refresh();
      await fillGap();
      // A conversation went on (a message sent from elsewhere): listen again.
      if (!terminalStatuses.includes(thread.status) && !stream && !fallback && live.dataset.state === 'ended') openStream();
      if (terminalStatuses.includes(thread.status) && events.length >= thread.seq && stream) {
        // Nothing more will happen: free the connection.
        stream.close();
        stream = undefined;
        setLive('ended', 'finished');
      }
    } catch (error) {
      if (error.status === 404) {
        mount(root, h('div', { class: 'empty card', testid: 'thread-not-found' }, h('h2', {}, 'Thread not found'), h('p', {}, error.message), h('a', { href: '#/threads', class: 'btn' }, 'Back to threads')));
        stopAll();
        return;
      }
      errors.fail(error);
    }
  }, 5000);
  const refreshSoon = debounceRefresh(() => detail.now());

  function renderHeader() {
    const t = thread;
    mount(
      header,
      h(
        'div',
        { class: 'thread-title' },
        h('h1', { class: 'mono thread-id', testid: 'thread-id' }, t.id),
        h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': 'Copy thread id', onclick: () => copy(t.id) }, 'Copy'),
        statusBadge(t, 'thread-status'),
        fallbackBadge(t),
      ),
      t.waitingReason ? h('p', { class: `waiting-banner status-bg-${t.status}`, testid: 'waiting-reason' }, t.waitingReason, t.wakeAt ? h('span', { class: 'muted' }, ' · due ', timeAgo(t.wakeAt)) : null) : null,
      h(
        'div',
        { class: 'stats' },
        stat('Cost', threadCost(t), 'thread-cost'),
        stat('Tokens in → out', `${count(t.inputTokens)} → ${count(t.outputTokens)}`, 'thread-tokens'),
        // Only for a thread whose calls touched a provider's prompt cache (and a server that reports it).
        cacheText(t) ? stat('Prompt cache', h('span', { title: cacheTitle }, cacheText(t)), 'thread-cache') : null,
        stat('Model steps', count(t.modelSteps), 'thread-steps'),
        t.confidence !== null && t.confidence !== undefined ? stat('Confidence', confidenceText(t.confidence), 'thread-confidence') : null,
        stat('Events', count(t.seq)),
      ),
      h(
        'dl',
        { class: 'facts facts-inline' },
        fact('Agent', h('a', { href: `#/agents?name=${encodeURIComponent(t.agent)}`, testid: 'thread-agent' }, t.agent)),
        fact('Release', h('a', { href: `#/releases/${encodeURIComponent(t.releaseId)}`, testid: 'thread-release', title: 'what this release is made of' }, h('code', {}, t.releaseId))),
        fact('Created', h('span', { title: absoluteTime(t.createdAt) }, timeAgo(t.createdAt))),
        fact('Updated', timeAgo(t.updatedAt)),
        t.running ? fact('Worker', h('span', { class: 'pill pill-run' }, 'running now')) : null,
      ),
      threadTree(t),
      t.fallback
        ? h('p', { class: 'waiting-banner status-bg-awaiting_human', testid: 'fallback-banner' }, `Answered by the non-LLM fallback (${t.fallback.reason.replace('_', ' ')}), not a model: `, t.fallback.detail)
        : null,
      t.status === 'completed' ? h('div', { class: 'result result-good', testid: 'thread-result' }, h('div', { class: 'sub-label' }, 'Output'), valueView(t.output)) : null,
      t.error && t.status !== 'completed'
        ? h('div', { class: 'result result-bad', testid: 'thread-result' }, h('code', {}, t.error.code), ' ', t.error.message)
        : null,
    );
  }

  /** Agents as tools: the parent this thread answers a call of, and the children its calls launched, as a small tree. */
  function threadTree(t) {
    const children = t.children ?? [];
    if (!t.parentThreadId && children.length === 0) return null;
    const link = (threadId, testid) => h('a', { href: `#/threads/${encodeURIComponent(threadId)}`, class: 'mono', testid }, threadId);
    const self = h('li', {}, h('span', { class: 'mono' }, t.id), ' ', h('span', { class: 'muted' }, `${t.agent} (this thread)`),
      children.length
        ? h('ul', { testid: 'thread-children' }, ...children.map((c) => h('li', {}, link(c.id, 'thread-child'), ' ', c.agent, ' ', statusBadge(c))))
        : null);
    return h(
      'section',
      { class: 'thread-tree', testid: 'thread-tree', 'aria-label': 'Parent and child threads' },
      h('div', { class: 'sub-label' }, 'Agents as tools'),
      h('ul', {}, t.parentThreadId ? h('li', {}, 'parent ', link(t.parentThreadId, 'thread-parent'), h('ul', {}, self)) : self),
    );
  }

  function renderPending() {
    const pending = thread.pending ?? [];
    pendingPanel.hidden = pending.length === 0;
    if (!pending.length) return pendingPanel.replaceChildren();
    const existing = new Map([...pendingPanel.querySelectorAll('[data-key]')].map((el) => [el.dataset.key, el]));
    const cards = pending.map((p) => {
      const key = pendingKey(thread, p);
      return existing.get(key) ?? h('div', { class: 'card pending-card', dataset: { key }, testid: 'pending-item' }, pendingForm(thread, p, { onDone: () => detail.now() }));
    });
    syncChildren(pendingPanel, [pendingTitle, ...cards]);
  }

  // The controls' inputs are made once: a poll re-renders only the buttons, and only when they
  // change, so a reason or a budget being typed (or an open "Raise budget") survives it.
  const controlReason = h('input', { type: 'text', placeholder: 'Reason or comment (optional)', maxlength: 2000, testid: 'control-reason', 'aria-label': 'Reason or comment' });
  const controlRow = h('div', { class: 'control-row' });
  let budgetBox;

  function renderControls() {
    const t = thread;
    if (terminalStatuses.includes(t.status) || !(can('operate') || can('budget'))) {
      delete controls.dataset.shown;
      return controls.replaceChildren();
    }
    const canResume = t.status === 'paused' || (t.status === 'awaiting_human' && /^(escalated|budget|blocked):/.test(t.waitingReason ?? ''));
    const shown = `${t.status}|${canResume}|${can('operate')}|${can('budget')}`;
    if (controls.dataset.shown === shown) return;
    controls.dataset.shown = shown;
    const act = async (action, button) => {
      if (action === 'cancel' && !confirm('Cancel this thread? It will stop for good.')) return;
      button.disabled = true;
      try {
        const text = controlReason.value.trim();
        const body = text ? (action === 'resume' ? { comment: text } : { reason: text }) : {};
        const result = await endpoints.control(t.id, action, body);
        controlReason.value = '';
        toast(result?.applied === false ? `${action} requested: applied after the current step` : `Thread ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'cancelled'}`, { kind: 'success' });
        detail.now();
      } catch (error) {
        showError(error);
      } finally {
        button.disabled = false;
      }
    };
    const button = (action, label, cls) => {
      const b = h('button', { type: 'button', class: `btn ${cls}`, testid: `${action}-button` }, label);
      b.addEventListener('click', () => act(action, b));
      return b;
    };
    syncChildren(controlRow, [controlReason, t.status !== 'paused' ? button('pause', '❚❚ Pause', '') : null, canResume ? button('resume', '▶ Resume', 'btn-primary') : null, button('cancel', 'Cancel', 'btn-danger-ghost')].filter(Boolean));
    budgetBox ??= h('details', { class: 'expander budget-expander' }, h('summary', {}, 'Raise budget'), budgetForm(t, { onDone: () => detail.now() }));
    syncChildren(controls, [can('operate') ? controlRow : null, can('budget') ? budgetBox : null].filter(Boolean));
  }

  // --- timeline over SSE ---
  const draw = batchFrames(() => {
    timeline.setAttribute('aria-busy', 'false');
    timelineEmpty.hidden = events.length > 0;
    if (!events.length) timelineEmpty.textContent = 'No events yet.';
    renderTimeline(timeline, events);
    if (thread) conversation.render(thread, events);
  });

  let lastStreamed = 0;
  /**
   * The header says the log is longer than the timeline and the stream has been quiet: read
   * the missing events (a type this page does not listen for, a stream that stalled).
   */
  async function fillGap() {
    const last = events.length ? events[events.length - 1].seq : 0;
    if (!thread || thread.seq <= last || Date.now() - lastStreamed < 2000 || live.dataset.state === 'connecting') return;
    const page = await endpoints.events(id, last);
    page.events.forEach(accept);
  }

  function accept(event) {
    const last = events.length ? events[events.length - 1].seq : 0;
    if (!event || typeof event.seq !== 'number' || event.seq <= last) return;
    events.push(event);
    if (liveText && event.seq >= liveText.seq) showDelta(undefined);
    draw();
    refreshSoon();
  }

  /** A streamed piece of the model's text (offsets tell a gap: then wait for the stored event). */
  function acceptDelta(delta) {
    const last = events.length ? events[events.length - 1].seq : 0;
    if (!delta || typeof delta.seq !== 'number' || delta.seq <= last || typeof delta.text !== 'string') return;
    if (!liveText || liveText.seq !== delta.seq || liveText.attempt !== delta.attempt) {
      if (delta.offset !== 0) return;
      liveText = { seq: delta.seq, attempt: delta.attempt, text: '' };
    }
    if (delta.offset !== liveText.text.length) return;
    showDelta({ ...liveText, text: liveText.text + delta.text });
  }

  function showDelta(next) {
    liveText = next;
    streaming.hidden = !next;
    streaming.textContent = next ? next.text : '';
    if (next) streaming.dataset.seq = String(next.seq);
  }

  function setLive(state, label) {
    live.dataset.state = state;
    live.querySelector('.live-label').textContent = label;
  }

  function openStream() {
    if (closed) return;
    const after = events.length ? events[events.length - 1].seq : 0;
    stream = openEventStream(endpoints.streamPath(id), {
      key: session.key,
      lastEventId: after,
      onOpen: () => {
        setLive('sse', 'live');
        draw();
      },
      onMessage: (type, data) => {
        lastStreamed = Date.now();
        if (type === 'delta') {
          try {
            acceptDelta(JSON.parse(data));
          } catch {
            // A malformed delta: the stored event brings the whole text.
          }
          return;
        }
        // Counted so anyone (and the browser test) can tell the timeline came over the stream.
        live.dataset.received = String(Number(live.dataset.received ?? 0) + 1);
        try {
          accept(JSON.parse(data));
        } catch {
          // A malformed message: the next poll or reconnect fills the gap.
        }
      },
      // The server says the thread is finished and closes the stream: do not reconnect.
      onEnd: () => {
        stream = undefined;
        setLive('ended', 'finished');
        detail.now();
      },
      onReconnecting: () => setLive('reconnecting', 'reconnecting'),
      // The server refused the stream (an HTTP error): poll instead.
      onFail: () => {
        stream = undefined;
        startFallback();
      },
    });
  }

  function startFallback() {
    if (fallback || closed) return;
    setLive('polling', 'polling');
    fallback = poll(async () => {
      const after = events.length ? events[events.length - 1].seq : 0;
      try {
        const page = await endpoints.events(id, after);
        page.events.forEach(accept);
        draw();
      } catch (error) {
        errors.fail(error);
      }
    }, 2000);
  }

  openStream();

  function stopAll() {
    closed = true;
    detail.stop();
    fallback?.stop();
    stream?.close();
    stream = undefined;
  }
  return stopAll;
}

function stat(label, value, testid) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-value', testid }, value), h('div', { class: 'stat-label' }, label));
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied', { kind: 'success', timeoutMs: 1500 });
  } catch {
    toast(text, { title: 'Copy this' });
  }
}

/** Coalesces calls made within a few milliseconds (a burst of streamed events) into one. */
function batchFrames(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    // A timer, not requestAnimationFrame: frames stop in background tabs, and the timeline should not.
    setTimeout(() => {
      queued = false;
      fn();
    }, 16);
  };
}

function debounceRefresh(fn) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, 150);
  };
}

