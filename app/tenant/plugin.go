package tenant

import (
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/models"
)

// Column is the tenant column every tenant-owned table has.
const Column = "tenant_id"

// Plugin scopes every GORM statement on a tenant-owned model (any model with a tenant_id
// column) to the tenant in the statement's context: it adds tenant_id = ? to queries, updates,
// deletes and row scans, and sets tenant_id on creates, overriding whatever the model held.
// With no tenant in the context the statement fails with models.ErrNoTenant.
//
// Raw SQL (db.Raw, db.Exec) is not seen here; PostgreSQL's row level security covers it.
type Plugin struct {
	// Citus writes the tenant into the condition as a literal: Citus routes a statement to the
	// tenant's worker by its value, and a parameter, even in a custom plan, leaves a correlated
	// subquery or FOR UPDATE unrouted ("could not run distributed query with FOR UPDATE/SHARE
	// commands"). On plain PostgreSQL a parameter keeps one prepared statement for every tenant.
	Citus bool
}

// OnCitus says whether db's tenant plugin works for a Citus coordinator.
func OnCitus(db *gorm.DB) bool {
	p, ok := db.Config.Plugins[Plugin{}.Name()].(Plugin)
	return ok && p.Citus
}

// Name implements gorm.Plugin.
func (Plugin) Name() string { return "moat:tenant" }

// Initialize implements gorm.Plugin.
func (p Plugin) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	steps := []error{
		cb.Query().Before("gorm:query").Register("moat:tenant_query", p.scope),
		cb.Row().Before("gorm:row").Register("moat:tenant_row", p.scope),
		cb.Update().Before("gorm:update").Register("moat:tenant_update", p.scopeUpdate),
		cb.Delete().Before("gorm:delete").Register("moat:tenant_delete", p.scopeDelete),
		cb.Create().Before("gorm:create").Register("moat:tenant_create", assign),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

// owned reports whether the statement's model has a tenant column.
func owned(db *gorm.DB) bool {
	s := db.Statement.Schema
	if s == nil {
		return false
	}
	_, ok := s.FieldsByDBName[Column]
	return ok
}

func current(db *gorm.DB) (ID, bool) {
	t, ok := FromContext(db.Statement.Context)
	if !ok {
		db.AddError(fmt.Errorf("%s %s: %w", db.Statement.Schema.Table, "statement", models.ErrNoTenant))
	}
	return t, ok
}

// scope puts "tenant_id = ? AND (the statement's own conditions)" in the WHERE clause. The
// existing conditions are grouped in parentheses so that no OR among them can reach past the
// tenant condition.
func (p Plugin) scope(db *gorm.DB) {
	if db.Error != nil || !owned(db) || db.Statement.SQL.Len() > 0 {
		return
	}
	t, ok := current(db)
	if !ok {
		return
	}
	var value any = t.id
	if p.Citus {
		value = clause.Expr{SQL: "'" + t.String() + "'::uuid"} // canonical: nothing else to quote
	}
	cond := clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: Column}, Value: value}
	exprs := []clause.Expression{cond}
	if c, ok := db.Statement.Clauses["WHERE"]; ok {
		if w, ok := c.Expression.(clause.Where); ok && len(w.Exprs) > 0 {
			exprs = append(exprs, group(w.Exprs))
		}
	}
	c := db.Statement.Clauses["WHERE"]
	c.Name = "WHERE"
	c.Expression = clause.Where{Exprs: exprs}
	db.Statement.Clauses["WHERE"] = c
}

// scopeUpdate scopes an update and keeps the tenant column out of its SET list.
func (p Plugin) scopeUpdate(db *gorm.DB) {
	if db.Error != nil || !owned(db) {
		return
	}
	db.Statement.Omits = append(db.Statement.Omits, Column)
	refuseUnbounded(db)
	p.scope(db)
}

// scopeDelete scopes a delete.
func (p Plugin) scopeDelete(db *gorm.DB) {
	if db.Error != nil || !owned(db) {
		return
	}
	refuseUnbounded(db)
	p.scope(db)
}

// refuseUnbounded keeps GORM's refusal of an update or delete with no conditions, which the
// tenant condition added by scope would otherwise satisfy: "every customer of this tenant"
// must be asked for explicitly (AllowGlobalUpdate), never by forgetting a condition.
func refuseUnbounded(db *gorm.DB) {
	if db.AllowGlobalUpdate || db.Statement.SQL.Len() > 0 {
		return
	}
	if _, ok := db.Statement.Clauses["WHERE"]; ok {
		return
	}
	if id, ok := db.Statement.Schema.FieldsByDBName["id"]; ok && db.Statement.ReflectValue.Kind() == reflect.Struct {
		if _, zero := id.ValueOf(db.Statement.Context, db.Statement.ReflectValue); !zero {
			return
		}
	}
	db.AddError(gorm.ErrMissingWhereClause)
}

// assign sets the tenant on every record a create inserts.
func assign(db *gorm.DB) {
	if db.Error != nil || !owned(db) {
		return
	}
	t, ok := current(db)
	if !ok {
		return
	}
	field := db.Statement.Schema.FieldsByDBName[Column]
	ctx := db.Statement.Context
	rv := db.Statement.ReflectValue
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if err := field.Set(ctx, reflect.Indirect(rv.Index(i)), t.id); err != nil {
				db.AddError(err)
			}
		}
	case reflect.Struct:
		if err := field.Set(ctx, rv, t.id); err != nil {
			db.AddError(err)
		}
	default:
		// Creates from maps would skip the struct field above: refuse them.
		db.AddError(fmt.Errorf("tenant: create %s from %s is not supported", db.Statement.Schema.Table, rv.Kind()))
	}
}

// group renders conditions as one parenthesised expression.
type group []clause.Expression

func (g group) Build(b clause.Builder) {
	b.WriteByte('(')
	clause.Where{Exprs: g}.Build(b)
	b.WriteByte(')')
}
