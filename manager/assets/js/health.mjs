// health.mjs: what no Kong UI shows — each target's health as every Envoy
// sees it (GET /clustering/health, polled from each Envoy's admin API), the
// Targets tab with Kong's /healthy and /unhealthy actions, and the hosts ×
// Envoys matrix.
import { html, useState } from '../vendor/preact-htm.mjs';
import { api, get, enc } from './api.mjs';
import { usePoll, ago, display, healthBadge, ErrorBox, Empty } from './util.mjs';
import { EntityForm, fieldsOf, defaults } from './form.mjs';
import { DeleteDialog, changedFields } from './entities.mjs';

export const HEALTH_POLL_MS = 2000;

const reasonText = (rs) => (rs && rs.length ? rs.join(', ').replace(/_/g, ' ') : '');

// envoyView indexes /clustering/health by upstream name then address.
function envoyView(nodes, upstream) {
  return (nodes || []).map((n) => {
    const u = (n.upstreams || []).find((x) => x.name === upstream);
    const hosts = {};
    for (const h of (u && u.hosts) || []) hosts[h.address] = h;
    return { node: n, watched: !!u, hosts };
  });
}

// Matrix is upstream hosts × Envoys. Rows are the addresses Kong's
// /upstreams/{u}/health lists (a hostname target has one per resolved
// address); columns every Envoy switchboard polls.
export function Matrix({ upstream, health, nodes }) {
  const views = envoyView(nodes, upstream.name);
  const rows = [];
  for (const t of health || []) {
    const addrs = (t.data && t.data.addresses) || [];
    if (addrs.length === 0) rows.push({ t, address: t.target, ip: null });
    for (const a of addrs) rows.push({ t, address: `${a.ip}:${a.port}`, ip: a });
  }
  if (rows.length === 0) return html`<${Empty}>This upstream has no targets.</${Empty}>`;
  return html`<table class="table matrix" data-upstream=${upstream.name}>
    <thead><tr><th>Target</th><th>Address</th><th>Kong view</th>
      ${views.map((v) => html`<th title=${v.node.admin_address}>${v.node.node_id}<div class="th-sub">${v.node.error ? 'poll failed' : 'polled ' + ago(v.node.polled_at)}</div></th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr data-target=${r.t.target} data-address=${r.address}>
      <td class="mono">${r.t.target}</td><td class="mono">${r.address}</td>
      <td>${healthBadge(r.ip ? r.ip.health : r.t.health)}</td>
      ${views.map((v) => {
        const h = v.hosts[r.address];
        if (v.node.error) return html`<td><span class="badge badge-warn" title=${v.node.error}>Unreachable</span></td>`;
        if (!v.watched || !h) return html`<td>${healthBadge('HEALTHCHECKS_OFF', 'Envoy runs no health checks for this host')}</td>`;
        return html`<td data-envoy=${v.node.node_id}>${healthBadge(h.health, reasonText(h.reasons))}
          ${h.reasons && h.reasons.length ? html`<div class="why">${reasonText(h.reasons)}</div>` : null}</td>`;
      })}
    </tr>`)}</tbody>
  </table>`;
}

// UpstreamHealth is the upstream's "Live health" tab.
export function UpstreamHealth({ entity }) {
  const p = usePoll(async () => {
    const [h, c] = await Promise.all([get(`/upstreams/${entity.id}/health?size=1000`), get('/clustering/health')]);
    return { health: h.data, nodes: c.data };
  }, HEALTH_POLL_MS, [entity.id]);
  return html`<div class="card">
    <div class="card-head"><h3>Hosts × Envoys</h3><span class="muted">updates every ${HEALTH_POLL_MS / 1000}s</span></div>
    <${ErrorBox} error=${p.error} />
    ${p.data && html`<${Matrix} upstream=${entity} health=${p.data.health} nodes=${p.data.nodes} />`}
    ${!entity.healthchecks || !entity.healthchecks.active || !(entity.healthchecks.active.healthy || {}).interval
      ? html`<p class="hint">Active health checks are off for this upstream (healthchecks.active.healthy.interval is 0): Envoy marks a host unhealthy only when real traffic to it fails (passive checks).</p>` : null}
  </div>`;
}

// Targets is the upstream's Targets tab (Kong Manager's columns) with
// each target's health and the manual /healthy and /unhealthy actions.
export function Targets({ entity }) {
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [actionError, setActionError] = useState(null);
  const p = usePoll(async () => {
    const [t, h, schema] = await Promise.all([
      get(`/upstreams/${entity.id}/targets?size=1000`),
      get(`/upstreams/${entity.id}/health?size=1000`),
      get('/schemas/targets'),
    ]);
    const byID = {};
    for (const x of h.data || []) byID[x.id] = x;
    return { targets: t.data || [], health: byID, schema };
  }, HEALTH_POLL_MS, [entity.id]);
  async function mark(t, state) {
    setActionError(null);
    try { await api('PUT', `/upstreams/${entity.id}/targets/${t.id}/${state}`); p.reload(); } catch (e) { setActionError(e); }
  }
  return html`<div>
    ${adding && p.data && html`<div class="inline-form"><h3>New target</h3>
      <${EntityForm} schema=${p.data.schema} initial=${defaults(fieldsOf(p.data.schema))} skip=${['upstream']} submitLabel="Save"
        onCancel=${() => setAdding(false)}
        submit=${async (body) => { await api('POST', `/upstreams/${entity.id}/targets`, body); setAdding(false); p.reload(); }} /></div>`}
    ${editing && p.data && html`<div class="inline-form"><h3>Edit target ${editing.target}</h3>
      <${EntityForm} key=${editing.id} schema=${p.data.schema} initial=${structuredClone(editing)} skip=${['upstream']} submitLabel="Save"
        onCancel=${() => setEditing(null)}
        submit=${async (body) => { await api('PATCH', `/upstreams/${entity.id}/targets/${editing.id}`, changedFields(editing, body)); setEditing(null); p.reload(); }} /></div>`}
    <div class="card table-card">
      <div class="toolbar"><h3>Targets</h3><span class="spacer" />
        <button class="btn btn-primary btn-small" id="new-target" onClick=${() => { setEditing(null); setAdding(true); }}>+ New target</button></div>
      <${ErrorBox} error=${p.error || actionError} />
      <table class="table" data-kind="targets">
        <thead><tr><th>Target Address</th><th>Weight</th><th>Tags</th><th>Health</th><th class="actions-col"></th></tr></thead>
        <tbody>${((p.data && p.data.targets) || []).map((t) => {
          const h = p.data.health[t.id];
          return html`<tr data-target=${t.target} data-id=${t.id}>
            <td class="mono strong">${t.target}</td><td>${t.weight}</td><td>${display(t.tags)}</td>
            <td>${healthBadge(h && h.health)}</td>
            <td class="actions-col">
              <button class="btn btn-small" data-action="healthy" onClick=${() => mark(t, 'healthy')}>Mark healthy</button>
              <button class="btn btn-small" data-action="unhealthy" onClick=${() => mark(t, 'unhealthy')}>Mark unhealthy</button>
              <button class="btn btn-small" data-action="edit" onClick=${() => { setAdding(false); setEditing(t); }}>Edit</button>
              <button class="btn btn-small btn-danger-ghost" onClick=${() => setDeleting(t)}>Delete</button>
            </td></tr>`;
        })}</tbody>
      </table>
      ${p.data && p.data.targets.length === 0 && html`<${Empty}>No targets yet: add one to send traffic to this upstream.</${Empty}>`}
    </div>
    ${deleting && html`<${DeleteDialog} what="Target" name=${deleting.target} onClose=${() => setDeleting(null)}
      onConfirm=${async () => { await api('DELETE', `/upstreams/${entity.id}/targets/${deleting.id}`); p.reload(); }} />`}
  </div>`;
}

// HealthPage is the sidebar's Live health: every upstream some Envoy
// health-checks, each as a matrix.
export function HealthPage() {
  const p = usePoll(async () => {
    const c = await get('/clustering/health');
    const names = [...new Set((c.data || []).flatMap((n) => (n.upstreams || []).map((u) => u.name)))].sort();
    const ups = await Promise.all(names.slice(0, 50).map(async (name) => {
      const [u, h] = await Promise.all([get(`/upstreams/${enc(name)}`), get(`/upstreams/${enc(name)}/health?size=1000`)]);
      return { upstream: u, health: h.data };
    }));
    return { nodes: c.data || [], ups, total: names.length };
  }, HEALTH_POLL_MS);
  const nodes = (p.data && p.data.nodes) || [];
  return html`<div>
    <div class="page-head"><div><h1>Live health</h1>
      <p class="lede">Each target's health as every Envoy sees it, read from each Envoy's admin API every few seconds. Kong's own UI shows none of this.</p></div></div>
    <${ErrorBox} error=${p.error} />
    <div class="stats">
      <div class="stat"><div class="stat-n">${nodes.length}</div><div class="stat-l">Envoys polled</div></div>
      <div class="stat"><div class="stat-n">${p.data ? p.data.total : '–'}</div><div class="stat-l">Health-checked upstreams</div></div>
      <div class="stat"><div class="stat-n">${p.data ? p.data.ups.reduce((n, u) => n + (u.health || []).filter((t) => t.health === 'UNHEALTHY').length, 0) : '–'}</div><div class="stat-l">Unhealthy targets</div></div>
    </div>
    ${p.data && p.data.ups.length === 0 && html`<div class="card"><${Empty}>No upstream has health checks on. Turn on <code>healthchecks.active</code> or <code>healthchecks.passive</code> on an upstream to see Envoy's view here.</${Empty}></div>`}
    ${p.data && p.data.ups.map(({ upstream, health }) => html`<div class="card">
      <div class="card-head"><h3><a href=${`/upstreams/${upstream.id}/health`}>${upstream.name}</a></h3>
        <a class="btn btn-small" href=${`/upstreams/${upstream.id}/targets`}>Targets</a></div>
      <${Matrix} upstream=${upstream} health=${health} nodes=${nodes} />
    </div>`)}
  </div>`;
}
