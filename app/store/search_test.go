package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"moat/app/dbtest"
	"moat/app/store"
	"moat/models"
)

// A search that is ASCII without a capital I is split into words in Go, without asking the
// database: the same first five words as searchWords' SQL, whose split made the stored terms,
// for thousands of strings of letters, digits, capitals, punctuation and spaces. Anything else
// is left to PostgreSQL.
func TestASCIIWordsSplitAsPostgreSQLDoes(t *testing.T) {
	d := dbtest.New(t, 1)
	ctx := context.Background()
	split := func(s string) []string {
		t.Helper()
		words, err := store.SQLWords(d.Gorm.WithContext(ctx), s)
		if err != nil {
			t.Fatal(err)
		}
		return words
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHJKLMNOPQRSTUVWXYZ0123456789 .,-_@'!/\\\t"
	cases := []string{"ann", "Ann Lee", "ACME GmbH", "x@y.example", "a-b_c", "   ", "!!", "one two three four five six seven", strings.Repeat("z", 150)}
	for range 3000 {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got, ok := store.ASCIIWords(s)
		if !ok {
			t.Fatalf("%q: not split in Go", s)
		}
		if want := split(s); !slices.Equal(got, want) {
			t.Fatalf("%q: Go %q, PostgreSQL %q", s, got, want)
		}
	}
	for _, s := range []string{"Ivan", "Zoë", "Müller", "İstanbul", "東京"} {
		if _, ok := store.ASCIIWords(s); ok {
			t.Fatalf("%q was split in Go", s)
		}
	}
}

// A search that finds nobody still says what a list says, in the page's own round trip: none
// of how many, the tenant's tags to filter by, and the person's chosen columns.
func TestAnEmptyPageKeepsItsSummary(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, _ := d.Tenant(t, "acme")
	customers := store.NewCustomers(d.Gorm)
	if _, err := store.NewTags(d.Gorm).Create(a, models.TagInput{Name: "VIP", Color: "red"}); err != nil {
		t.Fatal(err)
	}
	if err := customers.SetColumns(a, []string{"phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := customers.Create(a, models.CustomerInput{Kind: models.KindPerson, Name: "Ada Lovelace"}); err != nil {
		t.Fatal(err)
	}
	for _, search := range []string{"grace", "Zoë"} { // split in Go, and by PostgreSQL
		tr.Reset()
		p, err := customers.List(a, store.ListQuery{Filter: store.Filter{Search: search}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Customers) != 0 || p.Total != 0 || len(p.Tags) != 1 || p.Tags[0].Name != "VIP" || !slices.Equal(p.Columns, []string{"phone"}) {
			t.Fatalf("%q: %d customers of %d, tags %+v, columns %v", search, len(p.Customers), p.Total, p.Tags, p.Columns)
		}
		want := 1
		if search == "Zoë" {
			want = 2 // its words are PostgreSQL's to split
		}
		if n, stmts := tr.Count(); n != want {
			t.Fatalf("%q: %d round trips carrying %q, want %d", search, n, stmts, want)
		}
	}
	if p, err := customers.List(a, store.ListQuery{Filter: store.Filter{Search: "ada"}}); err != nil || len(p.Customers) != 1 || p.Total != 1 || len(p.Tags) != 1 {
		t.Fatalf("a search that finds Ada: %v, %+v", err, p)
	}
}
