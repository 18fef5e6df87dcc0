package admin

// serviceOptions: ca_certificates holds ids of CA certificates (the store
// refuses unknown ones, where Kong accepts them and fails at runtime:
// kong-tls.md D5).
var serviceOptions = entityOptions{
	arrayRefs: map[string]string{"ca_certificates": "ca_certificates"},
}
