package translator

import (
	"testing"

	"github.com/switchboard-gw/switchboard/store"
)

// TLS entity writes shape nothing Envoy receives yet: no reset.
func TestChangesFromFeed_TLSTablesAreNoOps(t *testing.T) {
	ch := ChangesFromFeed([]store.RevisionChanges{{Changes: []store.Change{
		{Table: "certificates", ID: "c"}, {Table: "snis", ID: "n"}, {Table: "ca_certificates", ID: "a"},
	}}})
	if ch.All || len(ch.Services)+len(ch.Routes)+len(ch.Upstreams)+len(ch.EndpointUpstreams) != 0 {
		t.Fatalf("%+v", ch)
	}
}
