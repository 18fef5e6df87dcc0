// cert.mjs: what Kong Manager shows of a PEM certificate (subject, issuer,
// expiry, SAN names), read in the browser: the Admin API stores the PEM
// only. A small DER walk over RFC 5280's TBSCertificate; anything it
// cannot read shows as "–", never an error.

// der reads one TLV at i: {tag, start (of the value), end}.
function der(b, i) {
  const tag = b[i];
  let len = b[i + 1];
  let p = i + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) throw new Error('DER length');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[p++];
  }
  if (p + len > b.length) throw new Error('DER overrun');
  return { tag, start: p, end: p + len };
}

function children(b, t) {
  const out = [];
  for (let i = t.start; i < t.end;) {
    const c = der(b, i);
    out.push(c);
    i = c.end;
  }
  return out;
}

const text = (b, t) => new TextDecoder().decode(b.subarray(t.start, t.end));
const oid = (b, t) => Array.from(b.subarray(t.start, t.end)).join('.');

// Attribute OIDs by their DER bytes (2.5.4.x is 85.4.x).
const NAMES = { '85.4.3': 'CN', '85.4.10': 'O', '85.4.11': 'OU', '85.4.6': 'C', '85.4.7': 'L', '85.4.8': 'ST' };

function name(b, t) {
  const parts = [];
  for (const set of children(b, t)) {
    for (const atv of children(b, set)) {
      const [o, v] = children(b, atv);
      const short = NAMES[oid(b, o)];
      if (short) parts.push(`${short}=${text(b, v)}`);
    }
  }
  return parts.join(', ');
}

function time(b, t) {
  let s = text(b, t);
  if (t.tag === 0x17) s = (Number(s.slice(0, 2)) < 50 ? '20' : '19') + s; // UTCTime
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(s);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// sans reads the subjectAltName extension's DNS names and IP addresses.
function sans(b, exts) {
  const out = [];
  for (const ext of children(b, children(b, exts)[0])) {
    const parts = children(b, ext);
    if (oid(b, parts[0]) !== '85.29.17') continue;
    const seq = der(b, parts[parts.length - 1].start);
    for (const g of children(b, seq)) {
      if (g.tag === 0x82) out.push(text(b, g));
      if (g.tag === 0x87 && g.end - g.start === 4) out.push(Array.from(b.subarray(g.start, g.end)).join('.'));
    }
  }
  return out;
}

// certInfo parses the first certificate of a PEM chain, or returns null.
export function certInfo(pem) {
  try {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem || '');
    if (!m) return null;
    const b = Uint8Array.from(atob(m[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
    const tbs = children(b, der(b, 0))[0];
    let f = children(b, tbs);
    if (f[0].tag === 0xa0) f = f.slice(1); // explicit version
    const [, , issuer, validity, subject] = f;
    const [notBefore, notAfter] = children(b, validity);
    const exts = f.find((x) => x.tag === 0xa3);
    return {
      subject: name(b, subject), issuer: name(b, issuer),
      notBefore: time(b, notBefore), notAfter: time(b, notAfter), sans: exts ? sans(b, exts) : [],
    };
  } catch (e) {
    return null;
  }
}
