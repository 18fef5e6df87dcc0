package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func changeKeys(rcs []RevisionChanges) []string {
	var out []string
	for _, rc := range rcs {
		for _, c := range rc.Changes {
			out = append(out, fmt.Sprintf("%d %s %s %s", rc.Revision, c.Op, c.Table, c.ID))
		}
	}
	slices.Sort(out)
	return out
}

func TestStore_ChangesSince(t *testing.T) {
	s := fixture(t)
	base := s.Revision()
	r1 := mustApply(t, s, svcM("s9", "nine"))
	r2 := mustApply(t, s, &Mutation{Op: OpDeleteUpstream, ID: "u2"}) // cascades to t3 and its 2 overrides
	r3 := mustApply(t, s, tgtM("t1", "u1", "10.0.0.7:80"))           // a move drops t1's override
	_, _ = s.Apply(&Mutation{Op: OpDeleteService, ID: "missing"})    // fails: no revision, no changes
	r4 := mustApply(t, s, &Mutation{Op: OpBatch, Batch: []Mutation{*svcM("s8", "x"), {Op: OpDeleteService, ID: "s8"}, *svcM("s3", "renamed")}})
	snap := s.Snapshot()
	got, err := snap.ChangesSince(base)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("%d insert services s9", r1),
		fmt.Sprintf("%d delete upstreams u2", r2),
		fmt.Sprintf("%d delete targets t3", r2),
		fmt.Sprintf("%d delete target_health t3|10.9.9.9:8000", r2),
		fmt.Sprintf("%d delete target_health t3|10.9.9.8:8000", r2),
		fmt.Sprintf("%d update targets t1", r3),
		fmt.Sprintf("%d delete target_health t1|", r3),
		fmt.Sprintf("%d update services s3", r4), // s8 came and went inside the batch
	}
	slices.Sort(want)
	if keys := changeKeys(got); !slices.Equal(keys, want) {
		t.Fatalf("changes\n%v\nwant\n%v", keys, want)
	}
	for _, rc := range got {
		for _, c := range rc.Changes {
			if c.Table == tableTargets && c.Op == ChangeDelete && c.Before.(*Target).Upstream.ID != "u2" {
				t.Fatal("a deleted target does not name its upstream")
			}
			if c.Op == ChangeUpdate && (c.Before == nil || c.After == nil) {
				t.Fatalf("update without before/after: %+v", c)
			}
		}
	}
	if got, _ := snap.ChangesSince(r3); len(got) != 1 || got[0].Revision != r4 {
		t.Fatalf("since r3: %+v", got)
	}
	if got, err := snap.ChangesSince(snap.Revision()); err != nil || len(got) != 0 {
		t.Fatalf("since now: %v %v", got, err)
	}
	// A snapshot sees only its own revisions, even once later ones exist.
	old := s.Snapshot()
	mustApply(t, s, svcM("s7", "seven"))
	if got, _ := old.ChangesSince(r3); len(got) != 1 {
		t.Fatalf("old snapshot sees later commits: %+v", got)
	}
	// A restore replaces the state wholesale: older cursors must rebuild.
	d, _ := s.Snapshot().Dump()
	if err := s.Restore(0, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot().ChangesSince(r4); !errors.Is(err, ErrChangesTruncated) {
		t.Fatalf("since before a restore: %v", err)
	}
	r5 := mustApply(t, s, svcM("s6", "six"))
	if got, err := s.Snapshot().ChangesSince(s.Revision() - 1); err != nil || changeKeys(got)[0] != fmt.Sprintf("%d insert services s6", r5) {
		t.Fatalf("after a restore: %v %v", got, err)
	}
}

func TestStore_ChangesBounded(t *testing.T) {
	s := newTestStore(t)
	s.feed.maxRevs, s.feed.maxChanges = 8, 20
	first := mustApply(t, s, svcM("s0", ""))
	for i := 1; i < 20; i++ {
		mustApply(t, s, svcM(fmt.Sprint("s", i), ""))
	}
	snap := s.Snapshot()
	if _, err := snap.ChangesSince(first); !errors.Is(err, ErrChangesTruncated) {
		t.Fatalf("evicted revisions: %v", err)
	}
	got, err := snap.ChangesSince(snap.Revision() - 8)
	if err != nil || len(got) != 8 {
		t.Fatalf("the last 8 revisions: %d, %v", len(got), err)
	}
	if len(s.feed.revs) > 8 || s.feed.changes > 20 {
		t.Fatalf("feed holds %d revisions, %d changes", len(s.feed.revs), s.feed.changes)
	}
	// A commit larger than the whole budget is not kept; readers before it
	// rebuild, readers after it do not.
	var batch []Mutation
	for i := range 25 {
		batch = append(batch, *upM(fmt.Sprint("u", i), fmt.Sprint("u", i)))
	}
	big := mustApply(t, s, &Mutation{Op: OpBatch, Batch: batch})
	if _, err := s.Snapshot().ChangesSince(big - 1); !errors.Is(err, ErrChangesTruncated) {
		t.Fatalf("across an oversized commit: %v", err)
	}
	mustApply(t, s, svcM("after", ""))
	if got, err := s.Snapshot().ChangesSince(big); err != nil || len(got) != 1 {
		t.Fatalf("after an oversized commit: %v %v", got, err)
	}
}
