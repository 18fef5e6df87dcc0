package xds

import (
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// Credentials with a ttl expire without a store write. The key-auth stage
// in Envoy refuses a credential from its expiry on by itself (it carries
// the expiry), so nothing waits for the control plane to stop a key; the
// translation at the next expiry then drops the credential from the route
// config, so Envoy's config keeps only live keys. expiryTimer schedules
// that translation.

// nextCredentialExpiry is the earliest expiry of a key-auth credential of
// snap that is still in the future at now; zero when none.
func nextCredentialExpiry(snap *store.Snapshot, now time.Time) time.Time {
	creds, err := snap.KeyAuthCredentials()
	if err != nil {
		return time.Time{}
	}
	var next int64
	for _, c := range creds {
		if c.ExpiresAt > now.Unix() && (next == 0 || c.ExpiresAt < next) {
			next = c.ExpiresAt
		}
	}
	if next == 0 {
		return time.Time{}
	}
	return time.Unix(next, 0)
}

// expiryTimer fires once at the time it was last armed for.
type expiryTimer struct {
	t  *time.Timer
	at time.Time
}

func newExpiryTimer() *expiryTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &expiryTimer{t: t}
}

// C fires at the armed time.
func (e *expiryTimer) C() <-chan time.Time { return e.t.C }

// arm (re)schedules the timer for at; a zero at disarms it.
func (e *expiryTimer) arm(at time.Time) {
	if at.Equal(e.at) {
		return
	}
	e.t.Stop()
	e.at = at
	if !at.IsZero() {
		e.t.Reset(time.Until(at))
	}
}

// fired records that the armed time passed (the next arm schedules anew).
func (e *expiryTimer) fired() { e.at = time.Time{} }

func (e *expiryTimer) stop() { e.t.Stop() }
