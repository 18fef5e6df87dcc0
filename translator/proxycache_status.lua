-- proxy-cache status stage (Lua, right before Envoy's cache filter; the
-- sha256 function is prepended from proxycache_sha256.lua).
--
-- On the way in it decides whether Kong would look the request up at all
-- (else Bypass), builds Kong's cache key, and rewrites the query the cache
-- filter keys on into that key: Kong's rules (sorted or selected query
-- args, vary_headers, route, consumer) and the purge generation then decide
-- what is one entry, not Envoy's raw URL. The cache sends what it may store
-- through the internal listener of the bootstrap, whose store stage
-- (envoy/proxycache_store.lua) puts the query back from x-sb-cache-q and
-- decides, as Kong would, whether the response is stored.
--
-- On the way out it names what happened (X-Cache-Status), puts back the
-- response headers the store stage replaced, and adds X-Cache-Key.
--
-- Per-route values come from the route's metadata under this filter's name
-- (translator/proxycache.go writes them).
local NS = "switchboard.proxy_cache"
local internal = {"x-sb-cache", "x-sb-cache-q", "x-sb-cache-rcc", "x-sb-cache-rpragma", "x-sb-cache-xff", "x-sb-cache-ip"}

local sets = {}
-- set parses a space-separated list into a lookup table, memoised: the
-- lists come from route metadata and repeat on every request.
local function set(s)
  s = s or ""
  local t = sets[s]
  if t == nil then
    t = {}
    for v in s:gmatch("%S+") do t[v] = true end
    sets[s] = t
  end
  return t
end

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end))
end

-- argsKey is Kong's "k=v:k2=v2" of the query args: sorted by name,
-- repeated values sorted and comma-joined, valueless args bare; only the
-- names in only when it is given (vary_query_params).
local function argsKey(q, only)
  local vals, names = {}, {}
  for part in q:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=(.*)$")
    if k == nil then k = part end
    k = unescape(k)
    if only == nil or only[k] then
      if vals[k] == nil then
        vals[k] = {}
        names[#names + 1] = k
      end
      local list = vals[k]
      list[#list + 1] = v and unescape(v) or false
    end
  end
  table.sort(names)
  local out = {}
  for _, k in ipairs(names) do
    local list = vals[k]
    if #list == 1 and list[1] == false then
      out[#out + 1] = k
    else
      for i, v in ipairs(list) do list[i] = v or "" end
      table.sort(list)
      out[#out + 1] = k .. "=" .. table.concat(list, ",")
    end
  end
  return table.concat(out, ":")
end

-- headersKey is the same over the vary_headers (lower-case names).
local function headersKey(hd, names)
  local list, out = {}, {}
  for n in (names or ""):gmatch("%S+") do list[#list + 1] = n end
  table.sort(list)
  for _, n in ipairs(list) do
    local v = hd:get(n)
    if v ~= nil then out[#out + 1] = n .. "=" .. v end
  end
  return table.concat(out, ":")
end

-- envoyTakes mirrors Envoy's own rule for requests its cache may answer
-- (cache_v2 cacheability_utils): GET or HEAD, no Authorization, no
-- If-Modified-Since/If-Range, and no body; an upgrade (websocket) stays a
-- stream the cache never takes. Any other request goes through the router
-- with its query as sent, so it must not be rewritten.
local function envoyTakes(hd, method)
  if method ~= "GET" and method ~= "HEAD" then return false end
  for _, n in ipairs({"authorization", "if-modified-since", "if-range", "transfer-encoding", "upgrade"}) do
    if hd:get(n) ~= nil then return false end
  end
  local cl = hd:get("content-length")
  return cl == nil or cl == "0"
end

function envoy_on_request(h)
  local md = h:metadata()
  local hd = h:headers()
  local si = h:streamInfo()
  local dm = si:dynamicMetadata()
  for _, n in ipairs(internal) do hd:remove(n) end
  local hide = md:get("hide") or ""
  -- Kong sends its diagnostic headers whatever response_headers says
  -- when the request carries Kong-Debug.
  if hd:get("kong-debug") ~= nil then hide = "" end
  dm:set(NS, "hide", hide)
  local method = hd:get(":method")
  local honour = md:get("cc") == "1"
  local reqcc = ((hd:get("cache-control") or "") .. "," .. (hd:get("pragma") or "")):lower()
  if not set(md:get("methods"))[method] or not envoyTakes(hd, method)
    or (honour and (reqcc:find("no-store", 1, true) or reqcc:find("no-cache", 1, true))) then
    dm:set(NS, "status", "Bypass")
    return
  end
  local path = hd:get(":path")
  local base, q = path:match("^([^?]*)%?(.*)$")
  if base == nil then base = path end
  -- Kong's uri is nginx's request line cut at the first "?": the
  -- protocol goes with the query when there is one.
  local rest = base
  if q == nil then rest = base .. " " .. (si:protocol() or "HTTP/1.1") end
  local vq = md:get("vq")
  local tail = argsKey(q or "", vq and set(vq) or nil) .. "|" .. headersKey(hd, md:get("vh"))
  local prefix = md:get("route") or "default"
  -- The consumer the auth stage authenticated (keyauth.lua's dynamic
  -- metadata, which no client can write; never X-Consumer-ID).
  local who = dm:get("switchboard")
  if who ~= nil and who.consumer ~= nil and who.consumer ~= "" then prefix = who.consumer .. ":" .. prefix end
  local function key(m) return sha256(prefix .. "|" .. m .. "|" .. m .. " " .. rest .. "|" .. tail) end
  local k = key(method)
  dm:set(NS, "key", k)
  -- Envoy answers HEAD from a stored GET and never stores HEAD, so HEAD
  -- looks up the GET's entry.
  local ek = k
  if method == "HEAD" then ek = key("GET") end
  hd:replace("x-sb-cache", md:get("store") or "300 0 200 application/json")
  hd:replace("x-sb-cache-q", q and ("?" .. q) or "")
  hd:replace(":path", base .. "?sb-cache=" .. (md:get("gen") or "0") .. "." .. ek)
  -- The cache's own client appends to X-Forwarded-For, and the loop sees
  -- Envoy, not the client: both travel as they are here, for the loop's
  -- address detection and store stage.
  hd:replace("x-sb-cache-xff", hd:get("x-forwarded-for") or "")
  local peer = si:downstreamRemoteAddress() or ""
  hd:replace("x-sb-cache-ip", peer:match("^%[(.*)%]:%d+$") or peer:match("^([^:]*):%d+$") or peer)
  if not honour then
    -- Kong ignores the request's Cache-Control then; Envoy's cache must
    -- not see it (the store stage gives it back to the upstream).
    local rc, pr = hd:get("cache-control"), hd:get("pragma")
    if rc ~= nil then hd:replace("x-sb-cache-rcc", rc); hd:remove("cache-control") end
    if pr ~= nil then hd:replace("x-sb-cache-rpragma", pr); hd:remove("pragma") end
  end
end

-- restore puts back a response header the store stage moved aside into
-- stash ("" when the upstream sent none).
local function restore(hd, name, stash)
  local v = hd:get(stash)
  if v == nil then return end
  hd:remove(stash)
  hd:remove(name)
  if v ~= "" then hd:add(name, v) end
end

function envoy_on_response(h)
  local dm = h:streamInfo():dynamicMetadata():get(NS)
  if dm == nil then return end
  local hd = h:headers()
  local mark = hd:get("x-sb-cache")
  local status = dm.status
  if status == nil then
    if mark == nil then
      status = "Bypass" -- not from the store stage: an answer of Envoy's own
    elseif hd:get("age") ~= nil then
      status = "Hit" -- the store stage moved the upstream's Age aside
    elseif mark == "bypass" then
      status = "Bypass"
    else
      status = "Miss"
    end
  end
  hd:remove("x-sb-cache")
  -- The cache's own upstream client adds it; the proxy's router never does.
  hd:remove("x-envoy-upstream-service-time")
  restore(hd, "cache-control", "x-sb-cache-cc")
  restore(hd, "vary", "x-sb-cache-vary")
  if status == "Hit" then hd:remove("x-sb-cache-age") else restore(hd, "age", "x-sb-cache-age") end
  local hide = set(dm.hide)
  -- Kong sets the key before the status (the Get Started page shows them
  -- in that order).
  if dm.key ~= nil and not hide["X-Cache-Key"] then hd:replace("X-Cache-Key", dm.key) end
  if not hide["X-Cache-Status"] then hd:replace("X-Cache-Status", status) end
  if status == "Hit" and hide["age"] then hd:remove("age") end
end
