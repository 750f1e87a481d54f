package fragments_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"moat/models"
	"moat/views/fragments"
)

// The hand-written table escapes every value a customer or a tag brings, writes ids as uuid
// does, and links its headers to the list's URLs.
func TestCustomerTableEscapesValues(t *testing.T) {
	hostile := `"><script>alert('x')</script>&`
	c := models.Customer{ID: uuid.New(), Name: hostile, Email: hostile, Number: hostile, Company: hostile,
		Tags: []models.Tag{{ID: uuid.New(), Name: hostile, Color: `red" onclick="x`}}}
	p := fragments.CustomerListProps{Customers: []models.Customer{c}, Total: 1, Columns: []string{"number", "email", "company", "tags"},
		State: fragments.ListState{Search: `a&b "c"`, Sort: "number", Desc: true}}
	var b strings.Builder
	if err := fragments.CustomerResults(p).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", `onclick="x`} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in\n%s", bad, out)
		}
	}
	escaped := `&#34;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;`
	if n := strings.Count(out, escaped); n < 8 { // name ×5, email, number, company, tag
		t.Errorf("the escaped value appears %d times, want at least 8", n)
	}
	for _, want := range []string{
		`id="customer-row-` + c.ID.String() + `"`,
		`href="/customers/` + c.ID.String() + `"`,
		`data-color="red&#34; onclick=&#34;x"`,
		// Sorted by number, descending: its header sorts ascending, and says how it is sorted.
		`aria-sort="descending"><a href="/customers?q=a%26b+%22c%22&amp;sort=number" hx-get="/customers?q=a%26b+%22c%22&amp;sort=number"`,
		`<span aria-hidden="true">▼</span>`,
		`aria-sort="none"><a href="/customers?q=a%26b+%22c%22" `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}
