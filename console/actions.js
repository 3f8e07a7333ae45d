/**
 * The forms people use on a waiting thread, shared by the inbox and the thread page:
 * approve/reject a call, answer a question, guide an escalated thread, raise a budget,
 * cancel. Each calls the API and reports the result through `onDone`.
 */
import { can, endpoints } from './api.js';
import { add, h, jsonView } from './dom.js';
import { absoluteTime, timeAgo } from './format.js';
import { reviewForm } from './review-form.js';
import { showError, toast } from './toast.js';

let fieldIds = 0;
const nextId = (prefix) => `${prefix}-${++fieldIds}`;

/** Runs an API call with the form's buttons disabled; errors become toasts. */
async function submit(form, call, onDone, success) {
  const controls = [...form.querySelectorAll('button, input, textarea, select')];
  controls.forEach((c) => (c.disabled = true));
  form.classList.add('busy');
  try {
    const result = await call();
    if (success) toast(success, { kind: 'success' });
    // Other parts of the page (the inbox badge) refresh now rather than at their next poll.
    window.dispatchEvent(new CustomEvent('twelve:changed'));
    onDone?.(result);
    return result;
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    form.classList.remove('busy');
    if (form.isConnected) controls.forEach((c) => (c.disabled = false));
  }
}

function field(label, control, hint) {
  const id = control.id || (control.id = nextId('field'));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null);
}

function noRight(what) {
  return h('p', { class: 'hint warn' }, `Your key cannot ${what}; ask someone with the right role.`);
}

/** Chips for names or roles ("anyone" when empty). */
/** Roles as they are, people marked as such: "finance", "alice (person)". */
export function deciders({ approvers = [], people = [] }) {
  return [...approvers, ...people.map((name) => `${name} (person)`)];
}

export function people(list) {
  if (!list?.length) return h('span', { class: 'muted' }, 'anyone');
  return h('span', { class: 'chips' }, list.map((name) => h('span', { class: 'chip' }, name)));
}

function deadlineView(deadline, testid) {
  if (!deadline) return h('span', { class: 'muted' }, 'none');
  const overdue = new Date(deadline).getTime() < Date.now();
  return h('span', { class: overdue ? 'overdue' : undefined, title: absoluteTime(deadline) }, timeAgo(deadline, testid), ' · ', absoluteTime(deadline));
}

/** Approve / reject one call that waits for approval. */
export function approvalForm(thread, pending, { onDone } = {}) {
  const comment = h('textarea', { rows: 2, placeholder: 'Why? (recorded with the decision)', testid: 'approval-comment', maxlength: 2000 });
  const form = h('form', { class: 'action-form', testid: 'approval-form' });
  const decide = (approved) =>
    submit(
      form,
      () => endpoints.decide(thread.id, { approved, callId: pending.callId, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) }),
      onDone,
      `${approved ? 'Approved' : 'Rejected'} ${pending.tool}`,
    );
  const allowed = can('decide');
  add(form, 
    h(
      'div',
      { class: 'pending-head' },
      h('span', { class: 'kind kind-approval' }, 'Approval'),
      h('code', { class: 'tool-name', testid: 'approval-tool' }, pending.tool),
    ),
    h('p', { class: 'reason', testid: 'approval-reason' }, pending.reason),
    h('div', { class: 'sub-label' }, 'Arguments'),
    jsonView(pending.args, { testid: 'approval-args' }),
    h(
      'dl',
      { class: 'facts facts-inline' },
      h('div', { class: 'fact' }, h('dt', {}, 'Approvers'), h('dd', { testid: 'approval-approvers' }, people(deciders(pending)))),
      h('div', { class: 'fact' }, h('dt', {}, 'Deadline'), h('dd', {}, deadlineView(pending.deadline, 'approval-deadline'))),
      h('div', { class: 'fact' }, h('dt', {}, 'If nobody decides'), h('dd', {}, pending.onTimeout === 'approve' ? 'approved automatically' : 'rejected automatically')),
    ),
    field('Comment', comment),
    h(
      'div',
      { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-approve', testid: 'approve-button', disabled: !allowed, onclick: () => decide(true) }, '✓ Approve'),
      h('button', { type: 'button', class: 'btn btn-reject', testid: 'reject-button', disabled: !allowed, onclick: () => decide(false) }, '✕ Reject'),
    ),
    allowed ? null : noRight('decide approvals'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    decide(true);
  });
  return form;
}

/** Answer a question the agent asked (ask_human). */
export function questionForm(thread, pending, { onDone } = {}) {
  const answer = h('textarea', { rows: 2, placeholder: 'Your answer', testid: 'answer-input', maxlength: 10000, required: true });
  const form = h('form', { class: 'action-form', testid: 'question-form' });
  const send = () => {
    if (!answer.value.trim()) {
      answer.focus();
      return toast('Write an answer first.', { kind: 'error' });
    }
    return submit(form, () => endpoints.answer(thread.id, { answer: answer.value.trim(), callId: pending.callId }), onDone, 'Answer sent');
  };
  const allowed = can('answer');
  add(form, 
    h(
      'div',
      { class: 'pending-head' },
      h('span', { class: 'kind kind-question' }, 'Question'),
      pending.urgency && pending.urgency !== 'normal' ? h('span', { class: `urgency urgency-${pending.urgency}` }, `${pending.urgency} urgency`) : null,
      pending.deadline ? h('span', { class: 'muted small' }, 'due ', deadlineView(pending.deadline)) : null,
    ),
    h('p', { class: 'question', testid: 'question-text' }, pending.question),
    pending.options?.length
      ? h(
          'div',
          { class: 'options', role: 'group', 'aria-label': 'Suggested answers' },
          pending.options.map((option) =>
            h('button', { type: 'button', class: 'btn btn-small', testid: 'answer-option', onclick: () => ((answer.value = option), answer.focus()) }, option),
          ),
        )
      : null,
    field('Answer', answer),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'answer-button', disabled: !allowed }, 'Send answer')),
    allowed ? null : noRight('answer questions'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  return form;
}

/** An escalated thread (errors) or a budget breach: guidance, more budget, or cancel. */
export function escalationForm(thread, pending, { onDone } = {}) {
  const form = h('div', { class: 'action-form', testid: pending.kind === 'budget' ? 'budget-form' : 'escalation-form' });
  const isBudget = pending.kind === 'budget';
  add(form, 
    h(
      'div',
      { class: 'pending-head' },
      h('span', { class: `kind kind-${pending.kind}` }, isBudget ? 'Budget reached' : pending.kind === 'blocked' ? 'Blocked by configuration' : 'Escalated'),
    ),
    h('p', { class: 'reason', testid: 'escalation-reason' }, pending.reason),
    pending.kind === 'blocked' ? h('p', { class: 'muted' }, 'Fix the configuration of the workers, then resume the thread (Resume, or guidance below).') : null,
  );
  if (isBudget) add(form, budgetForm(thread, { onDone, primary: true }));
  else add(form, guidanceForm(thread, { onDone }));
  add(form, cancelForm(thread, { onDone }));
  return form;
}

function guidanceForm(thread, { onDone }) {
  const guidance = h('textarea', { rows: 2, placeholder: 'What should the agent do differently?', testid: 'guidance-input', maxlength: 10000 });
  const form = h('form', { class: 'subform' });
  const allowed = can('answer');
  add(form, 
    field('Guidance for the model', guidance, 'The model reads it in its next turn and the thread continues.'),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'guidance-button', disabled: !allowed }, 'Send guidance and continue')),
    allowed ? null : noRight('answer for the agent'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!guidance.value.trim()) return toast('Write some guidance first.', { kind: 'error' });
    submit(form, () => endpoints.answer(thread.id, { answer: guidance.value.trim() }), onDone, 'Guidance sent');
  });
  return form;
}

/** Raise a thread's limits; at least one of the three numbers. */
export function budgetForm(thread, { onDone, primary = false } = {}) {
  const cost = h('input', { type: 'number', min: '0', step: 'any', inputmode: 'decimal', placeholder: 'e.g. 1.00', testid: 'budget-cost' });
  const tokensInput = h('input', { type: 'number', min: '1', step: '1', placeholder: 'e.g. 200000', testid: 'budget-tokens' });
  const steps = h('input', { type: 'number', min: '1', step: '1', placeholder: 'e.g. 20', testid: 'budget-steps' });
  const comment = h('input', { type: 'text', placeholder: 'Why (optional)', maxlength: 2000, testid: 'budget-comment' });
  const form = h('form', { class: 'subform' });
  const allowed = can('budget');
  add(form, 
    h('div', { class: 'field-grid' }, field('Max cost (USD)', cost), field('Max tokens', tokensInput), field('Max steps', steps)),
    field('Comment', comment),
    h(
      'div',
      { class: 'button-row' },
      h('button', { type: 'submit', class: primary ? 'btn btn-primary' : 'btn', testid: 'budget-button', disabled: !allowed }, 'Raise budget'),
    ),
    allowed ? null : noRight('raise budgets'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {};
    if (cost.value) body.maxCostUsd = Number(cost.value);
    if (tokensInput.value) body.maxTokens = Number(tokensInput.value);
    if (steps.value) body.maxSteps = Number(steps.value);
    if (!Object.keys(body).length) return toast('Give at least one of max cost, max tokens, max steps.', { kind: 'error' });
    if (comment.value.trim()) body.comment = comment.value.trim();
    // The form can outlive this raise (the thread page keeps it): empty it once the raise is recorded.
    submit(form, () => endpoints.budget(thread.id, body), (result) => (form.reset(), onDone?.(result)), 'Budget raised');
  });
  return form;
}

function cancelForm(thread, { onDone }) {
  const reason = h('input', { type: 'text', placeholder: 'Reason (optional)', maxlength: 2000, testid: 'cancel-reason' });
  const form = h('form', { class: 'subform subform-danger' });
  const allowed = can('operate');
  add(form, 
    h(
      'div',
      { class: 'inline-field' },
      h('label', { class: 'visually-hidden', for: (reason.id = nextId('cancel')) }, 'Reason for cancelling'),
      reason,
      h('button', { type: 'submit', class: 'btn btn-danger-ghost', testid: 'cancel-thread-button', disabled: !allowed }, 'Cancel thread'),
    ),
    allowed ? null : noRight('cancel threads'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!confirm('Cancel this thread? It will stop for good.')) return;
    submit(form, () => endpoints.control(thread.id, 'cancel', reason.value.trim() ? { reason: reason.value.trim() } : {}), onDone, 'Thread cancelled');
  });
  return form;
}

/** The right form for one pending item. */
export function pendingForm(thread, pending, options) {
  if (pending.kind === 'approval') return approvalForm(thread, pending, options);
  if (pending.kind === 'question') return questionForm(thread, pending, options);
  if (pending.kind === 'review') return reviewForm(thread, pending, options);
  return escalationForm(thread, pending, options);
}

/** A stable key for a pending item, so polling does not rebuild a form someone is typing in. */
export function pendingKey(thread, pending) {
  // A review sent back and answered again, or an escalation after guidance, is a new item even
  // when its answer or reason reads the same: the seq of the event that asked tells them apart.
  return `${thread.id}:${pending.kind}:${pending.callId ?? pending.seq ?? pending.reason ?? ''}`;
}

