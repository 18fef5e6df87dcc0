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

// Tables lists every entity table, for callers that track per-table indexes.
var Tables = []string{tableServices, tableRoutes, tableUpstreams, tableTargets, tableTargetHealth}

// revisionKey is the row of the index table that holds the store-wide
// revision; the other rows hold the last index that changed each table.
const revisionKey = "_revision"

func schema() *memdb.DBSchema {
	db := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{}}
	for _, t := range []*memdb.TableSchema{
		indexTableSchema(),
		serviceTableSchema(),
		routeTableSchema(),
		upstreamTableSchema(),
		targetTableSchema(),
		targetHealthTableSchema(),
	} {
		if _, dup := db.Tables[t.Name]; dup {
			panic(fmt.Sprintf("store: duplicate table %q", t.Name))
		}
		db.Tables[t.Name] = t
	}
	return db
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

func idIndex() *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}}
}

func tagsIndex() *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: indexTags, AllowMissing: true, Indexer: &memdb.StringSliceFieldIndex{Field: "Tags"}}
}

// funcIndex indexes rows by a string derived from them, for keys that are
// not plain struct fields (nested references, composite keys). A row whose
// key is "" is left out of the index.
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
