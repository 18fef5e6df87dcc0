package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Helpers that Kind literals share: unique-key encoding and the common
// shapes of keys and references.

// nameKey is Kong's unique, nullable name: a row without one is not
// subject to the key.
func nameKey(name func(Row) *string) UniqueKey {
	return UniqueKey{Name: indexName, Fields: []string{"name"}, Values: func(r Row) []any {
		if n := name(r); n != nil {
			return []any{*n}
		}
		return nil
	}}
}

// errNoName rejects a row whose required name is empty.
var errNoName = errors.New("name is required")

// errDefaultCertificate rejects a default certificate row without an id
// or a pair.
var errDefaultCertificate = errors.New("default certificate: id, cert and key are required")

// fkIDs is the id list of a nullable foreign key.
func fkIDs(fk *ForeignKey) []string {
	if fk == nil || fk.ID == "" {
		return nil
	}
	return []string{fk.ID}
}

// mustKey encodes one string as a unique-key index argument.
func mustKey(vals ...any) string {
	k, _ := uniqueKey(vals)
	return k
}

// uniqueKey encodes a unique key's values as its index key. Strings and
// foreign keys encode alike, so a lookup may pass plain ids.
func uniqueKey(vals []any) (string, error) {
	var b strings.Builder
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b.WriteString("-")
		case *string:
			if v == nil {
				b.WriteString("-")
				continue
			}
			writeKeyPart(&b, *v)
		case string:
			writeKeyPart(&b, v)
		case ForeignKey:
			writeKeyPart(&b, v.ID)
		case *ForeignKey:
			if v == nil {
				b.WriteString("-")
				continue
			}
			writeKeyPart(&b, v.ID)
		default:
			return "", fmt.Errorf("%w: unique key value of type %T", ErrInvalidMutation, v)
		}
	}
	return b.String(), nil
}

func writeKeyPart(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// errorValue renders a key value as UniqueError carries it.
func errorValue(v any) any {
	switch v := v.(type) {
	case *string:
		if v != nil {
			return *v
		}
		return nil
	case *ForeignKey:
		if v != nil {
			return *v
		}
		return nil
	}
	return v
}
