package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// formatVersions are the _format_version values Kong 3.x accepts; the older
// two are migrated on the fly (configMigrate).
var formatVersions = []string{"1.1", "2.1", "3.0"}

// declNamespace seeds the ids of file entities that name no id: the same
// entity in the same file gets the same id on every apply.
var declNamespace = uuid.MustParse("6f1d4a2e-8b3c-5d7e-9f10-2a3b4c5d6e7f")

// declEntry is one entity of a declarative file, flattened out of its
// nesting. path locates it in the input, for the `fields` error tree.
type declEntry struct {
	e       *entity
	input   map[string]any
	orig    []byte // the input as the file gave it (JSON), for flattened errors
	path    []any  // "services", 0, "routes", 2
	parent  *declEntry
	pfield  string // the foreign field that nesting fills ("service")
	id      string
	row     store.Row
	changed bool
}

// configPlan is a validated declarative file: its entities in store order
// and the one batch that makes the store hold exactly them.
type configPlan struct {
	entries []*declEntry
	byTable map[string][]*declEntry
	// names maps table → endpoint key (name, username) → id of the file's
	// entities, so that a reference by name is one lookup: a flat file of
	// 50,000 routes naming 5,000 services would otherwise scan them all.
	names map[string]map[string]string
	// routeByID and routesOf index the file's routes for the plugins'
	// protocol check (config_keep.go).
	routeByID map[string]*store.Route
	routesOf  map[string][]*store.Route
	fields    schema.FieldErrors // Kong's error tree, mirroring the input
	flat      []map[string]any   // flatten_errors=1
	batch     []store.Mutation
	changes   []configChange // what batch does, entity by entity (dry_run=1)
}

// configChange is one entity a file creates, updates or deletes.
type configChange struct {
	Op     string `json:"op"` // "create", "update", "delete"
	Entity string `json:"entity"`
	ID     string `json:"id"`
}

func (p *configPlan) fail(d *declEntry, errs schema.FieldErrors) {
	var node any = p.fields
	for i, step := range d.path {
		last := i == len(d.path)-1
		switch n := node.(type) {
		case schema.FieldErrors:
			key := step.(string)
			next, ok := n[key]
			if !ok {
				if last {
					next = errs
				} else if _, isIdx := d.path[i+1].(int); isIdx {
					next = schema.IndexErrors{}
				} else {
					next = schema.FieldErrors{}
				}
				n[key] = next
			}
			node = next
		case schema.IndexErrors:
			idx := step.(int) + 1
			next, ok := n[idx]
			if !ok {
				if last {
					next = errs
				} else {
					next = schema.FieldErrors{}
				}
				n[idx] = next
			}
			if last {
				if fe, ok := next.(schema.FieldErrors); ok {
					for k, v := range errs {
						if _, taken := fe[k]; !taken {
							fe[k] = v
						}
					}
				}
			}
			node = next
		}
	}
	p.flat = append(p.flat, flatError(d, errs))
}

func flatError(d *declEntry, errs schema.FieldErrors) map[string]any {
	var list []map[string]any
	for _, k := range schema.SortedKeys(errs) {
		if k == schema.EntityKey {
			for _, m := range errs[k].([]string) {
				list = append(list, map[string]any{"type": "entity", "message": m})
			}
			continue
		}
		list = append(list, map[string]any{"type": "field", "field": k, "message": prettyValue(errs[k])})
	}
	var orig map[string]any
	_ = json.Unmarshal(d.orig, &orig)
	out := map[string]any{"entity_type": strings.TrimSuffix(d.e.table(), "s"), "entity": orig, "errors": list}
	if key := d.e.schema.EndpointKey(); key != "" {
		if v, ok := d.input[key]; ok {
			out["entity_name"] = v
		}
	}
	if d.id != "" {
		out["entity_id"] = d.id
	}
	if t, ok := d.input["tags"]; ok {
		out["entity_tags"] = t
	}
	return out
}

// planConfig validates a whole declarative document against the schemas the
// endpoints use and computes the batch that replaces the store's entities
// with the file's. Entities without an id keep the id of the stored entity
// with the same unique key (name, username, upstream+target, plugin scope),
// else get one derived from their content, so re-applying a file changes
// nothing.
func (s *Server) planConfig(snap *store.Snapshot, doc map[string]any) *configPlan {
	p := &configPlan{byTable: map[string][]*declEntry{}, names: map[string]map[string]string{}, fields: schema.FieldErrors{}}
	version, _ := doc["_format_version"].(string)
	if !slices.Contains(formatVersions, version) {
		p.fields["_format_version"] = "expected one of: " + strings.Join(formatVersions, ", ")
		if _, ok := doc["_format_version"]; !ok {
			p.fields["_format_version"] = "required field missing"
		}
	}
	for _, key := range schema.SortedKeys(doc) {
		if strings.HasPrefix(key, "_") {
			continue
		}
		e := s.entities[key]
		if e == nil {
			p.fields[key] = "unknown field"
			continue
		}
		items, ok := doc[key].([]any)
		if !ok {
			p.fields[key] = "expected an array"
			continue
		}
		p.flatten(s, e, items, []any{key}, nil, "")
	}
	if version != "" && version != "3.0" {
		for _, d := range p.byTable["routes"] {
			migratePaths(d.input)
		}
	}
	ids := map[string]map[string]*declEntry{}
	for _, k := range s.store.Kinds() {
		ids[k.Table] = map[string]*declEntry{}
		for _, d := range p.byTable[k.Table] {
			p.entries = append(p.entries, d)
			p.build(s, snap, d, ids)
		}
	}
	if len(p.fields) == 0 {
		p.plan(s, snap, ids)
	}
	return p
}

// flatten records items as entries of e, and their nested children: a key
// naming a served entity with a foreign key to e (services[].routes[]).
func (p *configPlan) flatten(s *Server, e *entity, items []any, path []any, parent *declEntry, pfield string) {
	for i, it := range items {
		in, ok := it.(map[string]any)
		if str, isStr := it.(string); isStr && parent != nil && e.schema.EndpointKey() != "" {
			// A nested child given by its endpoint key alone
			// (certificates[].snis: [a.example.test]), as the entity
			// endpoints accept it.
			in, ok = map[string]any{e.schema.EndpointKey(): str}, true
		}
		ipath := append(append([]any(nil), path...), i)
		d := &declEntry{e: e, path: ipath, parent: parent, pfield: pfield}
		if !ok {
			d.input = map[string]any{}
			p.fail(d, schema.FieldErrors{schema.EntityKey: []string{"expected a record"}})
			continue
		}
		d.input = map[string]any{}
		for k, v := range in {
			child, field := s.nestedChild(e, k)
			if child == nil {
				d.input[k] = v
				continue
			}
			sub, ok := v.([]any)
			if !ok {
				p.fail(d, schema.FieldErrors{k: "expected an array"})
				continue
			}
			p.flatten(s, child, sub, append(append([]any(nil), ipath...), k), d, field)
		}
		// Bytes, not a copy of the maps: decoded only when the entry fails.
		d.orig, _ = json.Marshal(d.input)
		p.byTable[e.table()] = append(p.byTable[e.table()], d)
	}
}

// nestedChild returns the served entity a nested key names under parent,
// with its foreign field pointing at parent.
func (s *Server) nestedChild(parent *entity, key string) (*entity, string) {
	child := s.entities[key]
	if child == nil {
		return nil, ""
	}
	for _, f := range child.schema.Foreign() {
		if f.Reference() == parent.table() {
			return child, f.Name()
		}
	}
	return nil, ""
}

// build validates one entry into its row and settles its id.
func (p *configPlan) build(s *Server, snap *store.Snapshot, d *declEntry, ids map[string]map[string]*declEntry) {
	e, in := d.e, d.input
	if d.parent != nil {
		if d.parent.id == "" {
			// The parent failed: give it a stand-in id so that the child's
			// own errors are still reported, and only those.
			d.parent.id = uuid.NewSHA1(declNamespace, []byte(fmt.Sprint(d.parent.path))).String()
		}
		in[d.pfield] = map[string]any{"id": d.parent.id}
	}
	errs := schema.FieldErrors{}
	for _, f := range e.schema.Foreign() {
		if f.Name() == d.pfield && d.parent != nil {
			continue
		}
		if msg := p.resolveRef(s, f, in, ids); msg != "" {
			errs[f.Name()] = msg
		}
	}
	if len(errs) > 0 {
		p.fail(d, errs)
		return
	}
	// sent seeds the id of an entity that names none and has no unique key
	// (adoptID); the bytes are taken before the hooks and Build fill the map.
	var sent []byte
	if _, ok := in["id"]; !ok {
		sent, _ = json.Marshal(in)
	}
	given := make(map[string]bool, len(in)) // what the file set, before the hooks fill the rest
	for k := range in {
		given[k] = true
	}
	var state any
	if e.before != nil {
		var err error
		if state, err = e.before(s, in, nil); err != nil {
			p.fail(d, apiFieldErrors(err))
			return
		}
	}
	m, ferrs := e.schema.Build(in, nil)
	if ferrs != nil {
		p.fail(d, ferrs)
		return
	}
	if err := s.unservedRefs(e, m); err != nil {
		p.fail(d, apiFieldErrors(err))
		return
	}
	row, err := e.mapToRow(m)
	switch pl, isPlugin := row.(*store.Plugin); {
	case err != nil:
	case isPlugin:
		// The plugins' after hook is checkPluginProtocols alone
		// (plugins.go); here it runs against the file's routes, since
		// the file replaces the stored ones.
		err = pluginProtocols(pl, p.fileRoute, p.fileRoutesOf)
	case e.after != nil:
		err = e.after(s, snap, row, state)
	}
	if err != nil {
		p.fail(d, apiFieldErrors(err))
		return
	}
	id := e.id(row)
	if id == "" {
		id = p.adoptID(snap, e, row, sent, given, d)
	}
	if prev, ok := ids[e.table()][id]; ok && prev != d {
		p.fail(d, schema.FieldErrors{schema.EntityKey: []string{fmt.Sprintf(
			"uniqueness violation: '%s' entity with primary key set to '%s' already declared", e.table(), id)}})
		return
	}
	d.id = id
	ids[e.table()][id] = d
	if key := e.schema.EndpointKey(); key != "" {
		if name, ok := d.input[key].(string); ok {
			if p.names[e.table()] == nil {
				p.names[e.table()] = map[string]string{}
			}
			p.names[e.table()][name] = id
		}
	}
	prev, _ := snap.Get(e.table(), id)
	keepGenerated(row, prev, given, s.opts.Now().Unix())
	stampRow(row, id, prev, s.opts.Now())
	d.row, d.changed = row, !sameRow(row, prev)
}

// resolveRef turns a reference given by endpoint key ("service": "name" or
// {"name": ...}) into {"id": ...} of the file's entity; an id must name an
// entity of the file, since the file is the whole state.
func (p *configPlan) resolveRef(s *Server, f *schema.Field, in map[string]any, ids map[string]map[string]*declEntry) string {
	v, ok := in[f.Name()]
	if !ok || v == nil {
		return ""
	}
	target := s.entities[f.Reference()]
	if target == nil {
		return ""
	}
	if str, ok := v.(string); ok {
		if schema.IsUUID(str) {
			v = map[string]any{"id": str}
		} else {
			v = map[string]any{target.schema.EndpointKey(): str}
		}
	}
	ref, ok := v.(map[string]any)
	if !ok {
		return "" // the schema names the problem
	}
	if id, ok := ref["id"].(string); ok {
		if _, found := ids[target.table()][id]; !found {
			return fmt.Sprintf("invalid reference '%s: %s' (no such entry in '%s')", f.Name(), id, target.table())
		}
		in[f.Name()] = map[string]any{"id": id}
		return ""
	}
	key := target.schema.EndpointKey()
	name, ok := ref[key].(string)
	if key == "" || !ok {
		return ""
	}
	if id, ok := p.names[target.table()][name]; ok {
		in[f.Name()] = map[string]any{"id": id}
		return ""
	}
	return fmt.Sprintf("invalid reference '%s: %s' (no such entry in '%s')", f.Name(), name, target.table())
}

// adoptID is the id of a file entity that names none: the stored entity's
// holding the same unique key, else one derived from the entity's table,
// parent and content.
func (p *configPlan) adoptID(snap *store.Snapshot, e *entity, row store.Row, sent []byte, given map[string]bool, d *declEntry) string {
	for _, u := range e.kind.Unique {
		vals := u.Values(row)
		if len(vals) == 0 || allNil(vals) || generated(u.Fields, given) {
			continue
		}
		if old, err := snap.GetUnique(e.table(), u.Name, vals...); err == nil && old != nil {
			return e.id(old)
		}
		// A unique key identifies the entity across content changes.
		b, _ := json.Marshal(vals)
		return uuid.NewSHA1(declNamespace, []byte(e.table()+"\x00"+u.Name+"\x00"+string(b))).String()
	}
	seed := e.table() + "\x00" + string(sent)
	if d.parent != nil {
		seed += "\x00" + d.parent.id
	}
	return uuid.NewSHA1(declNamespace, []byte(seed)).String()
}

// plan builds the batch: upserts of new and changed rows, parents first,
// then deletes of stored rows the file does not hold, children first. A
// stored row whose unique key a new row takes under another id is deleted
// before the upserts.
func (p *configPlan) plan(s *Server, snap *store.Snapshot, ids map[string]map[string]*declEntry) {
	var early, upserts, late []store.Mutation
	gone, parked := map[string]bool{}, map[string]bool{}
	kinds := s.store.Kinds()
	for i := len(kinds) - 1; i >= 0; i-- {
		k := kinds[i]
		if s.entities[k.Table] == nil {
			continue
		}
		_ = snap.Walk(k.Table, "", func(row store.Row) bool {
			id := k.RowID(row)
			if _, keep := ids[k.Table][id]; !keep {
				gone[k.Table+"\x00"+id] = true
			}
			return true
		})
	}
	for _, d := range p.entries {
		if !d.changed {
			continue
		}
		for _, u := range d.e.kind.Unique {
			vals := u.Values(d.row)
			if len(vals) == 0 || allNil(vals) {
				continue
			}
			if old, err := snap.GetUnique(d.e.table(), u.Name, vals...); err == nil && old != nil {
				oid := d.e.id(old)
				switch {
				case oid == d.id:
				case gone[d.e.table()+"\x00"+oid]:
					early = append(early, d.e.remove(oid))
					p.changes = append(p.changes, configChange{Op: "delete", Entity: d.e.table(), ID: oid})
					delete(gone, d.e.table()+"\x00"+oid)
				case ids[d.e.table()][oid] != nil && !parked[d.e.table()+"\x00"+oid]:
					// A kept row of the file that gives its key up (a
					// swap of names): parked first (config_swap.go).
					if m, ok := parkUnique(d.e, old, u); ok {
						early = append(early, m)
						parked[d.e.table()+"\x00"+oid] = true
					}
				}
			}
		}
		upserts = append(upserts, d.e.upsert(d.row, false))
		op := "update"
		if prev, _ := snap.Get(d.e.table(), d.id); prev == nil {
			op = "create"
		}
		p.changes = append(p.changes, configChange{Op: op, Entity: d.e.table(), ID: d.id})
	}
	for i := len(kinds) - 1; i >= 0; i-- {
		k := kinds[i]
		e := s.entities[k.Table]
		if e == nil {
			continue
		}
		_ = snap.Walk(k.Table, "", func(row store.Row) bool {
			if id := k.RowID(row); gone[k.Table+"\x00"+id] {
				late = append(late, e.remove(id))
				p.changes = append(p.changes, configChange{Op: "delete", Entity: k.Table, ID: id})
			}
			return true
		})
	}
	p.batch = append(append(early, upserts...), late...)
}

// regexPathChars marks a pre-3.0 route path as a regex: Kong's 3.0
// migration prefixes such paths with "~".
var plainPath = regexp.MustCompile(`^[a-zA-Z0-9.\-_~/%]*$`)

func migratePaths(in map[string]any) {
	paths, ok := in["paths"].([]any)
	if !ok {
		return
	}
	for i, v := range paths {
		if s, ok := v.(string); ok && !strings.HasPrefix(s, "~") && !plainPath.MatchString(s) {
			paths[i] = "~" + s
		}
	}
}

// sameRow reports whether row equals prev but for updated_at: then the
// file leaves the entity as it is (and its timestamps with it).
func sameRow(row, prev store.Row) bool {
	if prev == nil {
		return false
	}
	v := reflect.ValueOf(row).Elem()
	f := v.FieldByName("UpdatedAt")
	var saved reflect.Value
	if f.IsValid() {
		saved = reflect.New(f.Type()).Elem()
		saved.Set(f)
		f.Set(reflect.ValueOf(prev).Elem().FieldByName("UpdatedAt"))
	}
	// DeepEqual settles the common case (an untouched row) without
	// encoding; JSON decides the rest, where a stored row holds float64 in
	// a plugin config that the file's row holds as json.Number.
	same := reflect.DeepEqual(row, prev)
	if !same {
		a, _ := json.Marshal(row)
		b, _ := json.Marshal(prev)
		same = bytes.Equal(a, b)
	}
	if f.IsValid() && !same {
		f.Set(saved)
	}
	return same
}

// apiFieldErrors extracts the fields of a schema-violation error, or wraps
// another error's message as an entity-level one.
func apiFieldErrors(err error) schema.FieldErrors {
	if api, ok := err.(*apiError); ok {
		if ke, ok := api.body.(kongError); ok {
			if fe, ok := ke.Fields.(schema.FieldErrors); ok {
				return fe
			}
			return schema.FieldErrors{schema.EntityKey: []string{ke.Message}}
		}
		if mb, ok := api.body.(messageBody); ok {
			return schema.FieldErrors{schema.EntityKey: []string{mb.Message}}
		}
	}
	return schema.FieldErrors{schema.EntityKey: []string{err.Error()}}
}

func allNil(vals []any) bool {
	for _, v := range vals {
		if v != nil {
			return false
		}
	}
	return true
}
