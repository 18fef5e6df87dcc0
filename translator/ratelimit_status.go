package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

const (
	// rateLimitStatusFilter is the rate limiters' last word on a response,
	// placed before all of them (it sees their local replies on the way
	// out, after the per-window header stages):
	//   - error_code: both limiters answer with one status per filter
	//     (local_ratelimit's is an enum without most codes, the ratelimit
	//     filter's is per listener), so a rejection carries the instance's
	//     code in an internal response header — local_ratelimit's
	//     response_headers_to_add, the service's response_headers_to_add —
	//     which this stage moves into :status;
	//   - policy=local's RateLimit-Limit/-Remaining/-Reset: Kong's describe
	//     the window with the lowest remaining (ties: the longer window),
	//     which only a stage that sees every window's headers can choose.
	rateLimitStatusFilter = "switchboard.rate_limit_status"
	rateLimitStatusScript = "kong-rate-limit-status"
)

// RateLimitStatusHeader is the internal response header the stage reads;
// package ratelimit sends the same name (ratelimit.StatusHeader; the
// translator may not import the service, cmd's test keeps both equal).
const RateLimitStatusHeader = "x-sb-rl-status"

const rateLimitStatusLua = `
local WINDOWS = {"second", "minute", "hour", "day", "month", "year"}
function envoy_on_response(h)
  local hd = h:headers()
  local code = hd:get("` + RateLimitStatusHeader + `")
  if code ~= nil then
    hd:remove("` + RateLimitStatusHeader + `")
    hd:replace(":status", code)
  end
  -- Only windows the local header stages renamed carry a reset header.
  local best
  for _, w in ipairs(WINDOWS) do
    local reset = hd:get("` + rateLimitResetPrefix + `" .. w)
    if reset ~= nil then
      hd:remove("` + rateLimitResetPrefix + `" .. w)
      local rem = tonumber(hd:get("x-ratelimit-remaining-" .. w))
      local limit = hd:get("x-ratelimit-limit-" .. w)
      if rem ~= nil and limit ~= nil and (best == nil or rem <= best.rem) then
        best = {rem = rem, limit = limit, reset = reset}
      end
    end
  end
  if best ~= nil then
    hd:replace("RateLimit-Limit", best.limit)
    hd:replace("RateLimit-Remaining", tostring(best.rem))
    hd:replace("RateLimit-Reset", best.reset)
  end
end
`

type rateLimitResponseStage struct{}

func (rateLimitResponseStage) name() string { return rateLimitStatusFilter }

func (f rateLimitResponseStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &luav3.Lua{
		StatPrefix: "kong_rate_limit_status",
		SourceCodes: map[string]*corev3.DataSource{
			rateLimitStatusScript: {Specifier: &corev3.DataSource_InlineString{InlineString: rateLimitStatusLua}},
		},
	}))
	return nil
}

// patchRoute turns the stage on where an applicable instance rejects with
// a status other than 429, or policy=local shows headers of several
// windows (with one, its header stage writes RateLimit-* itself).
func (f rateLimitResponseStage) patchRoute(er *routev3.Route, rp *routePlan) error {
	applies, err := rateLimitApplies(rp)
	if err != nil {
		return err
	}
	need := localHeadersShown(rp, "") && localWindowCount(rp) > 1
	for _, a := range applies {
		need = need || a.cfg.errorCode() != 429
	}
	if !need {
		return nil
	}
	setPerFilterAny(er, f.name(), rateLimitStatusPerRoute)
	return nil
}

var rateLimitStatusPerRoute = mustPerFilterAny(rateLimitStatusFilter,
	&luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: rateLimitStatusScript}})

func (rateLimitResponseStage) patchResources(*Resources) error { return nil }
