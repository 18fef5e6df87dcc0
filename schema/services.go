package schema

func init() { Register(Services) }

// Services is Kong 3.9's services schema.
var Services = newEntity(&Entity{
	name:        "services",
	endpointKey: "name",
	stamps:      KInteger,
	fields: []*Field{
		fUTF8Name(),
		Integer("retries").Default(int64(5)).Between(0, 32767),
		String("protocol").Req().Default("http").OneOf(anyOf(protocols...)...),
		fHost("host").Req(),
		fPort("port").Req().Default(int64(80)),
		fPath("path"),
		Integer("connect_timeout").Default(int64(60000)).Between(1, 2147483646),
		Integer("write_timeout").Default(int64(60000)).Between(1, 2147483646),
		Integer("read_timeout").Default(int64(60000)).Between(1, 2147483646),
		Tags(),
		Foreign("client_certificate", "certificates"),
		Boolean("tls_verify"),
		Integer("tls_verify_depth").Between(0, 64),
		{name: "ca_certificates", kind: KArray, elements: &Field{kind: KString, uuid: true}},
		Boolean("enabled").Req().Default(true),
	},
	shorthands: map[string]bool{"url": true, "tls_sans": true},
	expand:     func(in map[string]any) { dropEmptyTLSSANs(in); expandServiceURL(in) },
	checks: []Check{
		ifThen("protocol", Match{OneOf: anyOf(serviceNoPathProtocols...)}, "path", Match{EqNull: true}),
		ifThen("protocol", Match{NotOneOf: anyOf("https", "tls")}, "client_certificate", Match{EqNull: true}),
		ifThen("protocol", Match{NotOneOf: anyOf("https", "tls")}, "tls_verify", Match{EqNull: true}),
		ifThen("protocol", Match{NotOneOf: anyOf("https", "tls")}, "tls_verify_depth", Match{EqNull: true}),
		ifThen("protocol", Match{NotOneOf: anyOf("https", "tls")}, "ca_certificates", Match{EqNull: true}),
	},
})

// serviceNoPathProtocols are the protocols for which a service path makes
// no sense.
var serviceNoPathProtocols = []string{"tcp", "tls", "udp", "grpc", "grpcs"}

// dropEmptyTLSSANs tolerates the tls_sans field newer Kong Manager builds
// send with every service (Kong 3.10's SAN check, which the 3.9 we speak
// lacks): null or empty means no check and is dropped; names to check stay
// and are refused as an unknown field, since nothing would verify them.
func dropEmptyTLSSANs(in map[string]any) {
	v, ok := in["tls_sans"]
	if !ok {
		return
	}
	empty := v == nil || v == ""
	if m, isMap := v.(map[string]any); isMap {
		empty = true
		for _, x := range m {
			if l, isList := x.([]any); x != nil && (!isList || len(l) != 0) {
				empty = false
			}
		}
	}
	if empty {
		delete(in, "tls_sans")
	}
}
