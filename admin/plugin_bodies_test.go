package admin

// minimalPluginBodies is, per plugin the node serves, the smallest body
// POST /plugins accepts (a plugin added to the registry must add one, or
// TestAdminPlugins_SchemaDefaultsEqualStored fails naming it).
var minimalPluginBodies = map[string]map[string]any{
	"rate-limiting": obj("name", "rate-limiting", "config", obj("minute", 5)),
	"proxy-cache":   obj("name", "proxy-cache", "config", obj("strategy", "memory")),
	"key-auth":      obj("name", "key-auth"),
}
