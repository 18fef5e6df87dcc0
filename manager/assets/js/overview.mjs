// overview.mjs: the node, its listeners, the raft cluster, the connected
// Envoys and how many entities there are.
import { html } from '../vendor/preact-htm.mjs';
import { get, getOrNull } from './api.mjs';
import { usePoll, num, ErrorBox } from './util.mjs';
import { dataPlanes, reached } from './dataplanes.mjs';

function listenerURLs(ls, scheme) {
  return (ls || []).map((l) => `${l.ssl ? scheme + 's' : scheme}://${l.ip}:${l.port}`);
}

export function OverviewPage() {
  const p = usePoll(async () => {
    const [root, status, dp, counts] = await Promise.all([
      get('/'), getOrNull('/clustering/status'), dataPlanes(), getOrNull('/counts'),
    ]);
    return { root, status, dp, counts };
  }, 3000);
  if (p.error && !p.data) return html`<${ErrorBox} error=${p.error} />`;
  if (!p.data) return html`<p class="muted">Loading…</p>`;
  const { root, status, dp, counts } = p.data;
  const c = root.configuration || {};
  const r = reached(dp.planes, dp.revision);
  const listeners = [
    ['Proxy', listenerURLs(c.proxy_listeners, 'http')],
    ['Admin API', listenerURLs(c.admin_listeners, 'http')],
    ['Manager', listenerURLs(c.admin_gui_listeners, 'http')],
    ['xDS (ADS gRPC)', c.xds_listen ? [c.xds_listen] : []],
  ];
  const members = (status && status.members) || [];
  return html`<div>
    <div class="page-head"><div><h1>Overview</h1>
      <p class="lede">switchboard speaks Kong's Admin API and runs Envoy as the data plane.</p></div></div>
    <div class="stats" id="counts">
      ${[['services', 'Gateway Services', '/services'], ['routes', 'Routes', '/routes'], ['consumers', 'Consumers', '/consumers'],
        ['plugins', 'Plugins', '/plugins'], ['upstreams', 'Upstreams', '/upstreams'], ['targets', 'Targets', '/upstreams']]
        .filter(([k]) => !counts || counts[k] !== undefined).map(([k, label, href]) => html`
        <a class="stat" href=${href} data-count=${k}><div class="stat-n">${counts ? num(counts[k]) : '–'}</div><div class="stat-l">${label}</div></a>`)}
      <a class="stat" href="/data-planes"><div class="stat-n">${r.n} / ${r.m}</div><div class="stat-l">Envoys current</div></a>
    </div>
    <div class="grid2">
      <div class="card">
        <div class="card-head"><h3>Node</h3></div>
        <dl class="kv">
          <div class="kv-row"><dt>Hostname</dt><dd>${root.hostname}</dd></div>
          <div class="kv-row"><dt>Node ID</dt><dd class="mono">${root.node_id}</dd></div>
          <div class="kv-row"><dt>Kong version</dt><dd>${root.version} <span class="muted">(${root.edition}, Admin API compatible)</span></dd></div>
          <div class="kv-row"><dt>Database</dt><dd>${c.database}</dd></div>
          <div class="kv-row"><dt>Revision</dt><dd class="mono">${dp.revision}</dd></div>
        </dl>
      </div>
      <div class="card">
        <div class="card-head"><h3>Listeners</h3></div>
        <dl class="kv">${listeners.map(([name, urls]) => html`<div class="kv-row"><dt>${name}</dt><dd class="mono">${urls.length ? urls.join(', ') : html`<span class="muted">–</span>`}</dd></div>`)}</dl>
      </div>
      <div class="card">
        <div class="card-head"><h3>Control-plane cluster</h3>${status && html`<span class=${'badge ' + (status.state === 'Leader' ? 'badge-ok' : 'badge-info')}>${status.state}</span>`}</div>
        <table class="table compact">
          <thead><tr><th>Member</th><th>Admin API</th><th>Role</th></tr></thead>
          <tbody>${members.map((m) => html`<tr><td class="mono">${m.id.slice(0, 8)}${m.id === root.node_id ? html` <span class="muted">(this node)</span>` : ''}</td>
            <td class="mono">${m.admin_address}</td><td>${m.leader ? html`<span class="badge badge-ok">Leader</span>` : html`<span class="badge badge-off">${m.suffrage === 'Voter' ? 'Follower' : m.suffrage}</span>`}</td></tr>`)}</tbody>
        </table>
        ${status && html`<p class="muted small">commit index ${status.commit_index} · applied ${status.applied_index}</p>`}
      </div>
      <div class="card">
        <div class="card-head"><h3>Connected Envoys</h3><a class="btn btn-small" href="/data-planes">Data planes</a></div>
        <table class="table compact">
          <thead><tr><th>Node</th><th>Version</th><th>Config</th></tr></thead>
          <tbody>${dp.planes.filter((d) => d.connected).map((d) => html`<tr><td class="mono">${d.id}</td><td>${d.version}</td>
            <td>${d.acked_revision >= dp.revision ? html`<span class="badge badge-ok">Current</span>` : html`<span class="badge badge-warn">Behind</span>`}</td></tr>`)}</tbody>
        </table>
        ${r.m === 0 && html`<p class="muted">No Envoy connected.</p>`}
      </div>
    </div>
  </div>`;
}
