package ratelimit

import (
	"strconv"
	"time"
)

// Header is one response header of a decision.
type Header struct{ Name, Value string }

// Decision is Kong's verdict on one request for one plugin instance.
type Decision struct {
	Allowed bool
	// Headers are Kong's client headers (nil with hide_client_headers):
	// X-RateLimit-Limit-<W>/X-RateLimit-Remaining-<W> per configured window,
	// shortest first, then RateLimit-Limit/Remaining/Reset and, on rejection,
	// Retry-After.
	Headers []Header
}

// admits is Kong's rule on the usage read before the request: rejected as
// soon as one configured window has nothing left (remaining <= 0).
func (l *Limit) admits(usage []int64) bool {
	i := 0
	for _, w := range Windows {
		if l.Limits[w] == 0 {
			continue
		}
		if l.Limits[w]-usage[i] <= 0 {
			return false
		}
		i++
	}
	return true
}

// decide turns the pre-request usage of the configured windows (in Windows
// order) into Kong's decision and headers (handler.lua's header arithmetic):
// an admitted request decrements every window's remaining; a rejected one only
// the windows that rejected it (which then show 0); remaining is floored at 0.
// The RateLimit-* trio describes the window with the lowest remaining, ties
// going to the longer window; Reset = max(1, length − elapsed seconds).
func (l *Limit) decide(usage []int64, admitted bool, now time.Time) Decision {
	d := Decision{Allowed: admitted}
	if l.HideHeaders {
		return d
	}
	var (
		best     Window
		bestRem  int64
		found    bool
		i        int
		nHeaders = 5
	)
	for _, w := range Windows {
		if l.Limits[w] != 0 {
			nHeaders += 2
		}
	}
	d.Headers = make([]Header, 0, nHeaders)
	for _, w := range Windows {
		limit := l.Limits[w]
		if limit == 0 {
			continue
		}
		rem := limit - usage[i]
		i++
		if admitted || rem <= 0 {
			rem--
		}
		rem = max(0, rem)
		// Windows run shortest first, so "<=" hands ties to the longer one.
		if !found || rem <= bestRem {
			best, bestRem, found = w, rem, true
		}
		d.Headers = append(d.Headers,
			Header{"X-RateLimit-Limit-" + w.Title(), strconv.FormatInt(limit, 10)},
			Header{"X-RateLimit-Remaining-" + w.Title(), strconv.FormatInt(rem, 10)})
	}
	if !found {
		return d
	}
	reset := strconv.FormatInt(best.Reset(now), 10)
	d.Headers = append(d.Headers,
		Header{"RateLimit-Limit", strconv.FormatInt(l.Limits[best], 10)},
		Header{"RateLimit-Remaining", strconv.FormatInt(bestRem, 10)},
		Header{"RateLimit-Reset", reset})
	if !admitted {
		d.Headers = append(d.Headers, Header{"Retry-After", reset})
	}
	return d
}

// counters are the store keys of the configured windows at now, in Windows order.
func (l *Limit) counters(now time.Time) []Counter {
	cs := make([]Counter, 0, len(Windows))
	for _, w := range Windows {
		if l.Limits[w] == 0 {
			continue
		}
		start := w.Start(now)
		cs = append(cs, Counter{
			Key: l.CounterKey(w, start.UnixMilli()),
			// The key names its window start, so expiring at the window's end
			// (Kong's lengths) forgets nothing still in use.
			TTL: start.Add(time.Duration(w.Seconds()) * time.Second).Sub(now),
		})
	}
	return cs
}
