package translator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchboard-gw/switchboard/store"
)

const (
	pluginKeyAuth = "key-auth"
	// keyAuthFilter is the Lua filter serving Kong's key-auth
	// (keyauth.lua), disabled in the HCM and enabled per route.
	keyAuthFilterName = "switchboard.key_auth"
	keyAuthScript     = "key-auth"
	// credentialField prefixes each credential's key in a route's filter
	// context (keyauth.lua looks a key up by its own field).
	credentialField = "key:"
)

// keyAuthLua is Kong 3.9's key-auth for Envoy's Lua filter. Lua rather
// than api_key_auth: api_key_auth always rejects (no anonymous), takes the
// first of repeated keys (Kong: 401 Duplicate), reads no bodies, re-sorts
// the query string when hiding the key and strips a "Bearer " prefix.
//
//go:embed keyauth.lua
var keyAuthLua string

// keyAuthConfig is what the translator reads of a key-auth instance's
// config (Kong's defaults are filled in by the schema).
type keyAuthConfig struct {
	KeyNames        []string `json:"key_names"`
	HideCredentials bool     `json:"hide_credentials"`
	Anonymous       *string  `json:"anonymous"`
	KeyInHeader     bool     `json:"key_in_header"`
	KeyInQuery      bool     `json:"key_in_query"`
	KeyInBody       bool     `json:"key_in_body"`
	RunOnPreflight  bool     `json:"run_on_preflight"`
	Realm           *string  `json:"realm"`
}

// keyAuthData is what every key-auth route shares in one translation:
// each credential as a filter-context field, and the consumers
// an `anonymous` may name.
type keyAuthData struct {
	credentials map[string]*structpb.Value
	consumers   map[string]*store.Consumer // by id
	byUsername  map[string]*store.Consumer
	// perRoute is, by plugin instance id, the typed_per_filter_config
	// every route of that instance carries: built and marshalled once per
	// translation, not once per route (it holds every credential).
	perRoute map[string]*anypb.Any
}

// newKeyAuthData indexes in's consumers and credentials. A credential
// with a ttl carries its expiry, which keyauth.lua checks on every
// request, so it stops at its second. Expired ones are not left out here:
// the translation reads only stored state, never the clock, so every node
// translates one revision into the same config (dropping them by each
// node's clock made nodes differ around an expiry).
func newKeyAuthData(in *Input) *keyAuthData {
	d := &keyAuthData{
		credentials: make(map[string]*structpb.Value, len(in.KeyAuthCredentials)),
		consumers:   make(map[string]*store.Consumer, len(in.Consumers)),
		byUsername:  map[string]*store.Consumer{},
		perRoute:    map[string]*anypb.Any{},
	}
	for _, c := range in.Consumers {
		d.consumers[c.ID] = c
		if c.Username != nil {
			d.byUsername[*c.Username] = c
		}
	}
	for _, k := range in.KeyAuthCredentials {
		c := d.consumers[k.Consumer.ID]
		if c == nil || k.Key == "" {
			continue
		}
		rec := consumerRecord(c) + "|" + escapeField(k.ID) + "|" + strconv.FormatInt(k.ExpiresAt, 10)
		d.credentials[credentialField+k.Key] = structpb.NewStringValue(rec)
	}
	return d
}

// consumerRecord is "id|username|custom_id", each %-escaped.
func consumerRecord(c *store.Consumer) string {
	user, custom := "", ""
	if c.Username != nil {
		user = *c.Username
	}
	if c.CustomID != nil {
		custom = *c.CustomID
	}
	return escapeField(c.ID) + "|" + escapeField(user) + "|" + escapeField(custom)
}

// anonymous resolves config.anonymous as Kong does: a consumer id, else a
// username.
func (d *keyAuthData) anonymous(ref string) *store.Consumer {
	if c := d.consumers[ref]; c != nil {
		return c
	}
	return d.byUsername[ref]
}

// escapeField %-escapes what cannot travel in one field of a record: the
// separator, the escape, and control characters.
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

// keyAuthFilter serves key-auth with keyauth.lua: the HCM holds the fixed
// script (disabled), and each route a key-auth instance applies to enables
// it with its filter context, so a plugin, consumer or credential change
// is an RDS push and never a listener change.
type keyAuthFilter struct{}

func (keyAuthFilter) name() string { return keyAuthFilterName }

func (f keyAuthFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &luav3.Lua{
		StatPrefix: "key_auth",
		SourceCodes: map[string]*corev3.DataSource{
			keyAuthScript: {Specifier: &corev3.DataSource_InlineString{InlineString: keyAuthLua}},
		},
	}))
	return nil
}

func (keyAuthFilter) patchResources(*Resources) error { return nil }

// keyAuthInstance returns the key-auth instance that applies to rp;
// ok is false when none does.
func keyAuthInstance(rp *routePlan) (p pluginInstance, ok bool) {
	for _, p := range rp.plugins {
		if p.name == pluginKeyAuth && p.row != nil {
			return p, true
		}
	}
	return p, false
}

func (f keyAuthFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	p, ok := keyAuthInstance(rp)
	if !ok || rp.keyAuth == nil {
		return nil
	}
	a := rp.keyAuth.perRoute[p.id]
	if a == nil {
		var cfg keyAuthConfig
		if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
			return fmt.Errorf("plugin %s: config: %w", p.id, err)
		}
		inner, err := anypb.New(&luav3.LuaPerRoute{
			Override:      &luav3.LuaPerRoute_Name{Name: keyAuthScript},
			FilterContext: keyAuthContext(cfg, rp.keyAuth),
		})
		if err != nil {
			return fmt.Errorf("plugin %s: per-route config: %w", p.id, err)
		}
		a = mustAny(&routev3.FilterConfig{Config: inner})
		rp.keyAuth.perRoute[p.id] = a
	}
	if er.TypedPerFilterConfig == nil {
		er.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	er.TypedPerFilterConfig[keyAuthFilterName] = a
	return nil
}

// keyAuthContext is the route's filter context (layout in keyauth.lua).
func keyAuthContext(cfg keyAuthConfig, d *keyAuthData) *structpb.Struct {
	fields := make(map[string]*structpb.Value, len(d.credentials)+9)
	for k, v := range d.credentials {
		fields[k] = v
	}
	names := make([]*structpb.Value, len(cfg.KeyNames))
	for i, n := range cfg.KeyNames {
		names[i] = structpb.NewStringValue(n)
	}
	fields["key_names"] = structpb.NewListValue(&structpb.ListValue{Values: names})
	fields["key_in_header"] = structpb.NewBoolValue(cfg.KeyInHeader)
	fields["key_in_query"] = structpb.NewBoolValue(cfg.KeyInQuery)
	fields["key_in_body"] = structpb.NewBoolValue(cfg.KeyInBody)
	fields["hide_credentials"] = structpb.NewBoolValue(cfg.HideCredentials)
	fields["run_on_preflight"] = structpb.NewBoolValue(cfg.RunOnPreflight)
	// Kong 3.8+: "Key", or Key realm="<realm>" when one is configured.
	www := "Key"
	if cfg.Realm != nil {
		www = `Key realm="` + *cfg.Realm + `"`
	}
	fields["www_authenticate"] = structpb.NewStringValue(www)
	if cfg.Anonymous != nil && *cfg.Anonymous != "" {
		if c := d.anonymous(*cfg.Anonymous); c != nil {
			fields["anonymous"] = structpb.NewStringValue(consumerRecord(c))
		} else {
			fields["anonymous_missing"] = structpb.NewBoolValue(true)
		}
	}
	return &structpb.Struct{Fields: fields}
}
