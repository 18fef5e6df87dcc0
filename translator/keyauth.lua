-- Kong 3.9's key-auth (kong/plugins/key-auth/handler.lua), run by Envoy's
-- Lua filter on the routes a key-auth instance applies to. This source is
-- fixed (it sits in the Listener, which plugin changes never touch); each
-- route's LuaPerRoute.filter_context carries the instance's config and
-- every credential, laid out by translator/keyauth.go:
--   key_names        list of names, in the instance's order
--   key_in_header, key_in_query, key_in_body, hide_credentials,
--   run_on_preflight booleans
--   www_authenticate the WWW-Authenticate value of every 401
--   anonymous        "id|username|custom_id" of the anonymous consumer
--   anonymous_missing true when `anonymous` names no consumer (Kong: 500)
--   key:<key>        "consumer id|username|custom_id|credential id|expires"
-- Record fields are %-escaped; expires is a Unix time, 0 for none. A
-- credential is looked up by its own field so that a request converts one
-- string, not the whole credential list, into Lua.

local MSG_NO_KEY = "No API key found in request"
local MSG_UNAUTHORIZED = "Unauthorized"
local MSG_DUPLICATE = "Duplicate API key found"
local MSG_UNEXPECTED = "An unexpected error occurred"
local JSON = "application/json; charset=utf-8"

-- Identity headers Kong sets or clears on every authenticated request, so
-- that a client never chooses them.
local IDENTITY = {"x-consumer-id", "x-consumer-username", "x-consumer-custom-id",
                  "x-credential-identifier", "x-anonymous-consumer"}

local function hex_char(h) return string.char(tonumber(h, 16)) end

local function unescape(s) return (s:gsub("%%(%x%x)", hex_char)) end

local function fields(rec)
  local f = {}
  for v in string.gmatch(rec .. "|", "([^|]*)|") do f[#f + 1] = unescape(v) end
  return f
end

-- url_decode decodes one query or form component as nginx does ('+' is a
-- space).
local function url_decode(s)
  return (s:gsub("%+", " "):gsub("%%(%x%x)", hex_char))
end

local function arg_name(part)
  local eq = part:find("=", 1, true)
  return url_decode(eq and part:sub(1, eq - 1) or part), eq
end

-- args parses a query string or a form body as ngx.req.get_uri_args:
-- a bare name is true, a repeated name a table of its values.
local function args(s)
  local out = {}
  for part in string.gmatch(s, "[^&]+") do
    local name, eq = arg_name(part)
    local value = true
    if eq then value = url_decode(part:sub(eq + 1)) end
    local prev = out[name]
    if prev == nil then
      out[name] = value
    elseif type(prev) == "table" then
      prev[#prev + 1] = value
    else
      out[name] = {prev, value}
    end
  end
  return out
end

-- without_arg drops every occurrence of name and keeps the other
-- arguments in their order and original encoding, as Kong's
-- clear_query_arg does.
local function without_arg(s, name)
  local kept = {}
  for part in string.gmatch(s, "[^&]+") do
    if arg_name(part) ~= name then kept[#kept + 1] = part end
  end
  return table.concat(kept, "&")
end

-- JSON: only what key-auth needs of a body — the top-level members, the
-- type Kong's cjson would give each value (a string with its text, a table
-- for arrays and objects, anything else), and where each member sits so
-- that hide_credentials can cut it out without re-encoding the rest.

local function skip_ws(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end

local function utf8(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
                     0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local ESCAPES = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}

-- json_string decodes the string starting at s[i] == '"'; it returns the
-- text and the index after the closing quote, nil when malformed.
local function json_string(s, i)
  local buf, j = {}, i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then return nil end
    buf[#buf + 1] = s:sub(j, k - 1)
    if s:sub(k, k) == '"' then return table.concat(buf), k + 1 end
    local e = s:sub(k + 1, k + 1)
    if e == "u" then
      local cp = tonumber(s:sub(k + 2, k + 5):match("^%x%x%x%x$") or "", 16)
      if not cp then return nil end
      j = k + 6
      local lo = s:sub(j, j + 1) == "\\u" and tonumber(s:sub(j + 2, j + 5):match("^%x%x%x%x$") or "", 16)
      if cp >= 0xD800 and cp <= 0xDBFF and lo and lo >= 0xDC00 and lo <= 0xDFFF then
        cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
        j = j + 6
      end
      buf[#buf + 1] = utf8(cp)
    elseif ESCAPES[e] then
      buf[#buf + 1] = ESCAPES[e]
      j = k + 2
    else
      return nil
    end
  end
end

-- json_value returns the kind of the value at s[i] ("string" with its
-- text, "table", "other") and the index after it; nil when malformed.
local function json_value(s, i)
  local c = s:sub(i, i)
  if c == '"' then
    local v, j = json_string(s, i)
    if not v then return nil end
    return "string", v, j
  end
  if c == "{" or c == "[" then
    local depth, j = 0, i
    while true do
      local k = s:find('[%[%]{}"]', j)
      if not k then return nil end
      local ch = s:sub(k, k)
      if ch == '"' then
        local _, n = json_string(s, k)
        if not n then return nil end
        j = n
      else
        depth = depth + ((ch == "{" or ch == "[") and 1 or -1)
        j = k + 1
        if depth == 0 then return "table", nil, j end
      end
    end
  end
  local j = s:find("[,}%] \t\r\n]", i) or #s + 1
  if j == i then return nil end
  return "other", nil, j
end

-- json_members lists the top-level members of a JSON object body, nil when
-- the body is not one.
local function json_members(s)
  local i = skip_ws(s, 1)
  if s:sub(i, i) ~= "{" then return nil end
  local out = {}
  i = skip_ws(s, i + 1)
  if s:sub(i, i) == "}" then return out end
  while true do
    if s:sub(i, i) ~= '"' then return nil end
    local name, j = json_string(s, i)
    if not name then return nil end
    j = skip_ws(s, j)
    if s:sub(j, j) ~= ":" then return nil end
    local kind, value, k = json_value(s, skip_ws(s, j + 1))
    if not kind then return nil end
    out[#out + 1] = {name = name, kind = kind, value = value, text = s:sub(i, k - 1)}
    k = skip_ws(s, k)
    local c = s:sub(k, k)
    if c == "}" then return out end
    if c ~= "," then return nil end
    i = skip_ws(s, k + 1)
  end
end

-- multipart_parts lists the parts of a multipart/form-data body: the form
-- field name, its value and the part's text from its delimiter line up to
-- the next delimiter; nil when malformed.
local function multipart_parts(body, boundary)
  local delim = "--" .. boundary
  local pos = body:find(delim, 1, true)
  if not pos then return nil end
  local parts = {}
  while body:sub(pos + #delim, pos + #delim + 1) ~= "--" do
    local head = body:find("\r\n", pos + #delim, true)
    if not head then return nil end
    local value = body:find("\r\n\r\n", head, true)
    if not value then return nil end
    local nxt = body:find("\r\n" .. delim, value + 4, true)
    if not nxt then return nil end
    local name
    for line in body:sub(head + 2, value - 1):gmatch("[^\r\n]+") do
      if line:lower():find("^content%-disposition:") then name = line:match('[; ]name="([^"]*)"') end
    end
    parts[#parts + 1] = {name = name, value = body:sub(value + 4, nxt - 1), from = pos, to = nxt + 1}
    pos = nxt + 2
  end
  return parts
end

-- read_body is kong.request.get_body: the request body parsed by its
-- content type (form, JSON, multipart). values maps a field name to a
-- string, a table (repeated or not a string) or true (another JSON type);
-- nil when there is no body or it cannot be parsed (Kong then finds no key
-- there and leaves the body alone).
local function read_body(h)
  local buf = h:body()
  if buf == nil then return nil end
  local raw = buf:getBytes(0, buf:length())
  local ct = h:headers():get("content-type") or ""
  local lct = ct:lower()
  local b = {buf = buf, raw = raw, values = {}}
  if lct:find("application/x-www-form-urlencoded", 1, true) then
    b.kind, b.values = "form", args(raw)
  elseif lct:find("application/json", 1, true) then
    local members = json_members(raw)
    if not members then return nil end
    b.kind, b.members = "json", members
    for _, m in ipairs(members) do -- cjson keeps the last of repeated names
      if m.kind == "string" then b.values[m.name] = m.value
      elseif m.kind == "table" then b.values[m.name] = {}
      else b.values[m.name] = true end
    end
  elseif lct:find("multipart/form-data", 1, true) then
    local boundary = ct:match('[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"') or ct:match("[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
    local parts = boundary and multipart_parts(raw, boundary)
    if not parts then return nil end
    b.kind, b.parts = "multipart", parts
    for _, p in ipairs(parts) do
      if p.name then
        local prev = b.values[p.name]
        b.values[p.name] = prev == nil and p.value or {}
      end
    end
  else
    return nil
  end
  return b
end

-- hide_in_body rewrites the body without name, in its own MIME type.
local function hide_in_body(b, name)
  local out
  if b.kind == "form" then
    out = without_arg(b.raw, name)
  elseif b.kind == "json" then
    local kept = {}
    for _, m in ipairs(b.members) do
      if m.name ~= name then kept[#kept + 1] = m.text end
    end
    out = "{" .. table.concat(kept, ",") .. "}"
  else
    local cut, last = {}, 1
    for _, p in ipairs(b.parts) do
      if p.name == name then
        cut[#cut + 1] = b.raw:sub(last, p.from - 1)
        last = p.to + 1
      end
    end
    cut[#cut + 1] = b.raw:sub(last)
    out = table.concat(cut)
  end
  if out ~= b.raw then b.buf:setBytes(out) end
end

-- header_value is ngx.req.get_headers()[name]: case-insensitive, a name
-- with '_' also matching '-', a table when the header came more than once.
local function header_value(hd, name)
  local vals = {}
  for _, n in ipairs(name.spellings) do
    for i = 0, hd:getNumValues(n) - 1 do vals[#vals + 1] = hd:getAtIndex(n, i) end
  end
  if #vals == 0 then return nil end
  if #vals == 1 then return vals[1] end
  return vals
end

local function split_path(path)
  local q = path:find("?", 1, true)
  if not q then return path, nil end
  return path:sub(1, q - 1), path:sub(q + 1)
end

-- find_key is Kong's key search: per name, in order, the header, then the
-- query argument, then the body field, each where enabled; the first
-- string wins and a repeated one is refused. With hide_credentials the
-- matched name leaves the headers, the query string and the body.
local function find_key(h, conf)
  local in_header, in_query, in_body = conf.key_in_header, conf.key_in_query, conf.key_in_body
  local hd = h:headers()
  local path, query = split_path(hd:get(":path") or "/")
  local qargs = in_query and args(query or "") or {}
  local body, body_read = nil, false
  for _, n in ipairs(conf.key_names or {}) do
    local lower = n:lower()
    local name = {raw = n, spellings = {lower}}
    -- nginx's header table looks a name up as given, then with '_' read
    -- as '-': key name api_key finds header api-key, not the reverse.
    local alt = lower:gsub("_", "-")
    if alt ~= lower then name.spellings[2] = alt end
    local v
    if in_header then v = header_value(h:headers(), name) end
    if not v and in_query then v = qargs[n] end
    if not v and in_body then
      if not body_read then body, body_read = read_body(h), true end
      v = body and body.values[n]
    end
    if type(v) == "string" then
      if conf.hide_credentials then
        hd = h:headers()
        if query then
          local rest = without_arg(query, n)
          hd:replace(":path", rest == "" and path or path .. "?" .. rest)
        end
        for _, s in ipairs(name.spellings) do hd:remove(s) end
        if in_body then
          if not body_read then body, body_read = read_body(h), true end
          if body then hide_in_body(body, n) end
        end
      end
      return v
    elseif type(v) == "table" then
      return nil, MSG_DUPLICATE
    end
  end
  return nil
end

-- respond ends the request as kong.response.error does: Kong's JSON body,
-- or for a gRPC request the bare message, which Envoy turns into the
-- grpc-message of a trailers-only reply (401 → grpc-status 16).
local function respond(h, status, message, www)
  local headers = {[":status"] = tostring(status), ["content-type"] = JSON}
  if www then headers["www-authenticate"] = www end
  local ct = h:headers():get("content-type") or ""
  if ct:sub(1, 16) == "application/grpc" then
    h:respond(headers, message)
    return
  end
  h:respond(headers, '{"message":"' .. message .. '"}')
end

-- set_identity is Kong's set_consumer: the consumer's headers upstream
-- (absent values cleared), the credential's or the anonymous flag, and the
-- identity in dynamic metadata (namespace switchboard) for the stages after
-- this one — the consumer hash and rate limiting — which must never read a
-- client-writable header.
local function set_identity(h, id, username, custom_id, credential)
  local hd = h:headers()
  for _, n in ipairs(IDENTITY) do hd:remove(n) end
  if id ~= "" then hd:add("X-Consumer-ID", id) end
  if custom_id ~= "" then hd:add("X-Consumer-Custom-ID", custom_id) end
  if username ~= "" then hd:add("X-Consumer-Username", username) end
  local md = h:streamInfo():dynamicMetadata()
  md:set("switchboard", "consumer", id)
  if credential then
    hd:add("X-Credential-Identifier", credential)
    md:set("switchboard", "credential", credential)
  else
    hd:add("X-Anonymous-Consumer", "true")
  end
end

-- CONFIG are the filter-context fields read up front: Envoy invalidates
-- the filter context object (like the headers) once the body was read.
local CONFIG = {"key_names", "key_in_header", "key_in_query", "key_in_body", "hide_credentials",
                "run_on_preflight", "www_authenticate", "anonymous", "anonymous_missing"}

local function run(h)
  local fc, conf = h:filterContext(), {}
  for _, k in ipairs(CONFIG) do conf[k] = fc:get(k) end
  if not conf.run_on_preflight and h:headers():get(":method") == "OPTIONS" then
    return -- Kong skips the plugin for preflight requests
  end
  local key, failure = find_key(h, conf)
  local cred
  if not failure then
    if key == nil or key == "" then
      failure = MSG_NO_KEY
    else
      local rec = h:filterContext():get("key:" .. key)
      cred = rec and fields(rec)
      local expires = cred and tonumber(cred[5]) or 0
      if not cred or (expires > 0 and os.time() >= expires) then
        cred, failure = nil, MSG_UNAUTHORIZED
      end
    end
  end
  if cred then
    return set_identity(h, cred[1], cred[2], cred[3], cred[4])
  end
  -- anonymous set: Kong's logical OR, every failure falls back to it.
  if conf.anonymous_missing then
    return respond(h, 500, MSG_UNEXPECTED)
  end
  if conf.anonymous then
    local a = fields(conf.anonymous)
    return set_identity(h, a[1], a[2], a[3], nil)
  end
  respond(h, 401, failure, conf.www_authenticate)
end

function envoy_on_request(h)
  -- A script error must not let the request through unauthenticated
  -- (Envoy continues the request after a Lua error): answer as Kong does
  -- on an internal error.
  local ok, err = pcall(run, h)
  if not ok then
    h:logErr("key-auth: " .. tostring(err))
    respond(h, 500, MSG_UNEXPECTED)
  end
end
