package translator

import (
	"cmp"
	"slices"

	"github.com/switchboard-gw/switchboard/store"
)

// pluginInstance is one configured plugin as the plan step sees it: its
// name and the scope it was attached to ("" when not set). newTranslator
// fills translator.plugins with these from Input.Plugins
// (plugin_input.go); each plugin's filter file reads its own config from
// row.Config (the whole config, Kong's defaults filled in).
type pluginInstance struct {
	id         string
	name       string
	routeID    string
	serviceID  string
	consumerID string
	enabled    bool
	row        *store.Plugin
}

// scopeRank is Kong's precedence between instances of one plugin name
// (kong/runloop/plugins_iterator.lua; docs/kong-contract.md §9): the most
// specific enabled scope wins, lower rank first.
func (p pluginInstance) scopeRank() int {
	r, s, c := p.routeID != "", p.serviceID != "", p.consumerID != ""
	switch {
	case r && s && c:
		return 1
	case r && c:
		return 2
	case s && c:
		return 3
	case r && s:
		return 4
	case c:
		return 5
	case r:
		return 6
	case s:
		return 7
	}
	return 8 // global
}

// appliesTo reports whether the instance's route and service scope admit
// a request on routeID (of serviceID, "" without one); the consumer part
// is decided per request.
func (p pluginInstance) appliesTo(routeID, serviceID string) bool {
	return p.enabled &&
		(p.routeID == "" || p.routeID == routeID) &&
		(p.serviceID == "" || p.serviceID == serviceID)
}

// resolvePlugins picks, per plugin name, the instances that can apply to a
// route: static is the one instance that applies whatever the consumer
// (the most specific scope without a consumer); perConsumer are the
// consumer-scoped instances more specific than it, which an auth filter
// chooses between once it knows the consumer (Kong looks them up lazily
// in the same order). Disabled instances never count, so a disabled route
// instance lets a service or global one apply, as in Kong. Both results
// are sorted by plugin name, then rank.
func resolvePlugins(routeID, serviceID string, all []pluginInstance) (static, perConsumer []pluginInstance) {
	best := map[string]pluginInstance{}
	var consumers []pluginInstance
	for _, p := range all {
		if !p.appliesTo(routeID, serviceID) {
			continue
		}
		if p.consumerID != "" {
			consumers = append(consumers, p)
			continue
		}
		if cur, ok := best[p.name]; !ok || p.scopeRank() < cur.scopeRank() || (p.scopeRank() == cur.scopeRank() && p.id < cur.id) {
			best[p.name] = p
		}
	}
	for _, p := range best {
		static = append(static, p)
	}
	for _, p := range consumers {
		if cur, ok := best[p.name]; !ok || p.scopeRank() < cur.scopeRank() {
			perConsumer = append(perConsumer, p)
		}
	}
	byNameRank := func(a, b pluginInstance) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.scopeRank(), b.scopeRank()), cmp.Compare(a.id, b.id))
	}
	slices.SortFunc(static, byNameRank)
	slices.SortFunc(perConsumer, byNameRank)
	return static, perConsumer
}
