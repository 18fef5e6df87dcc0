package store

// Generates store/testdata/legacy from the pre-registry code (commit
// 72ae66b). Run once: go test ./store -run TestGenLegacy -gen-legacy

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var genLegacy = flag.Bool("gen-legacy", false, "write testdata/legacy from this code")

func bp(b bool) *bool   { return &b }
func ip(i int64) *int64 { return &i }

func uid(n int) string { return fmt.Sprintf("5a1e0000-0000-4000-8000-%012d", n) }

func legacyMutations() []Mutation {
	hc := Healthchecks{
		Active: ActiveHealthcheck{Type: "http", Timeout: 1, Concurrency: 10, HTTPPath: "/health", HTTPSSNI: strp("sni.test"), HTTPSVerifyCertificate: true,
			Headers:   map[string][]string{"x-probe": {"a", "b"}},
			Healthy:   ActiveHealthy{Interval: 5, HTTPStatuses: []int64{200, 302}, Successes: 2},
			Unhealthy: ActiveUnhealthy{Interval: 3, HTTPStatuses: []int64{500, 503}, TCPFailures: 2, Timeouts: 3, HTTPFailures: 5}},
		Passive: PassiveHealthcheck{Type: "http",
			Healthy:   PassiveHealthy{HTTPStatuses: []int64{200}, Successes: 5},
			Unhealthy: PassiveUnhealthy{HTTPStatuses: []int64{500}, TCPFailures: 1, Timeouts: 2, HTTPFailures: 3}},
		Threshold: 25,
	}
	svc := func(n int, name string, ts int64) *Service {
		return &Service{ID: uid(n), CreatedAt: ts, UpdatedAt: ts, Name: strp(name), Retries: 5, Protocol: "http", Host: name + ".test", Port: 80,
			Path: strp("/p"), ConnectTimeout: 60000, WriteTimeout: 60000, ReadTimeout: 60000, Tags: []string{"t1", "t2"}, Enabled: true}
	}
	full := svc(1, "svc-full", 1700000001)
	full.ClientCertificate = &ForeignKey{ID: uid(900)}
	full.TLSVerify = bp(true)
	full.TLSVerifyDepth = ip(3)
	full.CACertificates = []string{uid(901), uid(902)}
	full.Protocol = "https"
	noname := &Service{ID: uid(3), CreatedAt: 1700000003, UpdatedAt: 1700000003, Protocol: "http", Host: "anon.test", Port: 8080, ConnectTimeout: 1, WriteTimeout: 2, ReadTimeout: 3, Enabled: false}
	route := func(n int, name *string, service *ForeignKey, ts int64) *Route {
		return &Route{ID: uid(n), CreatedAt: ts, UpdatedAt: ts, Name: name, Protocols: []string{"http", "https"}, Methods: []string{"GET"},
			Hosts: []string{"a.test"}, Paths: []string{"/a", "~/re$"}, Headers: map[string][]string{"x-h": {"v1", "v2"}},
			StripPath: true, PreserveHost: false, RegexPriority: 7, PathHandling: "v0", HTTPSRedirectStatusCode: 426,
			RequestBuffering: true, ResponseBuffering: true, Service: service, Tags: []string{"rt"}}
	}
	stream := route(12, strp("stream"), &ForeignKey{ID: uid(1)}, 1700000012)
	stream.Protocols = []string{"tcp"}
	stream.Methods, stream.Hosts, stream.Paths, stream.Headers = nil, nil, nil, nil
	stream.SNIs = []string{"x.test"}
	stream.Sources = []CIDRPort{{IP: strp("10.0.0.0/8"), Port: ip(1234)}, {IP: strp("10.1.0.0/16")}}
	stream.Destinations = []CIDRPort{{Port: ip(99)}}
	up := func(n int, name string, ts int64) *Upstream {
		return &Upstream{ID: uid(n), CreatedAt: ts, UpdatedAt: ts, Name: name, Algorithm: "round-robin", HashOn: "none", HashFallback: "none",
			HashOnCookiePath: "/", Slots: 10000, Healthchecks: hc, Tags: []string{"ut"}}
	}
	up2 := up(21, "up-hash.test", 1700000021)
	up2.Algorithm, up2.HashOn, up2.HashFallback = "consistent-hashing", "header", "cookie"
	up2.HashOnHeader, up2.HashOnCookie = strp("x-user"), strp("c")
	up2.HashFallbackHeader, up2.HashOnQueryArg, up2.HashFallbackQueryArg = strp("x-fb"), strp("q"), strp("fq")
	up2.HashOnURICapture, up2.HashFallbackURICapture = strp("u"), strp("fu")
	up2.HostHeader, up2.ClientCertificate, up2.UseSRVName = strp("hh.test"), &ForeignKey{ID: uid(903)}, true
	tgt := func(n, u int, addr string, w int64, ts float64) *Target {
		return &Target{ID: uid(n), CreatedAt: ts, UpdatedAt: ts, Upstream: ForeignKey{ID: uid(u)}, Target: addr, Weight: w, Tags: []string{"tt"}}
	}
	renamed := *full // CreatedAt is kept from the first write
	renamed.Name, renamed.CreatedAt, renamed.UpdatedAt = strp("svc-full-renamed"), 1700009999, 1700000100
	return []Mutation{
		{Op: OpUpsertService, Create: true, Service: full},
		{Op: OpUpsertService, Create: true, Service: svc(2, "svc-two", 1700000002)},
		{Op: OpUpsertService, Service: noname},
		{Op: OpUpsertRoute, Create: true, Route: route(10, strp("r-full"), &ForeignKey{ID: uid(1)}, 1700000010)},
		{Op: OpUpsertRoute, Create: true, Route: route(11, nil, nil, 1700000011)},
		{Op: OpUpsertRoute, Route: stream},
		{Op: OpUpsertRoute, Create: true, Route: route(13, strp("r-two"), &ForeignKey{ID: uid(2)}, 1700000013)},
		{Op: OpUpsertUpstream, Create: true, Upstream: up(20, "up-one.test", 1700000020)},
		{Op: OpUpsertUpstream, Create: true, Upstream: up2},
		{Op: OpUpsertUpstream, Create: true, Upstream: up(22, "up-doomed.test", 1700000022)},
		{Op: OpUpsertTarget, Create: true, Target: tgt(30, 20, "10.0.0.1:8000", 100, 1700000030.123)},
		{Op: OpUpsertTarget, Create: true, Target: tgt(31, 20, "host.test:80", 0, 1700000031.5)},
		{Op: OpUpsertTarget, Create: true, Target: tgt(32, 21, "[::1]:9000", 50, 1700000032.001)},
		{Op: OpUpsertTarget, Create: true, Target: tgt(33, 22, "10.0.0.9:1", 10, 1700000033)},
		{Op: OpUpsertTarget, Create: true, Target: tgt(34, 20, "10.0.0.4:8000", 10, 1700000034)},
		// health: per-address, then whole-target on another target, then a
		// wider statement on 31 that clears its per-address rows.
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(31), Address: "10.1.1.1:80", Healthy: false}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(31), Address: "10.1.1.2:80", Healthy: true}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(30), Healthy: false}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(32), Address: "[::1]:9000", Healthy: false}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(33), Healthy: false}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(34), Address: "10.0.0.4:8000", Healthy: false}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(31), Healthy: true}},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(31), Address: "10.1.1.3:80", Healthy: false}},
		// update (PUT) keeps created_at/create_index; a target move drops overrides.
		{Op: OpUpsertService, Service: &renamed},
		{Op: OpUpsertTarget, Target: tgt(34, 20, "10.0.0.5:8000", 20, 1700000099)},
		// errors: each leaves the store alone.
		{Op: OpUpsertService, Create: true, Service: svc(2, "dup-id", 1)},
		{Op: OpUpsertService, Service: svc(4, "svc-two", 1)},
		{Op: OpUpsertRoute, Route: route(14, nil, &ForeignKey{ID: uid(999)}, 1)},
		{Op: OpDeleteService, ID: uid(1)},
		{Op: OpUpsertTarget, Target: tgt(35, 20, "10.0.0.1:8000", 1, 1)},
		{Op: OpUpsertTarget, Target: tgt(36, 999, "10.0.0.7:8000", 1, 1)},
		{Op: OpDeleteRoute, ID: uid(999)},
		{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(999)}},
		{Op: "bogus.op"},
		{Op: OpBatch, Batch: []Mutation{{Op: OpDeleteRoute, ID: uid(13)}, {Op: OpDeleteService, ID: uid(998)}}},
		// batches that commit.
		{Op: OpBatch, Batch: []Mutation{
			{Op: OpUpsertService, Create: true, Service: svc(5, "svc-batch", 1700000050)},
			{Op: OpUpsertRoute, Create: true, Route: route(15, strp("r-batch"), &ForeignKey{ID: uid(5)}, 1700000051)},
			{Op: OpUpsertUpstream, Create: true, Upstream: up(23, "up-batch.test", 1700000052)},
			{Op: OpUpsertTarget, Create: true, Target: tgt(37, 23, "10.0.0.8:8000", 100, 1700000053)},
			{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: uid(37), Healthy: false}},
		}},
		{Op: OpBatch, Batch: []Mutation{{Op: OpDeleteRoute, ID: uid(13)}, {Op: OpDeleteService, ID: uid(2)}}},
		// deletes: route, target (drops its overrides), upstream (cascades).
		{Op: OpDeleteRoute, ID: uid(11)},
		{Op: OpDeleteTarget, ID: uid(32)},
		{Op: OpDeleteUpstream, ID: uid(22)},
		{Op: OpUpsertService, Service: svc(6, "svc-late", 1700000060)},
	}
}

func errKind(err error) string {
	var (
		ue *UniqueError
		pe *PrimaryKeyError
		fe *ForeignKeyError
		re *ReferencedError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ue):
		return "unique"
	case errors.As(err, &pe):
		return "primary_key"
	case errors.As(err, &fe):
		return "foreign_key"
	case errors.As(err, &re):
		return "referenced"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalidMutation):
		return "invalid"
	}
	return "other"
}

func TestGenLegacy(t *testing.T) {
	if !*genLegacy {
		t.Skip("only with -gen-legacy")
	}
	s, _ := New()
	var log strings.Builder
	index := uint64(2) // raft's first entries are configuration and member records
	var midDump []byte
	for i, m := range legacyMutations() {
		index += uint64(1 + i%2) // gaps, as member entries leave in a real log
		body, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		aerr := s.ApplyAt(index, &m)
		fmt.Fprintf(&log, "%d %s M%s\n", index, errKind(aerr), body)
		if i == 24 {
			d, _ := s.Snapshot().Dump()
			midDump, _ = json.Marshal(d)
		}
	}
	// A restore through the log ('R' entry) back to the mid-point, then more writes.
	index++
	var d Dump
	_ = json.Unmarshal(midDump, &d)
	err := s.Restore(index, &d)
	fmt.Fprintf(&log, "%d %s R%s\n", index, errKind(err), midDump)
	for _, m := range []Mutation{
		{Op: OpDeleteTarget, ID: uid(31)},
		{Op: OpUpsertUpstream, Upstream: &Upstream{ID: uid(24), Name: "up-after-restore.test", CreatedAt: 1700000070, UpdatedAt: 1700000070}},
	} {
		index++
		body, _ := json.Marshal(&m)
		aerr := s.ApplyAt(index, &m)
		fmt.Fprintf(&log, "%d %s M%s\n", index, errKind(aerr), body)
	}
	final, _ := s.Snapshot().Dump()
	finalJSON, _ := json.Marshal(final)
	// The full log without the restore, for a dump that covers every op's effect.
	s2, _ := New()
	index = 2
	for i, m := range legacyMutations() {
		index += uint64(1 + i%2)
		_ = s2.ApplyAt(index, &m)
	}
	full, _ := s2.Snapshot().Dump()
	fullJSON, _ := json.Marshal(full)
	for name, b := range map[string][]byte{
		"testdata/legacy/log.txt":         []byte(log.String()),
		"testdata/legacy/final.dump.json": append(finalJSON, '\n'),
		"testdata/legacy/full.dump.json":  append(fullJSON, '\n'),
	} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
