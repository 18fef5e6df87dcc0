package featuretests

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kong/go-kong/kong"
)

// decK dumps by paging while other clients write. Offset paging must
// then still list every entity that existed throughout exactly once: the
// offset is a position in id order, not an index that writes shift.
func TestGoKong_PagingUnderConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	c := newKongClient(t)
	const stable = 60
	want := map[string]bool{}
	for i := range stable {
		s, err := c.Services.Create(ctx, &kong.Service{Name: kong.String(fmt.Sprintf("stable-%02d", i)), Host: kong.String("stable.test")})
		if err != nil {
			t.Fatal(err)
		}
		want[*s.ID] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Stopped and waited for on every exit, a t.Fatal in the paging too:
	// a churn goroutine outliving the test panics on its next t.Errorf.
	defer func() {
		close(stop)
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Churn beside the stable ones: creates and deletes, bounded.
		// Every churn service is deleted again, so at most one is alive
		// and a listing stays within pageAll's page bound however fast
		// the churn runs against the paging.
		for i := 0; i < 2000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s, err := c.Services.Create(ctx, &kong.Service{Name: kong.String(fmt.Sprintf("churn-%d", i)), Host: kong.String("churn.test")})
			if err != nil {
				t.Errorf("churn create: %v", err)
				return
			}
			if err := c.Services.Delete(ctx, s.ID); err != nil {
				t.Errorf("churn delete: %v", err)
				return
			}
		}
	}()
	for round := range 5 {
		seen := map[string]int{}
		for _, s := range pageAll(t, "services", func(s *kong.Service) string { return *s.ID }, func(o *kong.ListOpt) ([]*kong.Service, *kong.ListOpt, error) {
			return c.Services.List(ctx, o)
		}) {
			seen[*s.ID]++
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("round %d: stable service %s listed %d times", round, id, seen[id])
			}
		}
	}
}
