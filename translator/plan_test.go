package translator

import (
	"fmt"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestHTTPFilters_Order checks the rules of the filter table: unique names,
// the router last, and every listener built with the table's chain.
func TestHTTPFilters_Order(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range httpFilters {
		if seen[f.name()] {
			t.Errorf("filter %s registered twice", f.name())
		}
		seen[f.name()] = true
	}
	if last := httpFilters[len(httpFilters)-1].name(); last != wellknown.Router {
		t.Errorf("last filter is %s, want the router", last)
	}
	res, err := Translate(&Input{})
	if err != nil {
		t.Fatal(err)
	}
	hcm := listenerHCM(t, res.Listeners[0])
	var names []string
	for _, f := range hcm.GetHttpFilters() {
		names = append(names, f.GetName())
	}
	var want []string
	for _, f := range httpFilters {
		want = append(want, f.name())
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("HCM chain (-table +listener):\n%s", diff)
	}
}

// TestResolvePlugins checks Kong's precedence (docs/kong-contract.md §9): one
// instance per name, the most specific enabled scope, consumer-scoped
// instances kept aside when more specific than the static one.
func TestResolvePlugins(t *testing.T) {
	all := []pluginInstance{
		{id: "g", name: "rate-limiting", enabled: true},
		{id: "s", name: "rate-limiting", serviceID: "s1", enabled: true},
		{id: "r-off", name: "rate-limiting", routeID: "r1", enabled: false},
		{id: "rs", name: "proxy-cache", routeID: "r1", serviceID: "s1", enabled: true},
		{id: "r", name: "proxy-cache", routeID: "r1", enabled: true},
		{id: "c", name: "rate-limiting", consumerID: "c1", enabled: true},
		{id: "rc", name: "proxy-cache", routeID: "r1", consumerID: "c1", enabled: true},
		{id: "other-route", name: "key-auth", routeID: "r2", enabled: true},
		{id: "other-service", name: "key-auth", serviceID: "s2", enabled: true},
	}
	ids := func(ps []pluginInstance) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.id)
		}
		return out
	}
	static, perConsumer := resolvePlugins("r1", "s1", all)
	// proxy-cache: route+service (4) beats route (6); rate-limiting: the
	// disabled route instance does not count, so the service one (7).
	if diff := cmp.Diff([]string{"rs", "s"}, ids(static)); diff != "" {
		t.Errorf("static (-want +got):\n%s", diff)
	}
	// route+consumer (2) beats route+service (4); consumer (5) beats
	// service (7).
	if diff := cmp.Diff([]string{"rc", "c"}, ids(perConsumer)); diff != "" {
		t.Errorf("per consumer (-want +got):\n%s", diff)
	}
	static, _ = resolvePlugins("r9", "", all)
	if diff := cmp.Diff([]string{"g"}, ids(static)); diff != "" {
		t.Errorf("route without service (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		p    pluginInstance
		rank int
	}{
		{pluginInstance{routeID: "r", serviceID: "s", consumerID: "c"}, 1},
		{pluginInstance{routeID: "r", consumerID: "c"}, 2},
		{pluginInstance{serviceID: "s", consumerID: "c"}, 3},
		{pluginInstance{routeID: "r", serviceID: "s"}, 4},
		{pluginInstance{consumerID: "c"}, 5},
		{pluginInstance{routeID: "r"}, 6},
		{pluginInstance{serviceID: "s"}, 7},
		{pluginInstance{}, 8},
	} {
		if got := tc.p.scopeRank(); got != tc.rank {
			t.Errorf("scopeRank(%+v) = %d, want %d", tc.p, got, tc.rank)
		}
	}
}

// listenerHCM unpacks the HTTP connection manager of l's first filter.
func listenerHCM(t *testing.T, l *listenerv3.Listener) *hcmv3.HttpConnectionManager {
	t.Helper()
	hcm := &hcmv3.HttpConnectionManager{}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	return hcm
}

// TestWithHeaderFirst_CopiesEveryField fills every field of a Route and
// its RouteMatch (through reflection, so a field added to the protos is
// filled too) and expects withHeaderFirst's copy to equal the original
// once the added header is taken out.
func TestWithHeaderFirst_CopiesEveryField(t *testing.T) {
	r := &routev3.Route{}
	fillAll(r.ProtoReflect())
	m := authorityMatcher("a.test")
	got := withHeaderFirst(r, m)
	if got.GetMatch().GetHeaders()[0] != m {
		t.Fatal("the host condition is not first")
	}
	got.Match.Headers = got.Match.Headers[1:]
	if diff := cmp.Diff(r, got, protocmp.Transform()); diff != "" {
		t.Errorf("withHeaderFirst lost fields (-route +copy):\n%s", diff)
	}
}

// fillAll sets every field of m (one member of each oneof, the last one
// ranged) to a non-default value, one level into sub-messages.
func fillAll(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			if fd.Kind() == protoreflect.MessageKind {
				l.Append(protoreflect.ValueOfMessage(l.NewElement().Message()))
			} else {
				l.Append(scalarValue(fd))
			}
		case fd.IsMap():
			// Maps of messages (typed_per_filter_config): one empty entry.
			mp := m.Mutable(fd).Map()
			mp.Set(protoreflect.ValueOfString("k").MapKey(), mp.NewValue())
		case fd.Kind() == protoreflect.MessageKind:
			sub := m.Mutable(fd).Message()
			if sub.Descriptor().FullName() == "envoy.config.route.v3.RouteMatch" {
				fillAll(sub)
			}
		default:
			m.Set(fd, scalarValue(fd))
		}
	}
}

func scalarValue(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("x")
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(1)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("x"))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1)
	}
	panic(fmt.Sprintf("unhandled kind %v", fd.Kind()))
}
