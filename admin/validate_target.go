package admin

// msgInvalidTarget is the targets DAO's message (the Admin API's); the
// schema-level variant with the value in parentheses only shows up in
// declarative configuration, which switchboard does not take.
const msgInvalidTarget = "Invalid target; not a valid hostname or ip address"

// targetSchema is Kong 3.9's targets schema. Targets carry float timestamps
// with a millisecond fraction.
var targetSchema = newEntitySchema(&entitySchema{
	name:        "targets",
	endpointKey: "target",
	fields: []*field{
		fID(),
		fTimestamp("created_at", kNumber),
		fTimestamp("updated_at", kNumber),
		{name: "upstream", kind: kForeign, reference: "upstreams", required: true},
		{name: "target", kind: kString, required: true, custom: func(s string) string {
			if _, ok := normalizeTarget(s); !ok {
				return msgInvalidTarget
			}
			return ""
		}},
		fInteger("weight").dflt(int64(100)).btw(0, 65535),
		fTags(),
	},
	// Targets are stored normalised: default port 8000, canonical IPv4,
	// expanded and bracketed IPv6.
	expand: func(in map[string]any) {
		if s, ok := in["target"].(string); ok {
			if n, ok := normalizeTarget(s); ok {
				in["target"] = n
			}
		}
	},
})
