/**
 * The review panel of a final answer that waits for review: the answer pretty-printed, its
 * confidence and why it is reviewed, and the four decisions: approve, edit (a JSON textarea
 * prefilled with the answer; the server's validation error is shown under it), send back
 * with feedback the model reads, reject with a comment.
 */
import { ApiError, can, endpoints } from './api.js';
import { add, h, valueView } from './dom.js';
import { absoluteTime, timeAgo } from './format.js';
import { showError, toast } from './toast.js';

let ids = 0;
const nextId = () => `review-${++ids}`;

export function reviewForm(thread, pending, { onDone } = {}) {
  const form = h('div', { class: 'action-form review-form', testid: 'review-form' });
  const allowed = can('review');
  const text = typeof pending.output === 'string';
  const comment = h('textarea', { rows: 2, placeholder: 'Why? (recorded with the decision)', maxlength: 2000, testid: 'review-comment', id: nextId() });
  const editor = h('textarea', { rows: 8, class: 'mono', spellcheck: 'false', testid: 'review-edit-input', id: nextId(), value: text ? pending.output : JSON.stringify(pending.output, null, 2) });
  const editError = h('p', { class: 'hint error-text', testid: 'review-edit-error', role: 'alert', hidden: true });
  const feedback = h('textarea', { rows: 2, placeholder: 'What should the model change?', maxlength: 10000, testid: 'review-feedback', id: nextId() });
  const controls = () => [...form.querySelectorAll('button, textarea')];

  async function decide(body, success) {
    controls().forEach((c) => (c.disabled = true));
    form.classList.add('busy');
    editError.hidden = true;
    try {
      const note = comment.value.trim();
      await endpoints.review(thread.id, { ...body, ...(note ? { comment: note } : {}) });
      toast(success, { kind: 'success' });
      window.dispatchEvent(new CustomEvent('twelve:changed'));
      onDone?.();
    } catch (error) {
      // An edit the output schema refuses: say why next to the text, where it gets fixed.
      if (body.decision === 'edited' && error instanceof ApiError && error.status === 400) {
        editError.textContent = error.message;
        editError.hidden = false;
      } else showError(error);
    } finally {
      form.classList.remove('busy');
      if (form.isConnected) controls().forEach((c) => (c.disabled = !allowed));
    }
  }

  function saveEdit() {
    let output = editor.value;
    if (!text) {
      try {
        output = JSON.parse(editor.value);
      } catch (error) {
        editError.textContent = `Not valid JSON: ${error.message}`;
        editError.hidden = false;
        return;
      }
    }
    decide({ decision: 'edited', output }, 'Edited answer saved');
  }

  const editPanel = h(
    'details',
    { class: 'expander review-edit', testid: 'review-edit' },
    h('summary', {}, 'Edit the answer'),
    h('label', { for: editor.id, class: 'visually-hidden' }, 'Corrected answer'),
    editor,
    editError,
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'btn btn-primary', testid: 'review-save-edit', disabled: !allowed, onclick: saveEdit }, 'Save the edit')),
  );
  const sendBackPanel = h(
    'details',
    { class: 'expander review-send-back', testid: 'review-send-back' },
    h('summary', {}, 'Send back to the model'),
    h('label', { for: feedback.id, class: 'visually-hidden' }, 'Feedback for the model'),
    feedback,
    h('p', { class: 'hint' }, 'The model reads this as its next input and answers again; the new answer is reviewed too.'),
    h(
      'div',
      { class: 'button-row' },
      h(
        'button',
        {
          type: 'button',
          class: 'btn',
          testid: 'review-send-back-button',
          disabled: !allowed,
          onclick: () => (feedback.value.trim() ? decide({ decision: 'sent_back', feedback: feedback.value.trim() }, 'Sent back to the model') : toast('Write the feedback first.', { kind: 'error' })),
        },
        'Send back',
      ),
    ),
  );

  add(
    form,
    h(
      'div',
      { class: 'pending-head' },
      h('span', { class: 'kind kind-review' }, 'Review'),
      pending.source === 'fallback' ? h('span', { class: 'pill pill-warn' }, 'fallback answer') : null,
      pending.confidence !== null && pending.confidence !== undefined ? h('span', { class: 'muted small', testid: 'review-confidence' }, `confidence ${pending.confidence}`) : null,
    ),
    h('p', { class: 'reason', testid: 'review-reason' }, pending.reason),
    h('div', { class: 'sub-label' }, 'Answer'),
    valueView(pending.output, { testid: 'review-output', compact: false }),
    h(
      'dl',
      { class: 'facts facts-inline' },
      h('div', { class: 'fact' }, h('dt', {}, 'Reviewers'), h('dd', {}, reviewersText(pending))),
      h('div', { class: 'fact' }, h('dt', {}, 'Deadline'), h('dd', {}, pending.deadline ? h('span', { title: absoluteTime(pending.deadline) }, timeAgo(pending.deadline)) : 'none')),
      h('div', { class: 'fact' }, h('dt', {}, 'If nobody reviews'), h('dd', {}, pending.onTimeout === 'approve' ? 'approved automatically' : 'the thread fails')),
    ),
    h('div', { class: 'field' }, h('label', { for: comment.id }, 'Comment'), comment),
    h(
      'div',
      { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-approve', testid: 'review-approve', disabled: !allowed, onclick: () => decide({ decision: 'approved' }, 'Answer approved') }, '✓ Approve'),
      h('button', { type: 'button', class: 'btn btn-reject', testid: 'review-reject', disabled: !allowed, onclick: () => decide({ decision: 'rejected' }, 'Answer rejected') }, '✕ Reject'),
    ),
    editPanel,
    sendBackPanel,
    allowed ? null : h('p', { class: 'hint warn' }, 'Your key cannot review answers; ask someone with the right role.'),
  );
  return form;
}

function reviewersText({ reviewers = [], people = [] }) {
  const all = [...reviewers, ...people.map((name) => `${name} (person)`)];
  if (!all.length) return h('span', { class: 'muted' }, 'anyone');
  return h('span', { class: 'chips' }, all.map((name) => h('span', { class: 'chip' }, name)));
}
