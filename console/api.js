/**
 * The HTTP API client: bearer key, JSON in and out, errors as ApiError carrying the
 * server's `{ error: { code, message, details } }`. The key comes from the dev server's
 * boot block (`twelve dev`) or from localStorage, where the sign-in form puts it.
 */
const storageKey = 'twelve.apiKey';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const boot = typeof window !== 'undefined' && window.TWELVE_BOOT && typeof window.TWELVE_BOOT === 'object' ? window.TWELVE_BOOT : undefined;

export const session = {
  /** Where the key came from: "boot" (injected by the dev server), "stored", or undefined. */
  source: boot?.apiKey ? 'boot' : readStored() ? 'stored' : undefined,
  key: boot?.apiKey || readStored() || '',
  me: undefined,
};

function readStored() {
  try {
    return localStorage.getItem(storageKey) ?? '';
  } catch {
    return '';
  }
}

export function signIn(key) {
  session.key = key.trim();
  session.source = 'stored';
  try {
    localStorage.setItem(storageKey, session.key);
  } catch {
    // Private mode: the key lives for this page only.
  }
}

export function signOut() {
  session.key = '';
  session.source = undefined;
  session.me = undefined;
  try {
    localStorage.removeItem(storageKey);
  } catch {
    // nothing stored
  }
}

/** Calls the API; resolves with the parsed body, rejects with ApiError. */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: {
        accept: 'application/json',
        ...(session.key ? { authorization: `Bearer ${session.key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', `cannot reach the server (${error?.message ?? error})`);
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const error = data?.error;
    const message = error?.message ?? `${method} ${path} answered ${response.status} ${response.statusText}`;
    throw new ApiError(response.status, error?.code ?? `http_${response.status}`, message, error?.details);
  }
  return data;
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

export const endpoints = {
  me: () => api('/v1/me'),
  agents: () => api('/v1/agents'),
  inbox: () => api('/v1/inbox'),
  threads: (params) => api('/v1/threads' + query(params)),
  thread: (id) => api(`/v1/threads/${enc(id)}`),
  events: (id, after = 0) => api(`/v1/threads/${enc(id)}/events` + query({ after })),
  launch: (body) => api('/v1/threads', { method: 'POST', body }),
  decide: (id, body) => api(`/v1/threads/${enc(id)}/approvals`, { method: 'POST', body }),
  answer: (id, body) => api(`/v1/threads/${enc(id)}/answer`, { method: 'POST', body }),
  control: (id, action, body = {}) => api(`/v1/threads/${enc(id)}/${action}`, { method: 'POST', body }),
  budget: (id, body) => api(`/v1/threads/${enc(id)}/budget`, { method: 'POST', body }),
  /** EventSource cannot send headers: the stream takes the key as a query parameter. */
  streamUrl: (id, after) => `/v1/threads/${enc(id)}/stream` + query({ after, access_token: session.key }),
};

/**
 * What the signed-in key may do, from its roles (/v1/me): reader reads; operator launches,
 * pauses, resumes, cancels; approver decides, answers, raises budgets. Without /v1/me every
 * button shows and the server decides.
 */
export function can(action) {
  const roles = session.me?.roles;
  if (!Array.isArray(roles)) return true;
  if (action === 'decide' || action === 'answer' || action === 'budget') return roles.includes('approver');
  if (action === 'operate' || action === 'launch') return roles.includes('operator');
  return true;
}
