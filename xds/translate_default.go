package xds

import (
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// TranslatorOptions are the process-level settings for the translator
// package (the proxy listener address).
type TranslatorOptions = translator.Options

// NewTranslator adapts the translator package to Translator. It also
// translates incrementally (translator.Incremental), which the publish
// loop uses; Translate and Endpoints stay the reference.
func NewTranslator(opts TranslatorOptions) Translator {
	return storeTranslator{opts: opts, inc: translator.NewIncremental(opts)}
}

type storeTranslator struct {
	opts translator.Options
	inc  *translator.Incremental
}

func (t storeTranslator) Update(snap *store.Snapshot, dns map[string]translator.DNSAnswer, ch translator.Changes) (*translator.Delta, error) {
	return t.inc.Update(snap, dns, ch)
}

func (t storeTranslator) Resources() *translator.Resources { return t.inc.Resources() }

func (t storeTranslator) ClusterUpstream(cluster string) string {
	return t.inc.ClusterUpstream(cluster)
}

func (t storeTranslator) Translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error) {
	in, err := translator.FromSnapshot(snap, dns, t.opts)
	if err != nil {
		return nil, err
	}
	return translator.Translate(in)
}

func (t storeTranslator) Endpoints(snap *store.Snapshot, dns map[string]translator.DNSAnswer, clusters []string) ([]*endpointv3.ClusterLoadAssignment, error) {
	out := make([]*endpointv3.ClusterLoadAssignment, 0, len(clusters))
	for _, name := range clusters {
		cla, ok, err := translator.EndpointsFromSnapshot(snap, dns, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrFullRebuild
		}
		out = append(out, cla)
	}
	return out, nil
}
