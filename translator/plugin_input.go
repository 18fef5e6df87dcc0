package translator

import (
	"fmt"
	"slices"

	"github.com/switchboard-gw/switchboard/store"
)

// pluginReader reads the plugin entities; *store.Snapshot satisfies it. A
// Reader without it (a test fake) translates without plugins.
type pluginReader interface {
	Plugins() ([]*store.Plugin, error)
	Consumers() ([]*store.Consumer, error)
	KeyAuthCredentials() ([]*store.KeyAuthCredential, error)
}

// readPluginEntities fills in's plugin instances, consumers and key-auth
// credentials from r when it can read them.
func readPluginEntities(r any, in *Input) error {
	pr, ok := r.(pluginReader)
	if !ok {
		return nil
	}
	var err error
	if in.Plugins, err = pr.Plugins(); err != nil {
		return fmt.Errorf("translator: read plugins: %w", err)
	}
	if in.Consumers, err = pr.Consumers(); err != nil {
		return fmt.Errorf("translator: read consumers: %w", err)
	}
	if in.KeyAuthCredentials, err = pr.KeyAuthCredentials(); err != nil {
		return fmt.Errorf("translator: read key-auth credentials: %w", err)
	}
	return nil
}

// pluginInstances turns plugin rows into the plan step's instances.
func pluginInstances(rows []*store.Plugin) []pluginInstance {
	out := make([]pluginInstance, 0, len(rows))
	for _, p := range rows {
		in := pluginInstance{id: p.ID, name: p.Name, enabled: p.Enabled, row: p}
		if p.Route != nil {
			in.routeID = p.Route.ID
		}
		if p.Service != nil {
			in.serviceID = p.Service.ID
		}
		if p.Consumer != nil {
			in.consumerID = p.Consumer.ID
		}
		out = append(out, in)
	}
	return out
}

// pluginEntitiesChanged reports whether any plugin, consumer or credential
// row differs between two snapshots (by row identity, as ChangesBetween
// compares). Plugin changes translate from scratch (Changes.All) until the
// incremental path tracks what each plugin shapes.
func pluginEntitiesChanged(before, after any) (bool, error) {
	b, okB := before.(pluginReader)
	a, okA := after.(pluginReader)
	if !okB || !okA {
		return false, nil
	}
	for _, diff := range []func() (bool, error){
		func() (bool, error) { return rowsDiffer(b.Plugins, a.Plugins) },
		func() (bool, error) { return rowsDiffer(b.Consumers, a.Consumers) },
		func() (bool, error) { return rowsDiffer(b.KeyAuthCredentials, a.KeyAuthCredentials) },
	} {
		if changed, err := diff(); changed || err != nil {
			return changed, err
		}
	}
	return false, nil
}

func rowsDiffer[T any](before, after func() ([]*T, error)) (bool, error) {
	old, err := before()
	if err != nil {
		return false, err
	}
	cur, err := after()
	if err != nil {
		return false, err
	}
	return !slices.Equal(old, cur), nil
}
