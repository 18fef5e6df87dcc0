// entities.mjs: Gateway Services, Routes, Consumers, Plugins, Upstreams,
// Certificates, SNIs and CA Certificates with Kong Manager's
// URLs, column names and wording: a paged list with an exact name-or-ID
// filter, a detail page with tabs, and create/edit forms from /schemas.
import { html, useState } from '../vendor/preact-htm.mjs';
import { api, get, getOrNull, enc } from './api.mjs';
import { navigate, useLoad, ago, fmtTime, display, ErrorBox, Empty } from './util.mjs';
import { EntityForm, defaults, fieldsOf, prune } from './form.mjs';
import { certInfo } from './cert.mjs';

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
    tabs: [['', 'Configuration'], ['credentials', 'Credentials'], ['plugins', 'Plugins']],
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
  certificates: {
    key: 'certificates', title: 'Certificates', one: 'Certificate', article: 'a', newLabel: 'New certificate',
    columns: [['subject', 'Subject'], ['expiry', 'Expiry'], ['san', 'SAN Names'], ['snis', 'SNIs'], ['tags', 'Tags'],
      ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration'], ['snis', 'SNIs']],
    textareas: ['cert', 'key', 'cert_alt', 'key_alt'],
    certSummary: true,
    // snis is Kong's shorthand (the certificate's SNI names, in and out);
    // /schemas/certificates does not list it, the form does.
    loadSchema: async () => {
      const base = await get('/schemas/certificates');
      const fields = fieldsOf(base).map(([n, d]) => ({ [n]: d }));
      const at = fields.findIndex((f) => 'tags' in f);
      fields.splice(at < 0 ? fields.length : at, 0, { snis: { type: 'array', elements: { type: 'string' } } });
      return { ...base, fields };
    },
    blurb: 'A Certificate is a PEM certificate and its private key; Envoy serves it to TLS clients that ask for one of its SNIs.',
  },
  snis: {
    key: 'snis', title: 'SNIs', one: 'SNI', article: 'an', newLabel: 'New SNI',
    columns: [['name', 'Name'], ['certificate', 'Certificate'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration']],
    pickers: { certificate: describeCertificate },
    blurb: 'An SNI maps a hostname (or a wildcard) a TLS client asks for to the Certificate served for it.',
  },
  ca_certificates: {
    key: 'ca_certificates', path: 'ca-certificates', title: 'CA Certificates', one: 'CA Certificate', article: 'a',
    newLabel: 'New CA certificate',
    columns: [['subject', 'Subject'], ['issuer', 'Issuer'], ['expiry', 'Expiry'], ['tags', 'Tags'], ['updated_at', 'Last Modified']],
    tabs: [['', 'Configuration']],
    textareas: ['cert'],
    skip: ['cert_digest'],
    certSummary: true,
    blurb: 'CA Certificates are trusted roots: services verify the upstream\'s certificate against them (tls_verify, ca_certificates).',
  },
};
// Kong Manager's URL for CA certificates has a dash; the API's has not.
kinds['ca-certificates'] = kinds.ca_certificates;

// ui is the Manager's path of a kind's pages.
export const ui = (kind) => '/' + (kind.path || kind.key);

// describeCertificate is a certificate as the SNI form's picker shows it.
function describeCertificate(c) {
  const info = certInfo(c.cert);
  const names = (c.snis || []).join(', ');
  return [info ? info.subject : c.id.slice(0, 8), names && `(${names})`].filter(Boolean).join(' ');
}

// certCell renders the columns read from a PEM (Subject, Expiry, ...).
function certCell(row, key) {
  const info = certInfo(row.cert);
  if (!info) return '–';
  if (key === 'subject') return html`<span class="strong">${info.subject || '–'}</span>`;
  if (key === 'issuer') return info.issuer || '–';
  if (key === 'san') return display(info.sans);
  const left = info.notAfter - Date.now();
  const cls = left < 0 ? 'bad' : left < 30 * 86400e3 ? 'warn' : '';
  return html`<span class=${cls} title=${info.notAfter.toISOString()}>${info.notAfter.toISOString().slice(0, 10)}${left < 0 ? ' (expired)' : ''}</span>`;
}

// scope is Kong Manager's "Applied To" of a plugin.
function scope(row) {
  const parts = [['service', 'Service'], ['route', 'Route'], ['consumer', 'Consumer']]
    .filter(([k]) => row[k] && row[k].id).map(([k, label]) => html`<span class="chip">${label} ${row[k].id.slice(0, 8)}</span>`);
  return parts.length ? html`<span class="chips">${parts}</span>` : html`<span class="pill">Global</span>`;
}

function cell(row, key) {
  if (key === 'scope') return scope(row);
  if (['subject', 'issuer', 'san', 'expiry'].includes(key)) return certCell(row, key);
  if (key === 'certificate' && row.certificate) return html`<a class="mono" href=${`/certificates/${row.certificate.id}`}>${row.certificate.id.slice(0, 8)}</a>`;
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
      <a class="btn btn-primary" href=${kind.createPath || `${ui(kind)}/create`} id="new-entity">+ ${kind.newLabel}</a>
    </div>
    <${EntityTable} kind=${kind} listPath=${'/' + kind.key} basePath=${ui(kind)} />
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
    navigate(returnTo ? returnTo(res.data) : `${ui(kind)}/${res.data.id}`);
  }
  return html`<div>
    <div class="page-head"><div><h1>${title}</h1>${entity && html`<p class="lede mono">${entity.name || entity.username || entity.id}</p>`}</div></div>
    <${EntityForm} key=${id || 'new'} schema=${schema} initial=${initial} submit=${submit} skip=${skip || kind.skip}
      opts=${{ textareas: kind.textareas, pickers: kind.pickers }}
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
  const base = `${ui(kind)}/${e.id}`;
  const info = kind.certSummary && certInfo(e.cert);
  const title = e.username || e.name || (info && info.subject) || e.id;
  const Tab = tab && tabPages && tabPages[tab];
  return html`<div>
    <div class="crumbs"><a href=${ui(kind)}>${kind.title}</a> <span>/</span> <span>${title}</span></div>
    <div class="page-head">
      <div><h1>${title}</h1><p class="lede mono">${e.id}</p></div>
      <div class="head-actions">
        <a class="btn" href=${base + '/edit'} id="edit-entity">Edit</a>
        <button class="btn btn-danger-ghost" onClick=${() => setDeleting(true)}>Delete</button>
      </div>
    </div>
    <nav class="tabs">${kind.tabs.map(([t, title]) => html`<a class=${'tab' + ((tab || '') === t ? ' active' : '')} href=${t ? `${base}/${t}` : base}>${title}</a>`)}</nav>
    ${Tab ? html`<${Tab} entity=${e} kind=${kind} />` : html`${kind.certSummary && html`<${CertSummary} pem=${e.cert} />`}<${Configuration} entity=${e} />`}
    ${deleting && html`<${DeleteDialog} what=${kind.one} name=${title} onClose=${() => setDeleting(false)}
      onConfirm=${async () => { await api('DELETE', `/${kind.key}/${e.id}`); navigate(ui(kind)); }} />`}
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
  const ref = { service: 'services', route: 'routes', consumer: 'consumers', certificate: 'certificates' }[k];
  if (typeof v === 'string' && v.startsWith('-----BEGIN')) return html`<pre class="json-block pem">${v}</pre>`;
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

// CertSummary is what the PEM says, above a certificate's configuration.
function CertSummary({ pem }) {
  const info = certInfo(pem);
  if (!info) return html`<div class="alert alert-error">The certificate could not be read in the browser.</div>`;
  const rows = [['Subject', info.subject], ['Issuer', info.issuer], ['Valid from', info.notBefore && info.notBefore.toISOString()],
    ['Expiry', info.notAfter && info.notAfter.toISOString()], ['SAN Names', info.sans.join(', ') || '–']];
  return html`<div class="card cert-summary"><dl class="kv">${rows.map(([k, v]) => html`<div class="kv-row" data-cert=${k}>
    <dt>${k}</dt><dd>${v || '–'}</dd></div>`)}</dl></div>`;
}

// CertificateSNIs is the SNIs tab of a certificate.
export function CertificateSNIs({ entity }) {
  return html`<${EntityTable} kind=${kinds.snis} listPath=${`/certificates/${entity.id}/snis`} basePath="/snis"
    emptyAction=${html`<a class="btn btn-primary btn-small" id="add-sni" href=${`/snis/create?certificate=${entity.id}`}>+ Add an SNI</a>`} />`;
}

// Key-auth credentials as Kong's /consumers/{c}/key-auth takes them: the
// key is generated when left empty, ttl is a write option (seconds).
const keyAuthSchema = { fields: [{ key: { type: 'string' } }, { ttl: { type: 'integer', between: [0, 100000000] } },
  { tags: { type: 'set', elements: { type: 'string' } } }] };

// ConsumerCredentials is a consumer's Credentials tab (Key Auth; the only
// credential plugin switchboard runs).
export function ConsumerCredentials({ entity }) {
  const path = `/consumers/${entity.id}/key-auth`;
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState(null);
  const list = useLoad(() => get(`${path}?size=100`), [path]);
  const rows = (list.data && list.data.data) || [];
  return html`<div class="card table-card" id="key-auth">
    <div class="toolbar"><h3>Key Auth</h3><span class="spacer" />
      <button class="btn btn-primary btn-small" id="new-key-auth" onClick=${() => setAdding(!adding)}>+ New Key Auth Credential</button></div>
    ${adding && html`<${EntityForm} schema=${keyAuthSchema} initial=${{}} submitLabel="Create" onCancel=${() => setAdding(false)}
      submit=${async (body) => { await api('POST', path, prune(body) || {}); setAdding(false); list.reload(); }} />`}
    <${ErrorBox} error=${list.error} />
    <table class="table" data-kind="key-auth">
      <thead><tr><th>Key</th><th>Tags</th><th>Expires</th><th>Created</th><th class="actions-col"></th></tr></thead>
      <tbody>${rows.map((c) => html`<tr key=${c.id} data-id=${c.id} data-key=${c.key}>
        <td class="mono" data-col="key">${c.key}</td><td>${display(c.tags)}</td>
        <td>${c.expires_at ? fmtTime(c.expires_at) : 'never'}</td>
        <td><span title=${fmtTime(c.created_at)}>${ago(c.created_at)}</span></td>
        <td class="actions-col"><button class="btn btn-small btn-danger-ghost" onClick=${() => setDeleting(c)}>Delete</button></td>
      </tr>`)}</tbody>
    </table>
    ${!list.loading && rows.length === 0 && html`<${Empty}>No key-auth credentials yet.</${Empty}>`}
    ${list.data && list.data.next && html`<p class="muted">Showing the first 100; the rest are at ${path}.</p>`}
    ${deleting && html`<${DeleteDialog} what="Key Auth Credential" name=${deleting.key} onClose=${() => setDeleting(null)}
      onConfirm=${async () => { await api('DELETE', `${path}/${deleting.id}`); list.reload(); }} />`}
  </div>`;
}
