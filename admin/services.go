package admin

// serviceOptions: ca_certificates holds ids of CA certificates, which
// switchboard does not store yet, so any given is refused as dangling.
var serviceOptions = entityOptions{
	arrayRefs: map[string]string{"ca_certificates": "ca_certificates"},
}
