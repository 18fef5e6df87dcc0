// Package resolve turns the hostnames that Kong targets and plain services
// name into IP addresses for EDS. Envoy's EDS endpoints must be IP literals
// (a hostname makes Envoy NACK the ClusterLoadAssignment), so the control
// plane resolves names itself, as Kong's balancer does (docs/kong-contract.md §5):
//
//   - a hosts file (--dns-hostsfile, default /etc/hosts) is consulted first
//     and re-read when it changes;
//   - other names go to the name servers of /etc/resolv.conf through
//     miekg/dns: SRV for names shaped like _service._proto.name, otherwise A,
//     then AAAA when there is no A record;
//   - answers are refreshed when their TTL expires; failures are kept as a
//     DNS error (Kong's DNS_ERROR) and retried every 30 s.
//
// The xds publish loop tells the Resolver which names the store references
// (Sync), reads the answers for the translator (Answers), and re-translates
// when Changed fires. The admin health report reads single names (Lookup).
//
// resolve imports translator (for the DNSAnswer type) and nothing else of
// ours.
package resolve
