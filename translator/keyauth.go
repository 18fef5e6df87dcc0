package translator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

const (
	pluginKeyAuth = "key-auth"
	// apiKeyAuthFilter checks the key against the route's credential list.
	apiKeyAuthFilter = "envoy.filters.http.api_key_auth"
	// identityFilter is the Lua stage that turns the authenticated client
	// into Kong's X-Consumer-* request headers.
	identityFilter = "switchboard.kong_identity"
	// identityHeader carries the matched client from api_key_auth to the
	// Lua stage; api_key_auth overwrites a client-sent copy.
	identityHeader = "x-sb-auth"
	identityScript = "kong-identity"

	msgNoAPIKey     = "No API key found in request"
	msgUnauthorized = "Unauthorized"
)

// identityLua clears client-sent identity headers (Kong clears them on an
// authenticated route) and sets Kong's from the forwarded client record:
// consumer id | username | custom_id | credential id, each %-escaped.
const identityLua = `
local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
function envoy_on_request(h)
  local hd = h:headers()
  local rec = hd:get("` + identityHeader + `")
  for _, n in ipairs({"x-consumer-id", "x-consumer-username", "x-consumer-custom-id",
                      "x-credential-identifier", "x-anonymous-consumer", "` + identityHeader + `"}) do
    hd:remove(n)
  end
  if rec == nil then return end
  local f = {}
  for v in string.gmatch(rec .. "|", "([^|]*)|") do f[#f + 1] = unescape(v) end
  local names = {"X-Consumer-ID", "X-Consumer-Username", "X-Consumer-Custom-ID", "X-Credential-Identifier"}
  for i, n in ipairs(names) do
    if f[i] ~= nil and f[i] ~= "" then hd:add(n, f[i]) end
  end
end
`

// sentinelKey keeps a route's credential list non-empty when no consumer
// has a key (api_key_auth answers every request "missing credentials"
// otherwise, which is mapped like a missing key). It is random per process
// and matches nobody.
var sentinelKey = func() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sb-sentinel-" + hex.EncodeToString(b)
}()

type keyAuthConfig struct {
	KeyNames        []string `json:"key_names"`
	HideCredentials bool     `json:"hide_credentials"`
	KeyInHeader     bool     `json:"key_in_header"`
	KeyInQuery      bool     `json:"key_in_query"`
}

// keyAuthCredentials is every unexpired key-auth credential as
// api_key_auth credentials, sorted by key (Kong's credentials are global:
// any key-auth instance accepts any consumer's key).
func keyAuthCredentials(in *Input, now time.Time) []*apikeyauthv3.Credential {
	consumers := make(map[string]*store.Consumer, len(in.Consumers))
	for _, c := range in.Consumers {
		consumers[c.ID] = c
	}
	var out []*apikeyauthv3.Credential
	for _, k := range in.KeyAuthCredentials {
		c := consumers[k.Consumer.ID]
		if c == nil || k.Key == "" || k.Expired(now) {
			continue
		}
		custom, user := "", ""
		if c.CustomID != nil {
			custom = *c.CustomID
		}
		if c.Username != nil {
			user = *c.Username
		}
		out = append(out, &apikeyauthv3.Credential{
			Key:    k.Key,
			Client: strings.Join([]string{escapeField(c.ID), escapeField(user), escapeField(custom), escapeField(k.ID)}, "|"),
		})
	}
	slices.SortFunc(out, func(a, b *apikeyauthv3.Credential) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// escapeField %-escapes what cannot travel in one header field of the
// client record: the separator, the escape, and control characters.
func escapeField(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '|' || c == '%' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// keyAuthFilter serves key-auth with api_key_auth per route: the route's
// config lists the credentials, so a new or revoked key is an RDS push.
type keyAuthFilter struct{}

func (keyAuthFilter) name() string { return apiKeyAuthFilter }

func (f keyAuthFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name:       f.name(),
		Disabled:   true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&apikeyauthv3.ApiKeyAuth{})},
	})
	// Kong's 401 bodies, chosen by what api_key_auth reports.
	hcm.LocalReplyConfig.Mappers = append(hcm.LocalReplyConfig.Mappers,
		keyAuthMapper("response.code_details == 'missing_api_key' || response.code_details == 'missing_credentials'", msgNoAPIKey),
		keyAuthMapper("response.code_details == 'unknown_api_key'", msgUnauthorized),
	)
	return nil
}

func keyAuthMapper(expr, message string) *hcmv3.ResponseMapper {
	return &hcmv3.ResponseMapper{
		Filter: &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{
			ExtensionFilter: &accesslogv3.ExtensionFilter{
				Name:       "envoy.access_loggers.extension_filters.cel",
				ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: mustAny(&celv3.ExpressionFilter{Expression: expr})},
			},
		}},
		StatusCode: wrapperspb.UInt32(401),
		Body:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: jsonMessage(message)}},
		BodyFormatOverride: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: "%LOCAL_REPLY_BODY%"},
			}},
			ContentType: jsonContentType,
		},
		HeadersToAdd: []*corev3.HeaderValueOption{setHeader("WWW-Authenticate", "Key")},
	}
}

func (keyAuthFilter) patchResources(*Resources) error { return nil }

func keyAuthInstance(rp *routePlan) (cfg keyAuthConfig, ok bool, err error) {
	for _, p := range rp.plugins {
		if p.name != pluginKeyAuth || p.row == nil {
			continue
		}
		if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
			return cfg, false, fmt.Errorf("plugin %s: config: %w", p.id, err)
		}
		return cfg, true, nil
	}
	return cfg, false, nil
}

// keySources lists where Kong looks for the key, in its order: per name
// the header (nginx treats _ and - alike, so both spellings) then the
// query argument.
func keySources(cfg keyAuthConfig) []*apikeyauthv3.KeySource {
	var out []*apikeyauthv3.KeySource
	for _, n := range cfg.KeyNames {
		if cfg.KeyInHeader {
			out = append(out, &apikeyauthv3.KeySource{Header: n})
			if alt := strings.NewReplacer("_", "-", "-", "_").Replace(n); alt != n {
				out = append(out, &apikeyauthv3.KeySource{Header: alt})
			}
		}
		if cfg.KeyInQuery {
			out = append(out, &apikeyauthv3.KeySource{Query: n})
		}
	}
	return out
}

func (f keyAuthFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	cfg, ok, err := keyAuthInstance(rp)
	if err != nil || !ok {
		return err
	}
	creds := rp.keyAuthCredentials
	if len(creds) == 0 {
		creds = []*apikeyauthv3.Credential{{Key: sentinelKey, Client: "sentinel"}}
	}
	sources := keySources(cfg)
	if len(sources) == 0 {
		// Neither header nor query: Kong finds no key, ever.
		sources = []*apikeyauthv3.KeySource{{Header: "x-sb-no-key-source"}}
	}
	if err := setPerFilterConfig(er, apiKeyAuthFilter, &apikeyauthv3.ApiKeyAuthPerRoute{
		Credentials: creds,
		KeySources:  sources,
		Forwarding:  &apikeyauthv3.Forwarding{Header: identityHeader, HideCredentials: cfg.HideCredentials},
	}); err != nil {
		return err
	}
	return setPerFilterConfig(er, identityFilter, &luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: identityScript}})
}

// identityStage is the HCM entry of the Lua identity script, disabled
// unless a key-auth route enables it; it runs right after api_key_auth.
type identityStage struct{}

func (identityStage) name() string { return identityFilter }

func (f identityStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name:     f.name(),
		Disabled: true,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&luav3.Lua{
			StatPrefix: "kong_identity",
			SourceCodes: map[string]*corev3.DataSource{
				identityScript: {Specifier: &corev3.DataSource_InlineString{InlineString: identityLua}},
			},
		})},
	})
	return nil
}

// patchRoute is done by keyAuthFilter.
func (identityStage) patchRoute(*routev3.Route, *routePlan) error { return nil }

func (identityStage) patchResources(*Resources) error { return nil }
