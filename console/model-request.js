/**
 * "What the model saw": a panel per model step, loaded when opened, showing the request the
 * model was sent (settings, tools offered with their schemas, every message) and its
 * response. A step recorded before requests were stored shows the request re-derived from
 * the log, labelled so; one that cannot be re-derived says why.
 */
import { endpoints } from './api.js';
import { h, jsonView, mount, valueView } from './dom.js';
import { cacheText, count } from './format.js';

/** The panel for the model_called event `e` (a closed <details> until the reader opens it). */
export function seenPanel(e) {
  const content = h('div', { class: 'seen-body', testid: 'seen-body' }, h('p', { class: 'muted' }, 'Loading…'));
  let loaded = false;
  const panel = h('details', { class: 'expander seen', dataset: { part: 'seen' }, testid: 'model-seen' }, h('summary', {}, 'What the model saw'), content);
  panel.addEventListener('toggle', () => {
    if (!panel.open || loaded) return;
    loaded = true;
    endpoints
      .stepRequest(e.threadId, e.seq)
      .then((step) => mount(content, stepView(step)))
      .catch((error) => {
        loaded = false;
        mount(content, h('p', { class: 'error-text' }, `Could not load the request: ${error.message}`));
      });
  });
  return panel;
}

function stepView(step) {
  const parts = [sourceLine(step)];
  const request = step.request;
  if (request) {
    parts.push(h('div', { class: 'sub-label' }, 'Settings'), h('p', { class: 'seen-settings', testid: 'seen-settings' }, settingsText(request)));
    const tools = request.tools ?? [];
    parts.push(h('div', { class: 'sub-label' }, `Tools offered (${tools.length})`));
    parts.push(
      tools.length
        ? h('ul', { class: 'plain-list', testid: 'seen-tools' }, tools.map((t) => h('li', {}, h('details', { class: 'expander' }, h('summary', {}, h('code', {}, t.name), t.description ? ` — ${t.description}` : ''), jsonView(t.inputSchema)))))
        : h('p', { class: 'muted' }, 'none'),
    );
    parts.push(h('div', { class: 'sub-label' }, `Messages (${request.prompt.length})`));
    parts.push(h('ol', { class: 'seen-messages', testid: 'seen-messages' }, request.prompt.map(messageView)));
  }
  const r = step.response;
  parts.push(h('div', { class: 'sub-label' }, 'Response'));
  parts.push(
    h(
      'div',
      { class: 'seen-response', testid: 'seen-response' },
      h('p', { class: 'muted small' }, `finish ${r.finishReason} · ${count(r.usage?.inputTokens)} → ${count(r.usage?.outputTokens)} tokens${cacheText(r.usage) ? ` (${cacheText(r.usage)})` : ''}`),
      r.toolCalls?.length ? h('p', {}, 'Calls ', r.toolCalls.map((c) => h('code', { class: 'chip chip-tool', title: c.callId }, c.tool))) : null,
      r.text ? h('pre', { class: 'model-text' }, r.text) : null,
    ),
  );
  return parts;
}

function sourceLine(step) {
  if (step.source === 'stored') return h('p', { class: 'muted small', testid: 'seen-source' }, `Stored request ${step.ref} · ${count(step.bytes)} bytes`);
  if (step.source === 're-derived') return h('p', { class: 'pill pill-warn', testid: 'seen-source' }, `Re-derived: ${step.note}`);
  return h('p', { class: 'error-text', testid: 'seen-source' }, `No request: ${step.note}`);
}

function settingsText(request) {
  const shown = [];
  for (const key of ['temperature', 'maxOutputTokens', 'topP', 'topK', 'seed']) if (request[key] !== undefined) shown.push(`${key} ${request[key]}`);
  if (request.toolChoice) shown.push(`toolChoice ${request.toolChoice.toolName ?? request.toolChoice.type}`);
  if (request.responseFormat) shown.push(`responseFormat ${request.responseFormat.type}${request.responseFormat.name ? ` (${request.responseFormat.name})` : ''}`);
  return shown.join(', ') || 'provider defaults';
}

function messageView(message) {
  const body = typeof message.content === 'string' ? [h('pre', { class: 'model-text' }, message.content)] : message.content.map(partView);
  return h('li', { class: `seen-message role-${message.role}`, dataset: { role: message.role } }, h('span', { class: 'kind' }, message.role), body);
}

function partView(part) {
  if (part.type === 'text') return h('pre', { class: 'model-text' }, part.text);
  if (part.type === 'tool-call') return h('div', {}, 'call ', h('code', {}, part.toolName), ' ', jsonView(part.input));
  if (part.type === 'tool-result') return h('div', {}, 'result of ', h('code', {}, part.toolName), ' ', valueView(part.output?.value));
  return h('div', { class: 'muted' }, `(${part.type})`);
}
