// util.mjs: routing, polling and small display helpers shared by pages.
import { html, useState, useEffect, useRef } from '../vendor/preact-htm.mjs';

const routeListeners = new Set();

// navigate changes the page without a reload (Kong Manager's URLs are real
// paths; the server answers every one of them with index.html).
export function navigate(to, replace) {
  if (replace) history.replaceState(null, '', to); else history.pushState(null, '', to);
  routeListeners.forEach((fn) => fn());
  window.scrollTo(0, 0);
}
window.addEventListener('popstate', () => routeListeners.forEach((fn) => fn()));

export function useLocation() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    routeListeners.add(fn);
    return () => routeListeners.delete(fn);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

// Plain left clicks on same-origin links route in the page.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || a.target || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  const href = a.getAttribute('href');
  if (!href.startsWith('/') || href.startsWith('/api/') || href.startsWith('/assets/')) return;
  ev.preventDefault();
  navigate(href);
});

// usePoll runs fn now and every ms while the component is mounted (and
// the tab visible), and returns {data, error, reload}.
export function usePoll(fn, ms, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const load = async () => {
    const mine = ++seq.current;
    try {
      const data = await fn();
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  };
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    load();
    if (!ms) return () => { seq.current++; };
    const id = setInterval(() => { if (!document.hidden) load(); }, ms);
    return () => { clearInterval(id); seq.current++; };
  }, deps || []);
  return { ...state, reload: load };
}

export function useLoad(fn, deps) { return usePoll(fn, 0, deps); }

// ago renders a Kong timestamp (seconds, maybe fractional) as "3 min ago".
export function ago(ts) {
  if (!ts) return '–';
  const s = Math.max(0, Math.round(Date.now() / 1000 - ts));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ts * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

export function fmtTime(ts) {
  if (!ts) return '–';
  return new Date(ts * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

export function num(n) { return n == null ? '–' : Number(n).toLocaleString('en-US'); }

// display renders any field value for tables and detail pages.
export function display(v) {
  if (v === null || v === undefined || v === '') return html`<span class="muted">–</span>`;
  if (typeof v === 'boolean') return html`<span class=${'pill ' + (v ? 'pill-on' : 'pill-off')}>${v ? 'Enabled' : 'Disabled'}</span>`;
  if (Array.isArray(v)) {
    if (v.length === 0) return html`<span class="muted">–</span>`;
    if (v.every((x) => typeof x !== 'object')) return html`<span class="chips">${v.map((x) => html`<span class="chip">${String(x)}</span>`)}</span>`;
  }
  if (typeof v === 'object') return html`<code class="json">${JSON.stringify(v)}</code>`;
  return String(v);
}

// healthClass maps Kong's health words to badge colours.
export function healthBadge(h, title) {
  const cls = { HEALTHY: 'ok', UNHEALTHY: 'bad', DNS_ERROR: 'warn', HEALTHCHECKS_OFF: 'off' }[h] || 'off';
  const label = { HEALTHY: 'Healthy', UNHEALTHY: 'Unhealthy', DNS_ERROR: 'DNS error', HEALTHCHECKS_OFF: 'Checks off' }[h] || (h || 'Unknown');
  return html`<span class=${'badge badge-' + cls} data-health=${h || ''} title=${title || ''}>${label}</span>`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="alert alert-error" role="alert">${error.message || String(error)}</div>`;
}

export function Empty({ children }) { return html`<div class="empty">${children}</div>`; }
