package admin

// serviceOptions: ca_certificates holds ids of CA certificates (the store
// refuses unknown ones, where Kong accepts them and fails at runtime:
// docs/decisions.md, TLS entities).
var serviceOptions = entityOptions{
	arrayRefs: map[string]string{"ca_certificates": "ca_certificates"},
}
