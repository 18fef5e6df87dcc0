package ratelimit

import (
	"fmt"
	"math"
	"strconv"

	rlcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
)

// Descriptor entry keys (the format is in the package doc).
const (
	KeyRoute             = "kong_route"
	KeyService           = "kong_service"
	KeyPolicy            = "kong_policy"
	KeyPlugin            = "kong_plugin"
	KeyHideClientHeaders = "kong_hide_client_headers"
	KeyErrorMessage      = "kong_error_message"
	KeyErrorCode         = "kong_error_code"
	KeyIdentifier        = "kong_identifier"
	KeyRemoteAddress     = "remote_address"
	// KeyWindowPrefix + Window.Name() carries that window's limit.
	KeyWindowPrefix = "kong_"
)

// StatusHeader carries a rejection's error_code back to Envoy when it is not
// 429: Envoy's ratelimit filter answers with one status per filter, so a
// response stage of the translator's rewrites :status from this header
// (and removes it).
const StatusHeader = "x-sb-rl-status"

// Policies the service implements.
const (
	PolicyCluster = "cluster"
	PolicyRedis   = "redis"
)

// DefaultErrorMessage is Kong's config.error_message default.
const DefaultErrorMessage = "API rate limit exceeded"

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// Limit is one parsed descriptor: one plugin instance applied to one request.
type Limit struct {
	Limits       [len(windowNames)]int64 // 0 = window not configured
	Route        string
	Service      string
	Identifier   string
	Policy       string
	Plugin       string
	HideHeaders  bool
	ErrorMessage string
	ErrorCode    int // 0: Kong's default 429
}

var windowKeys = func() map[string]Window {
	m := make(map[string]Window, len(Windows))
	for _, w := range Windows {
		m[KeyWindowPrefix+w.Name()] = w
	}
	return m
}()

// ParseDescriptor reads a descriptor in the package's format. ok is false for
// a descriptor that configures no window (not ours); err reports a malformed one.
func ParseDescriptor(d *rlcommonv3.RateLimitDescriptor) (l Limit, ok bool, err error) {
	l = Limit{Route: zeroUUID, Service: zeroUUID, Policy: PolicyCluster, ErrorMessage: DefaultErrorMessage}
	var remote string
	for _, e := range d.GetEntries() {
		if w, isWindow := windowKeys[e.GetKey()]; isWindow {
			f, perr := strconv.ParseFloat(e.GetValue(), 64)
			if perr != nil || !(f > 0) || math.IsInf(f, 0) || f > math.MaxInt64/2 {
				return l, false, fmt.Errorf("descriptor entry %s: limit %q is not a number > 0", e.GetKey(), e.GetValue())
			}
			l.Limits[w] = int64(math.Ceil(f))
			ok = true
			continue
		}
		switch e.GetKey() {
		case KeyRoute:
			l.Route = e.GetValue()
		case KeyService:
			l.Service = e.GetValue()
		case KeyPolicy:
			l.Policy = e.GetValue()
		case KeyPlugin:
			l.Plugin = e.GetValue()
		case KeyHideClientHeaders:
			l.HideHeaders = e.GetValue() == "true"
		case KeyErrorMessage:
			l.ErrorMessage = e.GetValue()
		case KeyErrorCode:
			code, cerr := strconv.Atoi(e.GetValue())
			if cerr != nil || code < 400 || code > 599 {
				return l, false, fmt.Errorf("descriptor entry %s: %q is not a status 400-599", KeyErrorCode, e.GetValue())
			}
			l.ErrorCode = code
		case KeyIdentifier:
			l.Identifier = e.GetValue()
		case KeyRemoteAddress:
			remote = e.GetValue()
		}
	}
	if l.Identifier == "" {
		l.Identifier = remote
	}
	if ok && l.Policy != PolicyCluster && l.Policy != PolicyRedis {
		return l, false, fmt.Errorf("descriptor entry %s: unknown policy %q", KeyPolicy, l.Policy)
	}
	return l, ok, nil
}

// CounterKey is Kong's counter key for window w starting at startMS.
func (l *Limit) CounterKey(w Window, startMS int64) string {
	return "ratelimit:" + l.Route + ":" + l.Service + ":" + l.Identifier + ":" +
		strconv.FormatInt(startMS, 10) + ":" + w.Name()
}
