package schema

import (
	"fmt"
	"sort"
	"sync"
)

// Plugin is one plugin's schema (Kong's kong/plugins/<name>/schema.lua):
// the fields it adds to or replaces in the plugins entity (protocols,
// config, consumer for auth plugins) and its entity checks, plus Kong's
// PRIORITY, which orders plugins at run time.
type Plugin struct {
	name     string
	priority int
	fields   []*Field
	checks   []Check
	entity   *Entity // Plugins with this subschema
}

// NewPlugin declares a plugin schema.
func NewPlugin(name string, priority int, fields []*Field, checks ...Check) *Plugin {
	return &Plugin{name: name, priority: priority, fields: fields, checks: checks}
}

var (
	pluginsMu sync.RWMutex
	plugins   = map[string]*Plugin{}
)

// RegisterPlugin makes p a plugin the plugins entity accepts.
func RegisterPlugin(p *Plugin) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	if _, dup := plugins[p.name]; dup {
		panic(fmt.Sprintf("schema: plugin %q registered twice", p.name))
	}
	p.entity = withSubschema(Plugins, p.fields, p.checks)
	plugins[p.name] = p
}

// UnregisterPlugin drops a test plugin again.
func UnregisterPlugin(name string) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	delete(plugins, name)
}

// GetPlugin returns the plugin's schema, nil when no such plugin is
// enabled.
func GetPlugin(name string) *Plugin {
	pluginsMu.RLock()
	defer pluginsMu.RUnlock()
	return plugins[name]
}

// PluginNames lists the enabled plugins, sorted.
func PluginNames() []string {
	pluginsMu.RLock()
	defer pluginsMu.RUnlock()
	out := make([]string, 0, len(plugins))
	for n := range plugins {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Name is the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Priority is Kong's PRIORITY: higher runs first.
func (p *Plugin) Priority() int { return p.priority }

// Entity is the plugins entity as it validates instances of p.
func (p *Plugin) Entity() *Entity { return p.entity }

// Config is the plugin's config record.
func (p *Plugin) Config() *Field {
	for _, f := range p.fields {
		if f.name == "config" {
			return f
		}
	}
	return nil
}

// JSON renders the plugin's subschema as GET /schemas/plugins/{name} does:
// the plugin's own fields and entity checks.
func (p *Plugin) JSON() map[string]any {
	return (&Entity{fields: p.fields, checks: p.checks}).JSON()
}

// ConfigDefaults is the config the plugin gets when the input sets none:
// every field at its default, shorthands echoed.
func (p *Plugin) ConfigDefaults() map[string]any {
	d := p.entity.Defaults()
	c, _ := d["config"].(map[string]any)
	return c
}

// msgPluginNotEnabled is Kong's subschema error for the plugins entity.
const msgPluginNotEnabled = "plugin '%s' not enabled; add it to the 'plugins' configuration property"
