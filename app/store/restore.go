package store

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// A Moat export (see Exports) imported into an organization with no customers restores its
// customers exactly: every field, their tags (made with their colours when missing) and their
// notes with their times, those in the trash back in the trash. It is an import like any
// other: checked first, a batch that records what it created, undone by trashing them.

// zipMagic starts every ZIP file.
var zipMagic = []byte("PK\x03\x04")

// exported is what a restore reads of an export.
type exported struct {
	manifest  ExportManifest
	customers []exportedCustomer
	notes     map[uuid.UUID][]exportedNote
	tags      []exportedTag
}

type exportedCustomer struct {
	ID              uuid.UUID       `json:"id"`
	Number          string          `json:"number"`
	Kind            string          `json:"kind"`
	Name            string          `json:"name"`
	Company         string          `json:"company"`
	Emails          models.Contacts `json:"emails"`
	Phones          models.Contacts `json:"phones"`
	Website         string          `json:"website"`
	TaxID           string          `json:"tax_id"`
	BillingAddress  string          `json:"billing_address"`
	ShippingAddress string          `json:"shipping_address"`
	Currency        string          `json:"currency"`
	PaymentTerms    int             `json:"payment_terms"`
	Tags            []string        `json:"tags"`
	DeletedAt       *time.Time      `json:"deleted_at"`
}

type exportedNote struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

type exportedTag struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// maxExportEntry is the most a restore inflates of one file of an export, and
// maxExportRecords the most customers or notes it reads: a ZIP of MaxImportBytes cannot
// become gigabytes in memory.
const (
	maxExportEntry   = 128 << 20
	maxExportRecords = 200_000
)

// readExport reads the export that is batch's file, held in memory (an import is at most
// MaxImportBytes). Anything but a Moat export is invalid input; so is one whose files inflate
// past maxExportEntry or hold more than maxExportRecords records.
func readExport(r io.Reader) (exported, error) {
	notExport := &models.ValidationError{Fields: map[string]string{"file": "This ZIP is not a Moat export: import a CSV file, or the ZIP Moat's export made."}}
	data, err := io.ReadAll(r)
	if err != nil {
		return exported{}, err
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return exported{}, notExport
	}
	var out exported
	read := func(name string, into any) error {
		f, err := z.Open(name)
		if err != nil {
			return notExport
		}
		defer f.Close()
		if info, err := f.Stat(); err != nil || info.Size() > maxExportEntry {
			return &models.ValidationError{Fields: map[string]string{"file": "The export's " + name + " is larger than a restore takes."}}
		}
		if err := json.NewDecoder(io.LimitReader(f, maxExportEntry)).Decode(into); err != nil {
			return &models.ValidationError{Fields: map[string]string{"file": "The export's " + name + " cannot be read: " + audit.Clean(err.Error(), 200)}}
		}
		return nil
	}
	if err := read("manifest.json", &out.manifest); err != nil {
		return out, err
	}
	if out.manifest.Format != ExportFormat || out.manifest.Version != 1 {
		return out, notExport
	}
	var notes []exportedNote
	for name, into := range map[string]any{"customers.json": &out.customers, "customer_notes.json": &notes, "tags.json": &out.tags} {
		if err := read(name, into); err != nil {
			return out, err
		}
	}
	if len(out.customers) > maxExportRecords || len(notes) > maxExportRecords || len(out.tags) > maxExportRecords {
		return out, &models.ValidationError{Fields: map[string]string{"file": fmt.Sprintf("The export holds more than %d customers, notes or tags: more than a restore takes.", maxExportRecords)}}
	}
	out.notes = map[uuid.UUID][]exportedNote{}
	for _, n := range notes {
		out.notes[n.CustomerID] = append(out.notes[n.CustomerID], n)
	}
	return out, nil
}

// describeExport fills b from the export that is its file: its count and first customers.
func describeExport(tx *gorm.DB, b *models.ImportBatch) error {
	ex, err := readExport(&chunkReader{tx: tx, batch: b.ID})
	if err != nil {
		return err
	}
	if len(ex.customers) == 0 {
		return &models.ValidationError{Fields: map[string]string{"file": "The export has no customers to restore."}}
	}
	b.Kind, b.Target, b.RowsTotal, b.Mode, b.Mapping = models.ImportRestore, models.ImportCustomers, len(ex.customers), "create", map[string]string{}
	b.MatchKey = "email"
	b.Columns = []string{"Number", "Name", "Email", "Tags", "Notes"}
	for _, c := range ex.customers[:min(previewRows, len(ex.customers))] {
		email := ""
		if len(c.Emails) > 0 {
			email = c.Emails[0].Value
		}
		b.Preview = append(b.Preview, cleanCells([]string{c.Number, c.Name, email, strings.Join(c.Tags, ", "), strconv.Itoa(len(ex.notes[c.ID]))}))
	}
	return nil
}

// emptyForRestore refuses a restore into an organization that has customers (in the trash too).
func emptyForRestore(tx *gorm.DB) error {
	var n int64
	if err := tx.Model(&models.Customer{}).Count(&n).Error; err != nil {
		return fmt.Errorf("count customers: %w", err)
	}
	if n > 0 {
		return &models.ValidationError{Fields: map[string]string{"import": "An export is restored into an organization with no customers; this one has " +
			strconv.FormatInt(n, 10) + " (the trash counts too)."}}
	}
	return nil
}

// restore checks (dry) or restores the export that is b's file, a slice of customers per
// transaction, as Process does for a CSV file. A refused customer's line is its place in
// customers.json, counting from 1.
func (s *Imports) restore(ctx context.Context, b models.ImportBatch, dry bool) error {
	var ex exported
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if ex, err = readExport(&chunkReader{tx: tx, batch: b.ID}); err != nil {
			return err
		}
		if dry {
			return nil
		}
		return emptyForRestore(tx)
	})
	if err != nil {
		return err
	}
	tagIDs := map[string]string{} // by lower-case name
	err = tenant.Within(ctx, s.db, func(ctx context.Context) error {
		return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error { return restoreTags(tx, ex.tags, dry, tagIDs) })
	})
	if err != nil {
		return fmt.Errorf("restore tags: %w", err)
	}
	counts := map[string]int{}
	for start := 0; start < len(ex.customers); start += importSlice {
		slice := ex.customers[start:min(start+importSlice, len(ex.customers))]
		err := tenant.Within(ctx, s.db, func(ctx context.Context) error {
			return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
				for i, c := range slice {
					action, rejected, err := s.restoreOne(ctx, tx, b, c, ex.notes[c.ID], tagIDs, dry)
					if err != nil {
						return fmt.Errorf("customer %d: %w", start+i+1, err)
					}
					counts[action]++
					for _, r := range rejected {
						if err := tx.Create(&models.ImportRejection{BatchID: b.ID, Line: start + i + 1, Field: r.field, Message: audit.Clean(r.message, 500)}).Error; err != nil {
							return fmt.Errorf("record rejection: %w", err)
						}
					}
				}
				return tx.Model(&models.ImportBatch{}).Where("id = ?", b.ID).Updates(map[string]any{"rows_done": start + len(slice),
					"to_create": counts["create"], "to_skip": 0, "to_update": 0, "rejected": counts["reject"]}).Error
			})
		})
		if err != nil {
			return err
		}
	}
	return s.finish(ctx, b.ID, dry, counts, nil)
}

// restoreTags finds the export's tags by name, and unless dry makes those missing, with their
// colours; ids gets their ids by lower-case name.
func restoreTags(tx *gorm.DB, tags []exportedTag, dry bool, ids map[string]string) error {
	var have []models.Tag
	if err := tx.Find(&have).Error; err != nil {
		return err
	}
	for _, t := range have {
		ids[strings.ToLower(t.Name)] = t.ID.String()
	}
	if dry {
		return nil
	}
	for _, et := range tags {
		in := models.TagInput{Name: et.Name, Color: et.Color}
		if in.Validate() != nil || ids[strings.ToLower(in.Name)] != "" {
			continue // a tag Moat would refuse stays off its customers; one the organization has is used
		}
		t := models.Tag{Name: in.Name, Color: in.Color}
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		if err := audit.Record(tx, audit.Event{Action: audit.TagCreate, EntityID: t.ID.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]string{"name": t.Name, "color": t.Color}}); err != nil {
			return err
		}
		ids[strings.ToLower(t.Name)] = t.ID.String()
	}
	return nil
}

// restoreOne checks (dry) or restores one exported customer with its notes.
func (s *Imports) restoreOne(ctx context.Context, tx *gorm.DB, b models.ImportBatch, c exportedCustomer, notes []exportedNote,
	tagIDs map[string]string, dry bool) (string, []rowError, error) {
	in := models.CustomerInput{Kind: models.CustomerKind(c.Kind), Number: c.Number, Name: c.Name, Company: c.Company, Website: c.Website,
		TaxID: c.TaxID, BillingAddress: c.BillingAddress, ShippingAddress: c.ShippingAddress, Currency: c.Currency,
		PaymentTerms: strconv.Itoa(c.PaymentTerms)}
	for _, e := range c.Emails {
		in.Emails, in.EmailTypes = append(in.Emails, e.Value), append(in.EmailTypes, e.Type)
	}
	for _, p := range c.Phones {
		in.Phones, in.PhoneTypes = append(in.Phones, p.Value), append(in.PhoneTypes, p.Type)
	}
	for _, name := range c.Tags {
		if id := tagIDs[strings.ToLower(name)]; id != "" {
			in.TagIDs = append(in.TagIDs, id)
		}
	}
	var rejected []rowError
	for _, n := range notes {
		note := models.NoteInput{Body: n.Body}
		var invalid *models.ValidationError
		if errors.As(note.Validate(), &invalid) {
			rejected = append(rejected, rowError{field: "notes", message: "A note cannot be restored: " + invalid.Fields["body"]})
		}
	}
	if dry || rejected != nil {
		action, invalid, err := verdict("create", in.Validate())
		if rejected != nil {
			return "reject", append(invalid, rejected...), err
		}
		return action, invalid, err
	}
	created, err := s.customers.create(ctx, in, false)
	if action, invalid, err := verdict("create", err); action != "create" || err != nil {
		return action, invalid, err
	}
	for _, n := range notes {
		if err := tx.Create(&models.CustomerNote{CustomerID: created.ID, Body: n.Body, CreatedAt: n.CreatedAt}).Error; err != nil {
			return "", nil, fmt.Errorf("restore note: %w", err)
		}
	}
	if c.DeletedAt != nil {
		if err := tx.Model(&models.Customer{}).Where("id = ?", created.ID).
			Updates(map[string]any{"deleted_at": *c.DeletedAt, "deleted_by": requestUser(tx)}).Error; err != nil {
			return "", nil, fmt.Errorf("restore to the trash: %w", err)
		}
	}
	return "create", nil, s.changed(tx, models.ImportCustomers, b.ID, created.ID, "created", nil)
}
