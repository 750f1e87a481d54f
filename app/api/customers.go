package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"moat/app/keyset"
	"moat/app/store"
	"moat/models"
)

// Contact is a typed email address or phone number.
type Contact struct {
	Type  string `json:"type" doc:"Emails: work, personal, billing or other. Phones: work, mobile, home, fax or other."`
	Value string `json:"value"`
}

// Tag is one of the organization's labels.
type Tag struct {
	ID    string `json:"id" format:"uuid"`
	Name  string `json:"name"`
	Color string `json:"color" enum:"slate,red,amber,green,teal,blue,violet,pink"`
}

// Customer is a customer record.
type Customer struct {
	ID              string    `json:"id" format:"uuid"`
	Kind            string    `json:"kind" enum:"company,person"`
	Number          string    `json:"number"`
	Name            string    `json:"name"`
	Company         string    `json:"company"`
	Emails          []Contact `json:"emails"`
	Phones          []Contact `json:"phones"`
	Website         string    `json:"website"`
	TaxID           string    `json:"tax_id"`
	BillingAddress  string    `json:"billing_address"`
	ShippingAddress string    `json:"shipping_address"`
	Currency        string    `json:"currency" doc:"ISO 4217"`
	PaymentTerms    int       `json:"payment_terms" doc:"Days until an invoice is due"`
	Tags            []Tag     `json:"tags"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// CustomerSummary is a customer as lists show it; get the customer for the whole record.
type CustomerSummary struct {
	ID        string    `json:"id" format:"uuid"`
	Kind      string    `json:"kind" enum:"company,person"`
	Number    string    `json:"number"`
	Name      string    `json:"name"`
	Email     string    `json:"email" doc:"The first email address"`
	Phone     string    `json:"phone" doc:"The first phone number"`
	Company   string    `json:"company"`
	Tags      []Tag     `json:"tags"`
	CreatedAt time.Time `json:"created_at"`
}

// CustomerFields are a customer's editable fields. A create fills those it leaves out with
// defaults (a company paying in EUR at 30 days); an update changes only those it names.
type CustomerFields struct {
	Kind            *string    `json:"kind,omitempty" enum:"company,person"`
	Number          *string    `json:"number,omitempty" doc:"Unique in the organization; numbered for you when left out"`
	Name            *string    `json:"name,omitempty" doc:"Required on create"`
	Company         *string    `json:"company,omitempty"`
	Emails          *[]Contact `json:"emails,omitempty" maxItems:"10"`
	Phones          *[]Contact `json:"phones,omitempty" maxItems:"10"`
	Website         *string    `json:"website,omitempty"`
	TaxID           *string    `json:"tax_id,omitempty"`
	BillingAddress  *string    `json:"billing_address,omitempty"`
	ShippingAddress *string    `json:"shipping_address,omitempty"`
	Currency        *string    `json:"currency,omitempty" doc:"ISO 4217"`
	PaymentTerms    *int       `json:"payment_terms,omitempty" doc:"Days until an invoice is due"`
	Tags            *[]string  `json:"tags,omitempty" maxItems:"50" doc:"Tag ids; an update replaces the customer's tags"`
}

// NewCustomer is a customer to create, with an optional first note.
type NewCustomer struct {
	CustomerFields
	Note string `json:"note,omitempty" doc:"A first note for the customer's timeline"`
}

// apply sets in's fields to those f names.
func (f CustomerFields) apply(in *models.CustomerInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if f.Kind != nil {
		in.Kind = models.CustomerKind(*f.Kind)
	}
	set(&in.Number, f.Number)
	set(&in.Name, f.Name)
	set(&in.Company, f.Company)
	set(&in.Website, f.Website)
	set(&in.TaxID, f.TaxID)
	set(&in.BillingAddress, f.BillingAddress)
	set(&in.ShippingAddress, f.ShippingAddress)
	set(&in.Currency, f.Currency)
	if f.PaymentTerms != nil {
		in.PaymentTerms = strconv.Itoa(*f.PaymentTerms)
	}
	if f.Emails != nil {
		in.Emails, in.EmailTypes = contacts(*f.Emails)
	}
	if f.Phones != nil {
		in.Phones, in.PhoneTypes = contacts(*f.Phones)
	}
	if f.Tags != nil {
		in.TagIDs = *f.Tags
	}
}

func contacts(cs []Contact) (values, types []string) {
	for _, c := range cs {
		values, types = append(values, c.Value), append(types, c.Type)
	}
	return values, types
}

// customerFields are the form's names of the fields the API names otherwise.
var customerFields = fieldNames{names: map[string]string{"email": "emails", "email_type": "emails", "phone": "phones", "phone_type": "phones",
	"email[]": "emails[%d].value", "email_type[]": "emails[%d].type", "phone[]": "phones[%d].value", "phone_type[]": "phones[%d].type",
	"tag": "tags", "notes": "note"}}

func customerOf(c models.Customer) Customer {
	out := Customer{ID: c.ID.String(), Kind: string(c.Kind), Number: c.Number, Name: c.Name, Company: c.Company,
		Emails: []Contact{}, Phones: []Contact{}, Website: c.Website, TaxID: c.TaxID, BillingAddress: c.BillingAddress,
		ShippingAddress: c.ShippingAddress, Currency: c.Currency, PaymentTerms: c.PaymentTerms, Tags: tagsOf(c.Tags),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	for _, e := range c.Emails {
		out.Emails = append(out.Emails, Contact{Type: e.Type, Value: e.Value})
	}
	for _, p := range c.Phones {
		out.Phones = append(out.Phones, Contact{Type: p.Type, Value: p.Value})
	}
	return out
}

func tagsOf(ts []models.Tag) []Tag {
	out := make([]Tag, len(ts))
	for i, t := range ts {
		out[i] = Tag{ID: t.ID.String(), Name: t.Name, Color: t.Color}
	}
	return out
}

type listCustomersInput struct {
	Q           string `query:"q" maxLength:"200" doc:"Words that each start a word of the name, email or company"`
	Kind        string `query:"kind" enum:"company,person"`
	Tag         string `query:"tag" format:"uuid" doc:"A tag's id"`
	CreatedFrom string `query:"created_from" format:"date" doc:"Created on or after this day (UTC)"`
	CreatedTo   string `query:"created_to" format:"date" doc:"Created on or before this day (UTC)"`
	Sort        string `query:"sort" enum:"name,number,email,company,created" default:"name"`
	Order       string `query:"order" enum:"asc,desc" default:"asc"`
	Paging
}

// CustomerList is one page of customers.
type CustomerList struct {
	Data []CustomerSummary `json:"data"`
	Page
}

type customerList struct{ Body CustomerList }

// CustomerPath names a customer (exported: huma sets the fields of embedded structs only then).
type CustomerPath struct {
	ID string `path:"id" doc:"The customer's id"`
}

type customerOutput struct {
	Location string `header:"Location"`
	Body     Customer
}

type noContent struct{}

// Note is a note on a customer's timeline.
type Note struct {
	ID        string    `json:"id" format:"uuid"`
	Body      string    `json:"body"`
	Author    string    `json:"author" doc:"Who wrote it; empty once they have left"`
	CreatedAt time.Time `json:"created_at"`
}

// NoteList is a customer's notes, newest first.
type NoteList struct {
	Data []Note `json:"data"`
}

type noteList struct{ Body NoteList }

// NewNote is a note to add.
type NewNote struct {
	Body string `json:"body" doc:"The note, at most 5,000 characters"`
}

// NewTag is a tag to create.
type NewTag struct {
	Name  string `json:"name" doc:"Unique in the organization, in any case"`
	Color string `json:"color" enum:"slate,red,amber,green,teal,blue,violet,pink"`
}

// TagList is the organization's tags, by name.
type TagList struct {
	Data []TagUse `json:"data"`
}

// TagUse is a tag and how many customers outside the trash carry it.
type TagUse struct {
	Tag
	Customers int64 `json:"customers"`
}

func (a *api) customers(h huma.API) {
	huma.Register(h, operation("list-customers", http.MethodGet, "/customers", "customers", "read", "List customers"),
		func(ctx context.Context, in *listCustomersInput) (*customerList, error) {
			lq := store.ListQuery{Filter: store.Filter{Search: in.Q, Kind: models.CustomerKind(in.Kind), Tag: in.Tag,
				From: in.CreatedFrom, To: in.CreatedTo}, Sort: in.Sort, Desc: in.Order == "desc", Limit: in.Limit, Bare: true}
			if in.StartingAfter != "" {
				c, ok := keyset.Decode(in.StartingAfter, in.Sort)
				if !ok || c.Desc != lq.Desc {
					return nil, badCursor()
				}
				lq.After = in.StartingAfter
			}
			p, err := a.Customers.List(ctx, lq)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &customerList{Body: CustomerList{Data: make([]CustomerSummary, len(p.Customers)), Page: page(p.Next)}}
			for i, c := range p.Customers {
				out.Body.Data[i] = CustomerSummary{ID: c.ID.String(), Kind: string(c.Kind), Number: c.Number, Name: c.Name,
					Email: c.Email, Phone: c.Phone, Company: c.Company, Tags: tagsOf(c.Tags), CreatedAt: c.CreatedAt.UTC()}
			}
			return out, nil
		})

	huma.Register(h, operation("get-customer", http.MethodGet, "/customers/{id}", "customers", "read", "Get a customer"),
		func(ctx context.Context, in *CustomerPath) (*customerOutput, error) {
			c, err := a.Customers.Get(ctx, in.ID)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			return &customerOutput{Body: customerOf(c)}, nil
		})

	huma.Register(h, operation("create-customer", http.MethodPost, "/customers", "customers", "write", "Create a customer"),
		func(ctx context.Context, in *struct{ Body NewCustomer }) (*customerOutput, error) {
			var fields models.CustomerInput
			in.Body.apply(&fields)
			fields.Notes = in.Body.Note
			c, err := a.Customers.Create(ctx, fields)
			if err != nil {
				return nil, a.fail(ctx, err, customerFields)
			}
			return &customerOutput{Location: Prefix + "/customers/" + c.ID.String(), Body: customerOf(c)}, nil
		})

	huma.Register(h, operation("update-customer", http.MethodPatch, "/customers/{id}", "customers", "write", "Update a customer"),
		func(ctx context.Context, in *struct {
			CustomerPath
			Body CustomerFields
		}) (*customerOutput, error) {
			c, err := a.Customers.Patch(ctx, in.ID, in.Body.apply)
			if err != nil {
				return nil, a.fail(ctx, err, customerFields)
			}
			return &customerOutput{Body: customerOf(c)}, nil
		})

	trash := operation("trash-customer", http.MethodDelete, "/customers/{id}", "customers", "write", "Move a customer to the trash")
	trash.DefaultStatus = http.StatusNoContent
	huma.Register(h, trash, func(ctx context.Context, in *CustomerPath) (*noContent, error) {
		if err := a.Customers.Trash(ctx, in.ID); err != nil {
			return nil, a.fail(ctx, err, fieldNames{})
		}
		return &noContent{}, nil
	})

	restore := operation("restore-customer", http.MethodPost, "/customers/{id}/restore", "customers", "write", "Restore a customer from the trash")
	restore.DefaultStatus = http.StatusNoContent
	huma.Register(h, restore, func(ctx context.Context, in *CustomerPath) (*noContent, error) {
		if _, err := a.Customers.Restore(ctx, []string{in.ID}); err != nil {
			return nil, a.fail(ctx, err, fieldNames{})
		}
		return &noContent{}, nil
	})

	huma.Register(h, operation("list-customer-notes", http.MethodGet, "/customers/{id}/notes", "customers", "read", "List a customer's notes, newest first"),
		func(ctx context.Context, in *CustomerPath) (*noteList, error) {
			out := &noteList{}
			out.Body.Data = []Note{}
			err := a.DB.Within(ctx, func(ctx context.Context) error {
				if _, err := a.Customers.Get(ctx, in.ID); err != nil {
					return err
				}
				notes, err := a.Customers.Notes(ctx, in.ID, 100)
				for _, n := range notes {
					out.Body.Data = append(out.Body.Data, Note{ID: n.ID.String(), Body: n.Body, Author: n.Author, CreatedAt: n.CreatedAt.UTC()})
				}
				return err
			})
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			return out, nil
		})

	note := operation("add-customer-note", http.MethodPost, "/customers/{id}/notes", "customers", "write", "Add a note to a customer")
	note.DefaultStatus = http.StatusNoContent
	huma.Register(h, note, func(ctx context.Context, in *struct {
		CustomerPath
		Body NewNote
	}) (*noContent, error) {
		if err := a.Customers.AddNote(ctx, in.ID, models.NoteInput{Body: in.Body.Body}); err != nil {
			return nil, a.fail(ctx, err, fieldNames{})
		}
		return &noContent{}, nil
	})

	huma.Register(h, operation("list-tags", http.MethodGet, "/tags", "customers", "read", "List the organization's tags"),
		func(ctx context.Context, _ *struct{}) (*struct{ Body TagList }, error) {
			tags, err := a.Tags.List(ctx)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &struct{ Body TagList }{}
			out.Body.Data = make([]TagUse, len(tags))
			for i, t := range tags {
				out.Body.Data[i] = TagUse{Tag: Tag{ID: t.ID.String(), Name: t.Name, Color: t.Color}, Customers: t.Customers}
			}
			return out, nil
		})

	huma.Register(h, operation("create-tag", http.MethodPost, "/tags", "customers", "write", "Create a tag"),
		func(ctx context.Context, in *struct{ Body NewTag }) (*struct{ Body Tag }, error) {
			t, err := a.Tags.Create(ctx, models.TagInput{Name: in.Body.Name, Color: in.Body.Color})
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			return &struct{ Body Tag }{Body: Tag{ID: t.ID.String(), Name: t.Name, Color: t.Color}}, nil
		})
}
