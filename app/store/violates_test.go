package store

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A unique index's refusal is told by its name, on plain PostgreSQL and on a Citus shard.
func TestViolatesKnowsShardCopies(t *testing.T) {
	cases := map[string]bool{
		"tags_tenant_name":        true,
		"tags_tenant_name_102041": true, // the shard's copy, on Citus
		"tags_tenant_name_":       false,
		"tags_tenant_name_x1":     false,
		"tags_tenant_names":       false,
		"tags_tenant":             false,
	}
	for name, want := range cases {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "23505", ConstraintName: name})
		if got := violates(err, "tags_tenant_name"); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	citus := &pgconn.PgError{Code: "23505", Message: `duplicate key value violates unique constraint "tags_tenant_name_102041"`}
	if !violates(citus, "tags_tenant_name") || violates(citus, "products_tenant_sku") {
		t.Error("a duplicate named in the message alone, as Citus forwards it, is not told right")
	}
	if violates(&pgconn.PgError{Code: "23503", ConstraintName: "tags_tenant_name"}, "tags_tenant_name") {
		t.Error("a foreign key violation taken for a duplicate")
	}
}
