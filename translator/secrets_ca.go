package translator

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// The ca/<service id> secrets: the trust store of one service with
// tls_verify=true. One secret per service (not per CA set) so that
// editing a service's ca_certificates, or PATCHing one of its CAs, changes
// that Secret alone: its clusters name it and stay as they are.

// serviceCASecret is the validation context of svc, or nil when svc does
// not verify its upstream (not TLS, or tls_verify not true). It trusts the
// service's CA certificates in their listed order (an id with no CA, kept
// from a legacy state, is skipped), else the bundle Envoy reads from
// trustedCAFile, which Kong's fail-closed "no CA, nothing trusted" does not
// do (decision D5).
func serviceCASecret(svc *store.Service, cas map[string]*store.CACertificate, trustedCAFile string) (*tlsv3.Secret, error) {
	v := variantOf(svc)
	if !v.tlsVerify {
		return nil, nil
	}
	var pems []string
	for _, id := range svc.CACertificates {
		if ca := cas[id]; ca != nil {
			pems = append(pems, strings.TrimSpace(ca.Cert))
		}
	}
	trusted := &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: trustedCAFile}}
	if len(pems) > 0 {
		trusted = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: strings.Join(pems, "\n") + "\n"}}
	}
	s := &tlsv3.Secret{
		Name: CASecretName(svc.ID),
		Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: trusted}},
	}
	if err := s.ValidateAll(); err != nil {
		return nil, serviceError(svc, fmt.Errorf("invalid secret %s: %w", s.GetName(), err))
	}
	return s, nil
}

// serviceCAOwner is the secretSet key of a service's CA secret.
func serviceCAOwner(serviceID string) string { return "service/" + serviceID }

// addCASecrets adds to set the ca/<service id> secret of every verifying
// service of services.
func (t *translator) addCASecrets(set secretSet, services []*store.Service) []error {
	var errs []error
	for _, svc := range sortedBy(services, func(s *store.Service) string { return s.ID }) {
		s, err := serviceCASecret(svc, t.caCertificates, t.opts.TrustedCAFile)
		if err != nil {
			errs = append(errs, err)
		}
		if s != nil {
			set[serviceCAOwner(svc.ID)] = []*tlsv3.Secret{s}
		}
	}
	return errs
}
