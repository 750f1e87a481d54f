package fragments_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"

	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
)

// BenchmarkCustomerResults renders a 25-row page of the customer list.
func BenchmarkCustomerResults(b *testing.B) {
	// As the list shows it by default: number, email, company and tags, one tag a row.
	p := fragments.CustomerListProps{CSRF: uuid.NewString(), Total: 1000, Columns: []string{"number", "email", "company", "tags"},
		Pager: components.PagerProps{Page: 2, Prev: "/customers", Next: "/customers?page=3&after=abc", Target: "customer-results"}}
	vip := models.Tag{ID: uuid.New(), Name: "VIP", Color: "amber"}
	for i := 0; i < 25; i++ {
		p.Customers = append(p.Customers, models.Customer{
			ID: uuid.New(), Number: fmt.Sprintf("C-%05d", i), Name: fmt.Sprintf("Customer %02d", i), Email: fmt.Sprintf("c%d@example.com", i),
			Phone: "+1 555 0100", Company: "Anvil Works", CreatedAt: time.Now(), Tags: []models.Tag{vip},
		})
	}
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if err := fragments.CustomerResults(p).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
