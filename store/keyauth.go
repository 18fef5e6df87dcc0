package store

import (
	"errors"
	"time"
)

// KeyAuthCredential is a key-auth credential (Kong's keyauth_credentials):
// an API key of one consumer. Keys are unique across consumers.
//
// ExpiresAt is when a credential created with a ttl stops authenticating
// (unix seconds; 0 never). Kong keeps the ttl as a row expiry and reports
// the remaining seconds as "ttl"; the Admin API renders it so, and leaves
// expired credentials out of reads. The translator must ignore expired
// credentials too (Expired).
type KeyAuthCredential struct {
	ID        string     `json:"id"`
	CreatedAt int64      `json:"created_at"`
	Consumer  ForeignKey `json:"consumer"`
	Key       string     `json:"key"`
	Tags      []string   `json:"tags"`
	ExpiresAt int64      `json:"expires_at,omitempty" admin:"-"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// Expired reports whether the credential's ttl has run out at now.
func (c *KeyAuthCredential) Expired(now time.Time) bool {
	return c.ExpiresAt != 0 && now.Unix() >= c.ExpiresAt
}

// keyAuthKind: a required unique key and a required consumer that cascades.
var keyAuthKind = &Kind{
	Table: tableKeyAuthCred,
	New:   func() Row { return new(KeyAuthCredential) },
	Validate: func(r Row) error {
		if r.(*KeyAuthCredential).Key == "" {
			return errors.New("key is required")
		}
		return nil
	},
	Unique: []UniqueKey{{Name: indexKey, Fields: []string{"key"}, Values: func(r Row) []any {
		return []any{r.(*KeyAuthCredential).Key}
	}}},
	Refs: []Ref{{Field: indexConsumer, Table: tableConsumers, OnDelete: Cascade,
		IDs: func(r Row) []string { return []string{r.(*KeyAuthCredential).Consumer.ID} }}},
	Tagged: true,
}

// KeyAuthCredentials returns every key-auth credential in id order,
// expired ones included.
func (s *Snapshot) KeyAuthCredentials() ([]*KeyAuthCredential, error) {
	return all[KeyAuthCredential](s.txn, tableKeyAuthCred, indexID)
}

// KeyAuthCredentialByKey returns the credential holding key, or nil.
func (s *Snapshot) KeyAuthCredentialByKey(key string) (*KeyAuthCredential, error) {
	return first[KeyAuthCredential](s.txn, tableKeyAuthCred, indexKey, mustKey(key))
}
