package admin

import "fmt"

// serviceSchema is Kong 3.9's services schema.
var serviceSchema = newEntitySchema(&entitySchema{
	name:        "services",
	endpointKey: "name",
	fields: []*field{
		fID(),
		fTimestamp("created_at", kInteger),
		fTimestamp("updated_at", kInteger),
		fUTF8Name(),
		fInteger("retries").dflt(int64(5)).btw(0, 32767),
		fString("protocol").req().dflt("http").one(anyOf(protocols...)...),
		fHost("host").req(),
		fPort("port").req().dflt(int64(80)),
		fPath("path"),
		fInteger("connect_timeout").dflt(int64(60000)).btw(1, 2147483646),
		fInteger("write_timeout").dflt(int64(60000)).btw(1, 2147483646),
		fInteger("read_timeout").dflt(int64(60000)).btw(1, 2147483646),
		fTags(),
		fForeign("client_certificate", "certificates"),
		fBoolean("tls_verify"),
		fInteger("tls_verify_depth").btw(0, 64),
		{name: "ca_certificates", kind: kArray, elements: &field{kind: kString, uuid: true}},
		fBoolean("enabled").req().dflt(true),
	},
	shorthands: map[string]bool{"url": true},
	expand:     expandServiceURL,
	checks:     serviceChecks,
	entityChecks: []any{
		conditionalCheck("protocol", map[string]any{"one_of": anyOf(serviceNoPathProtocols...)}, "path", map[string]any{"eq": nil}),
		conditionalCheck("protocol", map[string]any{"not_one_of": anyOf("https", "tls")}, "client_certificate", map[string]any{"eq": nil}),
		conditionalCheck("protocol", map[string]any{"not_one_of": anyOf("https", "tls")}, "tls_verify", map[string]any{"eq": nil}),
		conditionalCheck("protocol", map[string]any{"not_one_of": anyOf("https", "tls")}, "tls_verify_depth", map[string]any{"eq": nil}),
		conditionalCheck("protocol", map[string]any{"not_one_of": anyOf("https", "tls")}, "ca_certificates", map[string]any{"eq": nil}),
	},
})

// serviceNoPathProtocols are the protocols for which a service path makes
// no sense.
var serviceNoPathProtocols = []string{"tcp", "tls", "udp", "grpc", "grpcs"}

// serviceChecks are the services entity checks: path only for HTTP-ish
// protocols, TLS settings only for https/tls.
func serviceChecks(m map[string]any, errs fieldErrors) {
	if errs.fieldHasError("protocol") {
		return
	}
	protocol, _ := m["protocol"].(string)
	if containsAny(anyOf(serviceNoPathProtocols...), protocol) {
		conditionalNull(m, errs, "protocol", "path")
	}
	if protocol != "https" && protocol != "tls" {
		for _, f := range []string{"client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"} {
			conditionalNull(m, errs, "protocol", f)
		}
	}
}

// conditionalNull applies a Kong "conditional" check whose then_match is
// eq = null: the field gets "value must be null" and @entity one
// "failed conditional validation" per failing check.
func conditionalNull(m map[string]any, errs fieldErrors, ifField, thenField string) {
	if m[thenField] == nil || errs.fieldHasError(thenField) {
		return
	}
	errs[thenField] = msgNotNull
	errs.addEntity(fmt.Sprintf(msgConditionF, ifField))
}

// conditionalCheck renders a conditional entity check for /schemas.
func conditionalCheck(ifField string, ifMatch map[string]any, thenField string, thenMatch map[string]any) map[string]any {
	return map[string]any{"conditional": map[string]any{
		"if_field": ifField, "if_match": ifMatch, "then_field": thenField, "then_match": thenMatch,
	}}
}
