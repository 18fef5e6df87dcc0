package schema

// msgInvalidTarget is the targets DAO's message (the Admin API's); the
// schema-level variant with the value in parentheses only shows up in
// declarative configuration, which switchboard does not take.
const msgInvalidTarget = "Invalid target; not a valid hostname or ip address"

func init() { Register(Targets) }

// Targets is Kong 3.9's targets schema. Targets carry float timestamps
// with a millisecond fraction.
var Targets = newEntity(&Entity{
	name:        "targets",
	endpointKey: "target",
	stamps:      KNumber,
	fields: []*Field{
		{name: "upstream", kind: KForeign, reference: "upstreams", required: true},
		{name: "target", kind: KString, required: true, custom: func(s string) string {
			if _, ok := NormalizeTarget(s); !ok {
				return msgInvalidTarget
			}
			return ""
		}},
		Integer("weight").Default(int64(100)).Between(0, 65535),
		Tags(),
	},
	// Targets are stored normalised: default port 8000, canonical IPv4,
	// expanded and bracketed IPv6.
	expand: func(in map[string]any) {
		if s, ok := in["target"].(string); ok {
			if n, ok := NormalizeTarget(s); ok {
				in["target"] = n
			}
		}
	},
})
