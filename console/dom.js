/**
 * DOM helpers. Every string from the server goes through text nodes or attributes set one
 * by one (never innerHTML), so thread inputs, tool results and model text cannot inject markup.
 */

/**
 * Builds an element: h('button', { class: 'btn', onclick, dataset: { testid: 'x' } }, 'Label', child).
 * Children may be strings, numbers, nodes, arrays, or null/undefined/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) { if (v !== undefined && v !== null) el.dataset[k] = String(v); }
    else if (key === 'testid') el.dataset.testid = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'open' || key === 'selected') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Appends children like h() does (skipping null/false, flattening arrays); unlike Element.append, null is not "null". */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Makes `nodes` the children of `parent`, in order, moving only what must move. A live list
 * re-rendered with replaceChildren detaches every node for a moment, and a detached node loses
 * focus, the caret and the text selection: someone typing a comment in a form the list kept
 * would find their keystrokes going nowhere after the next poll. Here a node that stays in
 * place is never touched; one that has to move gets its focus and caret back.
 */
export function syncChildren(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!keep.has(child)) child.remove();
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    const focused = node.isConnected && node.contains(document.activeElement) ? document.activeElement : undefined;
    const caret = focused && typeof focused.selectionStart === 'number' ? [focused.selectionStart, focused.selectionEnd, focused.selectionDirection] : undefined;
    parent.insertBefore(node, cursor);
    if (focused) {
      focused.focus({ preventScroll: true });
      if (caret) focused.setSelectionRange(...caret);
    }
  }
  return parent;
}

/** A JSON value as a <pre>, syntax-coloured with spans (text nodes only). */
export function jsonView(value, { testid, compact } = {}) {
  // Short values read best on one line: {"orderId": "A-1001"}.
  compact ??= (JSON.stringify(value) ?? '').length <= 60;
  const pre = h('pre', { class: ['json', compact && 'json-compact'], testid });
  if (value === undefined) {
    pre.appendChild(h('span', { class: 'j-null' }, 'undefined'));
    return pre;
  }
  writeJson(pre, value, 0, compact);
  return pre;
}

function writeJson(parent, value, depth, compact) {
  const pad = (n) => (compact ? '' : '\n' + '  '.repeat(n));
  if (value === null) return parent.appendChild(h('span', { class: 'j-null' }, 'null'));
  if (typeof value === 'string') return parent.appendChild(h('span', { class: 'j-str' }, JSON.stringify(value)));
  if (typeof value === 'number') return parent.appendChild(h('span', { class: 'j-num' }, String(value)));
  if (typeof value === 'boolean') return parent.appendChild(h('span', { class: 'j-bool' }, String(value)));
  if (Array.isArray(value)) {
    if (value.length === 0) return parent.appendChild(document.createTextNode('[]'));
    parent.appendChild(document.createTextNode('['));
    value.forEach((item, i) => {
      parent.appendChild(document.createTextNode(pad(depth + 1)));
      writeJson(parent, item, depth + 1, compact);
      if (i < value.length - 1) parent.appendChild(document.createTextNode(compact ? ', ' : ','));
    });
    parent.appendChild(document.createTextNode(pad(depth) + ']'));
    return;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return parent.appendChild(document.createTextNode('{}'));
    parent.appendChild(document.createTextNode('{'));
    entries.forEach(([k, v], i) => {
      parent.appendChild(document.createTextNode(pad(depth + 1)));
      parent.appendChild(h('span', { class: 'j-key' }, JSON.stringify(k)));
      parent.appendChild(document.createTextNode(': '));
      writeJson(parent, v, depth + 1, compact);
      if (i < entries.length - 1) parent.appendChild(document.createTextNode(compact ? ', ' : ','));
    });
    parent.appendChild(document.createTextNode(pad(depth) + '}'));
    return;
  }
  parent.appendChild(document.createTextNode(String(value)));
}

/** A value that may be plain text (agent inputs often are) or JSON. */
export function valueView(value, options = {}) {
  if (typeof value === 'string') return h('div', { class: 'prose-text', testid: options.testid }, value);
  return jsonView(value, options);
}
