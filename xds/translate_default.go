package xds

import (
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// TranslatorOptions are the process-level settings for the translator
// package (the proxy listener address).
type TranslatorOptions = translator.Options

// NewTranslator adapts the translator package to Translator.
// TODO(xds): wire translator.FromSnapshot/Translate once they land.
func NewTranslator(opts TranslatorOptions) Translator { return storeTranslator{opts: opts} }

type storeTranslator struct{ opts translator.Options }

func (t storeTranslator) Translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error) {
	return nil, ErrFullRebuild
}

func (t storeTranslator) Endpoints(snap *store.Snapshot, dns map[string]translator.DNSAnswer, upstreamIDs []string) ([]*endpointv3.ClusterLoadAssignment, error) {
	return nil, ErrFullRebuild
}
