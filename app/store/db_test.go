package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"moat/app/dbtest"
)

// The app's connections send a uuid.UUID as its 16 bytes, not through its text form, and it
// still arrives as itself wherever it goes: a uuid, text, an array, and NULL from a nil pointer.
func TestUUIDsAreSentAsBytes(t *testing.T) {
	d := dbtest.New(t, 1)
	ctx := context.Background()
	id, other := uuid.New(), uuid.New()
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if plan := conn.Conn().TypeMap().PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, id); plan == nil || fmt.Sprintf("%T", plan) == "*pgtype.encodePlanDriverValuer" {
		t.Fatalf("a uuid.UUID is encoded by %T", plan)
	}
	var asUUID uuid.UUID
	var asText string
	var inArray bool
	var null *uuid.UUID
	var isNull bool
	err = conn.QueryRow(ctx, "SELECT $1::uuid, $2::text, $3::uuid = ANY($4::uuid[]), $5::uuid IS NULL",
		id, id, other, []uuid.UUID{id, other}, null).Scan(&asUUID, &asText, &inArray, &isNull)
	if err != nil {
		t.Fatal(err)
	}
	if asUUID != id || asText != id.String() || !inArray || !isNull {
		t.Fatalf("sent %s: read back %s, %q, in array %v, NULL %v", id, asUUID, asText, inArray, isNull)
	}
}
