package schema

import "fmt"

func init() { Register(Plugins) }

// Plugins is Kong 3.9's plugins entity (kong/db/schema/entities/plugins.lua):
// abstract config and protocols, made concrete by the subschema the name
// selects (plugin.go). The endpoint key is instance_name.
var Plugins = newEntity(&Entity{
	name:        "plugins",
	endpointKey: "instance_name",
	fields: []*Field{
		ID(),
		{name: "name", kind: KString, required: true, custom: func(s string) string {
			if GetPlugin(s) == nil {
				return fmt.Sprintf(msgPluginNotEnabled, s)
			}
			return ""
		}},
		{name: "instance_name", kind: KString, unique: true, custom: validateUTF8Name},
		Timestamp("created_at", KInteger),
		Timestamp("updated_at", KInteger),
		Foreign("route", "routes"),
		Foreign("service", "services"),
		Foreign("consumer", "consumers"),
		Record("config"),
		fProtocols(protocols...),
		Boolean("enabled").Req().Default(true),
		Tags(),
	},
	subschemaKey: "name",
	subschemas: func(name string) *Entity {
		if p := GetPlugin(name); p != nil {
			return p.entity
		}
		return nil
	},
})

// httpProtocols is typedefs.protocols_http's set, sorted as its default.
var httpProtocols = []string{"grpc", "grpcs", "http", "https"}

// fProtocols is a plugin's protocols set, required, accepting allowed and
// defaulting to the HTTP-subsystem protocols among them (Kong's
// typedefs.protocols and protocols_http both default to those for the
// plugins here).
func fProtocols(allowed ...string) *Field {
	var def []any
	for _, p := range httpProtocols {
		def = append(def, p)
	}
	return &Field{name: "protocols", kind: KSet, required: true, def: def,
		elements: &Field{kind: KString, required: true, oneOf: anyOf(allowed...)}}
}

// fNoConsumer is typedefs.no_consumer: auth plugins cannot be scoped to a
// consumer.
func fNoConsumer() *Field {
	return &Field{name: "consumer", kind: KForeign, reference: "consumers", eqNull: msgNotNull}
}

// fHeaderName is typedefs.header_name.
func fHeaderName(name string) *Field {
	return &Field{name: name, kind: KString, custom: validateHeaderName}
}

// strings is a JSON-shaped default list.
func defaultList[T any](vals ...T) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}
