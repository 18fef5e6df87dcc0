package schema

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// The entity schemas by name. Each entity file registers its schema in
// init, so an entity is one file here; tests Register throw-away ones.
var (
	registryMu sync.RWMutex
	registry   = map[string]*Entity{}
)

// Register makes e known to Get, All and Defaults; a second entity of the
// same name is a programmer error.
func Register(e *Entity) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[e.name]; dup {
		panic(fmt.Sprintf("schema: entity %q registered twice", e.name))
	}
	registry[e.name] = e
}

// Unregister drops a test entity again.
func Unregister(name string) {
	registryMu.Lock()
	defer registryMu.Unlock()
	delete(registry, name)
}

// Get returns the schema of entity name, nil when none is registered.
func Get(name string) *Entity {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry[name]
}

// All returns every registered schema sorted by name.
func All() []*Entity {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]*Entity, 0, len(registry))
	for _, e := range registry {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Defaults is the entity as Kong inserts it when the input names no field:
// every field with a default at that default, records filled in full. It
// is a fresh copy; nil when no such entity is registered. Test fixtures
// build their entities from it, so they hold what the Admin API writes.
func Defaults(entity string) map[string]any {
	e := Get(entity)
	if e == nil {
		return nil
	}
	return e.Defaults()
}

// Defaults is the entity's default record (see the package-level Defaults).
func (e *Entity) Defaults() map[string]any {
	m := map[string]any{}
	fillDefaults(e.fields, m)
	echoShorthands(e.fields, m)
	return m
}

// FillDefaults decodes entity's Defaults into v, a pointer to the entity's
// store type, for fixtures that build entities without the Admin API.
func FillDefaults(entity string, v any) error {
	d := Defaults(entity)
	if d == nil {
		return fmt.Errorf("schema: no entity %q", entity)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("schema: defaults of %s: %w", entity, err)
	}
	return json.Unmarshal(b, v)
}
