package schema

func init() { RegisterPlugin(KeyAuth) }

// KeyAuth is Kong 3.9's key-auth schema (kong/plugins/key-auth/schema.lua):
// never consumer-scoped.
var KeyAuth = NewPlugin("key-auth", 1250, []*Field{
	fNoConsumer(),
	fProtocols(httpProtocols...),
	keyAuthConfig(),
})

func keyAuthConfig() *Field {
	cfg := Record("config",
		&Field{name: "key_names", kind: KArray, required: true, def: defaultList("apikey"), elements: fHeaderName("")},
		Boolean("hide_credentials").Req().Default(false),
		String("anonymous"),
		Boolean("key_in_header").Req().Default(true),
		Boolean("key_in_query").Req().Default(true),
		Boolean("key_in_body").Req().Default(false),
		Boolean("run_on_preflight").Req().Default(true),
		String("realm"),
	)
	cfg.required = true
	return cfg
}
