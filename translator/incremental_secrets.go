package translator

import (
	"cmp"
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// updateTLS follows certificate, SNI and default certificate writes: the
// written certificates' secrets, and the TLS listener, whose chains and
// matcher depend on the SNIs and on which certificates have an alternate
// pair. A rotation leaves the listener equal (it names secrets), so it
// reaches Envoy as an SDS update alone.
func (x *Incremental) updateTLS(r Reader, ch Changes, d *Delta) error {
	if len(ch.Certificates)+len(ch.SNIs) == 0 && !ch.DefaultCertificate {
		return nil
	}
	tr, ok := r.(tlsReader)
	if !ok {
		return nil
	}
	if err := x.updateCertificates(tr, ch.Certificates, d); err != nil {
		return err
	}
	if ch.DefaultCertificate {
		dc, err := tr.DefaultCertificate()
		if err != nil {
			return fmt.Errorf("translator: default certificate: %w", err)
		}
		x.setSecrets(defaultCertificateOwner, defaultSecrets(x.opts.withDefaults(), dc), d)
	}
	certs, err := tr.Certificates()
	if err != nil {
		return fmt.Errorf("translator: certificates: %w", err)
	}
	snis, err := tr.SNIs()
	if err != nil {
		return fmt.Errorf("translator: snis: %w", err)
	}
	st := newTLSState(certs, snis, x.secrets[defaultCertificateOwner])
	if st.equal(x.tls) {
		return nil // a rotation: the listener names the same secrets
	}
	x.tls = st
	for _, l := range x.ls {
		if !l.spec.tls {
			continue
		}
		had := l.listener != nil
		x.buildListener(l, d)
		if had && l.listener == nil {
			d.RemovedListeners = append(d.RemovedListeners, l.spec.name)
			d.RemovedRoutes = append(d.RemovedRoutes, l.spec.routeConfig)
		}
	}
	return nil
}

// updateCertificates rebuilds the secrets of the certificates ids names
// (written or deleted).
func (x *Incremental) updateCertificates(tr tlsReader, ids []string, d *Delta) error {
	for _, id := range ids {
		c, err := tr.CertificateByID(id)
		if err != nil {
			return fmt.Errorf("translator: certificate %s: %w", id, err)
		}
		owner := certificateOwner(id)
		delete(x.secretErrs, owner)
		var ss []*tlsv3.Secret
		if c != nil {
			if ss, err = certificateSecrets(c); err != nil {
				x.secretErrs[owner] = err
			}
		}
		x.setSecrets(owner, ss, d)
	}
	return nil
}

// setSecrets replaces owner's secrets with ss (none: the owner is gone),
// adding to d what changed; an unchanged secret keeps its old proto.
func (x *Incremental) setSecrets(owner string, ss []*tlsv3.Secret, d *Delta) {
	old := map[string]*tlsv3.Secret{}
	for _, s := range x.secrets[owner] {
		old[s.GetName()] = s
	}
	kept := make([]*tlsv3.Secret, 0, len(ss))
	for _, s := range ss {
		if o := old[s.GetName()]; o != nil && proto.Equal(o, s) {
			s = o
		} else {
			d.Secrets = append(d.Secrets, s)
		}
		delete(old, s.GetName())
		kept = append(kept, s)
	}
	for name := range old {
		d.RemovedSecrets = append(d.RemovedSecrets, name)
	}
	slices.Sort(d.RemovedSecrets)
	if len(kept) == 0 {
		delete(x.secrets, owner)
	} else {
		x.secrets[owner] = kept
	}
}

// resetSecrets builds every secret of in, keeping the protos of prev that
// did not change and withdrawing the names that are gone.
func (x *Incremental) resetSecrets(in *Input, prev secretSet, d *Delta, w *work) {
	set, errs := secretsOf(in)
	errs = append(errs, x.t.addCASecrets(set, in.Services)...)
	w.errs = append(w.errs, errs...)
	for _, err := range errs {
		if e, ok := err.(*EntityError); ok && e.Entity == "service" {
			x.secretErrs[serviceCAOwner(e.ID)] = err
		} else if ok {
			x.secretErrs[certificateOwner(e.ID)] = err
		}
	}
	x.secrets = prev
	if x.secrets == nil {
		x.secrets = secretSet{}
	}
	for owner := range x.secrets {
		if _, ok := set[owner]; !ok {
			x.setSecrets(owner, nil, d)
		}
	}
	owners := make([]string, 0, len(set))
	for owner := range set {
		owners = append(owners, owner)
	}
	slices.Sort(owners)
	for _, owner := range owners {
		x.setSecrets(owner, set[owner], d)
	}
	slices.SortFunc(d.Secrets, func(a, b *tlsv3.Secret) int { return cmp.Compare(a.GetName(), b.GetName()) })
}

// secretErrors lists the secret problems by owner.
func (x *Incremental) secretErrors() []error {
	owners := make([]string, 0, len(x.secretErrs))
	for owner := range x.secretErrs {
		owners = append(owners, owner)
	}
	slices.Sort(owners)
	out := make([]error, 0, len(owners))
	for _, owner := range owners {
		out = append(out, x.secretErrs[owner])
	}
	return out
}
