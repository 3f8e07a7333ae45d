/**
 * A conversation on the thread page: its turns (the input and each message, each answer after
 * it) read from the events, and, on a completed thread, a box to send the next message
 * (POST /messages). Shown once a thread has a second turn, or wherever a message can be sent.
 */
import { can, endpoints } from './api.js';
import { h, mount, valueView } from './dom.js';
import { showError, toast } from './toast.js';

export function conversationPanel(threadId, { onSent }) {
  const panel = h('section', { class: 'card conversation', testid: 'conversation', hidden: true });
  const list = h('ol', { class: 'turns', testid: 'conversation-turns' });
  const text = h('textarea', { rows: 2, maxlength: 100000, placeholder: 'Your next message…', testid: 'message-text', 'aria-label': 'Your next message' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'message-send' }, 'Send');
  const form = h('form', { class: 'message-form', testid: 'message-form' }, text, send);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message) return toast('Write a message first.', { kind: 'error' });
    send.disabled = true;
    try {
      // One id per message typed: a double click or a retried request is recorded once.
      form.dataset.messageId ??= `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      await endpoints.say(threadId, { text: message, messageId: form.dataset.messageId });
      delete form.dataset.messageId;
      text.value = '';
      toast('Message sent: the agent is answering', { kind: 'success' });
      onSent();
    } catch (error) {
      showError(error);
    } finally {
      send.disabled = false;
    }
  });
  mount(panel, h('h2', { class: 'panel-title' }, 'Conversation'), list, form);

  return {
    panel,
    render(thread, events) {
      const turns = turnsOf(events);
      const open = thread?.status === 'completed' && can('operate');
      panel.hidden = !open && turns.filter((t) => t.role === 'user').length < 2;
      form.hidden = !open;
      mount(
        list,
        ...turns.map((turn) =>
          h(
            'li',
            { class: `turn turn-${turn.role}`, testid: `turn-${turn.role}`, dataset: { seq: turn.seq } },
            h('div', { class: 'sub-label' }, turn.role === 'user' ? (turn.by ? `${turn.by}` : 'Input') : 'Answer'),
            valueView(turn.value),
          ),
        ),
      );
    },
  };
}

/** User and assistant turns, in order: thread_started's input, each message_added, each thread_completed's output. */
function turnsOf(events) {
  const turns = [];
  for (const e of events) {
    if (e.type === 'thread_started') turns.push({ role: 'user', value: e.data.input, seq: e.seq });
    else if (e.type === 'message_added') turns.push({ role: 'user', value: e.data.text, by: e.data.by, seq: e.seq });
    else if (e.type === 'thread_completed') turns.push({ role: 'assistant', value: e.data.output, seq: e.seq });
  }
  return turns;
}
