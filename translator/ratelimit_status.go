package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

const (
	// rateLimitStatusFilter gives a rejection Kong's error_code. Both
	// limiters answer with one status per filter (local_ratelimit's is an
	// enum without most codes, the ratelimit filter's is per listener), so
	// the rejection carries the instance's code in an internal response
	// header — local_ratelimit's response_headers_to_add, the service's
	// response_headers_to_add — and this stage, placed before both (it sees
	// their local replies on the way out), moves it into :status.
	rateLimitStatusFilter = "switchboard.rate_limit_status"
	rateLimitStatusScript = "kong-rate-limit-status"
)

// RateLimitStatusHeader is the internal response header the stage reads;
// package ratelimit sends the same name (ratelimit.StatusHeader; the
// translator may not import the service, cmd's test keeps both equal).
const RateLimitStatusHeader = "x-sb-rl-status"

const rateLimitStatusLua = `
function envoy_on_response(h)
  local hd = h:headers()
  local code = hd:get("` + RateLimitStatusHeader + `")
  if code == nil then return end
  hd:remove("` + RateLimitStatusHeader + `")
  hd:replace(":status", code)
end
`

type rateLimitStatusStage struct{}

func (rateLimitStatusStage) name() string { return rateLimitStatusFilter }

func (f rateLimitStatusStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name:     f.name(),
		Disabled: true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&luav3.Lua{
			StatPrefix: "kong_rate_limit_status",
			SourceCodes: map[string]*corev3.DataSource{
				rateLimitStatusScript: {Specifier: &corev3.DataSource_InlineString{InlineString: rateLimitStatusLua}},
			},
		})},
	})
	return nil
}

// patchRoute turns the stage on where an applicable instance rejects with
// a status other than 429.
func (f rateLimitStatusStage) patchRoute(er *routev3.Route, rp *routePlan) error {
	applies, err := rateLimitApplies(rp)
	if err != nil {
		return err
	}
	for _, a := range applies {
		if a.cfg.errorCode() != 429 {
			return setPerFilterConfig(er, f.name(), &luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: rateLimitStatusScript}})
		}
	}
	return nil
}

func (rateLimitStatusStage) patchResources(*Resources) error { return nil }
