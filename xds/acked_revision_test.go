package xds

import (
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/xds/adscache"
)

func TestAckHistory_AckedRevision(t *testing.T) {
	cfg := func(c, l, r string) map[string]string {
		return map[string]string{resourcev3.ClusterType: c, resourcev3.ListenerType: l, resourcev3.RouteType: r}
	}
	acked := func(c, l, r string, eds string) map[string]string {
		m := map[string]string{"clusters": c, "listeners": l, "routes": r}
		if eds != "" {
			m["endpoints"] = "e" + eds
		}
		return m
	}
	h := &ackHistory{}
	h.record(2, cfg("c0", "l0", "r0"), adscache.EmptyVersion, adscache.EmptyVersion) // no CLA yet
	h.record(3, cfg("c1", "l1", "r1"), "e1", "e1")
	h.record(4, cfg("c1", "l1", "r1"), "e1", "e1") // no-op publish: same config, later revision
	h.record(6, cfg("c2", "l1", "r1"), "e1", "e1")
	h.record(7, cfg("c2", "l1", "r2"), "e2", "e2")
	h.record(9, cfg("c1", "l1", "r2"), "e3", "e3d") // clusters back to c1's content; a CLA deleted after the upsert

	for name, tc := range map[string]struct {
		acked map[string]string
		want  uint64
	}{
		"current":                {acked("c1", "l1", "r2", "3"), 9},
		"eds after the deletion": {acked("c1", "l1", "r2", "3d"), 9},
		"eds behind":             {acked("c1", "l1", "r2", "2"), 7},
		"routes behind":          {acked("c2", "l1", "r1", "3"), 6},
		"first listeners":        {acked("c0", "l0", "r0", ""), 2},
		"listeners behind":       {acked("c1", "l0", "r2", "3"), 2},
		// c1 is also revision 9's clusters, so every part of this Envoy's
		// config is as published at 6 or later.
		"first config, clusters reverted": {acked("c1", "l1", "r1", "1"), 6},
		"unknown version":                 {acked("c9", "l1", "r2", "3"), 0},
		"nothing acked":                   {map[string]string{}, 0},
		"eds never published":             {map[string]string{"clusters": "c1", "listeners": "l1", "routes": "r1", "endpoints": "e7"}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := h.ackedRevision(tc.acked); got != tc.want {
				t.Fatalf("ackedRevision = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAckHistory_Bounded(t *testing.T) {
	h := &ackHistory{}
	for i := range maxAckHistory + 10 {
		h.record(uint64(i+1), map[string]string{resourcev3.ClusterType: string(rune('a' + i%2))}, "", "")
	}
	if len(h.entries) != maxAckHistory || h.entries[0].rev != 11 {
		t.Fatalf("entries = %d, oldest rev %d", len(h.entries), h.entries[0].rev)
	}
}
