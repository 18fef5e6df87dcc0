package xds

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/internal/adstest"
)

// fakeEnvoy drives an ADS stream the way Envoy does, without Envoy
// (internal/adstest): wildcard CDS and LDS, EDS for the EDS clusters CDS
// names, RDS for the route configurations LDS names, an ACK for every
// response (or a NACK when told to), and a log of every response for the
// tests to inspect.
type fakeEnvoy struct {
	t testing.TB
	*adstest.Client
	done <-chan struct{} // closed when the stream ended
}

// response is one response as received.
type response struct {
	typeURL string
	version string
	names   []string
	removed []string
	nacked  bool
}

func dialEnvoy(t testing.TB, addr, nodeID string, delta bool) *fakeEnvoy {
	t.Helper()
	c, err := adstest.Dial(context.Background(), addr, adstest.Options{NodeID: nodeID, Delta: delta})
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEnvoy{t: t, Client: c, done: c.Done()}
	t.Cleanup(func() {
		e.close()
		for _, err := range c.DecodeErrors() {
			t.Errorf("fake envoy could not decode a resource: %v", err)
		}
	})
	return e
}

func (e *fakeEnvoy) close() { e.Close() }

// nack makes the next response of typeURL be rejected with msg.
func (e *fakeEnvoy) nack(typeURL, msg string) { e.NackNext(typeURL, msg) }

// mark returns the current log length, to look at later responses only.
func (e *fakeEnvoy) mark() int { return e.Mark() }

// since returns the responses received after mark m.
func (e *fakeEnvoy) since(m int) []response {
	var out []response
	for _, r := range e.Since(m) {
		out = append(out, response{typeURL: r.TypeURL, version: r.Version, names: r.Names, removed: r.Removed, nacked: r.Nacked})
	}
	return out
}

// resources returns the accepted resources of one type, decoded.
func (e *fakeEnvoy) resources(typeURL string) map[string]proto.Message {
	m, err := e.Resources(typeURL)
	if err != nil {
		e.t.Error(err)
	}
	return m
}

// waitUntil polls cond on every response, failing after a bound.
func (e *fakeEnvoy) waitUntil(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.WaitUntil(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}
