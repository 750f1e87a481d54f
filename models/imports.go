package models

import (
	"time"

	"github.com/google/uuid"
)

// ImportBatch is one file of customers being imported: uploaded, checked, imported, and maybe
// undone. Its counts are the last check's until it is imported, then the import's.
type ImportBatch struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Kind       string    `gorm:"default:csv"`       // ImportCSV or ImportRestore
	Target     string    `gorm:"default:customers"` // ImportCustomers or ImportProducts
	FileName   string
	FileHash   string
	FileSize   int64
	Encoding   string
	Delimiter  string
	Header     bool
	Columns    []string          `gorm:"serializer:json"`
	Preview    [][]string        `gorm:"serializer:json"`
	Mapping    map[string]string `gorm:"serializer:json"` // column index → field
	Mode       string            // create, update or upsert
	MatchKey   string            // number or email
	Status     string
	RowsTotal  int
	RowsDone   int
	ToCreate   int
	ToUpdate   int
	ToSkip     int
	Rejected   int
	Kept       int
	NewTags    []string `gorm:"serializer:json"` // the tags the last check found missing, which the import makes
	Failure    string
	CreatedBy  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
	ImportedAt *time.Time
	RevertedAt *time.Time
	RevertedBy *uuid.UUID `gorm:"type:uuid"`
}

// The records an import fills.
const (
	ImportCustomers = "customers"
	ImportProducts  = "products"
)

// What an import reads.
const (
	ImportCSV     = "csv"         // a CSV file of customers, mapped column by column
	ImportRestore = "moat-export" // a Moat export, restored into an organization with no customers
)

// The statuses of a batch.
const (
	ImportReceiving = "receiving" // its file is arriving in parts
	ImportUploaded  = "uploaded"
	ImportChecking  = "checking"
	ImportChecked   = "checked"
	ImportImporting = "importing"
	ImportImported  = "imported"
	ImportReverting = "reverting"
	ImportReverted  = "reverted"
	ImportFailed    = "failed"
)

// Running reports whether a check, an import or an undo of b is under way.
func (b ImportBatch) Running() bool {
	return b.Status == ImportChecking || b.Status == ImportImporting || b.Status == ImportReverting
}

// ImportChunk is a part of an import's file, as it arrived.
type ImportChunk struct {
	TenantID uuid.UUID `gorm:"type:uuid;primaryKey"`
	BatchID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	Seq      int       `gorm:"primaryKey"`
	Data     []byte
}

// ImportRejection is a row a check or an import refused, by its line in the file.
type ImportRejection struct {
	TenantID uuid.UUID `gorm:"type:uuid;primaryKey"`
	BatchID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	Line     int       `gorm:"primaryKey"`
	Field    string    `gorm:"primaryKey"`
	Message  string
}

// ImportChange is what an import did to one customer.
type ImportChange struct {
	TenantID   uuid.UUID      `gorm:"type:uuid;primaryKey"`
	BatchID    uuid.UUID      `gorm:"type:uuid;primaryKey"`
	CustomerID uuid.UUID      `gorm:"type:uuid;primaryKey"`
	Action     string         // created or updated
	Before     *CustomerInput `gorm:"serializer:json"` // the values an update replaced
	UpdatedAt  time.Time      `gorm:"autoUpdateTime:false"`
	Undo       *string        // undone, or kept: changed since the import
}

// ImportProductChange is what an import did to one product.
type ImportProductChange struct {
	TenantID  uuid.UUID     `gorm:"type:uuid;primaryKey"`
	BatchID   uuid.UUID     `gorm:"type:uuid;primaryKey"`
	ProductID uuid.UUID     `gorm:"type:uuid;primaryKey"`
	Action    string        // created or updated
	Before    *ProductInput `gorm:"serializer:json"` // the values an update replaced
	UpdatedAt time.Time     `gorm:"autoUpdateTime:false"`
	Undo      *string       // undone, or kept: changed since the import
}

// ImportField is a field a column may map to.
type ImportField struct {
	Name, Label string
	Aliases     []string // column names, lower case, that map to it by themselves
}

// ImportFieldsFor are the fields an import of target fills, in the order the mapping offers them.
func ImportFieldsFor(target string) []ImportField {
	if target == ImportProducts {
		return ImportProductFields
	}
	return ImportFields
}

// ImportKeysFor are the fields that may match a row of an import of target to a record.
func ImportKeysFor(target string) []string {
	if target == ImportProducts {
		return []string{"sku"}
	}
	return []string{"email", "number"}
}

// ImportProductFields are the fields a product import fills, in the order the mapping offers them.
var ImportProductFields = []ImportField{
	{"sku", "SKU", []string{"sku", "item code", "item number", "article number", "product code", "code", "part number", "reference", "ref"}},
	{"name", "Name", []string{"name", "product", "product name", "item", "item name", "title"}},
	{"unit", "Unit", []string{"unit", "uom", "unit of measure"}},
	{"sale_price", "Sale price", []string{"price", "sale price", "unit price", "selling price", "list price"}},
	{"currency", "Currency", []string{"currency"}},
	{"tax_rate", "Tax rate (%)", []string{"tax", "tax rate", "vat", "vat rate", "tax %", "vat %"}},
	{"stocked", "Stocked (yes, or no for a service)", []string{"stocked", "stock item", "track stock", "inventory item"}},
	{"reorder_level", "Reorder level", []string{"reorder level", "reorder point", "min stock", "minimum stock"}},
	{"description", "Description", []string{"description", "details"}},
	{"tags", "Tags (by name, comma-separated)", []string{"tags", "tag", "category", "categories"}},
}

// ImportFields are the fields a customer import fills, in the order the mapping offers them.
var ImportFields = []ImportField{
	{"name", "Name", []string{"name", "full name", "customer", "customer name", "contact", "contact name", "display name"}},
	{"company", "Company", []string{"company", "company name", "organization", "organisation", "account", "account name", "business"}},
	{"kind", "Company or person", []string{"kind", "type", "customer type"}},
	{"number", "Customer number", []string{"number", "customer number", "customer no", "customer id", "account number", "no", "id"}},
	{"email", "Email (work)", []string{"email", "e-mail", "email address", "e-mail address", "mail", "work email"}},
	{"email_billing", "Email (billing)", []string{"billing email", "invoice email", "accounts email"}},
	{"email_personal", "Email (personal)", []string{"personal email", "private email", "home email"}},
	{"phone", "Phone (work)", []string{"phone", "telephone", "tel", "phone number", "work phone", "office phone"}},
	{"phone_mobile", "Phone (mobile)", []string{"mobile", "cell", "mobile phone", "cell phone"}},
	{"phone_home", "Phone (home)", []string{"home phone", "private phone"}},
	{"phone_fax", "Fax", []string{"fax", "fax number"}},
	{"website", "Website", []string{"website", "web", "url", "homepage", "site", "web site"}},
	{"tax_id", "Tax ID", []string{"tax id", "vat", "vat id", "vat number", "tax number", "ein"}},
	{"billing_address", "Billing address", []string{"billing address", "address", "street address"}},
	{"shipping_address", "Shipping address", []string{"shipping address", "delivery address"}},
	{"currency", "Currency", []string{"currency"}},
	{"payment_terms", "Payment terms (days)", []string{"payment terms", "terms", "net days"}},
	{"tags", "Tags (by name, comma-separated)", []string{"tags", "tag", "labels", "groups"}},
	{"notes", "First note (new customers)", []string{"notes", "note", "comment", "comments"}},
}
