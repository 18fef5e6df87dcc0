package admin

import (
	"reflect"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// Rows are the store's entity structs. The generic handlers reach the few
// fields every Kong entity shares (ID, CreatedAt, UpdatedAt, Tags) by name,
// as the store's Kind does, so that an entity needs no hand-written glue.

// rowTags returns a row's tags, nil when its type has none.
func rowTags(row store.Row) []string {
	f := reflect.ValueOf(row).Elem().FieldByName("Tags")
	if !f.IsValid() {
		return nil
	}
	tags, _ := f.Interface().([]string)
	return tags
}

// stampRow sets the id and Kong's timestamps: created_at from prev when the
// entity exists, updated_at now. Integer timestamps are seconds; float ones
// (targets) carry a millisecond fraction, as Kong renders them.
func stampRow(row store.Row, id string, prev store.Row, now time.Time) {
	v := reflect.ValueOf(row).Elem()
	if f := v.FieldByName("ID"); f.IsValid() {
		f.SetString(id)
	}
	for _, name := range []string{"CreatedAt", "UpdatedAt"} {
		f := v.FieldByName(name)
		switch {
		case !f.IsValid():
		case f.CanInt():
			f.SetInt(now.Unix())
		case f.CanFloat():
			f.SetFloat(float64(now.UnixMilli()) / 1000)
		}
	}
	if prev != nil {
		if f := v.FieldByName("CreatedAt"); f.IsValid() {
			f.Set(reflect.ValueOf(prev).Elem().FieldByName("CreatedAt"))
		}
	}
}

// refIDs returns the ids a row's reference field holds (none when null),
// from the store's descriptor of that reference.
func refIDs(k *store.Kind, field string, row store.Row) []string {
	for _, ref := range k.Refs {
		if ref.Field == field {
			return ref.IDs(row)
		}
	}
	return nil
}

// refID is the single id of a foreign key field, "" when null.
func refID(k *store.Kind, field string, row store.Row) string {
	if ids := refIDs(k, field, row); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// createdAt is a row's created_at as a number (0 when it has none).
func createdAt(row store.Row) float64 {
	f := reflect.ValueOf(row).Elem().FieldByName("CreatedAt")
	switch {
	case !f.IsValid():
		return 0
	case f.CanInt():
		return float64(f.Int())
	case f.CanFloat():
		return f.Float()
	}
	return 0
}

// createIndex is the store revision that created a row (0 when untracked).
func createIndex(row store.Row) uint64 {
	f := reflect.ValueOf(row).Elem().FieldByName("CreateIndex")
	if !f.IsValid() || !f.CanUint() {
		return 0
	}
	return f.Uint()
}
