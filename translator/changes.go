package translator

import (
	"fmt"
	"slices"

	"github.com/switchboard-gw/switchboard/store"
)

// ChangesBetween lists the entities that differ between two snapshots of
// one store, by row identity: the store replaces a row it writes and shares
// every other row between revisions, so a row that is not the same object
// was written (or deleted) in between. It reads every row of both (no
// translation, a few pointer compares per row), for callers without the
// store's change feed and for tests.
func ChangesBetween(before, after Reader) (Changes, error) {
	var ch Changes
	var err error
	if ch.Services, err = diffRows(before.Services, after.Services, func(s *store.Service) string { return s.ID }); err != nil {
		return ch, fmt.Errorf("translator: services: %w", err)
	}
	if ch.Routes, err = diffRows(before.Routes, after.Routes, func(r *store.Route) string { return r.ID }); err != nil {
		return ch, fmt.Errorf("translator: routes: %w", err)
	}
	if ch.Upstreams, err = diffRows(before.Upstreams, after.Upstreams, func(u *store.Upstream) string { return u.ID }); err != nil {
		return ch, fmt.Errorf("translator: upstreams: %w", err)
	}
	ups := map[string]bool{}
	if err := diffOwners(before.Targets, after.Targets, func(t *store.Target) (string, string) { return t.ID, t.Upstream.ID }, ups); err != nil {
		return ch, fmt.Errorf("translator: targets: %w", err)
	}
	if err := diffOwners(before.TargetHealth, after.TargetHealth, func(h *store.TargetHealth) (string, string) { return h.Key(), h.UpstreamID }, ups); err != nil {
		return ch, fmt.Errorf("translator: target health: %w", err)
	}
	for id := range ups {
		ch.EndpointUpstreams = append(ch.EndpointUpstreams, id)
	}
	slices.Sort(ch.EndpointUpstreams)
	if ch.All, err = pluginEntitiesChanged(before, after); err != nil {
		return ch, err
	}
	return ch, tlsChangesBetween(before, after, &ch)
}

// tlsChangesBetween fills ch's TLS entity lists when both readers can read
// them.
func tlsChangesBetween(before, after Reader, ch *Changes) error {
	b, okB := before.(tlsReader)
	a, okA := after.(tlsReader)
	if !okB || !okA {
		return nil
	}
	var err error
	if ch.Certificates, err = diffRows(b.Certificates, a.Certificates, func(c *store.Certificate) string { return c.ID }); err != nil {
		return fmt.Errorf("translator: certificates: %w", err)
	}
	if ch.SNIs, err = diffRows(b.SNIs, a.SNIs, func(n *store.SNI) string { return n.ID }); err != nil {
		return fmt.Errorf("translator: snis: %w", err)
	}
	if ch.CACertificates, err = diffRows(b.CACertificates, a.CACertificates, func(c *store.CACertificate) string { return c.ID }); err != nil {
		return fmt.Errorf("translator: ca certificates: %w", err)
	}
	bd, err := b.DefaultCertificate()
	if err != nil {
		return fmt.Errorf("translator: default certificate: %w", err)
	}
	ad, err := a.DefaultCertificate()
	if err != nil {
		return fmt.Errorf("translator: default certificate: %w", err)
	}
	ch.DefaultCertificate = bd != ad
	return nil
}

// diffRows returns the sorted keys of rows added, removed or replaced.
func diffRows[T any](before, after func() ([]*T, error), key func(*T) string) ([]string, error) {
	var out []string
	err := diffOwners(before, after, func(r *T) (string, string) { k := key(r); return k, k }, nil, func(k string) { out = append(out, k) })
	slices.Sort(out)
	return slices.Compact(out), err
}

// diffOwners marks in owners the owner of every row added, removed or
// replaced (both owners of a row that moved); each changed key also goes
// to the optional callbacks.
func diffOwners[T any](before, after func() ([]*T, error), key func(*T) (id, owner string), owners map[string]bool, changed ...func(string)) error {
	old, err := before()
	if err != nil {
		return err
	}
	cur, err := after()
	if err != nil {
		return err
	}
	byKey := make(map[string]*T, len(old))
	for _, r := range old {
		k, _ := key(r)
		byKey[k] = r
	}
	mark := func(r *T) {
		k, o := key(r)
		if owners != nil {
			owners[o] = true
		}
		for _, f := range changed {
			f(k)
		}
	}
	for _, r := range cur {
		k, _ := key(r)
		prev, ok := byKey[k]
		delete(byKey, k)
		if ok && prev == r {
			continue
		}
		mark(r)
		if ok {
			mark(prev)
		}
	}
	for _, r := range byKey {
		mark(r)
	}
	return nil
}

// ChangesFromFeed folds the store's change feed (Snapshot.ChangesSince)
// into Changes. A row of a table the translator does not know (an entity
// added later) asks for a reset, so that nothing it shapes is missed.
func ChangesFromFeed(revs []store.RevisionChanges) Changes {
	var ch Changes
	seen := map[string]bool{}
	add := func(list *[]string, kind, id string) {
		if key := kind + "\x00" + id; !seen[key] {
			seen[key] = true
			*list = append(*list, id)
		}
	}
	for _, rc := range revs {
		for _, c := range rc.Changes {
			switch c.Table {
			case "services":
				add(&ch.Services, c.Table, c.ID)
			case "routes":
				add(&ch.Routes, c.Table, c.ID)
			case "upstreams":
				add(&ch.Upstreams, c.Table, c.ID)
			case "targets":
				for _, row := range []store.Row{c.Before, c.After} {
					if t, ok := row.(*store.Target); ok && t != nil {
						add(&ch.EndpointUpstreams, "endpoints", t.Upstream.ID)
					}
				}
			case "target_health":
				for _, row := range []store.Row{c.Before, c.After} {
					if h, ok := row.(*store.TargetHealth); ok && h != nil {
						add(&ch.EndpointUpstreams, "endpoints", h.UpstreamID)
					}
				}
			case "certificates":
				add(&ch.Certificates, c.Table, c.ID)
			case "snis":
				add(&ch.SNIs, c.Table, c.ID)
			case "ca_certificates":
				add(&ch.CACertificates, c.Table, c.ID)
			case "default_certificate":
				ch.DefaultCertificate = true
			default:
				ch.All = true
			}
		}
	}
	for _, l := range [][]string{ch.Services, ch.Routes, ch.Upstreams, ch.EndpointUpstreams, ch.Certificates, ch.SNIs, ch.CACertificates} {
		slices.Sort(l)
	}
	return ch
}
