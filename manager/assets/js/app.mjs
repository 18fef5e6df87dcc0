// app.mjs: switchboard Manager's shell — Kong Manager's layout (sidebar,
// header, page) and URLs — and the router.
import { html, render, useState, useEffect } from '../vendor/preact-htm.mjs';
import { onAuthNeeded, setToken, hasToken, get } from './api.mjs';
import { navigate, useLocation } from './util.mjs';
import { kinds, ListPage, DetailPage, FormPage, ServiceRoutes, EntityPlugins, PluginSelect, CertificateSNIs, ConsumerCredentials } from './entities.mjs';
import { Targets, UpstreamHealth, HealthPage } from './health.mjs';
import { DataPlanesPage, Propagation } from './dataplanes.mjs';
import { OverviewPage } from './overview.mjs';

const nav = [
  ['Gateway', [['/overview', 'Overview', 'grid'], ['/services', 'Gateway Services', 'cloud'], ['/routes', 'Routes', 'route'],
    ['/consumers', 'Consumers', 'user'], ['/plugins', 'Plugins', 'plug'], ['/upstreams', 'Upstreams', 'stack'],
    ['/certificates', 'Certificates', 'cert'], ['/ca-certificates', 'CA Certificates', 'shield'], ['/snis', 'SNIs', 'tag']]],
  ['Envoy', [['/health', 'Live health', 'pulse'], ['/data-planes', 'Data Plane Nodes', 'nodes']]],
];

const icons = {
  grid: 'M3 3h7v7H3zM14 3h7v7h-7zM3 14h7v7H3zM14 14h7v7h-7z',
  cloud: 'M7 18h10a4 4 0 0 0 .5-7.97A6 6 0 0 0 6 9a4.5 4.5 0 0 0 1 9z',
  route: 'M6 3v6a4 4 0 0 0 4 4h4a4 4 0 0 1 4 4v4M6 3 3 6M6 3l3 3',
  stack: 'M12 3 3 8l9 5 9-5-9-5zM3 13l9 5 9-5M3 18l9 5 9-5',
  pulse: 'M3 12h4l2-6 4 12 2-6h6',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  plug: 'M9 3v5M15 3v5M6 8h12v3a6 6 0 0 1-12 0zM12 17v4',
  nodes: 'M5 5h4v4H5zM15 5h4v4h-4zM10 15h4v4h-4zM7 9v3h10V9M12 12v3',
  cert: 'M4 4h16v11H4zM8 8h8M8 11h5M15 15l-1 6 3-2 3 2-1-6',
  shield: 'M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6zM9 12l2 2 4-4',
  tag: 'M3 12V3h9l9 9-9 9zM7.5 7.5h.01',
};

function Icon({ name }) {
  return html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d=${icons[name]} /></svg>`;
}

// routes maps Kong Manager's URL patterns to pages.
const routes = [
  ['/overview', () => html`<${OverviewPage} />`],
  ['/health', () => html`<${HealthPage} />`],
  ['/data-planes', () => html`<${DataPlanesPage} />`],
  ['/plugins/select', () => html`<${PluginSelect} />`],
  ['/plugins/create', (p, q) => html`<${FormPage} kind=${kinds.plugins} preset=${{ name: q.get('name') }} />`],
  ['/snis/create', (p, q) => html`<${FormPage} kind=${kinds.snis} preset=${q.get('certificate') ? { certificate: { id: q.get('certificate') } } : null} />`],
  ['/routes/create', (p, q) => html`<${FormPage} kind=${kinds.routes} preset=${q.get('service') ? { service: { id: q.get('service') } } : null} />`],
  ['/:kind', (p) => html`<${ListPage} kind=${kinds[p.kind]} />`],
  ['/:kind/create', (p) => html`<${FormPage} kind=${kinds[p.kind]} />`],
  ['/:kind/:id/edit', (p) => html`<${FormPage} kind=${kinds[p.kind]} id=${p.id} />`],
  ['/:kind/:id', (p) => html`<${DetailPage} kind=${kinds[p.kind]} id=${p.id} />`],
  ['/:kind/:id/:tab', (p) => html`<${DetailPage} kind=${kinds[p.kind]} id=${p.id} tab=${p.tab}
    tabPages=${{ routes: ServiceRoutes, plugins: EntityPlugins, targets: Targets, health: UpstreamHealth, snis: CertificateSNIs,
      credentials: ConsumerCredentials }} />`],
];

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, page] of routes) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    want.forEach((w, i) => {
      if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(parts[i]);
      else if (w !== parts[i]) ok = false;
    });
    if (ok && params.kind && !kinds[params.kind]) ok = false;
    if (ok && params.tab && !(kinds[params.kind].tabs || []).some(([t]) => t === params.tab)) ok = false;
    if (ok) return { page, params };
  }
  return null;
}

function Login({ onDone }) {
  const [token, set] = useState('');
  return html`<div class="modal-backdrop"><form class="modal" onSubmit=${(e) => { e.preventDefault(); setToken(token); onDone(); }}>
    <h3>Sign in</h3>
    <p>This Admin API requires a token. It is kept in this browser tab only (sessionStorage) and sent as <code>Kong-Admin-Token</code>.</p>
    <input type="password" autocomplete="current-password" placeholder="Admin API token" value=${token} onInput=${(e) => set(e.target.value)} aria-label="Admin API token" />
    <div class="form-actions"><button class="btn btn-primary" type="submit">Sign in</button></div>
  </form></div>`;
}

function App() {
  const loc = useLocation();
  const [needAuth, setNeedAuth] = useState(false);
  const [version, setVersion] = useState('');
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onAuthNeeded(() => setNeedAuth(true)), []);
  useEffect(() => { get('/').then((r) => setVersion(r.version)).catch(() => {}); }, [epoch]);
  if (loc.path === '/' || loc.path === '') { navigate('/overview', true); return null; }
  const m = match(loc.path);
  const section = '/' + (loc.path.split('/')[1] || '');
  return html`<div class="layout">
    <aside class="sidebar">
      <a class="brand" href="/overview"><img src="/assets/logo.svg" alt="" /><span>switchboard<small>Manager</small></span></a>
      ${nav.map(([group, items]) => html`<div class="nav-group"><div class="nav-title">${group}</div>
        ${items.map(([href, title, icon]) => html`<a class=${'nav-item' + (section === href ? ' active' : '')} href=${href}><${Icon} name=${icon} />${title}</a>`)}</div>`)}
      <div class="sidebar-foot">Kong Admin API ${version}${hasToken() && html` · <a href="#" onClick=${(e) => { e.preventDefault(); setToken(''); setNeedAuth(true); }}>sign out</a>`}</div>
    </aside>
    <main class="main">
      <header class="topbar"><span class="muted">${location.host}</span></header>
      <div class="page" key=${loc.path + epoch}>
        ${m ? m.page(m.params, loc.query) : html`<div class="card"><h2>Not found</h2><p>No page at ${loc.path}. <a href="/overview">Go to the overview</a>.</p></div>`}
      </div>
    </main>
    <${Propagation} />
    ${needAuth && html`<${Login} onDone=${() => { setNeedAuth(false); setEpoch(epoch + 1); }} />`}
  </div>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the boot message
render(html`<${App} />`, root);
