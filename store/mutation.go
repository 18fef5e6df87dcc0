package store

import "fmt"

// Op names one kind of write. Ops are strings so that a Mutation is
// self-describing once serialised into a durable log.
type Op string

// The writes the store accepts. Each is applied in one memdb transaction.
const (
	OpUpsertService   Op = "service.upsert"
	OpDeleteService   Op = "service.delete"
	OpUpsertRoute     Op = "route.upsert"
	OpDeleteRoute     Op = "route.delete"
	OpUpsertUpstream  Op = "upstream.upsert"
	OpDeleteUpstream  Op = "upstream.delete"
	OpUpsertTarget    Op = "target.upsert"
	OpDeleteTarget    Op = "target.delete"
	OpSetTargetHealth Op = "target_health.set"
	// OpBatch applies Batch in order inside one transaction: all or nothing.
	OpBatch Op = "batch"
)

// Mutation is one serialisable write. Exactly one payload field matches Op;
// deletes carry only ID. Timestamps are stamped by the caller before the
// mutation is applied, so that replaying a log reproduces the same state.
type Mutation struct {
	Op           Op            `json:"op"`
	ID           string        `json:"id,omitempty"`
	Create       bool          `json:"create,omitempty"`
	Service      *Service      `json:"service,omitempty"`
	Route        *Route        `json:"route,omitempty"`
	Upstream     *Upstream     `json:"upstream,omitempty"`
	Target       *Target       `json:"target,omitempty"`
	TargetHealth *TargetHealth `json:"target_health,omitempty"`
	Batch        []Mutation    `json:"batch,omitempty"`
}

// Create, when set on an upsert, makes the write fail with a
// PrimaryKeyError if the id already exists (POST semantics); without it an
// upsert replaces (PUT semantics).

func (m *Mutation) String() string {
	if m.ID != "" {
		return fmt.Sprintf("%s %s", m.Op, m.ID)
	}
	return string(m.Op)
}
