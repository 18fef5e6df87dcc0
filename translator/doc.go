// Package translator turns one consistent store snapshot (plus the DNS
// answers the control plane resolved) into Envoy v3 resources. It is a pure
// function: no I/O, no globals, deterministic output sorted by name, so that
// it can be golden-tested. Kong semantics → Envoy fields live here and only
// here.
//
// translator imports store (for the entity types) and Envoy protos; never
// xds, admin, net/http or gRPC.
package translator
