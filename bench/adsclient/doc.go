// Package adsclient is a minimal incremental (delta) ADS client that
// behaves like an Envoy on the wire: wildcard CDS and LDS, EDS for every
// EDS cluster it is sent, RDS for every route configuration its listeners
// name, and an ACK for every response. It keeps resource names and
// versions, not decoded resources, so that a hundred of them fit in one
// benchmark process, and it records every response (time, type, names,
// bytes) so that a benchmark can see what one change pushed.
package adsclient
