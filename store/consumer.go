package store

// Consumer is a Kong consumer: whoever an auth plugin identifies. At least
// one of Username and CustomID is set (the schema's check); both are
// unique.
type Consumer struct {
	ID        string   `json:"id"`
	CreatedAt int64    `json:"created_at"`
	UpdatedAt int64    `json:"updated_at"`
	Username  *string  `json:"username"`
	CustomID  *string  `json:"custom_id"`
	Tags      []string `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// consumerKind: unique nullable username and custom_id; plugins and
// credentials reference consumers and go with them.
var consumerKind = &Kind{
	Table: tableConsumers,
	New:   func() Row { return new(Consumer) },
	Unique: []UniqueKey{
		{Name: indexUsername, Fields: []string{"username"}, Values: func(r Row) []any {
			if u := r.(*Consumer).Username; u != nil {
				return []any{*u}
			}
			return nil
		}},
		{Name: indexCustomID, Fields: []string{"custom_id"}, Values: func(r Row) []any {
			if c := r.(*Consumer).CustomID; c != nil {
				return []any{*c}
			}
			return nil
		}},
	},
	Tagged: true,
}

// Consumers returns every consumer in id order.
func (s *Snapshot) Consumers() ([]*Consumer, error) {
	return all[Consumer](s.txn, tableConsumers, indexID)
}

// ConsumerByID returns the consumer or nil.
func (s *Snapshot) ConsumerByID(id string) (*Consumer, error) {
	return first[Consumer](s.txn, tableConsumers, indexID, id)
}

// ConsumerByUsername returns the consumer or nil.
func (s *Snapshot) ConsumerByUsername(username string) (*Consumer, error) {
	return first[Consumer](s.txn, tableConsumers, indexUsername, mustKey(username))
}
