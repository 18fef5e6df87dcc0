-- proxy-cache store stage: the Lua filter of the bootstrap's internal
-- listener (switchboard_cache_loop). Envoy's cache filter (cache_v2) sends
-- the requests it may store to that listener instead of through the
-- router, so the route is matched there again and its action (path
-- rewrite, host, timeouts, balancing) applies as on any request.
--
-- The status stage (translator/proxycache_status.lua) rewrote the query
-- into the cache key and passed, in x-sb-cache, "<cache_ttl> <honour
-- Cache-Control 0|1> <codes,> <content types,>"; x-sb-cache-q holds the
-- query as sent, x-sb-cache-xff the X-Forwarded-For before the cache's own
-- client appended to it. This stage puts the query, X-Forwarded-For (and a
-- request Cache-Control Kong ignores) back and, on the response, decides as Kong would whether it
-- is stored: status code and content type configured, and Cache-Control
-- allowing it when honoured. A response to store gets max-age=cache_ttl
-- (Envoy stores only fresh responses); any other gets no-store. What it
-- replaces goes to x-sb-cache-* for the status stage to put back, and
-- x-sb-cache says which ("store" or "bypass").
--
-- Only the status stage reaches this listener, and it always sets or
-- removes these headers, so a client cannot send them here.
local sets = {}
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
-- mediaType splits a content type into type, subtype and its sorted
-- parameters (lower case, no spaces): Kong 3.9 matches type and subtype
-- with "*" on either side and wants the parameters identical.
local function mediaType(ct)
  ct = ct:lower():gsub("%s", "")
  local parts = {}
  for p in ct:gmatch("[^;]+") do parts[#parts + 1] = p end
  local t, s = (parts[1] or ""):match("^([^/]+)/([^/]+)$")
  local params = {}
  for i = 2, #parts do params[#params + 1] = parts[i] end
  table.sort(params)
  return t, s, table.concat(params, ";")
end
local function typeAllowed(ct, types)
  if ct == nil or ct == "" then return false end
  local t, s, p = mediaType(ct)
  if t == nil then return false end
  for entry in (types or ""):gmatch("%S+") do
    local et, es, ep = mediaType(entry)
    if et ~= nil and (et == "*" or t == "*" or et == t) and (es == "*" or s == "*" or es == s) and ep == p then
      return true
    end
  end
  return false
end
-- fresh reports whether Cache-Control (or Expires) gives the response a
-- positive lifetime and lets a shared cache store it (cache_control=true).
local function fresh(cc, expires)
  cc = (cc or ""):lower()
  if cc:find("no-store", 1, true) or cc:find("no-cache", 1, true) or cc:find("private", 1, true) then return false end
  local age = cc:match("s%-maxage=(%d+)") or cc:match("max%-age=(%d+)")
  if age ~= nil then return tonumber(age) > 0 end
  return expires ~= nil
end
-- stash moves header name aside into to ("" when absent).
local function stash(hd, name, to)
  local v = hd:get(name)
  hd:replace(to, v or "")
  if v ~= nil then hd:remove(name) end
end
local NS = "switchboard.proxy_cache_store"
function envoy_on_request(h)
  local hd = h:headers()
  local cfg = hd:get("x-sb-cache")
  if cfg == nil then return end
  local q = hd:get("x-sb-cache-q") or ""
  hd:remove("x-sb-cache"); hd:remove("x-sb-cache-q")
  local path = hd:get(":path")
  hd:replace(":path", path:match("^[^?]*") .. q)
  local rcc = hd:get("x-sb-cache-rcc")
  if rcc ~= nil then hd:remove("x-sb-cache-rcc"); if rcc ~= "" then hd:replace("cache-control", rcc) end end
  local xff = hd:get("x-sb-cache-xff")
  if xff ~= nil then
    hd:remove("x-sb-cache-xff")
    hd:remove("x-forwarded-for")
    if xff ~= "" then hd:add("x-forwarded-for", xff) end
  end
  hd:remove("x-sb-cache-ip") -- read by the listener's address detection
  local rpr = hd:get("x-sb-cache-rpragma")
  if rpr ~= nil then hd:remove("x-sb-cache-rpragma"); if rpr ~= "" then hd:replace("pragma", rpr) end end
  h:streamInfo():dynamicMetadata():set(NS, "cfg", cfg)
end
function envoy_on_response(h)
  local dm = h:streamInfo():dynamicMetadata():get(NS)
  if dm == nil then return end
  -- cfg: "<ttl> <cc 0|1> <codes,> <types,>"
  local ttl, honour, codes, types = dm.cfg:match("^(%S+) (%S+) (%S*) (%S*)$")
  codes, types = (codes or ""):gsub(",", " "), (types or ""):gsub(",", " ")
  local hd = h:headers()
  local cc = hd:get("cache-control")
  local store = set(codes)[hd:get(":status")] and typeAllowed(hd:get("content-type"), types)
  if store and honour == "1" then store = fresh(cc, hd:get("expires")) end
  stash(hd, "cache-control", "x-sb-cache-cc")
  -- Kong ignores Vary (Envoy's cache would refuse to store it), and only
  -- a hit carries the cache's own Age.
  stash(hd, "vary", "x-sb-cache-vary")
  stash(hd, "age", "x-sb-cache-age")
  if not store then
    hd:add("cache-control", "no-store")
    hd:replace("x-sb-cache", "bypass")
  elseif honour == "1" then
    -- Fresh by Expires alone: no Cache-Control to give back, and Envoy's
    -- cache keys freshness on Expires as Kong does.
    if cc ~= nil then hd:add("cache-control", cc) end
    hd:replace("x-sb-cache", "store")
  else
    hd:add("cache-control", "max-age=" .. ttl)
    hd:replace("x-sb-cache", "store")
  end
end
