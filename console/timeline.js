/**
 * A thread's timeline: events grouped into entries (one per model call, one per tool call
 * with its approval, question, attempts and outcome, one per other event), rendered with
 * keyed reuse so streamed events update entries in place without closing what the reader
 * opened.
 */
import { h, jsonView, syncChildren, valueView } from './dom.js';
import { absoluteTime, cacheText, cacheTitle, callCost, clock, count, duration, usd } from './format.js';
import { seenPanel } from './model-request.js';

/** Groups events into timeline entries, in order of first appearance. */
export function entriesOf(events) {
  const entries = [];
  const calls = new Map();
  for (const event of events) {
    const callId = event.data?.callId;
    if (callId !== undefined && event.type !== 'model_called') {
      let entry = calls.get(callId);
      if (!entry) {
        entry = { key: `call:${callId}`, kind: 'call', callId, events: [] };
        calls.set(callId, entry);
        entries.push(entry);
      }
      entry.events.push(event);
      continue;
    }
    entries.push({ key: `${event.type}:${event.seq}`, kind: event.type, events: [event] });
  }
  return entries;
}

/** Keeps `container`'s children in step with `entries`, rebuilding only entries that changed. */
export function renderTimeline(container, events) {
  const entries = entriesOf(events);
  const existing = new Map([...container.children].map((el) => [el.dataset.key, el]));
  let previousRelease;
  const nodes = entries.map((entry) => {
    const first = entry.events[0];
    const releaseChanged = previousRelease !== undefined && first.releaseId !== previousRelease;
    previousRelease = entry.events[entry.events.length - 1].releaseId;
    const version = `${entry.events.length}:${releaseChanged}`;
    const old = existing.get(entry.key);
    if (old && old.dataset.version === version) return old;
    const node = renderEntry(entry, releaseChanged);
    node.dataset.key = entry.key;
    node.dataset.version = version;
    // Keep open what the reader opened.
    if (old) old.querySelectorAll('details[open]').forEach((d) => node.querySelector(`details[data-part="${d.dataset.part}"]`)?.setAttribute('open', ''));
    return node;
  });
  syncChildren(container, nodes);
}

function renderEntry(entry, releaseChanged) {
  const first = entry.events[0];
  const render = entry.kind === 'call' ? callEntry : renderers[entry.kind] ?? genericEntry;
  const { tone, title, meta = [], body = [], testid } = render(entry, first);
  return h(
    'li',
    { class: `tl-entry tone-${tone}`, testid: testid ?? 'timeline-entry', dataset: { type: entry.kind, seq: first.seq } },
    h('div', { class: 'tl-gutter' }, h('time', { datetime: first.at, title: absoluteTime(first.at) }, clock(first.at)), h('span', { class: 'tl-seq' }, `#${first.seq}`)),
    h('div', { class: 'tl-marker', 'aria-hidden': 'true' }),
    h(
      'div',
      { class: 'tl-card' },
      h('div', { class: 'tl-head' }, h('span', { class: 'tl-title' }, title), h('span', { class: 'tl-meta' }, meta.filter(Boolean).map((m) => h('span', { class: 'meta-item' }, m)))),
      releaseChanged ? h('div', { class: 'release-note' }, 'now on release ', h('code', {}, first.releaseId)) : null,
      body,
    ),
  );
}

const by = (name) => h('strong', { class: 'actor' }, name);

function expander(part, summary, content, open = false) {
  return h('details', { class: 'expander', dataset: { part }, open }, h('summary', {}, summary), content);
}

const renderers = {
  thread_started: (_entry, e) => ({
    tone: 'neutral',
    title: 'Started',
    meta: [h('span', {}, 'agent ', h('code', {}, e.data.agent)), h('code', { title: 'release id' }, e.releaseId)],
    body: [
      h('div', { class: 'sub-label' }, 'Input'),
      valueView(e.data.input, { testid: 'thread-input' }),
      e.data.metadata ? expander('metadata', 'Metadata', jsonView(e.data.metadata)) : null,
    ],
  }),

  model_called: (_entry, e) => {
    const d = e.data;
    const calls = d.toolCalls ?? [];
    const parts = [];
    if (d.text) parts.push(expander('text', `Text · ${count(d.text.length)} chars`, h('pre', { class: 'model-text' }, d.text), calls.length === 0));
    if (calls.length) parts.push(h('div', { class: 'requested-tools' }, 'Requested ', calls.map((c) => h('code', { class: 'chip chip-tool', title: c.callId }, c.tool))));
    if (d.failures?.length) {
      parts.push(
        expander(
          'failures',
          `${d.failures.length} failed attempt${d.failures.length > 1 ? 's' : ''} before this one`,
          h('ul', { class: 'plain-list' }, d.failures.map((f) => h('li', {}, h('code', {}, f.model), ` attempt ${f.attempt}${f.status ? ` (HTTP ${f.status})` : ''}: `, f.error, attemptTime(f)))),
        ),
      );
    }
    parts.push(seenPanel(e));
    return {
      tone: 'model',
      testid: 'model-call',
      title: h('span', {}, 'Model ', h('code', { class: 'model-id' }, d.model)),
      meta: [
        h('span', { title: 'input → output tokens' }, `${count(d.usage?.inputTokens)} → ${count(d.usage?.outputTokens)} tok`),
        cacheText(d.usage) ? h('span', { class: 'muted', title: cacheTitle, testid: 'model-cache' }, cacheText(d.usage)) : null,
        h('span', { title: 'cost' }, callCost(d.costUsd)),
        h('span', { title: 'latency' }, duration(d.latencyMs)),
        d.totalLatencyMs !== undefined ? h('span', { title: 'the whole step, failed attempts and retry waits included' }, `step ${duration(d.totalLatencyMs)}`) : null,
        d.fallbackIndex > 0 ? h('span', { class: 'pill pill-warn' }, `fallback ${d.fallbackIndex}`) : null,
        d.attempt > 1 ? h('span', { class: 'pill' }, `attempt ${d.attempt}`) : null,
        h('span', { class: 'muted', title: 'messages the model was shown' }, `${count(d.contextMessages)} msgs`),
      ],
      body: parts,
    };
  },

  model_failed: (_entry, e) => ({
    tone: 'bad',
    title: 'Model call failed',
    meta: [e.data.totalLatencyMs !== undefined ? h('span', { title: 'the whole step, every attempt and retry wait included' }, `step ${duration(e.data.totalLatencyMs)}`) : null],
    body: [
      h('p', { class: 'error-text' }, h('code', {}, e.data.error.code), ' ', e.data.error.message),
      e.data.failures?.length
        ? h('ul', { class: 'plain-list' }, e.data.failures.map((f) => h('li', {}, h('code', {}, f.model), ` attempt ${f.attempt}: `, f.error, attemptTime(f))))
        : null,
    ],
  }),

  model_output_invalid: (_entry, e) => ({
    tone: 'warn',
    title: 'Answer did not fit the output schema',
    body: [h('p', { class: 'error-text' }, h('code', {}, e.data.error.code), ' ', e.data.error.message), expander('text', 'What the model answered', h('pre', { class: 'model-text' }, e.data.text))],
  }),

  budget_exceeded: (_entry, e) => ({
    tone: 'warn',
    title: 'Budget reached',
    meta: [h('span', {}, `limit: ${e.data.limit}`), h('span', {}, `used ${fmtLimit(e.data.limit, e.data.used)} of ${fmtLimit(e.data.limit, e.data.max)}`)],
    body: [h('p', {}, e.data.message)],
  }),

  budget_raised: (_entry, e) => ({
    tone: 'human',
    title: h('span', {}, `Budget ${budgetVerb(e.data)} by `, by(e.data.by)),
    meta: [
      e.data.maxCostUsd !== undefined ? `max cost ${usd(e.data.maxCostUsd)}` : null,
      e.data.maxTokens !== undefined ? `max tokens ${count(e.data.maxTokens)}` : null,
      e.data.maxSteps !== undefined ? `max steps ${count(e.data.maxSteps)}` : null,
    ],
    body: [comment(e.data.comment)],
  }),

  escalated: (_entry, e) => ({
    tone: 'warn',
    title: 'Escalated to a person',
    meta: [e.data.consecutiveErrors ? `${e.data.consecutiveErrors} errors in a row` : null],
    body: [h('p', {}, e.data.reason)],
  }),

  blocked: (_entry, e) => ({
    tone: 'bad',
    title: 'Blocked by its configuration',
    body: [h('p', { class: 'error-text', testid: 'thread-blocked' }, h('code', {}, e.data.error.code), ' ', e.data.error.message)],
  }),

  thread_forked: (_entry, e) => ({
    tone: 'human',
    title: h('span', {}, e.data.shadow ? 'Replay of ' : 'Forked from ', h('code', {}, e.data.shadow ? e.data.shadow.replayOf : e.data.from), ` after #${e.data.atSeq}, by `, by(e.data.by)),
    meta: [h('code', { title: 'release id' }, e.releaseId)],
    body: [e.data.shadow ? h('p', {}, 'A replay: tools that are not pure never run here; recorded results or fakes stand in, and nobody is notified.') : null],
  }),

  paused: (_entry, e) => ({ tone: 'human', title: h('span', {}, 'Paused by ', by(e.data.by)), body: [comment(e.data.reason)] }),
  resumed: (_entry, e) => ({ tone: 'human', title: h('span', {}, 'Resumed by ', by(e.data.by)), body: [comment(e.data.comment)] }),
  cancelled: (_entry, e) => ({ tone: 'bad', title: h('span', {}, 'Cancelled by ', by(e.data.by)), body: [comment(e.data.reason)] }),

  fallback_used: (_entry, e) => ({
    tone: 'warn',
    testid: 'thread-fallback',
    title: `Answered by the non-LLM fallback (${e.data.reason.replace('_', ' ')})`,
    body: [h('p', {}, e.data.detail)],
  }),

  review_requested: (_entry, e) => ({
    tone: 'wait',
    title: 'Answer waits for review',
    meta: [e.data.confidence !== undefined ? `confidence ${e.data.confidence}` : null, e.data.source === 'fallback' ? 'fallback answer' : null],
    body: [h('p', {}, e.data.reason), expander('answer', 'The answer', valueView(e.data.output))],
  }),

  review_decided: (_entry, e) => ({
    tone: e.data.decision === 'rejected' ? 'bad' : 'human',
    title: h('span', {}, `Answer ${e.data.decision.replace('_', ' ')} by `, by(e.data.by)),
    body: [
      comment(e.data.feedback ?? e.data.comment),
      e.data.decision === 'edited' ? h('div', {}, h('div', { class: 'sub-label' }, 'Edited answer'), valueView(e.data.output)) : null,
    ],
  }),

  thread_completed: (_entry, e) => ({
    tone: 'good',
    testid: 'thread-completed',
    title: 'Completed',
    meta: [
      typeof e.data.confidence === 'number' ? h('span', { testid: 'completed-confidence' }, `confidence ${e.data.confidence.toFixed(2)}`) : null,
      e.data.source === 'fallback' ? 'by the non-LLM fallback' : null,
    ],
    body: [h('div', { class: 'sub-label' }, 'Output'), valueView(e.data.output, { testid: 'thread-output' })],
  }),

  message_added: (_entry, e) => ({
    tone: 'human',
    testid: 'message-added',
    title: h('span', {}, 'Message from ', by(e.data.by)),
    body: [h('p', { class: 'message-text' }, e.data.text)],
  }),

  thread_failed: (_entry, e) => ({
    tone: 'bad',
    title: 'Failed',
    body: [h('p', { class: 'error-text', testid: 'thread-error' }, h('code', {}, e.data.error.code), ' ', e.data.error.message)],
  }),
};

/** How long a failed attempt took (recorded since the step's total latency is). */
function attemptTime(f) {
  return f.latencyMs !== undefined ? h('span', { class: 'muted' }, ` · ${duration(f.latencyMs)}`) : null;
}

/** "raised", or "lowered"/"changed" when a limit went below the one before (events without `previous`: raised). */
function budgetVerb(data) {
  const keys = ['maxCostUsd', 'maxTokens', 'maxSteps'].filter((k) => data[k] !== undefined);
  const lowered = keys.filter((k) => typeof data.previous?.[k] === 'number' && data[k] < data.previous[k]).length;
  return lowered === 0 ? 'raised' : lowered === keys.length ? 'lowered' : 'changed';
}

function fmtLimit(limit, value) {
  return limit === 'cost' || limit === 'daily_cost' || limit === 'tenant_daily_cost' ? usd(value) : count(value);
}

function comment(text, testid) {
  return text ? h('blockquote', { class: 'comment', testid }, text) : null;
}

function genericEntry(entry, e) {
  return { tone: 'neutral', title: e.type, body: [jsonView(e.data)] };
}

/** One tool call: request, approval, question, attempts, sleeps and outcome, folded together. */
function callEntry(entry) {
  const of = (type) => entry.events.filter((e) => e.type === type);
  const last = (type) => of(type).at(-1);
  const requested = last('tool_requested');
  const approvalAsked = last('approval_requested');
  const decided = last('approval_decided');
  const asked = last('human_asked');
  const answered = last('human_answered');
  const started = of('tool_started');
  const sleeping = last('tool_sleeping');
  const succeeded = last('tool_succeeded');
  const failed = last('tool_failed');
  const childDone = last('child_finished');
  const tool = requested?.data.tool ?? approvalAsked?.data.tool ?? '?';

  // The runtime asked whether an interrupted external run happened: the answer is the outcome
  // ("happened", "did not happen"), or "retry" (the call runs again, as the later events show).
  const unconfirmed = asked?.data.about === 'interrupted_tool';
  const finding = unconfirmed && answered && answered.seq > asked.seq ? answered.data.answer : undefined;
  let state;
  let tone = 'tool';
  if (succeeded) state = ['succeeded', 'good'];
  else if (failed) state = ['failed', 'bad'];
  else if (decided && !decided.data.approved) state = ['rejected', 'bad'];
  else if (finding === 'happened') state = ['happened (confirmed)', 'good'];
  else if (finding === 'did not happen') state = ['did not happen', 'bad'];
  else if (unconfirmed && !finding) state = ['did it happen?', 'wait'];
  else if (answered && !unconfirmed) state = ['answered', 'good'];
  else if (approvalAsked && !decided) state = ['awaiting approval', 'wait'];
  else if (asked && !unconfirmed) state = ['awaiting answer', 'wait'];
  else if (sleeping && (!started.length || sleeping.seq > started.at(-1).seq)) state = ['sleeping', 'wait'];
  else if (started.length) state = ['running', 'run'];
  else state = ['requested', 'neutral'];
  if (state[1] === 'bad') tone = 'bad';
  if (state[1] === 'wait') tone = 'wait';

  const body = [];
  const io = [];
  let argsExpander;
  if (requested) {
    const args =
      requested.data.args === null && requested.data.argsText !== undefined
        ? h('pre', { class: 'json', testid: 'tool-args' }, requested.data.argsText)
        : jsonView(requested.data.args, { testid: 'tool-args' });
    // A question's arguments are shown as the question itself; keep the raw form one click away.
    if (asked && !unconfirmed) argsExpander = expander('args', 'Arguments', args);
    else io.push(h('div', { class: 'io' }, h('div', { class: 'sub-label' }, 'Arguments'), args));
  }
  if (succeeded && (!answered || unconfirmed)) io.push(h('div', { class: 'io' }, h('div', { class: 'sub-label' }, 'Result'), valueView(succeeded.data.result, { testid: 'tool-result' })));
  if (asked) {
    body.push(
      h(
        'div',
        { class: 'human-block human-first', testid: 'question' },
        h('div', { class: 'human-line' }, h('span', { class: 'kind kind-question' }, unconfirmed ? 'Did it happen?' : 'Question'), asked.data.urgency !== 'normal' ? h('span', { class: `urgency urgency-${asked.data.urgency}` }, asked.data.urgency) : null),
        h('p', { class: 'question' }, asked.data.question),
        asked.data.options?.length ? h('div', { class: 'chips' }, asked.data.options.map((o) => h('span', { class: 'chip' }, o))) : null,
        answered
          ? h('div', { class: 'decision decision-yes', testid: 'answer' }, h('div', {}, 'Answered by ', by(answered.data.by), ' · ', stamp(answered.at)), h('blockquote', { class: 'comment' }, answered.data.answer))
          : h('p', { class: 'muted' }, 'Waiting for an answer', asked.data.deadline ? ` until ${absoluteTime(asked.data.deadline)}` : '', '.'),
      ),
    );
  }
  if (approvalAsked) {
    const a = approvalAsked.data;
    body.push(
      h(
        'div',
        { class: 'human-block human-first', testid: 'approval' },
        h('div', { class: 'human-line' }, h('span', { class: 'kind kind-approval' }, 'Approval required'), h('span', { class: 'muted' }, a.reason)),
        h(
          'div',
          { class: 'muted small' },
          'Approvers: ',
          a.approvers?.length || a.people?.length ? [...(a.approvers ?? []), ...(a.people ?? []).map((p) => `${p} (person)`)].join(', ') : 'anyone',
          a.deadline && !decided ? ` · deadline ${absoluteTime(a.deadline)} (then ${a.onTimeout === 'approve' ? 'approved' : 'rejected'})` : '',
        ),
        decided
          ? h(
              'div',
              { class: `decision ${decided.data.approved ? 'decision-yes' : 'decision-no'}`, testid: 'approval-decision' },
              h('div', {}, decided.data.approved ? '✓ Approved by ' : '✕ Rejected by ', by(decided.data.by === 'timeout' ? 'timeout (deadline passed)' : decided.data.by), ' · ', stamp(decided.at)),
              comment(decided.data.comment, 'decision-comment'),
            )
          : h('p', { class: 'muted' }, 'Waiting for a decision.'),
      ),
    );
  }
  // People first (what was asked, who decided), then what went in and came out.
  if (argsExpander) body.push(argsExpander);
  if (io.length) body.push(h('div', { class: `io-grid io-${io.length}` }, io));
  if (sleeping) body.push(h('p', { class: 'muted' }, `Sleeping until ${absoluteTime(sleeping.data.until)}`, sleeping.data.reason ? ` — ${sleeping.data.reason}` : ''));
  if (failed) body.push(h('p', { class: 'error-text', testid: 'tool-error' }, h('code', {}, failed.data.error.code), ' ', failed.data.error.message));

  const durationMs = succeeded?.data.durationMs ?? failed?.data.durationMs;
  return {
    tone,
    testid: 'tool-call',
    title: h('span', {}, asked && !unconfirmed ? 'Ask a person ' : 'Tool ', h('code', { class: 'tool-name' }, tool)),
    meta: [
      h('span', { class: `pill pill-${state[1]}`, testid: 'tool-state' }, state[0]),
      durationMs !== undefined ? h('span', { title: 'duration' }, duration(durationMs)) : null,
      // An agentTool call: its child thread's tokens, counted in this thread's totals.
      childDone
        ? h(
            'span',
            { title: `the child thread's input → output tokens (in this thread's totals)${cacheText(childDone.data) ? `. ${cacheTitle}` : ''}`, testid: 'child-tokens' },
            `child ${count(childDone.data.inputTokens)} → ${count(childDone.data.outputTokens)} tok${cacheText(childDone.data) ? ` (${cacheText(childDone.data)})` : ''}`,
          )
        : null,
      started.length > 1 ? h('span', { class: 'pill pill-warn' }, `${started.length} attempts`) : null,
      requested?.data.source === 'prefetch' ? h('span', { class: 'pill' }, 'prefetch') : null,
    ],
    body,
  };
}

function stamp(iso) {
  return h('time', { datetime: iso, title: absoluteTime(iso) }, absoluteTime(iso));
}
