package translator

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TLS entity writes are changes of their own: never a reset, and never a
// service, route or upstream change.
func TestChangesFromFeed_TLSTables(t *testing.T) {
	ch := ChangesFromFeed([]store.RevisionChanges{{Changes: []store.Change{
		{Table: "certificates", ID: "c"}, {Table: "snis", ID: "n"}, {Table: "ca_certificates", ID: "a"},
		{Table: "certificates", ID: "c"},
	}}})
	want := Changes{Certificates: []string{"c"}, SNIs: []string{"n"}, CACertificates: []string{"a"}}
	if diff := cmp.Diff(want, ch); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
}
