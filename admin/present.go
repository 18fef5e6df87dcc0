package admin

import (
	"github.com/switchboard-gw/switchboard/store"
)

// present turns what a handler answers into what Kong shows, for the few
// rows whose stored form differs: a key-auth credential's expiry is shown
// as the remaining ttl. Lists and lookups leave expired credentials out
// already (keyAuthOptions.hidden); the page filter here only catches one
// expiring between the walk and the answer.
func (s *Server) present(v any) any {
	switch t := v.(type) {
	case *store.KeyAuthCredential:
		return credentialView(t, s.opts.Now().Unix())
	case pageResult:
		data := t.Data[:0]
		now := s.opts.Now()
		for _, row := range t.Data {
			if c, ok := row.(*store.KeyAuthCredential); ok {
				if c.Expired(now) {
					continue
				}
				row = credentialView(c, now.Unix())
			}
			data = append(data, row)
		}
		t.Data = data
		return t
	}
	return v
}

// keyAuthView is a credential as Kong renders it: ttl is the remaining
// seconds, null for a credential without one.
type keyAuthView struct {
	ID        string           `json:"id"`
	CreatedAt int64            `json:"created_at"`
	Consumer  store.ForeignKey `json:"consumer"`
	Key       string           `json:"key"`
	Tags      []string         `json:"tags"`
	TTL       *int64           `json:"ttl"`
}

func credentialView(c *store.KeyAuthCredential, now int64) keyAuthView {
	v := keyAuthView{ID: c.ID, CreatedAt: c.CreatedAt, Consumer: c.Consumer, Key: c.Key, Tags: c.Tags}
	if c.ExpiresAt != 0 {
		left := max(c.ExpiresAt-now, 0)
		v.TTL = &left
	}
	return v
}
