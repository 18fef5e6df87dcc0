// dataplanes.mjs: each Envoy with the configuration it acknowledged,
// whether that is the current one, and the last NACK; plus the "this change
// has reached N of M Envoys" tracker every write starts.
import { html, useState, useEffect } from '../vendor/preact-htm.mjs';
import { getWithRevision, onWrite } from './api.mjs';
import { usePoll, ago, fmtTime, ErrorBox, Empty } from './util.mjs';

export async function dataPlanes() {
  const r = await getWithRevision('/clustering/data-planes');
  return { planes: (r.data && r.data.data) || [], revision: r.revision };
}

// reached counts the connected Envoys that ACKed revision rev.
export function reached(planes, rev) {
  const live = planes.filter((p) => p.connected);
  return { n: live.filter((p) => p.acked_revision >= rev).length, m: live.length };
}

export function DataPlanesPage() {
  const p = usePoll(dataPlanes, 2000);
  const planes = (p.data && p.data.planes) || [];
  const rev = p.data ? p.data.revision : 0;
  const r = reached(planes, rev);
  return html`<div>
    <div class="page-head"><div><h1>Data Plane Nodes</h1>
      <p class="lede">The Envoys connected over xDS: the configuration each acknowledged, whether it is the current one, and the last rejection.</p></div></div>
    <${ErrorBox} error=${p.error} />
    <div class="stats">
      <div class="stat"><div class="stat-n">${r.m}</div><div class="stat-l">Connected</div></div>
      <div class="stat"><div class="stat-n" id="current-count">${r.n} / ${r.m}</div><div class="stat-l">On revision ${rev}</div></div>
      <div class="stat"><div class="stat-n">${planes.filter((x) => x.sync_status !== 'normal').length}</div><div class="stat-l">Rejecting config</div></div>
    </div>
    <div class="card table-card">
      <table class="table" data-kind="data-planes">
        <thead><tr><th>Node</th><th>Address</th><th>Version</th><th>Status</th><th>Config</th><th>Acknowledged revision</th><th>Last seen</th><th>Last NACK</th></tr></thead>
        <tbody>${planes.map((d) => {
          const current = d.acked_revision >= rev;
          return html`<tr data-node=${d.id}>
            <td><div class="strong mono">${d.id}</div><div class="muted small">${d.cluster}${d.hostname && d.hostname !== d.id ? ' · ' + d.hostname : ''}</div></td>
            <td class="mono">${d.ip}</td><td>${d.version}</td>
            <td>${d.connected ? html`<span class="badge badge-ok">Connected</span>` : html`<span class="badge badge-off">Disconnected</span>`}</td>
            <td data-col="config">${current ? html`<span class="badge badge-ok">Current</span>` : html`<span class="badge badge-warn">Behind</span>`}
              ${d.sync_status !== 'normal' && html` <span class="badge badge-bad">${d.sync_status.replace(/_/g, ' ')}</span>`}</td>
            <td data-col="acked_revision" class="mono">${d.acked_revision || '–'} <span class="muted">of ${rev}</span>
              <div class="muted small mono" title=${JSON.stringify(d.config_versions)}>${Object.entries(d.config_versions || {}).map(([k, v]) => `${k} ${String(v).slice(-8)}`).join(' · ')}</div></td>
            <td title=${fmtTime(d.last_seen)}>${ago(d.last_seen)}</td>
            <td class="nack">${d.last_error ? html`<div class="strong">${d.last_error.type} · ${ago(d.last_error.at)}</div><div class="mono small">${d.last_error.message}</div>` : html`<span class="muted">none</span>`}</td>
          </tr>`;
        })}</tbody>
      </table>
      ${p.data && planes.length === 0 && html`<${Empty}>No Envoy has connected yet. Start one with <code>switchboard serve --envoy</code> or point an Envoy's ADS at the xDS listener.</${Empty}>`}
    </div>
  </div>`;
}

// Propagation follows the last write to the Envoys: "this change has
// reached N of M Envoys", until all have it (then it fades) or 60 s pass.
export function Propagation() {
  const [rev, setRev] = useState(0);
  const [state, setState] = useState(null);
  useEffect(() => onWrite((r) => setRev((cur) => Math.max(cur, r))), []);
  useEffect(() => {
    if (!rev) return undefined;
    let stop = false;
    const started = Date.now();
    let doneAt = 0;
    async function tick() {
      if (stop) return;
      try {
        const { planes } = await dataPlanes();
        const r = reached(planes, rev);
        setState({ ...r, rev, done: r.n >= r.m });
        if (r.n >= r.m && !doneAt) doneAt = Date.now();
      } catch (e) { /* the next tick retries */ }
      if (doneAt && Date.now() - doneAt > 6000) { setState(null); return; }
      // An Envoy that never catches up (disconnected, rejecting): stop
      // following after a minute and let the Data Plane Nodes page tell why.
      if (Date.now() - started > 60000) { setTimeout(() => !stop && setState(null), 10000); return; }
      setTimeout(tick, 500);
    }
    tick();
    return () => { stop = true; };
  }, [rev]);
  if (!state) return null;
  return html`<div class=${'toast ' + (state.done ? 'toast-ok' : 'toast-busy')} id="propagation" data-revision=${state.rev} data-reached=${state.n} data-of=${state.m}>
    <div class="toast-title">${state.done ? 'Change applied' : 'Propagating…'} <a class="small" href="/data-planes">Data planes</a></div>
    <div>This change (revision ${state.rev}) has reached <b>${state.n} of ${state.m}</b> Envoy${state.m === 1 ? '' : 's'}.</div>
    <div class="bar"><div class=${'bar-fill w' + Math.round((state.m ? state.n / state.m : 1) * 10)} /></div>
  </div>`;
}
