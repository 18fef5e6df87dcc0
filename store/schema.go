package store

import (
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
)

// Table names.
const (
	tableIndex        = "index"
	tableServices     = "services"
	tableRoutes       = "routes"
	tableUpstreams    = "upstreams"
	tableTargets      = "targets"
	tableTargetHealth = "target_health"
)

// Index names shared by several tables.
const (
	indexID       = "id"
	indexName     = "name"
	indexTags     = "tags"
	indexService  = "service"
	indexUpstream = "upstream"
	indexTarget   = "upstream_target"
)

// kinds is every entity table, in dump order. Adding an entity is one Kind
// literal in its own file and one element here.
var kinds = newRegistry(serviceKind, routeKind, upstreamKind, targetKind, targetHealthKind,
	consumerKind, pluginKind, keyAuthKind, certificateKind, sniKind, caCertificateKind, defaultCertificateKind)

// Tables lists every entity table, for callers that track per-table indexes.
var Tables = kinds.tables()

// Kinds returns the entity descriptors in dump order. They are shared:
// never change them.
func Kinds() []*Kind { return append([]*Kind(nil), kinds.kinds...) }

// KindByTable returns the descriptor of table, or nil.
func KindByTable(table string) *Kind { return kinds.byTable[table] }

func (r *registry) tables() []string {
	out := make([]string, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k.Table)
	}
	return out
}

// revisionKey is the row of the index table that holds the store-wide
// revision; the other rows hold the last index that changed each table.
const revisionKey = "_revision"

// schema derives the memdb schema from the registry.
func (r *registry) schema() *memdb.DBSchema {
	db := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{tableIndex: indexTableSchema()}}
	for _, k := range r.kinds {
		db.Tables[k.Table] = k.tableSchema()
	}
	return db
}

// tableSchema is the kind's memdb table: id, one unique index per unique
// key, one index per reference (by referenced id), tags, and the extras.
func (k *Kind) tableSchema() *memdb.TableSchema {
	t := &memdb.TableSchema{Name: k.Table, Indexes: map[string]*memdb.IndexSchema{}}
	add := func(ix *memdb.IndexSchema) {
		if _, dup := t.Indexes[ix.Name]; dup {
			panic(fmt.Sprintf("store: %s: duplicate index %q", k.Table, ix.Name))
		}
		t.Indexes[ix.Name] = ix
	}
	if k.ID != nil {
		add(&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: funcIndex{key: k.ID}})
	} else {
		add(&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}})
	}
	for _, u := range k.Unique {
		values := u.Values
		add(&memdb.IndexSchema{Name: u.Name, Unique: true, AllowMissing: true, Indexer: funcIndex{key: func(o any) string {
			vals := values(o)
			if vals == nil {
				return ""
			}
			key, _ := uniqueKey(vals)
			return key
		}}})
	}
	for _, ref := range k.Refs {
		add(&memdb.IndexSchema{Name: ref.Field, AllowMissing: true, Indexer: refIndex{ids: ref.IDs}})
	}
	if k.Tagged {
		add(&memdb.IndexSchema{Name: indexTags, AllowMissing: true, Indexer: &memdb.StringSliceFieldIndex{Field: "Tags"}})
	}
	for _, ix := range k.Indexes {
		add(ix)
	}
	return t
}

// IndexEntry records the last revision that changed a table (Nomad's index
// table).
type IndexEntry struct {
	Key   string
	Value uint64
}

func indexTableSchema() *memdb.TableSchema {
	return &memdb.TableSchema{
		Name: tableIndex,
		Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Key"}},
		},
	}
}

// funcIndex indexes rows by a string derived from them, for keys that are
// not plain struct fields (computed ids, composite keys). A row whose key
// is "" is left out of the index.
type funcIndex struct {
	key func(obj any) string
}

func (f funcIndex) FromObject(obj any) (bool, []byte, error) {
	k := f.key(obj)
	if k == "" {
		return false, nil, nil
	}
	return true, []byte(k + "\x00"), nil
}

func (funcIndex) FromArgs(args ...any) ([]byte, error) {
	return (&memdb.StringFieldIndex{Field: "unused"}).FromArgs(args...)
}

// refIndex indexes rows by every id a reference holds, so that deleting a
// referenced row finds its referrers (and array-valued references work).
type refIndex struct {
	ids func(Row) []string
}

func (r refIndex) FromObject(obj any) (bool, [][]byte, error) {
	ids := r.ids(obj)
	out := make([][]byte, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			out = append(out, []byte(id+"\x00"))
		}
	}
	return len(out) > 0, out, nil
}

func (refIndex) FromArgs(args ...any) ([]byte, error) {
	return (&memdb.StringFieldIndex{Field: "unused"}).FromArgs(args...)
}
