package translator

import (
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// The incremental side of upstream TLS (cluster_tls.go, secrets_ca.go).
// Clusters name certificates and CA secrets, so contents never move a
// cluster: a certificate rotation is its cert/<id> secret alone, a CA
// rotation the ca/<service id> secrets of the services listing it. Only a
// certificate's existence shapes clusters (a client_certificate id with no
// certificate is none), which only a legacy state can make matter.

// markTLS records the certificates and CA certificates ch names, marks the
// services and upstreams whose clusters a certificate's coming or going
// changes, and returns the services whose CA secret to rebuild: those
// written and those listing a written CA.
func (x *Incremental) markTLS(r Reader, ch Changes, w *work) ([]string, error) {
	rebuild := map[string]bool{}
	for _, id := range ch.Services {
		rebuild[id] = true
	}
	tr, ok := r.(tlsReader)
	if !ok {
		return sortedKeys(rebuild), nil
	}
	for _, id := range ch.Certificates {
		c, err := tr.CertificateByID(id)
		if err != nil {
			return nil, fmt.Errorf("translator: certificate %s: %w", id, err)
		}
		existed := x.t.certificates[id] != nil
		if c != nil {
			x.t.certificates[id] = c
		} else {
			delete(x.t.certificates, id)
		}
		if existed != (c != nil) {
			if err := x.markCertificateUsers(r, id, w); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range ch.CACertificates {
		ca, err := tr.CACertificateByID(id)
		if err != nil {
			return nil, fmt.Errorf("translator: ca certificate %s: %w", id, err)
		}
		if ca != nil {
			x.t.caCertificates[id] = ca
		} else {
			delete(x.t.caCertificates, id)
		}
		for sid, s := range x.t.services {
			if slices.Contains(s.CACertificates, id) {
				rebuild[sid] = true
			}
		}
	}
	return sortedKeys(rebuild), nil
}

// markCertificateUsers marks the services and upstreams whose
// client_certificate is id, as if written again.
func (x *Incremental) markCertificateUsers(r Reader, id string, w *work) error {
	var services, upstreams []string
	for sid, s := range x.t.services {
		if s.ClientCertificate != nil && s.ClientCertificate.ID == id {
			services = append(services, sid)
		}
	}
	for uid, u := range x.upstreamsByID {
		if u.ClientCertificate != nil && u.ClientCertificate.ID == id {
			upstreams = append(upstreams, uid)
		}
	}
	for _, sid := range services {
		x.setService(sid, x.t.services[sid], w)
	}
	for _, uid := range upstreams {
		u := x.upstreamsByID[uid]
		x.dropUpstream(uid, w)
		if err := x.addUpstream(r, u, w); err != nil {
			return err
		}
	}
	return nil
}

// updateCASecrets rebuilds the ca/<service id> secrets of ids (a deleted
// or non-verifying service has none).
func (x *Incremental) updateCASecrets(ids []string, d *Delta) {
	for _, id := range ids {
		owner := serviceCAOwner(id)
		delete(x.secretErrs, owner)
		var ss []*tlsv3.Secret
		if svc := x.t.services[id]; svc != nil {
			s, err := serviceCASecret(svc, x.t.caCertificates, x.t.opts.TrustedCAFile)
			if err != nil {
				x.secretErrs[owner] = err
			}
			if s != nil {
				ss = []*tlsv3.Secret{s}
			}
		}
		x.setSecrets(owner, ss, d)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
