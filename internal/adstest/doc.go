// Package adstest is the one ADS client of the tests and benchmarks: it
// drives an aggregated xDS stream the way Envoy does, without Envoy —
// wildcard CDS and LDS, EDS for the EDS clusters CDS names and RDS for the
// route configurations LDS names (subscribed before the response that named
// them is ACKed, as Envoy does while a cluster warms), an ACK for every
// response, a NACK for one it cannot decode or was told to reject, and a log
// of every response. It speaks State of the World or incremental (delta)
// xDS.
//
// The xds package's in-process tests use it as their fake Envoy; the
// benchmarks use it as a simulated fleet (Options.NamesOnly keeps memory
// flat). It imports nothing of ours (internal/archtest).
package adstest
