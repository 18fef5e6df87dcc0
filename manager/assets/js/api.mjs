// api.mjs: every call the UI makes goes to the Admin API under /api on the
// page's own origin, with the operator's token (Kong's RBAC header) when
// one was given.

const TOKEN_KEY = 'switchboard.admin-token';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

const writeListeners = new Set();
const authListeners = new Set();

// onWrite(fn) calls fn(revision) after every successful write: the revision
// the write committed (X-Switchboard-Revision), to follow it to the Envoys.
export function onWrite(fn) { writeListeners.add(fn); return () => writeListeners.delete(fn); }
export function onAuthNeeded(fn) { authListeners.add(fn); return () => authListeners.delete(fn); }

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
}
export function hasToken() { return !!sessionStorage.getItem(TOKEN_KEY); }

// api sends one request and returns {data, revision, status}; a non-2xx
// answer throws an ApiError carrying Kong's error body.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers['Kong-Admin-Token'] = token;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch('/api' + path, { method, headers, body: payload, credentials: 'same-origin' });
  const revision = Number(res.headers.get('X-Switchboard-Revision') || 0);
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
  }
  if (!res.ok) {
    if (res.status === 401) authListeners.forEach((fn) => fn());
    throw new ApiError(res.status, data);
  }
  if (method !== 'GET' && method !== 'HEAD' && revision) writeListeners.forEach((fn) => fn(revision));
  return { data, revision, status: res.status };
}

export const get = (path) => api('GET', path).then((r) => r.data);
export const getWithRevision = (path) => api('GET', path);

// getOrNull is GET that turns a 404 into null (lookups by name or id).
export async function getOrNull(path) {
  try { return await get(path); } catch (e) { if (e.status === 404) return null; throw e; }
}

export const enc = encodeURIComponent;
