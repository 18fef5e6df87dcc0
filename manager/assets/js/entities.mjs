// entities.mjs: Gateway Services, Routes and Upstreams with Kong Manager's
// URLs, column names and wording: a paged list with an exact name-or-ID
// filter, a detail page with tabs, and create/edit forms from /schemas.
import { html, useState } from '../vendor/preact-htm.mjs';
import { api, get, getOrNull, enc } from './api.mjs';
import { navigate, useLoad, ago, fmtTime, display, ErrorBox, Empty } from './util.mjs';
import { EntityForm, defaults, fieldsOf, prune } from './form.mjs';

export const PAGE_SIZES = [15, 30, 50, 100];

export const kinds = {
  services: {
    key: 'services', title: 'Gateway Services', one: 'Gateway Service', article: 'a', newLabel: 'New gateway service',
    columns: [['name', 'Name'], ['protocol', 'Protocol'], ['host', 'Host'], ['port', 'Port'], ['path', 'Path'],
      ['enabled', 'Enabled'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration'], ['routes', 'Routes'], ['plugins', 'Plugins']],
    blurb: 'A Gateway Service is the upstream API or microservice behind the gateway: where Envoy sends the traffic a Route matched.',
  },
  routes: {
    key: 'routes', title: 'Routes', one: 'Route', article: 'a', newLabel: 'New route',
    columns: [['name', 'Name'], ['protocols', 'Protocols'], ['hosts', 'Hosts'], ['methods', 'Methods'], ['paths', 'Paths'],
      ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration'], ['plugins', 'Plugins']],
    blurb: 'Routes decide which requests go to which Gateway Service: by protocol, host, method, path and headers.',
  },
  consumers: {
    key: 'consumers', title: 'Consumers', one: 'Consumer', article: 'a', newLabel: 'New consumer',
    columns: [['username', 'Username'], ['custom_id', 'Custom ID'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration'], ['plugins', 'Plugins']],
    blurb: 'Consumers are the users and applications of your APIs: plugins can identify them and apply per-consumer settings.',
  },
  plugins: {
    key: 'plugins', title: 'Plugins', one: 'Plugin', article: 'a', newLabel: 'New plugin', createPath: '/plugins/select',
    columns: [['name', 'Name'], ['scope', 'Applied To'], ['enabled', 'Enabled'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration']],
    skip: ['name'],
    // A plugin's form is the plugin entity's schema with this plugin's own
    // config (and protocols) from /schemas/plugins/{name}.
    loadSchema: async (name) => {
      const [base, sub] = await Promise.all([get('/schemas/plugins'), get(`/schemas/plugins/${enc(name)}`)]);
      const own = new Map(fieldsOf(sub));
      return { ...base, fields: fieldsOf(base).map(([n, d]) => ({ [n]: own.get(n) || d })), entity_checks: sub.entity_checks };
    },
    blurb: 'Plugins add authentication, rate limiting and caching to every request, or to those of one service, route or consumer.',
  },
  upstreams: {
    key: 'upstreams', title: 'Upstreams', one: 'Upstream', article: 'an', newLabel: 'New upstream',
    columns: [['name', 'Name'], ['algorithm', 'Algorithm'], ['slots', 'Slots'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration'], ['targets', 'Targets'], ['health', 'Live health']],
    blurb: 'An Upstream is a virtual hostname that balances requests over its Targets, with Envoy running the health checks.',
  },
};

// scope is Kong Manager's "Applied To" of a plugin.
function scope(row) {
  const parts = [['service', 'Service'], ['route', 'Route'], ['consumer', 'Consumer']]
    .filter(([k]) => row[k] && row[k].id).map(([k, label]) => html`<span class="chip">${label} ${row[k].id.slice(0, 8)}</span>`);
  return parts.length ? html`<span class="chips">${parts}</span>` : html`<span class="pill">Global</span>`;
}

function cell(row, key) {
  if (key === 'scope') return scope(row);
  if (key === 'updated_at' || key === 'created_at') return html`<span title=${fmtTime(row[key])}>${ago(row[key])}</span>`;
  if (key === 'name' || key === 'username') return html`<span class="strong">${row[key] || row.id}</span>`;
  return display(row[key]);
}

// DeleteDialog is Kong Manager's delete confirmation.
export function DeleteDialog({ what, name, onConfirm, onClose }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  return html`<div class="modal-backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="modal" role="dialog" aria-label=${'Delete a ' + what}>
      <h3>Delete a ${what}</h3>
      <p>Are you sure you want to delete the ${what} <b>${name}</b>? This action cannot be reversed.</p>
      <${ErrorBox} error=${error} />
      <div class="form-actions">
        <button class="btn" onClick=${onClose}>Cancel</button>
        <button class="btn btn-danger" id="confirm-delete" disabled=${busy} onClick=${async () => {
          setBusy(true);
          try { await onConfirm(); onClose(); } catch (e) { setError(e); setBusy(false); }
        }}>Yes, delete</button>
      </div>
    </div>
  </div>`;
}

// EntityTable is a paged list of one collection path (/services,
// /services/{id}/routes, ...). It never loads more than one page: Kong's
// offset tokens go forward, a stack of them goes back. The filter is Kong
// Manager's "exact name or ID" lookup, one GET.
export function EntityTable({ kind, listPath, basePath, emptyAction }) {
  const [size, setSize] = useState(30);
  const [offsets, setOffsets] = useState([null]);
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [deleting, setDeleting] = useState(null);
  const offset = offsets[offsets.length - 1];
  const page = useLoad(async () => {
    if (applied) {
      const one = await getOrNull(`/${kind.key}/${enc(applied)}`);
      return { data: one ? [one] : [], next: null };
    }
    const q = new URLSearchParams({ size: String(size) });
    if (offset) q.set('offset', offset);
    return get(`${listPath}?${q}`);
  }, [listPath, size, offset, applied]);
  const rows = (page.data && page.data.data) || [];
  const next = page.data && page.data.next;
  const nextOffset = next ? new URL(next, location.origin).searchParams.get('offset') : null;
  return html`<div class="card table-card">
    <div class="toolbar">
      <form class="filter" onSubmit=${(e) => { e.preventDefault(); setOffsets([null]); setApplied(filter.trim()); }}>
        <input type="search" id="f-filter" placeholder="Filter by exact name or ID" value=${filter} aria-label="Filter"
          onInput=${(e) => { setFilter(e.target.value); if (!e.target.value) { setApplied(''); } }} />
      </form>
      <span class="spacer" />
      ${emptyAction}
    </div>
    <${ErrorBox} error=${page.error} />
    <table class="table" data-kind=${kind.key}>
      <thead><tr>${kind.columns.map(([, title]) => html`<th>${title}</th>`)}<th class="actions-col"></th></tr></thead>
      <tbody>
        ${rows.map((row) => html`<tr key=${row.id} data-id=${row.id} data-name=${row.name || row.username || ''} class="clickable"
            onClick=${(e) => { if (!e.target.closest('button,a')) navigate(`${basePath}/${row.id}`); }}>
          ${kind.columns.map(([key]) => html`<td data-col=${key}>${cell(row, key)}</td>`)}
          <td class="actions-col">
            <a class="btn btn-small" href=${`${basePath}/${row.id}/edit`}>Edit</a>
            <button class="btn btn-small btn-danger-ghost" onClick=${() => setDeleting(row)}>Delete</button>
          </td>
        </tr>`)}
      </tbody>
    </table>
    ${!page.loading && rows.length === 0 && html`<${Empty}>${applied ? `No ${kind.title.toLowerCase()} named or with ID "${applied}"` : `No ${kind.title} yet.`}</${Empty}>`}
    <div class="pager">
      <label>Items per page <select value=${size} onChange=${(e) => { setSize(Number(e.target.value)); setOffsets([null]); }}>
        ${PAGE_SIZES.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
      <span class="spacer" />
      <span class="muted">Page ${offsets.length}</span>
      <button class="btn btn-small" disabled=${offsets.length === 1} onClick=${() => setOffsets(offsets.slice(0, -1))}>Previous</button>
      <button class="btn btn-small" id="next-page" disabled=${!nextOffset} onClick=${() => setOffsets([...offsets, nextOffset])}>Next</button>
    </div>
    ${deleting && html`<${DeleteDialog} what=${kind.one} name=${deleting.name || deleting.username || deleting.id} onClose=${() => setDeleting(null)}
      onConfirm=${async () => { await api('DELETE', `/${kind.key}/${deleting.id}`); page.reload(); }} />`}
  </div>`;
}

export function ListPage({ kind }) {
  return html`<div>
    <div class="page-head">
      <div><h1>${kind.title}</h1><p class="lede">${kind.blurb}</p></div>
      <a class="btn btn-primary" href=${kind.createPath || `/${kind.key}/create`} id="new-entity">+ ${kind.newLabel}</a>
    </div>
    <${EntityTable} kind=${kind} listPath=${'/' + kind.key} basePath=${'/' + kind.key} />
  </div>`;
}

// resolveForeign turns {id: "<name>"} into {id: "<uuid>"} by looking the
// name up, so forms may take either (Kong's API takes the id).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
async function resolveForeign(schema, body) {
  for (const [name, def] of fieldsOf(schema)) {
    const ref = body[name];
    if (def.type !== 'foreign' || !ref || !ref.id || UUID.test(ref.id)) continue;
    const found = await getOrNull(`/${def.reference}/${enc(ref.id)}`);
    if (found) body[name] = { id: found.id };
  }
  return body;
}

const serverFields = ['id', 'created_at', 'updated_at'];

// changedFields is the PATCH body of an edit: the fields whose value moved.
export function changedFields(before, after) {
  const patch = {};
  for (const [k, v] of Object.entries(after)) {
    if (serverFields.includes(k)) continue;
    if (JSON.stringify(v) !== JSON.stringify(before[k])) patch[k] = v === undefined ? null : v;
  }
  return patch;
}

// FormPage creates (no id) or edits one entity. Creating sends what was
// set; editing PATCHes only the fields that changed.
export function FormPage({ kind, id, preset, parentPath, returnTo, skip }) {
  const collection = parentPath || '/' + kind.key;
  const load = useLoad(async () => {
    const entity = id ? await get(`/${kind.key}/${enc(id)}`) : null;
    const schema = kind.loadSchema ? await kind.loadSchema(entity ? entity.name : (preset || {}).name) : await get(`/schemas/${kind.key}`);
    return { schema, entity };
  }, [kind.key, id]);
  if (load.error) return html`<${ErrorBox} error=${load.error} />`;
  if (!load.data) return html`<p class="muted">Loading…</p>`;
  const { schema, entity } = load.data;
  const initial = entity ? structuredClone(entity) : { ...defaults(fieldsOf(schema)), ...(preset || {}) };
  const what = kind.key === 'plugins' ? ` · ${(entity || preset || {}).name}` : '';
  const title = (id ? `Edit ${kind.one}` : `Create ${kind.article} ${kind.one}`) + what;
  async function submit(body) {
    body = await resolveForeign(schema, structuredClone(body));
    let res;
    if (entity) {
      res = await api('PATCH', `/${kind.key}/${entity.id}`, changedFields(entity, body));
    } else {
      res = await api('POST', collection, prune(body) || {});
    }
    navigate(returnTo ? returnTo(res.data) : `/${kind.key}/${res.data.id}`);
  }
  return html`<div>
    <div class="page-head"><div><h1>${title}</h1>${entity && html`<p class="lede mono">${entity.name || entity.username || entity.id}</p>`}</div></div>
    <${EntityForm} key=${id || 'new'} schema=${schema} initial=${initial} submit=${submit} skip=${skip || kind.skip}
      submitLabel="Save" onCancel=${() => history.back()} />
  </div>`;
}

// DetailPage shows one entity with its tabs; tabs other than
// Configuration are rendered by the page given for them.
export function DetailPage({ kind, id, tab, tabPages }) {
  const [deleting, setDeleting] = useState(false);
  const load = useLoad(() => get(`/${kind.key}/${enc(id)}`), [kind.key, id]);
  if (load.error) return html`<${ErrorBox} error=${load.error} />`;
  if (!load.data) return html`<p class="muted">Loading…</p>`;
  const e = load.data;
  const base = `/${kind.key}/${e.id}`;
  const title = e.username || e.name || e.id;
  const Tab = tab && tabPages && tabPages[tab];
  return html`<div>
    <div class="crumbs"><a href=${'/' + kind.key}>${kind.title}</a> <span>/</span> <span>${title}</span></div>
    <div class="page-head">
      <div><h1>${title}</h1><p class="lede mono">${e.id}</p></div>
      <div class="head-actions">
        <a class="btn" href=${base + '/edit'} id="edit-entity">Edit</a>
        <button class="btn btn-danger-ghost" onClick=${() => setDeleting(true)}>Delete</button>
      </div>
    </div>
    <nav class="tabs">${kind.tabs.map(([t, title]) => html`<a class=${'tab' + ((tab || '') === t ? ' active' : '')} href=${t ? `${base}/${t}` : base}>${title}</a>`)}</nav>
    ${Tab ? html`<${Tab} entity=${e} kind=${kind} />` : html`<${Configuration} entity=${e} />`}
    ${deleting && html`<${DeleteDialog} what=${kind.one} name=${title} onClose=${() => setDeleting(false)}
      onConfirm=${async () => { await api('DELETE', base); navigate('/' + kind.key); }} />`}
  </div>`;
}

function Configuration({ entity }) {
  const keys = Object.keys(entity);
  const first = ['id', 'name', 'enabled', 'created_at', 'updated_at'];
  keys.sort((a, b) => (first.indexOf(a) + 1 || 99) - (first.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return html`<div class="card"><dl class="kv">${keys.map((k) => html`<div class="kv-row" data-field=${k}>
    <dt>${k}</dt><dd>${value(k, entity[k])}</dd></div>`)}</dl></div>`;
}

// value renders one field of the Configuration tab; a reference to a
// service links to it.
function value(k, v) {
  if (k.endsWith('_at')) return fmtTime(v);
  const ref = { service: 'services', route: 'routes', consumer: 'consumers' }[k];
  if (ref && v && v.id) return html`<a class="mono" href=${`/${ref}/${v.id}`}>${v.id}</a>`;
  if (v && typeof v === 'object' && !Array.isArray(v)) return html`<pre class="json-block">${JSON.stringify(v, null, 2)}</pre>`;
  return display(v);
}

export function ServiceRoutes({ entity }) {
  return html`<${EntityTable} kind=${kinds.routes} listPath=${`/services/${entity.id}/routes`} basePath="/routes"
    emptyAction=${html`<a class="btn btn-primary btn-small" href=${`/routes/create?service=${entity.id}`}>+ Add a route</a>`} />`;
}

// EntityPlugins is the Plugins tab of a service, route or consumer.
export function EntityPlugins({ entity, kind }) {
  return html`<${EntityTable} kind=${kinds.plugins} listPath=${`/${kind.key}/${entity.id}/plugins`} basePath="/plugins" />`;
}

// PluginSelect is Kong Manager's plugin picker: the plugins this node has.
export function PluginSelect() {
  const load = useLoad(() => get('/plugins/enabled'), []);
  const names = (load.data && load.data.enabled_plugins) || [];
  return html`<div>
    <div class="page-head"><div><h1>Select a Plugin</h1><p class="lede">The plugins this switchboard can run in Envoy.</p></div></div>
    <${ErrorBox} error=${load.error} />
    <div class="stats">${names.map((n) => html`<a class="stat" href=${`/plugins/create?name=${enc(n)}`} data-plugin=${n}>
      <div class="stat-n small-n">${n}</div><div class="stat-l">Enable</div></a>`)}</div>
  </div>`;
}
