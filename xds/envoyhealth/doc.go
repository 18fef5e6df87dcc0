// Package envoyhealth learns what each Envoy the control plane configures
// thinks of its upstream hosts, so that GET /upstreams/{u}/health reports
// the data plane's real view (Kong's node reports what its own balancer
// sees) rather than what the store says.
//
// A Poller reads every known Envoy's admin GET /clusters?format=json once
// per interval, keeps the host statuses of the clusters the translator
// named after a Kong upstream (translator.ParseClusterName), and answers
// lookups by upstream name and address from memory: a lookup never waits
// on the network. Which Envoys exist comes from a discovery function:
// cmd/switchboard combines the connected ADS nodes that advertise an admin
// address in their node metadata (xds.Server.DataPlaneAdmins) with the
// local Envoy that `serve --envoy` supervises.
//
// With several Envoys a lookup aggregates: an address is UNHEALTHY when
// any Envoy with a fresh view keeps it out of balancing, HEALTHY when at
// least one has it in and none out, and unknown otherwise (no fresh view,
// or the host is not in that Envoy's cluster yet). Handler serves the
// per-node detail at GET /clustering/health.
//
// Why polling rather than HDS or a health-check event sink is recorded in
// docs/decisions.md.
//
// envoyhealth imports translator (cluster names) and Envoy's admin protos;
// it never writes to the store.
package envoyhealth
