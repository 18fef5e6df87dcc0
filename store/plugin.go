package store

import "encoding/json"

// Table names of the plugin entities.
const (
	tablePlugins     = "plugins"
	tableConsumers   = "consumers"
	tableKeyAuthCred = "keyauth_credentials"
)

// Unique key names: each is named like the schema's endpoint key where one
// exists, so that the Admin API finds rows by it (instance_name, username,
// key).
const (
	indexInstanceName = "instance_name"
	indexPluginScope  = "cache_key"
	indexUsername     = "username"
	indexCustomID     = "custom_id"
	indexKey          = "key"
	indexConsumer     = "consumer"
	indexRoute        = "route"
)

// Plugin is a Kong plugin instance. Route, Service and Consumer are its
// scope (all nil: global). Config is the plugin's whole configuration as
// JSON, every field of the plugin's schema present with defaults filled in
// (what GET /plugins shows, redis_* shorthand echoes included): a plugin's
// translator decodes it into its own struct.
type Plugin struct {
	ID           string          `json:"id"`
	CreatedAt    int64           `json:"created_at"`
	UpdatedAt    int64           `json:"updated_at"`
	Name         string          `json:"name"`
	InstanceName *string         `json:"instance_name"`
	Route        *ForeignKey     `json:"route"`
	Service      *ForeignKey     `json:"service"`
	Consumer     *ForeignKey     `json:"consumer"`
	Config       json.RawMessage `json:"config"`
	Protocols    []string        `json:"protocols"`
	Enabled      bool            `json:"enabled"`
	Tags         []string        `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// pluginKind: one plugin of a name per scope (Kong's cache_key; a global
// plugin has every scope null), a unique nullable instance_name, and
// references that cascade: deleting a service, route or consumer deletes
// its plugins.
var pluginKind = &Kind{
	Table: tablePlugins,
	New:   func() Row { return new(Plugin) },
	Validate: func(r Row) error {
		if r.(*Plugin).Name == "" {
			return errNoName
		}
		return nil
	},
	Unique: []UniqueKey{
		{Name: indexPluginScope, Fields: []string{"consumer", "name", "route", "service"}, Values: func(r Row) []any {
			p := r.(*Plugin)
			return []any{p.Consumer, p.Name, p.Route, p.Service}
		}},
		{Name: indexInstanceName, Fields: []string{"instance_name"}, Values: func(r Row) []any {
			if n := r.(*Plugin).InstanceName; n != nil {
				return []any{*n}
			}
			return nil
		}},
	},
	Refs: []Ref{
		{Field: indexRoute, Table: tableRoutes, OnDelete: Cascade, IDs: func(r Row) []string { return fkIDs(r.(*Plugin).Route) }},
		{Field: indexService, Table: tableServices, OnDelete: Cascade, IDs: func(r Row) []string { return fkIDs(r.(*Plugin).Service) }},
		{Field: indexConsumer, Table: tableConsumers, OnDelete: Cascade, IDs: func(r Row) []string { return fkIDs(r.(*Plugin).Consumer) }},
	},
	Tagged: true,
}

// Plugins returns every plugin instance in id order.
func (s *Snapshot) Plugins() ([]*Plugin, error) { return all[Plugin](s.txn, tablePlugins, indexID) }

// PluginByID returns the plugin or nil.
func (s *Snapshot) PluginByID(id string) (*Plugin, error) {
	return first[Plugin](s.txn, tablePlugins, indexID, id)
}
