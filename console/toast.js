/** Toasts: short notices in a polite live region; errors stay until dismissed or 8 s pass. */
import { h } from './dom.js';

function region() {
  let el = document.getElementById('toasts');
  if (!el) {
    el = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(el);
  }
  return el;
}

export function toast(message, { kind = 'info', title, timeoutMs = kind === 'error' ? 8000 : 3500 } = {}) {
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss' }, '×');
  const el = h(
    'div',
    { class: `toast toast-${kind}`, testid: kind === 'error' ? 'toast-error' : 'toast', role: kind === 'error' ? 'alert' : undefined },
    h('div', { class: 'toast-body' }, title ? h('strong', { class: 'toast-title' }, title) : null, h('span', {}, message)),
    close,
  );
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  region().appendChild(el);
  setTimeout(remove, timeoutMs);
  return el;
}

/** Shows an API error with its code; returns nothing so callers can `catch(showError)`. */
export function showError(error) {
  if (error?.name === 'AbortError') return;
  const code = error?.code && error.code !== 'network' ? error.code : undefined;
  toast(error?.message ?? String(error), { kind: 'error', title: code ? `Error · ${code}` : 'Error' });
}
