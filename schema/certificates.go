package schema

import (
	"strings"
	"time"
)

func init() {
	Register(Certificates)
	Register(SNIs)
	Register(CACertificates)
}

// Kong's certificate entity-check messages (kong/db/schema/entities/
// certificates.lua).
const (
	msgCertKeyMismatch    = "certificate does not match key"
	msgAltCertKeyMismatch = "alternative certificate does not match key"
	msgAltSameType        = "certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type"
)

// Certificates is Kong 3.9's certificates schema. It has no endpoint key:
// the Admin API looks certificates up by SNI name (admin/certificates.go).
// snis is a shorthand for SNI rows, validated here and written by the
// Admin API in the certificate's transaction.
var Certificates = newEntity(&Entity{
	name:   "certificates",
	stamps: KInteger,
	fields: []*Field{
		{name: "cert", kind: KString, required: true, custom: validateServedCertificate},
		{name: "key", kind: KString, required: true, custom: validateKey},
		{name: "cert_alt", kind: KString, custom: validateServedCertificate},
		{name: "key_alt", kind: KString, custom: validateKey},
		Tags(),
	},
	checks: []Check{
		{MutuallyRequired: []string{"cert_alt", "key_alt"}},
		{Custom: &CustomCheck{FieldSources: []string{"cert", "key"}, Fn: func(m map[string]any) string {
			if !pairMatches(m["cert"], m["key"]) {
				return msgCertKeyMismatch
			}
			return ""
		}}},
		{Custom: &CustomCheck{FieldSources: []string{"cert_alt", "key_alt"}, Fn: func(m map[string]any) string {
			if m["cert_alt"] != nil && !pairMatches(m["cert_alt"], m["key_alt"]) {
				return msgAltCertKeyMismatch
			}
			return ""
		}}},
		{Custom: &CustomCheck{FieldSources: []string{"cert", "cert_alt"}, Fn: func(m map[string]any) string {
			if m["cert_alt"] != nil && sameKeyType(m["cert"], m["cert_alt"]) {
				return msgAltSameType
			}
			return ""
		}}},
	},
}).Shorthand(&Field{name: "snis", kind: KArray, elements: &Field{kind: KString, custom: ValidateWildcardHost}})

// SNIs is Kong 3.9's snis schema: a unique wildcard_host name selecting a
// certificate.
var SNIs = newEntity(&Entity{
	name:        "snis",
	endpointKey: "name",
	fields: []*Field{
		ID(),
		{name: "name", kind: KString, required: true, unique: true, custom: ValidateWildcardHost},
		Timestamp("created_at", KInteger),
		Timestamp("updated_at", KInteger),
		Tags(),
		{name: "certificate", kind: KForeign, reference: "certificates", required: true},
	},
})

// CACertificates is Kong 3.9's ca_certificates schema; the Admin API
// computes cert_digest on every write (Kong's DAO does).
var CACertificates = newEntity(&Entity{
	name:   "ca_certificates",
	stamps: KInteger,
	fields: []*Field{
		{name: "cert", kind: KString, required: true, custom: validateCertificate},
		{name: "cert_digest", kind: KString, unique: true},
		Tags(),
	},
	checks: []Check{{Custom: &CustomCheck{FieldSources: []string{"cert"}, Fn: checkCACertificate}}},
})

// checkCACertificate is ca_certificates' custom_entity_check: one
// certificate, not expired (at write time), a CA.
func checkCACertificate(m map[string]any) string {
	s, _ := m["cert"].(string)
	if strings.Count(s, "-----BEGIN CERTIFICATE-----") > 1 {
		return "please submit only one certificate at a time"
	}
	c, err := ParseCertificatePEM(s)
	if err != nil {
		return "" // the field failed already
	}
	if time.Now().After(c.NotAfter) {
		return `certificate expired, "Not After" time is in the past`
	}
	if !c.BasicConstraintsValid || !c.IsCA {
		return `certificate does not appear to be a CA because it is missing the "CA" basic constraint`
	}
	return ""
}

// ValidateWildcardHost is typedefs.wildcard_host: a host name with at most
// one "*", as its first or last character; "" when valid. Route snis use
// it too (Kong 3.9's default router flavor).
func ValidateWildcardHost(s string) string {
	if i := strings.IndexByte(s, '*'); i >= 0 {
		if i != 0 && i != len(s)-1 {
			return "wildcard must be leftmost or rightmost character"
		}
		if strings.Count(s, "*") > 1 {
			return "only one wildcard must be specified"
		}
		s = strings.ReplaceAll(s, "*", "wildcard")
	}
	return validateSNI(s)
}
