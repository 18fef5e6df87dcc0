package translator

import (
	"testing"
)

// The rate-limit service's cluster and endpoint exist exactly when the
// options name an address, in sorted place; a bad address is an error,
// not a cluster Envoy would reject.
func TestRateLimitServiceCluster(t *testing.T) {
	res, err := Translate(&Input{Options: Options{RateLimitAddress: "127.0.0.9:18001"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clusters) != 1 || res.Clusters[0].GetName() != rateLimitServiceCluster ||
		len(res.Endpoints) != 1 || res.Endpoints[0].GetClusterName() != rateLimitServiceCluster {
		t.Fatalf("clusters %v, endpoints %v", res.Clusters, res.Endpoints)
	}
	ep := res.Endpoints[0].GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if ep.GetAddress() != "127.0.0.9" || ep.GetPortValue() != 18001 {
		t.Fatalf("endpoint %v", ep)
	}
	res, err = Translate(&Input{})
	if err != nil || len(res.Clusters) != 0 {
		t.Fatalf("without an address: %v, %v", res.Clusters, err)
	}
	// A node whose service is not up still sends the cluster, with no
	// endpoint: the same CDS as its peers.
	res, err = Translate(&Input{Options: Options{RateLimitCluster: true}})
	if err != nil || len(res.Clusters) != 1 || len(res.Endpoints) != 1 || len(res.Endpoints[0].GetEndpoints()) != 0 {
		t.Fatalf("cluster without an address: %v %v, %v", res.Clusters, res.Endpoints, err)
	}
	if _, err := Translate(&Input{Options: Options{RateLimitAddress: "localhost:1"}}); err == nil {
		t.Fatal("a host name was accepted as the service's address")
	}
}
