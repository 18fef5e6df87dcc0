package admin

import "github.com/switchboard-gw/switchboard/store"

// generated reports whether none of a unique key's fields came from the
// file: the hooks made the value up (a key-auth credential's random key),
// so it cannot identify the entity from one apply to the next.
func generated(fields []string, given map[string]bool) bool {
	for _, f := range fields {
		if given[f] {
			return false
		}
	}
	return len(fields) > 0
}

// keepGenerated carries over, from the stored row of the same id, what the
// hooks would otherwise make anew on every apply, so that re-applying a
// file is a no-op: a key-auth credential's key when the file names none,
// and its expiry when the file's ttl is the one it was created with (its
// expiry minus its creation time): the ttl counts from the apply that
// created the credential, not from every apply since.
func keepGenerated(row, prev store.Row, given map[string]bool, now int64) {
	c, ok := row.(*store.KeyAuthCredential)
	if !ok {
		return
	}
	old, ok := prev.(*store.KeyAuthCredential)
	if !ok {
		return
	}
	if !given["key"] {
		c.Key = old.Key
	}
	if given["ttl"] && old.ExpiresAt != 0 && c.ExpiresAt != 0 && c.ExpiresAt-now == old.ExpiresAt-old.CreatedAt {
		c.ExpiresAt = old.ExpiresAt
	}
}

// fileRoute is the file's route of that id (nil when the file has none).
// Routes are planned before plugins (store.Kinds order), so the index is
// built once, at the first plugin, over every route of the file.
func (p *configPlan) fileRoute(id string) (*store.Route, error) {
	p.indexRoutes()
	return p.routeByID[id], nil
}

// fileRoutesOf is the file's routes of one service.
func (p *configPlan) fileRoutesOf(serviceID string) ([]*store.Route, error) {
	p.indexRoutes()
	return p.routesOf[serviceID], nil
}

func (p *configPlan) indexRoutes() {
	if p.routeByID != nil {
		return
	}
	p.routeByID, p.routesOf = map[string]*store.Route{}, map[string][]*store.Route{}
	for _, d := range p.byTable["routes"] {
		rt, ok := d.row.(*store.Route)
		if !ok {
			continue // failed: its own errors are reported
		}
		p.routeByID[d.id] = rt
		if rt.Service != nil {
			p.routesOf[rt.Service.ID] = append(p.routesOf[rt.Service.ID], rt)
		}
	}
}
