package xds

import (
	"errors"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// Translator is what the publish loop needs from the translator package.
// The default (Options.Translator nil) is the translator package itself;
// tests plug in hand-made resources.
type Translator interface {
	// Translate builds the whole configuration of one snapshot. It is best
	// effort: with a non-nil error it may still return resources, which are
	// published if they validate.
	Translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error)

	// Endpoints rebuilds only the ClusterLoadAssignments of the named
	// clusters, equal to what Translate would emit for them: the fast path
	// when nothing but targets or target health changed. It may return
	// ErrFullRebuild to ask for Translate.
	//
	// Contract: targets and target health shape ClusterLoadAssignments and
	// nothing else (never a cluster, route or listener). The loop relies on
	// it to leave CDS/LDS/RDS alone on a target change.
	Endpoints(snap *store.Snapshot, dns map[string]translator.DNSAnswer, clusters []string) ([]*endpointv3.ClusterLoadAssignment, error)
}

// ErrFullRebuild is returned by Translator.Endpoints when an endpoints-only
// rebuild cannot be done; the loop then runs a full translation.
var ErrFullRebuild = errors.New("xds: full rebuild needed")
