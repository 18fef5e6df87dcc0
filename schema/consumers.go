package schema

func init() {
	Register(Consumers)
	Register(KeyAuthCredentials)
}

// Consumers is Kong 3.9's consumers schema: username or custom_id, both
// unique; username is the endpoint key.
var Consumers = newEntity(&Entity{
	name:        "consumers",
	endpointKey: "username",
	fields: []*Field{
		ID(),
		Timestamp("created_at", KInteger),
		Timestamp("updated_at", KInteger),
		String("username").Unique(),
		String("custom_id").Unique(),
		Tags(),
	},
	checks: []Check{{AtLeastOneOf: []string{"custom_id", "username"}}},
})

// KeyAuthCredentials is key-auth's credential DAO (kong/plugins/key-auth/
// daos.lua): the key is unique and generated when absent (the Admin API
// generates it, as Kong's auto field). Kong's ttl is a write option, not a
// field: the Admin API takes it out of the body and renders the remaining
// seconds.
var KeyAuthCredentials = newEntity(&Entity{
	name:        "keyauth_credentials",
	endpointKey: "key",
	fields: []*Field{
		ID(),
		Timestamp("created_at", KInteger),
		{name: "consumer", kind: KForeign, reference: "consumers", required: true},
		{name: "key", kind: KString, unique: true, auto: true},
		Tags(),
	},
})
