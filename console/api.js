/**
 * The HTTP API client: bearer key, JSON in and out, errors as ApiError carrying the
 * server's `{ error: { code, message, details } }`. The key comes from `twelve dev`
 * (GET /dev/session, which answers only this machine) or from localStorage, where the
 * sign-in form puts it. It only ever travels in the Authorization header, never in a URL.
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

export const session = {
  /** Where the key came from: "boot" (handed out by the dev server), "stored", or undefined. */
  source: readStored() ? 'stored' : undefined,
  key: readStored(),
  me: undefined,
};

/** `twelve dev` signs the console in by itself: ask it for its key (any other server answers 404). */
export async function loadDevSession() {
  try {
    const response = await fetch('/dev/session', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) return false;
    const boot = await response.json();
    if (typeof boot?.apiKey !== 'string' || !boot.apiKey) return false;
    session.key = boot.apiKey;
    session.source = 'boot';
    return true;
  } catch {
    return false;
  }
}

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
  review: (id, body) => api(`/v1/threads/${enc(id)}/review`, { method: 'POST', body }),
  control: (id, action, body = {}) => api(`/v1/threads/${enc(id)}/${action}`, { method: 'POST', body }),
  say: (id, body) => api(`/v1/threads/${enc(id)}/messages`, { method: 'POST', body }),
  budget: (id, body) => api(`/v1/threads/${enc(id)}/budget`, { method: 'POST', body }),
  releases: (params = {}) => api('/v1/releases' + query(params)),
  release: (id) => api(`/v1/releases/${enc(id)}`),
  releaseDiff: (a, b) => api(`/v1/releases/${enc(a)}/diff/${enc(b)}`),
  stepRequest: (id, seq) => api(`/v1/threads/${enc(id)}/steps/${seq}/request`),
  streamPath: (id) => `/v1/threads/${enc(id)}/stream?deltas=1`,
  evalRuns: (params = {}) => api('/v1/evals/runs' + query(params)),
  evalRun: (id) => api(`/v1/evals/runs/${enc(id)}`),
  proposals: (params = {}) => api('/v1/evals/proposals' + query(params)),
  acceptProposal: (id, body = {}) => api(`/v1/evals/proposals/${enc(id)}/accept`, { method: 'POST', body }),
  dismissProposal: (id) => api(`/v1/evals/proposals/${enc(id)}/dismiss`, { method: 'POST', body: {} }),
  costs: (params = {}) => api('/v1/costs' + query(params)),
};

/**
 * What the signed-in key may do, from its roles (/v1/me): reader reads; operator launches,
 * pauses, resumes, cancels; approver decides, answers, reviews, raises budgets. Without /v1/me every
 * button shows and the server decides.
 */
export function can(action) {
  const roles = session.me?.roles;
  if (!Array.isArray(roles)) return true;
  if (action === 'decide' || action === 'answer' || action === 'budget' || action === 'review') return roles.includes('approver');
  if (action === 'operate' || action === 'launch') return roles.includes('operator');
  return true;
}
