package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestStore_UpsertByName: PUT /services/{name} as one transaction. Many
// concurrent creators of the same name all succeed, exactly one creates,
// and the row keeps the id and creation of its first write.
func TestStore_UpsertByName(t *testing.T) {
	for _, tc := range []struct {
		table string
		row   func(i int) Row
	}{
		{tableServices, func(i int) Row {
			return &Service{ID: fmt.Sprintf("s-%d", i), Name: strp("shared"), Host: "h", Port: int64(i), CreatedAt: int64(100 + i)}
		}},
		{tableRoutes, func(i int) Row {
			return &Route{ID: fmt.Sprintf("r-%d", i), Name: strp("shared"), Paths: []string{fmt.Sprint("/", i)}, CreatedAt: int64(100 + i)}
		}},
		{tableUpstreams, func(i int) Row {
			return &Upstream{ID: fmt.Sprintf("u-%d", i), Name: "shared", Slots: int64(i), CreatedAt: int64(100 + i)}
		}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			s := newTestStore(t)
			const writers = 50
			type result struct {
				rev uint64
				err error
			}
			results := make([]result, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := Upsert(tc.table, tc.row(i))
					m.UpsertBy = indexName
					results[i].rev, results[i].err = s.Apply(m)
				}()
			}
			wg.Wait()
			snap := s.Snapshot()
			rows, _ := snap.List(tc.table)
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			k := KindByTable(tc.table)
			row := rows[0]
			create, _ := k.indexes(row)
			created := 0
			for i, r := range results {
				if r.err != nil {
					t.Fatalf("writer %d: %v", i, r.err)
				}
				if r.rev == create {
					created++
					if want := tc.row(i); k.RowID(row) != k.RowID(want) {
						t.Fatalf("row id %s, want the creator's %s", k.RowID(row), k.RowID(want))
					}
				}
			}
			if created != 1 {
				t.Fatalf("%d writes report a create, want 1", created)
			}
		})
	}
	s := newTestStore(t)
	m := Upsert(tableServices, &Service{ID: "x", Host: "h"})
	m.UpsertBy = indexName
	if _, err := s.Apply(m); !errors.Is(err, ErrInvalidMutation) {
		t.Fatalf("upsert by name without a name: %v", err)
	}
	m = svcM("y", "a")
	m.UpsertBy = "nope"
	if _, err := s.Apply(m); !errors.Is(err, ErrInvalidMutation) {
		t.Fatalf("upsert by an unknown key: %v", err)
	}
	// The legacy op carries UpsertBy too, and another row's name still
	// conflicts on a rename by id.
	mustApply(t, s, svcM("a", "one"))
	m = svcM("fresh", "one")
	m.UpsertBy = indexName
	mustApply(t, s, m)
	if got, _ := s.Snapshot().ServiceByName("one"); got == nil || got.ID != "a" {
		t.Fatalf("upsert by name replaced the id: %+v", got)
	}
	mustApply(t, s, svcM("b", "two"))
	if _, err := s.Apply(svcM("b", "one")); !errors.As(err, new(*UniqueError)) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
}
