// form.mjs: one form renderer for every entity, driven by the Admin API's
// own /schemas/{entity} (Kong's Lua-schema JSON), with a raw JSON editor as
// the fallback for anything the fields do not cover. Errors from Kong's
// error body ("fields") are shown under the field they name.
import { html, useState, useEffect, useRef } from '../vendor/preact-htm.mjs';
import { get } from './api.mjs';

// fieldsOf turns Kong's [{name: def}, ...] into [[name, def], ...].
export const fieldsOf = (schema) => (schema.fields || []).map((f) => Object.entries(f)[0]);

// Auto fields (ids, timestamps) are the server's.
const hidden = (def) => def.auto;

// label is Kong Manager's Title Case wording of a field name.
const ACRONYMS = { tls: 'TLS', ca: 'CA', sni: 'SNI', snis: 'SNIs', id: 'ID', url: 'URL', http: 'HTTP', https: 'HTTPS',
  ip: 'IP', tcp: 'TCP', dns: 'DNS', ttl: 'TTL', uri: 'URI' };
export function label(name) {
  return name.split('_').map((w) => ACRONYMS[w] || w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

// defaults builds the value of a record from the schema's defaults.
export function defaults(fields) {
  const out = {};
  for (const [name, def] of fields) {
    if (hidden(def)) continue;
    if (def.type === 'record' && def.fields) {
      out[name] = def.default !== undefined && def.default !== null ? def.default : defaults(fieldsOf(def));
    } else if (def.default !== undefined) {
      out[name] = structuredClone(def.default);
    }
  }
  return out;
}

// flattenErrors turns Kong's nested "fields" into {"a.b": "message"}.
export function flattenErrors(fields, prefix, out) {
  out = out || {};
  if (!fields || typeof fields !== 'object') return out;
  for (const [k, v] of Object.entries(fields)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[p] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[p] = v.join('; ');
    else if (v && typeof v === 'object') flattenErrors(v, p, out);
  }
  return out;
}

// prune drops empty values so that a create sends only what was set.
export function prune(v) {
  if (Array.isArray(v)) return v.length ? v : undefined;
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === '' || v === undefined) return undefined;
  return v;
}

function FieldError({ path, errors }) {
  const msg = errors[path];
  if (!msg) return null;
  return html`<p class="field-error" data-field=${path} role="alert">${msg}</p>`;
}

// TextList edits a set/array of scalars as comma-separated text, keeping
// the raw text so that typing "a, " is not rewritten under the cursor.
function TextList({ id, value, onChange, integer }) {
  const shown = (value || []).join(', ');
  const [raw, setRaw] = useState(shown);
  useEffect(() => {
    if (parse(raw).join(', ') !== shown) setRaw(shown);
  }, [shown]);
  function parse(s) {
    const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
    return integer ? parts.map((x) => (/^-?\d+$/.test(x) ? Number(x) : x)) : parts;
  }
  return html`<input id=${id} type="text" value=${raw} placeholder="comma-separated"
    onInput=${(e) => { setRaw(e.target.value); onChange(parse(e.target.value)); }} />`;
}

// JSONField edits any value as JSON text.
function JSONField({ id, value, onChange }) {
  const shown = value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
  const [raw, setRaw] = useState(shown);
  const [bad, setBad] = useState(false);
  useEffect(() => { if (!bad) setRaw(shown); }, [shown]);
  return html`<div>
    <textarea id=${id} class="mono" rows="3" value=${raw} onInput=${(e) => {
      setRaw(e.target.value);
      if (e.target.value.trim() === '') { setBad(false); onChange(null); return; }
      try { onChange(JSON.parse(e.target.value)); setBad(false); } catch (err) { setBad(true); }
    }} />
    ${bad && html`<p class="field-hint warn">Not valid JSON yet</p>`}
  </div>`;
}

// Picker chooses a foreign entity from the first page of its collection
// (a certificate for an SNI); "other" falls back to typing an ID.
function Picker({ id, def, value, onChange, describe }) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    get(`/${def.reference}?size=100`).then((r) => setRows(r.data || [])).catch(() => setRows([]));
  }, [def.reference]);
  const cur = (value && value.id) || '';
  if (rows === null) return html`<select id=${id} disabled><option>Loading…</option></select>`;
  const known = rows.some((r) => r.id === cur);
  return html`<select id=${id} value=${cur} onChange=${(e) => onChange(e.target.value ? { id: e.target.value } : null)}>
    <option value="">Select…</option>
    ${!known && cur && html`<option value=${cur}>${cur}</option>`}
    ${rows.map((r) => html`<option value=${r.id}>${describe(r)}</option>`)}
  </select>`;
}

function Input({ name, def, path, value, onChange, opts }) {
  const id = 'f-' + path.replace(/\./g, '-');
  const el = def.elements || {};
  const picker = opts.pickers && opts.pickers[path];
  if (def.type === 'foreign' && picker) return html`<${Picker} id=${id} def=${def} value=${value} onChange=${onChange} describe=${picker} />`;
  if (def.type === 'string' && opts.textareas && opts.textareas.includes(path)) {
    return html`<textarea id=${id} class="mono pem" rows="8" spellcheck="false" value=${value ?? ''}
      onInput=${(e) => onChange(e.target.value === '' ? null : e.target.value)} />`;
  }
  switch (def.type) {
    case 'string':
      if (def.one_of) {
        return html`<select id=${id} value=${value ?? ''} onChange=${(e) => onChange(e.target.value || null)}>
          ${!def.required && html`<option value="">–</option>`}
          ${def.one_of.map((o) => html`<option value=${o}>${o}</option>`)}
        </select>`;
      }
      return html`<input id=${id} type="text" value=${value ?? ''} onInput=${(e) => onChange(e.target.value === '' ? null : e.target.value)} />`;
    case 'integer':
    case 'number':
      return html`<input id=${id} type="number" step=${def.type === 'integer' ? 1 : 'any'} value=${value ?? ''}
        min=${def.between ? def.between[0] : undefined} max=${def.between ? def.between[1] : undefined}
        onInput=${(e) => onChange(e.target.value === '' ? null : Number(e.target.value))} />`;
    case 'boolean':
      return html`<label class="switch"><input id=${id} type="checkbox" checked=${!!value} onChange=${(e) => onChange(e.target.checked)} /><span>${value ? 'Enabled' : 'Disabled'}</span></label>`;
    case 'set':
    case 'array':
      if (el.one_of) {
        const cur = value || [];
        return html`<div class="checks" id=${id}>${el.one_of.map((o) => html`<label class="check">
          <input type="checkbox" value=${o} checked=${cur.includes(o)}
            onChange=${(e) => onChange(e.target.checked ? [...cur, o] : cur.filter((x) => x !== o))} /> ${o}</label>`)}</div>`;
      }
      if (el.type === 'string' || el.type === 'integer' || el.type === 'number') {
        return html`<${TextList} id=${id} value=${value} onChange=${onChange} integer=${el.type !== 'string'} />`;
      }
      return html`<${JSONField} id=${id} value=${value} onChange=${onChange} />`;
    case 'foreign':
      return html`<input id=${id} type="text" placeholder="ID or name" value=${(value && (value.id || value.name)) || ''}
        onInput=${(e) => onChange(e.target.value ? { id: e.target.value } : null)} />`;
    default:
      return html`<${JSONField} id=${id} value=${value} onChange=${onChange} />`;
  }
}

// Fields renders a record's fields; nested records become collapsible
// groups (upstream health checks nest four deep).
// opts: textareas (paths edited as multi-line text: PEM blocks) and
// pickers (path → row description, for a foreign field chosen from a list).
export function Fields({ fields, value, onChange, errors, prefix, skip, opts }) {
  opts = opts || {};
  return fields.filter(([name, def]) => !hidden(def) && !(skip && skip.includes(name))).map(([name, def]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    const v = value ? value[name] : undefined;
    const set = (nv) => onChange({ ...(value || {}), [name]: nv });
    if (def.type === 'record' && def.fields) {
      const hasError = Object.keys(errors).some((k) => k.startsWith(path + '.'));
      return html`<details class="group" open=${hasError} data-field=${path}>
        <summary>${label(name)} <code>${path}</code></summary>
        <${FieldError} path=${path} errors=${errors} />
        <div class="group-body form-grid">
          <${Fields} fields=${fieldsOf(def)} value=${v} onChange=${set} errors=${errors} prefix=${path} opts=${opts} />
        </div>
      </details>`;
    }
    const required = def.required && def.default === undefined;
    const el = def.elements || {};
    const scalarList = (def.type === 'set' || def.type === 'array') && !el.one_of && ['string', 'integer', 'number'].includes(el.type);
    const wide = (!['string', 'integer', 'number', 'boolean', 'foreign'].includes(def.type) && !scalarList) ||
      (opts.textareas || []).includes(path);
    return html`<div class=${'field' + (wide ? ' wide' : '') + (errors[path] ? ' has-error' : '')} data-field=${path}>
      <label for=${'f-' + path.replace(/\./g, '-')}>${label(name)}${required && html`<span class="req">*</span>`} <code>${name}</code></label>
      <${Input} name=${name} def=${def} path=${path} value=${v} onChange=${set} opts=${opts} />
      <${FieldError} path=${path} errors=${errors} />
    </div>`;
  });
}

// EntityForm is the create/edit form: a Form tab rendered from the schema
// and a JSON tab editing the same body. submit(body) returns a promise;
// an ApiError's fields land under their inputs.
export function EntityForm({ schema, initial, submit, submitLabel, onCancel, skip, opts }) {
  const fields = fieldsOf(schema);
  const [value, setValue] = useState(initial);
  const [mode, setMode] = useState('form');
  const [raw, setRaw] = useState('');
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  // After a failed save, bring the first message into view.
  useEffect(() => {
    const el = formRef.current && formRef.current.querySelector('.field-error, #form-error');
    if (el) el.scrollIntoView({ block: 'center' });
  }, [errors, message]);

  function toJSON() { setRaw(JSON.stringify(prune(value) || {}, null, 2)); setMode('json'); }
  function toForm() {
    try { setValue(JSON.parse(raw || '{}')); setMode('form'); setMessage(null); } catch (e) { setMessage('The JSON is not valid: ' + e.message); }
  }
  async function onSubmit(ev) {
    ev.preventDefault();
    let body = value;
    if (mode === 'json') {
      try { body = JSON.parse(raw || '{}'); } catch (e) { setMessage('The JSON is not valid: ' + e.message); return; }
    }
    setBusy(true); setErrors({}); setMessage(null);
    try {
      await submit(body);
    } catch (e) {
      const fe = flattenErrors(e.body && e.body.fields);
      setErrors(fe);
      const entityErrs = (e.body && e.body.fields && e.body.fields['@entity']) || [];
      setMessage([e.message, ...(Array.isArray(entityErrs) ? entityErrs : [])].join(' — '));
      if (mode === 'json' && Object.keys(fe).length) setMode('form');
    } finally { setBusy(false); }
  }
  return html`<form class="card form" ref=${formRef} onSubmit=${onSubmit} novalidate>
    <div class="tabs small">
      <button type="button" class=${mode === 'form' ? 'tab active' : 'tab'} onClick=${() => mode === 'json' && toForm()}>Form</button>
      <button type="button" class=${mode === 'json' ? 'tab active' : 'tab'} onClick=${() => mode === 'form' && toJSON()}>JSON</button>
    </div>
    ${message && html`<div class="alert alert-error" role="alert" id="form-error">${message}</div>`}
    ${mode === 'form'
      ? html`<div class="form-grid"><${Fields} fields=${fields} value=${value} onChange=${setValue} errors=${errors} skip=${skip} opts=${opts} /></div>`
      : html`<textarea class="mono json-editor" rows="22" value=${raw} onInput=${(e) => setRaw(e.target.value)} aria-label="JSON body" />`}
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="btn btn-primary" disabled=${busy} id="form-submit">${busy ? 'Saving…' : submitLabel}</button>
    </div>
  </form>`;
}
