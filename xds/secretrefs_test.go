package xds

import (
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/translator"
)

// A delta that withdraws a listener together with the secrets only it
// named (the TLS listener losing its default certificate) is consistent,
// and the listener's names leave the refs.
func TestSecretRefs_RemovedListenerReleasesItsSecrets(t *testing.T) {
	r := secretRefs{}
	r.set(resourcev3.ListenerType, "proxy-tls", []string{"cert/default"})
	d := &translator.Delta{RemovedListeners: []string{"proxy-tls"}, RemovedRoutes: []string{"proxy-tls"}, RemovedSecrets: []string{"cert/default"}}
	held := map[string][]byte{"cert/default": []byte("x")}
	if err := r.deltaConsistent(d, held); err != nil {
		t.Fatalf("deltaConsistent: %v", err)
	}
	r.apply(d)
	if len(r) != 0 {
		t.Fatalf("refs after apply: %v", r)
	}
	// A listener that stays still holds its secret.
	r.set(resourcev3.ListenerType, "proxy-tls", []string{"cert/default"})
	if err := r.deltaConsistent(&translator.Delta{RemovedSecrets: []string{"cert/default"}}, held); err == nil {
		t.Fatal("withdrawing a secret a kept listener names: no error")
	}
}
