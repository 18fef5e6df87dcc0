package store

import (
	"encoding/json"
	"testing"
)

// TestStore_Touch checks that a touch gives a row a new revision and keeps
// everything else, and leaves a missing row alone.
func TestStore_Touch(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugin{ID: "p1", Name: "proxy-cache", CreatedAt: 7, UpdatedAt: 8, Enabled: true, Config: json.RawMessage(`{"cache_ttl":30}`)}
	if _, err := s.Apply(Upsert(tablePlugins, p)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Snapshot().PluginByID("p1")
	rev, err := s.Apply(Touch(tablePlugins, "p1"))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.Snapshot().PluginByID("p1")
	if after.ModifyIndex != rev || after.ModifyIndex == before.ModifyIndex {
		t.Errorf("ModifyIndex %d → %d, want the touch's revision %d", before.ModifyIndex, after.ModifyIndex, rev)
	}
	if after.CreateIndex != before.CreateIndex || after.UpdatedAt != 8 || string(after.Config) != `{"cache_ttl":30}` {
		t.Errorf("touch changed the row: %+v → %+v", before, after)
	}
	if _, err := s.Apply(Touch(tablePlugins, "nope")); err != nil {
		t.Errorf("touch of a missing row: %v", err)
	}
	if got, _ := s.Snapshot().PluginByID("nope"); got != nil {
		t.Errorf("touch created a row: %+v", got)
	}
}
