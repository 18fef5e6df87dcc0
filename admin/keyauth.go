package admin

import (
	"crypto/rand"
	"encoding/json"
	"math/big"
	"strconv"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// keyAuthOptions: key-auth credentials live at /key-auths and
// /consumers/{c}/key-auth (Kong's admin_api_name and nested name); ttl is
// a write option, the key is generated when absent, expired credentials
// are gone for readers.
var keyAuthOptions = entityOptions{
	apiName:    "key-auths",
	nestedPath: map[string]string{"consumer": "key-auth"},
	before:     takeTTL,
	after:      finishCredential,
	hidden: func(row store.Row, now time.Time) bool {
		c, ok := row.(*store.KeyAuthCredential)
		return ok && c.Expired(now)
	},
}

// maxTTL is Kong's bound on a ttl option (kong/db/dao/init.lua).
const maxTTL = 100000000

// ttlState carries the ttl option from takeTTL to finishCredential: the
// ttl given (nil when none) and the stored expiry an update keeps without
// one.
type ttlState struct {
	ttl        *int64
	prevExpiry int64
}

// takeTTL removes Kong's ttl option from the input (a number in JSON, a
// string in forms) and the stored expiry from the update base.
func takeTTL(_ *Server, input, base map[string]any) (any, error) {
	var st ttlState
	if base != nil {
		if n, ok := base["expires_at"].(json.Number); ok {
			st.prevExpiry, _ = n.Int64()
		}
		delete(base, "expires_at")
		delete(base, "ttl")
	}
	v, given := input["ttl"]
	if !given {
		return st, nil
	}
	delete(input, "ttl")
	if v == nil {
		return st, nil
	}
	var n int64
	var err error
	switch t := v.(type) {
	case json.Number:
		n, err = t.Int64()
	case string:
		n, err = strconv.ParseInt(t, 10, 64)
	default:
		err = strconv.ErrSyntax
	}
	if err != nil || n < 0 || n > maxTTL {
		return nil, errInvalidOption("ttl", "must be an integer between 0 and 100000000")
	}
	st.ttl = &n
	return st, nil
}

// finishCredential generates a missing key and sets the expiry.
func finishCredential(s *Server, _ *store.Snapshot, row store.Row, state any) error {
	c := row.(*store.KeyAuthCredential)
	if c.Key == "" {
		key, err := randomKey()
		if err != nil {
			return err
		}
		c.Key = key
	}
	st, _ := state.(ttlState)
	c.ExpiresAt = st.prevExpiry
	if st.ttl != nil {
		c.ExpiresAt = 0
		if *st.ttl > 0 {
			c.ExpiresAt = s.opts.Now().Unix() + *st.ttl
		}
	}
	return nil
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomKey is a 32-character key from [A-Za-z0-9], the shape of Kong's
// generated keys (kong/tools/rand.lua random_string).
func randomKey() (string, error) {
	b := make([]byte, 32)
	limit := big.NewInt(int64(len(keyAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", err
		}
		b[i] = keyAlphabet[n.Int64()]
	}
	return string(b), nil
}
