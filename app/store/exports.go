package store

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/csvexport"
	"moat/app/tenant"
	"moat/models"
)

// Exports is the store of full exports: a ZIP of every record an organization holds (each kind
// as CSV and as JSON), its audit trail and its invoices' PDFs, with a README. An owner asks for
// one; it is built in the background (app/exports) into chunks in the database, so that any app
// server can hand it out; only that owner may download it, until it expires and is deleted.
type Exports struct{ db *gorm.DB }

// NewExports returns the export store over db.
func NewExports(db *gorm.DB) *Exports { return &Exports{db: db} }

// ExportLife is how long an export can be downloaded once it is ready.
const ExportLife = time.Hour

// staleExport is how long an export may be queued or building before asking again starts a
// new one: the build job's own timeout, and then some.
const staleExport = 90 * time.Minute

// exportChunk is how much of a ZIP one stored chunk holds.
const exportChunk = 1 << 20

// exportColumn is a column of an exported file: its name, and the SQL that reads it (the
// column of that name when empty).
type exportColumn struct{ name, expr string }

// exportFile is one kind of record as the export writes it: name.csv and name.json.
type exportFile struct {
	name  string
	table string
	about string
	cols  []exportColumn
	order string
}

// cols lists plain columns.
func cols(names ...string) []exportColumn {
	out := make([]exportColumn, len(names))
	for i, n := range names {
		out[i] = exportColumn{name: n}
	}
	return out
}

// exportFiles are the files of an export, in the order it writes them. Every tenant table is
// either read here or named in notExported, with the reason (a test holds the two to the
// catalog).
var exportFiles = []exportFile{
	{"team", "users", "The organization's people: their email, name, role and whether they are deactivated.",
		cols("id", "email", "name", "role", "created_at", "updated_at", "deactivated_at"), "created_at, id"},
	{"customers", "customers", "Every customer, those in the trash too (deleted_at set). emails and phones are lists of {type, value}; tags lists the customer's tags by name.",
		append(cols("id", "number", "kind", "name", "company", "emails", "phones", "website", "tax_id", "billing_address",
			"shipping_address", "currency", "payment_terms"),
			exportColumn{"tags", `(SELECT coalesce(json_agg(t.name ORDER BY lower(t.name), t.name), '[]') FROM customer_tags ct
				JOIN tags t ON t.tenant_id = ct.tenant_id AND t.id = ct.tag_id WHERE ct.tenant_id = current_tenant_id() AND ct.customer_id = x.id)`},
			exportColumn{name: "created_at"}, exportColumn{name: "updated_at"}, exportColumn{name: "deleted_at"}), "created_at, id"},
	{"customer_notes", "customer_notes", "The notes of customers' timelines; created_by is a person of team.",
		[]exportColumn{{name: "id"}, {name: "customer_id"},
			{"customer_number", "(SELECT c.number FROM customers c WHERE c.tenant_id = current_tenant_id() AND c.id = x.customer_id)"},
			{name: "body"}, {name: "created_by"}, {name: "created_at"}}, "customer_id, created_at, id"},
	{"tags", "tags", "The tags customers and products carry.", cols("id", "name", "color", "created_at"), "lower(name), id"},
	{"products", "products", "Products and services, those in the trash too; prices are decimal strings in the product's currency.",
		append(cols("id", "sku", "name", "unit", "sale_price", "currency", "tax_rate", "stocked", "reorder_level", "description"),
			exportColumn{"tags", `(SELECT coalesce(json_agg(t.name ORDER BY lower(t.name), t.name), '[]') FROM product_tags pt
				JOIN tags t ON t.tenant_id = pt.tenant_id AND t.id = pt.tag_id WHERE pt.tenant_id = current_tenant_id() AND pt.product_id = x.id)`},
			exportColumn{name: "created_at"}, exportColumn{name: "updated_at"}, exportColumn{name: "deleted_at"}), "created_at, id"},
	{"warehouses", "warehouses", "Where stock is kept.", cols("id", "name", "is_default", "created_at"), "created_at, id"},
	{"stock_balances", "stock_balances", "Stock on hand and reserved per product and warehouse, and its average cost.",
		cols("product_id", "warehouse_id", "on_hand", "reserved", "avg_cost"), "product_id, warehouse_id"},
	{"stock_movements", "stock_movements", "The stock ledger: every movement, never changed; on_hand_after is the balance it left.",
		cols("id", "product_id", "warehouse_id", "quantity", "unit_cost", "reason", "note", "invoice_id", "reverses_id",
			"transfer_id", "occurred_on", "on_hand_after", "avg_cost_after", "created_by", "created_at"), "created_at, id"},
	{"invoices", "invoices", "Invoices and credit notes, with the customer's details as issued and their totals.",
		cols("id", "kind", "status", "customer_id", "number", "number_year", "number_seq", "currency", "prices_include_tax",
			"rounding", "exchange_rate", "payment_terms", "issue_date", "due_date", "customer_name", "customer_number",
			"customer_address", "customer_tax_id", "seller_name", "notes", "net_total", "tax_total", "total", "amount_paid",
			"amount_credited", "credits_invoice_id", "created_by", "created_at", "updated_at", "finalized_at", "paid_at",
			"voided_at", "uncollectible_at"), "created_at, id"},
	{"invoice_lines", "invoice_lines", "The lines of invoices and credit notes.",
		cols("invoice_id", "id", "position", "description", "quantity", "unit_price", "discount", "tax_rate", "net", "tax",
			"product_id", "warehouse_id", "reserved"), "invoice_id, position, id"},
	{"invoice_payments", "invoice_payments", "Payments recorded against invoices.",
		cols("id", "invoice_id", "amount", "paid_on", "method", "reference", "created_by", "created_at"), "created_at, id"},
	{"invoice_series", "invoice_series", "How invoice and credit note numbers are made.", cols("kind", "prefix", "yearly"), "kind"},
	{"imports", "import_batches", "The imports of customer files: who, when, the file's hash and what each did.",
		cols("id", "kind", "file_name", "file_hash", "file_size", "mode", "match_key", "status", "rows_total", "to_create",
			"to_update", "to_skip", "rejected", "kept", "created_by", "created_at", "imported_at", "reverted_at", "reverted_by"), "created_at, id"},
	{"api_tokens", "api_tokens", "API tokens: who they act as, their scopes and use. Their secrets are not kept by Moat, so not here.",
		cols("id", "user_id", "name", "prefix", "scope_customers", "scope_invoices", "scope_products", "expires_at",
			"created_at", "created_by", "revoked_at", "revoked_by", "last_used_at"), "created_at, id"},
	{"audit_trail", "audit_events", "The audit trail: who did what, to which record, when, and how it ended.",
		cols("id", "occurred_at", "user_id", "action", "kind", "entity", "entity_id", "outcome", "request_id", "ip",
			"user_agent", "api_token", "details"), "occurred_at, id"},
}

// notExported are the tenant tables an export leaves out, and why.
var notExported = map[string]string{
	"api_idempotency":        "the API's stored answers to retried calls, kept a day",
	"customer_counters":      "the next customer number, which the customers' numbers imply",
	"customer_duplicates":    "look-alike pairs, found again from the customers",
	"customer_terms":         "the search index, made from the customers",
	"record_views":           "views of each record folded by person and day, from the audit trail",
	"customer_tags":          "in customers.tags",
	"product_tags":           "in products.tags",
	"export_chunks":          "the exports themselves",
	"exports":                "the exports themselves",
	"import_chunks":          "the files imported, which the person has",
	"import_changes":         "what an undo needs, by customer id",
	"import_product_changes": "what an undo needs, by product id",
	"import_mappings":        "the remembered column mapping",
	"import_rejections":      "the refused rows of each import, in its error file",
	"invitations":            "open invitations, whose links only the invitees hold",
	"invoice_counters":       "the next invoice numbers, which the invoices' numbers imply",
	"invoice_documents":      "in invoices/, as PDF files",
	"tenant_closures":        "whether the organization is closing",
	"user_sessions":          "who is signed in where",
	"user_settings":          "each person's chosen list columns",
}

// Request asks for a full export of the organization, for the owner in ctx, who alone may
// download it; fresh says the caller must queue its build. One export is built at a time:
// asking again meanwhile answers the one being built.
func (s *Exports) Request(ctx context.Context) (e models.Export, fresh bool, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ExportRequest}, func(tx *gorm.DB, ev *audit.Event) error {
		p, _ := auth.FromContext(tx.Statement.Context)
		if p.Role != models.RoleOwner {
			return models.ErrForbidden
		}
		// Requests of one organization take turns, so that two at once make one export.
		if err := lockTenant(tx); err != nil {
			return err
		}
		// A build that stopped without saying so (its server died, its job was never queued)
		// gives way after staleExport.
		if err := tx.Model(&models.Export{}).Where("status IN ? AND created_at < ?", []string{models.ExportQueued, models.ExportBuilding},
			time.Now().Add(-staleExport)).Updates(map[string]any{"status": models.ExportFailed, "failure": "The build stopped: ask again."}).Error; err != nil {
			return fmt.Errorf("give up stale exports: %w", err)
		}
		if err := tx.Where("export_id IN (?)", tx.Model(&models.Export{}).Select("id").Where("status = ?", models.ExportFailed)).
			Delete(&models.ExportChunk{}).Error; err != nil {
			return fmt.Errorf("delete failed exports' parts: %w", err)
		}
		var running []models.Export
		if err := tx.Where("status IN ?", []string{models.ExportQueued, models.ExportBuilding}).Limit(1).Find(&running).Error; err != nil {
			return fmt.Errorf("find exports: %w", err)
		}
		if len(running) > 0 {
			e, ev.EntityID, ev.Details = running[0], running[0].ID.String(), map[string]bool{"being_built": true}
			return nil
		}
		fresh = true
		e = models.Export{ID: uuid.New(), Status: models.ExportQueued, RequestedBy: p.UserID}
		if err := tx.Omit("ReadyAt", "ExpiresAt").Create(&e).Error; err != nil {
			return fmt.Errorf("create export: %w", err)
		}
		ev.EntityID = e.ID.String()
		return nil
	})
	return e, fresh, err
}

// List returns the organization's exports, newest first.
func (s *Exports) List(ctx context.Context) (out []models.Export, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ExportList}, func(tx *gorm.DB, _ *audit.Event) error {
		return tx.Order("created_at DESC, id").Limit(20).Find(&out).Error
	})
	return out, err
}

// Open checks that the person in ctx may download the export with id now (they asked for it,
// it is ready and has not expired) and returns it with how many chunks it has. Anything else
// is a miss, like an unknown id.
func (s *Exports) Open(ctx context.Context, id string) (e models.Export, chunks int, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ExportDownload, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		p, _ := auth.FromContext(tx.Statement.Context)
		e, err = byID[models.Export](tx, id, func(q *gorm.DB) *gorm.DB {
			return q.Where("requested_by = ? AND status = ? AND expires_at > now()", p.UserID, models.ExportReady)
		})
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.ExportChunk{}).Where("export_id = ?", e.ID).Count(&n).Error; err != nil {
			return err
		}
		chunks, ev.Details = int(n), map[string]any{"bytes": e.Size, "sha256": e.SHA256}
		return nil
	})
	return e, chunks, err
}

// Chunk returns part seq of the ZIP of the export with id.
func (s *Exports) Chunk(ctx context.Context, id uuid.UUID, seq int) (data []byte, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var c models.ExportChunk
		if err := tx.Where("export_id = ? AND seq = ?", id, seq).Take(&c).Error; err != nil {
			return fmt.Errorf("read export part %d: %w", seq, err)
		}
		data = c.Data
		return nil
	})
	return data, err
}

// Expire deletes the ZIP of the export with id once its time is up.
func (s *Exports) Expire(ctx context.Context, id uuid.UUID) error {
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Model(&models.Export{}).Where("id = ? AND status IN ? AND (expires_at IS NULL OR expires_at <= now())", id,
			[]string{models.ExportReady, models.ExportFailed}).Updates(map[string]any{"status": models.ExportExpired})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := tx.Where("export_id = ?", id).Delete(&models.ExportChunk{}).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.ExportExpire, EntityID: id.String(), Outcome: models.OutcomeAllowed})
	})
}

// Fail marks the export with id failed, saying why, and deletes what it had written.
func (s *Exports) Fail(ctx context.Context, id uuid.UUID, why error) error {
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Where("export_id = ?", id).Delete(&models.ExportChunk{}).Error; err != nil {
			return err
		}
		return tx.Model(&models.Export{}).Where("id = ?", id).
			Updates(map[string]any{"status": models.ExportFailed, "failure": audit.Clean(why.Error(), 500)}).Error
	})
}

// Build writes the ZIP of the export with id, if it is still queued: every file is read in one
// tenant transaction, while its chunks and the progress are saved in transactions of their own,
// so that the page shows how far it has come. It returns when the export expires.
func (s *Exports) Build(ctx context.Context, id uuid.UUID) (expires time.Time, err error) {
	var e models.Export
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&e).Error; err != nil {
			return err
		}
		if e.Status != models.ExportQueued {
			return nil
		}
		var parts []string
		for _, f := range exportFiles {
			parts = append(parts, "(SELECT count(*) FROM "+f.table+" WHERE tenant_id = current_tenant_id())")
		}
		if err := tx.Raw("SELECT 2 * (" + strings.Join(parts, " + ") + ")").Scan(&e.RowsTotal).Error; err != nil {
			return err
		}
		e.Status = models.ExportBuilding
		return tx.Model(&e).Select("status", "rows_total").Updates(&e).Error
	})
	if err != nil || e.Status != models.ExportBuilding {
		return time.Time{}, err
	}
	out := &exportWriter{ctx: ctx, db: s.db, export: id}
	hash := sha256.New()
	zw := zip.NewWriter(io.MultiWriter(out, hash))
	b := &exportBuild{zip: zw, counts: map[string]int64{}, progress: func(done int64) error {
		return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
			return tx.Model(&models.Export{}).Where("id = ?", id).Update("rows_done", done).Error
		})
	}}
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error { return b.write(tx) })
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("build export: %w", err)
	}
	now := time.Now()
	expires = now.Add(ExportLife)
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Model(&models.Export{}).Where("id = ?", id).Updates(map[string]any{"status": models.ExportReady,
			"rows_done": e.RowsTotal, "size": out.size, "sha256": hex.EncodeToString(hash.Sum(nil)), "ready_at": now, "expires_at": expires}).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.ExportBuilt, EntityID: id.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]any{"bytes": out.size, "records": b.counts}})
	})
	return expires, err
}

// exportBuild is one export being written.
type exportBuild struct {
	zip      *zip.Writer
	counts   map[string]int64
	done     int64
	progress func(done int64) error
}

// write writes every file of the export in tx.
func (b *exportBuild) write(tx *gorm.DB) error {
	var org struct{ Name, JSON string }
	if err := tx.Raw(`SELECT name, json_build_object('id', id, 'name', name, 'created_at', created_at, 'base_currency', base_currency,
		'allow_negative_stock', allow_negative_stock)::text AS json FROM tenants WHERE id = current_tenant_id()`).Scan(&org).Error; err != nil {
		return fmt.Errorf("export organization: %w", err)
	}
	if err := b.file("organization.json", func(w io.Writer) error { _, err := io.WriteString(w, org.JSON+"\n"); return err }); err != nil {
		return err
	}
	for _, f := range exportFiles {
		if err := b.table(tx, f, false); err != nil {
			return err
		}
		if err := b.table(tx, f, true); err != nil {
			return err
		}
	}
	if err := b.documents(tx); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(ExportManifest{Format: ExportFormat, Version: 1, Organization: org.Name,
		ExportedAt: time.Now().UTC().Truncate(time.Second), Records: b.counts}, "", "  ")
	if err != nil {
		return err
	}
	if err := b.file("manifest.json", func(w io.Writer) error { _, err := w.Write(append(manifest, '\n')); return err }); err != nil {
		return err
	}
	return b.file("README.txt", func(w io.Writer) error { _, err := io.WriteString(w, exportReadme(org.Name)); return err })
}

// ExportFormat names an export's format in its manifest.
const ExportFormat = "moat-export"

// ExportManifest is manifest.json: what the ZIP is, and how many records each file holds.
type ExportManifest struct {
	Format       string           `json:"format"`
	Version      int              `json:"version"`
	Organization string           `json:"organization"`
	ExportedAt   time.Time        `json:"exported_at"`
	Records      map[string]int64 `json:"records"`
}

func (b *exportBuild) file(name string, write func(io.Writer) error) error {
	w, err := b.zip.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return err
	}
	return write(w)
}

// table writes the file f as CSV, or as a JSON array of objects, reading it in one query whose
// rows arrive as JSON arrays of f's columns.
func (b *exportBuild) table(tx *gorm.DB, f exportFile, asJSON bool) error {
	exprs := make([]string, len(f.cols))
	header := make([]string, len(f.cols))
	keys := make([]string, len(f.cols))
	for i, c := range f.cols {
		exprs[i], header[i] = c.expr, c.name
		if exprs[i] == "" {
			exprs[i] = "x." + c.name
		}
		k, _ := json.Marshal(c.name)
		keys[i] = string(k)
	}
	query := "SELECT json_build_array(" + strings.Join(exprs, ", ") + ")::text FROM " + f.table +
		" x WHERE x.tenant_id = current_tenant_id() ORDER BY " + f.order
	name := f.name + ".csv"
	if asJSON {
		name = f.name + ".json"
	}
	return b.file(name, func(w io.Writer) error {
		out := csv.NewWriter(w)
		if asJSON {
			if _, err := io.WriteString(w, "["); err != nil {
				return err
			}
		} else if err := out.Write(header); err != nil {
			return err
		}
		var n int64
		err := tenant.Rows(tx.Raw(query), &[]string{}, func(rows pgx.Rows) error {
			var raw []byte
			var cells []json.RawMessage
			for rows.Next() {
				if err := rows.Scan(&raw); err != nil {
					return err
				}
				cells = cells[:0]
				if err := json.Unmarshal(raw, &cells); err != nil {
					return err
				}
				var err error
				if asJSON {
					err = writeObject(w, keys, cells, n == 0)
				} else {
					err = out.Write(csvCells(cells))
				}
				if err != nil {
					return err
				}
				n++
				if b.done++; b.done%5000 == 0 {
					if err := b.progress(b.done); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("export %s: %w", f.name, err)
		}
		b.counts[f.name] = n
		if asJSON {
			_, err = io.WriteString(w, "\n]\n")
			return err
		}
		out.Flush()
		return out.Error()
	})
}

// writeObject writes one record of a JSON file.
func writeObject(w io.Writer, keys []string, cells []json.RawMessage, first bool) error {
	var sb strings.Builder
	if !first {
		sb.WriteString(",")
	}
	sb.WriteString("\n{")
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(k)
		sb.WriteString(": ")
		sb.Write(cells[i])
	}
	sb.WriteString("}")
	_, err := io.WriteString(w, sb.String())
	return err
}

// csvCells are a record's cells as CSV shows them: text as it is (kept from being read as a
// formula), lists of names joined by commas, no value empty, anything else as JSON.
func csvCells(cells []json.RawMessage) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		var text string
		var names []string
		switch {
		case string(c) == "null":
		case json.Unmarshal(c, &text) == nil:
			out[i] = text
		case json.Unmarshal(c, &names) == nil:
			out[i] = strings.Join(names, ", ")
		default:
			out[i] = string(c)
		}
	}
	return csvexport.Safe(out...)
}

// documents writes the PDF each finalized invoice was issued as, under invoices/.
func (b *exportBuild) documents(tx *gorm.DB) error {
	var n int64
	err := tenant.Rows(tx.Raw(`SELECT i.number, d.pdf FROM invoice_documents d
		JOIN invoices i ON i.tenant_id = d.tenant_id AND i.id = d.invoice_id
		WHERE d.tenant_id = current_tenant_id() ORDER BY i.number`), &[]string{}, func(rows pgx.Rows) error {
		var number string
		var pdf []byte
		for rows.Next() {
			if err := rows.Scan(&number, &pdf); err != nil {
				return err
			}
			name := "invoices/" + strings.Map(func(r rune) rune {
				if r == '/' || r == '\\' || r < ' ' {
					return '-'
				}
				return r
			}, number) + ".pdf"
			w, err := b.zip.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: time.Now()})
			if err != nil {
				return err
			}
			if _, err := w.Write(pdf); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export invoice documents: %w", err)
	}
	b.counts["invoice_documents"] = n
	return nil
}

// exportReadme is README.txt: what each file holds.
func exportReadme(org string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Moat export of %s\n\n", org)
	sb.WriteString(`Everything the organization holds in Moat. Each kind of record is in two files with the
same content: NAME.csv (UTF-8, comma-separated, a header row; a cell that starts with = + - @
has a leading apostrophe so that spreadsheets do not run it) and NAME.json (an array of
objects). Ids are UUIDs; a column ending in _id or _by names a record by its id (a person of
team.csv for created_by). Times are ISO 8601 with their offset, dates YYYY-MM-DD, amounts
decimal numbers in their currency. Lists (tags) are comma-separated in CSV, arrays in JSON.

manifest.json        the export's format, when it was made and how many records each file holds
organization.json    the organization's name and settings
invoices/NUMBER.pdf  the PDF each finalized invoice was issued as

`)
	for _, f := range exportFiles {
		fmt.Fprintf(&sb, "%s\n    %s\n    Columns: ", f.name, f.about)
		for i, c := range f.cols {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(c.name)
		}
		sb.WriteString("\n\n")
	}
	sb.WriteString(`Each file was read in one transaction, one file after another: a change made while the export
was built may show in a later file and not an earlier one.

Importing this ZIP into an organization with no customers (Import, then choose this file)
restores its customers, with their tags and notes.
`)
	return sb.String()
}

// exportWriter saves an export's ZIP as it is written, a chunk per transaction of its own.
type exportWriter struct {
	ctx    context.Context
	db     *gorm.DB
	export uuid.UUID
	seq    int
	buf    []byte
	size   int64
}

func (w *exportWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for len(w.buf) >= exportChunk {
		if err := w.save(w.buf[:exportChunk]); err != nil {
			return 0, err
		}
		w.buf = append(w.buf[:0], w.buf[exportChunk:]...)
	}
	return len(p), nil
}

// Close saves what is left.
func (w *exportWriter) Close() error {
	if len(w.buf) == 0 {
		return nil
	}
	return w.save(w.buf)
}

func (w *exportWriter) save(data []byte) error {
	err := tenant.Tx(w.ctx, w.db, func(tx *gorm.DB) error {
		return tx.Create(&models.ExportChunk{ExportID: w.export, Seq: w.seq, Data: data}).Error
	})
	if err != nil {
		return fmt.Errorf("save export part: %w", err)
	}
	w.seq++
	w.size += int64(len(data))
	return nil
}
