package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/csvimport"
	"moat/app/tenant"
	"moat/models"
)

// Imports is the store of customer imports: files uploaded as batches, checked, imported and
// undone. Checking, importing and undoing run in the background (app/imports), a slice of rows
// per tenant transaction, through the customer store, so every customer an import writes is
// validated, numbered, checked for look-alikes and audited like one added by hand.
type Imports struct {
	db        *gorm.DB
	customers *Customers
	products  *Products
	target    string // when set, the only records whose imports this store sees
}

// NewImports returns the import store over db.
func NewImports(db *gorm.DB) *Imports {
	return &Imports{db: db, customers: NewCustomers(db), products: NewProducts(db)}
}

// Only returns the store seeing only imports of target's records (the API, whose scopes are
// per record kind, imports customers): another kind's import is a miss like an unknown id.
func (s *Imports) Only(target string) *Imports {
	c := *s
	c.target = target
	return &c
}

// only narrows q to the imports the store sees.
func (s *Imports) only(q *gorm.DB) *gorm.DB {
	if s.target != "" {
		return q.Where("target = ?", s.target)
	}
	return q
}

// batch loads the import with id, as byID does, among those the store sees.
func (s *Imports) batch(tx *gorm.DB, id string, where ...func(*gorm.DB) *gorm.DB) (models.ImportBatch, error) {
	return byID[models.ImportBatch](tx, id, append(where, s.only)...)
}

// MaxImportBytes is the largest file an import takes: about 150,000 customers.
const MaxImportBytes = 16 << 20

// importChunk is how much of a file one stored chunk holds.
const importChunk = 256 << 10

// importSlice is how many rows one transaction of a check, an import or an undo handles.
const importSlice = 500

// previewRows is how many rows the mapping page shows.
const previewRows = 5

// ErrTooLarge is a file over MaxImportBytes.
var ErrTooLarge = errors.New("the file is larger than an import takes")

// fieldNamesFor are the names and aliases of the fields of an import of target, for telling a
// header.
func fieldNamesFor(target string) map[string]bool {
	m := map[string]bool{}
	for _, f := range models.ImportFieldsFor(target) {
		m[f.Name] = true
		for _, a := range f.Aliases {
			m[a] = true
		}
	}
	return m
}

// Upload stores the file read from r (named name) as a new batch of target's records, in one
// transaction: Begin, Append for each chunk of it, and Finish.
func (s *Imports) Upload(ctx context.Context, name, target string, r io.Reader) (b models.ImportBatch, err error) {
	err = tenant.Within(ctx, s.db, func(ctx context.Context) error {
		id, err := s.Begin(ctx, name, target)
		if err != nil {
			return err
		}
		buf := make([]byte, importChunk)
		for seq := 0; ; seq++ {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 {
				if err := s.Append(ctx, id.String(), seq, buf[:n]); err != nil {
					return err
				}
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				break
			}
			if rerr != nil {
				return fmt.Errorf("read import: %w", rerr)
			}
		}
		b, err = s.Finish(ctx, id.String())
		return err
	})
	return b, err
}

// Begin starts a batch of target's records (customers or products) that receives its file
// (named name) in parts.
func (s *Imports) Begin(ctx context.Context, name, target string) (id uuid.UUID, err error) {
	name = audit.Clean(name, 80)
	if name == "" {
		name = "pasted.csv"
	}
	err = audited(ctx, s.db, audit.Event{Action: audit.ImportUpload}, func(tx *gorm.DB, ev *audit.Event) error {
		if (target != models.ImportCustomers && target != models.ImportProducts) || (s.target != "" && target != s.target) {
			return &models.ValidationError{Fields: map[string]string{"target": "Choose what the file holds: customers or products."}}
		}
		b := models.ImportBatch{ID: uuid.New(), Target: target, FileName: name, FileHash: strings.Repeat("0", 64), Encoding: "utf-8", Delimiter: ",",
			Columns: []string{}, Preview: [][]string{}, Mapping: map[string]string{}, NewTags: []string{}, Mode: "upsert", MatchKey: models.ImportKeysFor(target)[0],
			Status: models.ImportReceiving, CreatedBy: requestUser(tx)}
		if err := tx.Omit("ImportedAt", "RevertedAt", "RevertedBy").Create(&b).Error; err != nil {
			return fmt.Errorf("create import: %w", err)
		}
		id, ev.EntityID, ev.Details = b.ID, b.ID.String(), map[string]string{"file": name, "records": target}
		return nil
	})
	return id, err
}

// Append adds part seq (counting from 0, in order) of its file to the batch with id, which must
// still be receiving it.
func (s *Imports) Append(ctx context.Context, id string, seq int, data []byte) error {
	return audited(ctx, s.db, audit.Event{Action: audit.ImportPart, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		b, err := s.batch(tx, id, forUpdate)
		if err != nil {
			return err
		}
		ev.Details = map[string]int{"part": seq, "bytes": len(data)}
		var parts int64
		if err := tx.Model(&models.ImportChunk{}).Where("batch_id = ?", b.ID).Count(&parts).Error; err != nil {
			return err
		}
		switch {
		case b.Status != models.ImportReceiving:
			return &models.ValidationError{Fields: map[string]string{"file": "This import has its file already."}}
		case int64(seq) != parts:
			return &models.ValidationError{Fields: map[string]string{"file": fmt.Sprintf("Part %d came where part %d was expected: upload the file again.", seq, parts)}}
		case b.FileSize+int64(len(data)) > MaxImportBytes:
			return &models.ValidationError{Fields: map[string]string{"file": fmt.Sprintf("The file is larger than %d MB: split it.", MaxImportBytes>>20)}}
		case len(data) == 0 || len(data) > importChunk:
			return &models.ValidationError{Fields: map[string]string{"file": "Send the file in parts of up to 256 KiB."}}
		}
		if err := tx.Create(&models.ImportChunk{BatchID: b.ID, Seq: seq, Data: data}).Error; err != nil {
			return fmt.Errorf("store import part: %w", err)
		}
		return tx.Model(&b).Update("file_size", b.FileSize+int64(len(data))).Error
	})
}

// Finish ends the upload of the batch with id: its file's hash kept, its format told, its
// first rows kept for the preview, and its columns mapped by the organization's last mapping
// and the fields' names.
func (s *Imports) Finish(ctx context.Context, id string) (b models.ImportBatch, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ImportDescribe, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		if b, err = s.batch(tx, id, forUpdate); err != nil {
			return err
		}
		if b.Status != models.ImportReceiving {
			return &models.ValidationError{Fields: map[string]string{"file": "This import has its file already."}}
		}
		if b.FileSize == 0 {
			return &models.ValidationError{Fields: map[string]string{"file": "Choose a CSV file, or paste its text."}}
		}
		hash := sha256.New()
		if _, err := io.Copy(hash, &chunkReader{tx: tx, batch: b.ID}); err != nil {
			return err
		}
		b.FileHash = hex.EncodeToString(hash.Sum(nil))
		head := make([]byte, 64<<10)
		n, err := io.ReadFull(&chunkReader{tx: tx, batch: b.ID}, head)
		if err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
		if bytes.HasPrefix(head[:n], zipMagic) {
			if err := describeExport(tx, &b); err != nil {
				return err
			}
		} else {
			f := csvimport.Detect(head[:n], fieldNamesFor(b.Target))
			b.Encoding, b.Delimiter, b.Header = f.Encoding, string(f.Delimiter), f.Header
			if err := s.describe(tx, &b, f); err != nil {
				return err
			}
		}
		b.Status = models.ImportUploaded
		if err := tx.Model(&b).Select("kind", "target", "mode", "match_key", "file_hash", "encoding", "delimiter", "header", "columns", "preview", "mapping", "rows_total", "status").
			Updates(&b).Error; err != nil {
			return fmt.Errorf("describe import: %w", err)
		}
		ev.Details = map[string]any{"file": b.FileName, "bytes": b.FileSize, "sha256": b.FileHash, "rows": b.RowsTotal}
		return nil
	})
	return b, err
}

// describe reads b's rows once to count them and keep the first for the preview, and maps its
// columns.
func (s *Imports) describe(tx *gorm.DB, b *models.ImportBatch, f csvimport.Format) error {
	rows := csvimport.Reader(&chunkReader{tx: tx, batch: b.ID}, f)
	var first []string
	for {
		row, err := rows.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &models.ValidationError{Fields: map[string]string{"file": "This is not a CSV file Moat can read: " + err.Error()}}
		}
		if first == nil {
			first = row
			if f.Header {
				continue
			}
		}
		if len(b.Preview) < previewRows {
			b.Preview = append(b.Preview, cleanCells(row))
		}
		b.RowsTotal++
	}
	if first == nil || b.RowsTotal == 0 {
		return &models.ValidationError{Fields: map[string]string{"file": "The file has no rows to import."}}
	}
	b.Columns = csvimport.Columns(cleanCells(first), f.Header)
	var remembered struct {
		Mapping map[string]string `gorm:"serializer:json"`
	}
	if err := tx.Table("import_mappings").Select("mapping").Where("kind = ?", b.Target).Take(&remembered).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("import mapping: %w", err)
	}
	b.Mapping = automap(b.Columns, remembered.Mapping, b.Target)
	return nil
}

// cleanCells are row's cells as the import page shows them: text PostgreSQL stores, each cut to
// 200 characters, and at most 100 of them.
func cleanCells(row []string) []string {
	out := make([]string, min(len(row), 100))
	for i := range out {
		out[i] = audit.Clean(row[i], 200)
	}
	return out
}

// automap maps each column to the field the organization last mapped a column of its name to,
// or else the field of target's whose name or alias it is; a field is mapped once at most.
func automap(columns []string, remembered map[string]string, target string) map[string]string {
	out := map[string]string{}
	used := map[string]bool{}
	for pass := 0; pass < 2; pass++ {
		for i, c := range columns {
			key, name := strconv.Itoa(i), csvimport.Normalize(c)
			if out[key] != "" {
				continue
			}
			field := ""
			if pass == 0 {
				field = remembered[name]
			} else {
				for _, f := range models.ImportFieldsFor(target) {
					if f.Name == name || slices.Contains(f.Aliases, name) {
						field = f.Name
						break
					}
				}
			}
			if field != "" && !used[field] && knownField(target, field) {
				out[key], used[field] = field, true
			}
		}
	}
	return out
}

func knownField(target, name string) bool {
	return slices.ContainsFunc(models.ImportFieldsFor(target), func(f models.ImportField) bool { return f.Name == name })
}

// chunkReader reads a batch's file back a chunk at a time: in tx when it is set (the upload's
// own transaction, before the chunks commit), otherwise each chunk in a short transaction of
// its own, so that a long import holds no transaction open while it works.
type chunkReader struct {
	ctx   context.Context
	db    *gorm.DB
	tx    *gorm.DB
	batch uuid.UUID
	seq   int
	buf   []byte
	done  bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		var chunk struct{ Data []byte }
		read := func(tx *gorm.DB) error {
			return tx.Raw("SELECT data FROM import_chunks WHERE tenant_id = current_tenant_id() AND batch_id = ? AND seq = ?", c.batch, c.seq).Scan(&chunk).Error
		}
		var err error
		if c.tx != nil {
			err = read(c.tx)
		} else {
			err = tenant.Tx(c.ctx, c.db, read)
		}
		if err != nil {
			return 0, fmt.Errorf("read import chunk: %w", err)
		}
		if chunk.Data == nil {
			c.done = true
			continue
		}
		c.buf, c.seq = chunk.Data, c.seq+1
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// List returns the tenant's imports, newest first.
func (s *Imports) List(ctx context.Context) ([]models.ImportBatch, error) {
	var out []models.ImportBatch
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := s.only(tx).Order("created_at DESC, id").Limit(100).Find(&out).Error; err != nil {
			return fmt.Errorf("list imports: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.ImportList, Outcome: models.OutcomeAllowed})
	})
	return out, err
}

// MaxRejectionsShown is how many refused rows the import page lists; the error file has all.
const MaxRejectionsShown = 100

// Get returns the import with id and the first of the rows its last check or run refused;
// misses answer like every unknown id.
func (s *Imports) Get(ctx context.Context, id string) (b models.ImportBatch, rejected []models.ImportRejection, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ImportView, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		if b, err = s.batch(tx, id); err != nil {
			return err
		}
		return tx.Where("batch_id = ?", b.ID).Order("line, field").Limit(MaxRejectionsShown).Find(&rejected).Error
	})
	return b, rejected, err
}

// KeptRecord is a record an undo left alone, changed since the import.
type KeptRecord struct {
	Name string
	Path string // its page
}

// Kept returns the records an undo of the import b left alone, changed since.
func (s *Imports) Kept(ctx context.Context, b models.ImportBatch) ([]KeptRecord, error) {
	var out []KeptRecord
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		q := tx.Model(&models.Customer{}).Select("name, '/customers/' || id AS path").Where("id IN (?)",
			tx.Model(&models.ImportChange{}).Select("customer_id").Where("batch_id = ? AND undo = 'kept'", b.ID))
		if b.Target == models.ImportProducts {
			q = tx.Model(&models.Product{}).Select("sku || ' ' || name AS name, '/products/' || id AS path").Where("id IN (?)",
				tx.Model(&models.ImportProductChange{}).Select("product_id").Where("batch_id = ? AND undo = 'kept'", b.ID))
		}
		return q.Order("1").Limit(MaxRejectionsShown).Scan(&out).Error
	})
	return out, err
}

// ImportSettings are how a batch is imported.
type ImportSettings struct {
	Mapping map[string]string // column index → field
	Mode    string            // create, update or upsert
	Key     string            // number or email: what matches a row to a customer
}

// Configure sets how the import with id runs and starts its check (the caller queues it). It
// remembers the mapping for the organization's next file.
func (s *Imports) Configure(ctx context.Context, id string, in ImportSettings) error {
	return audited(ctx, s.db, audit.Event{Action: audit.ImportCheck, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		b, err := s.batch(tx, id, forUpdate)
		if err != nil {
			return err
		}
		if b.Running() || b.Status == models.ImportImported || b.Status == models.ImportReverted {
			return &models.ValidationError{Fields: map[string]string{"import": "This import can no longer be changed."}}
		}
		if b.Kind == models.ImportRestore {
			if err := emptyForRestore(tx); err != nil {
				return err
			}
			ev.Details = map[string]any{"restore": true}
			return tx.Model(&b).Updates(map[string]any{"status": models.ImportChecking, "rows_done": 0, "failure": ""}).Error
		}
		mapping, invalid := cleanSettings(b, &in)
		if invalid != nil {
			return invalid
		}
		ev.Details = map[string]any{"mapping": mapping, "mode": in.Mode, "key": in.Key}
		remember := map[string]string{}
		for col, field := range mapping {
			i, _ := strconv.Atoi(col)
			remember[csvimport.Normalize(b.Columns[i])] = field
		}
		if err := tx.Exec(`INSERT INTO import_mappings (tenant_id, kind, mapping) VALUES (current_tenant_id(), ?, ?)
			ON CONFLICT (tenant_id, kind) DO UPDATE SET mapping = excluded.mapping`, b.Target, jsonText(remember)).Error; err != nil {
			return fmt.Errorf("remember import mapping: %w", err)
		}
		return tx.Model(&b).Updates(map[string]any{"mapping": jsonText(mapping), "mode": in.Mode, "match_key": in.Key,
			"status": models.ImportChecking, "rows_done": 0, "failure": ""}).Error
	})
}

// cleanSettings checks in against batch b and returns its mapping without unmapped columns.
func cleanSettings(b models.ImportBatch, in *ImportSettings) (map[string]string, *models.ValidationError) {
	fields := map[string]string{}
	if in.Mode != "create" && in.Mode != "update" && in.Mode != "upsert" {
		fields["mode"] = "Choose how rows become customers."
	}
	if !slices.Contains(models.ImportKeysFor(b.Target), in.Key) {
		fields["key"] = "Choose what matches a row to a record."
	}
	mapping := map[string]string{}
	used := map[string]string{}
	for col, field := range in.Mapping {
		i, err := strconv.Atoi(col)
		if field == "" || err != nil || i < 0 || i >= len(b.Columns) {
			continue
		}
		if !knownField(b.Target, field) {
			fields["column_"+col] = "Choose a field from the list."
			continue
		}
		if other, ok := used[field]; ok {
			fields["column_"+col] = "Another column (" + b.Columns[mustAtoi(other)] + ") is mapped to this field."
			continue
		}
		mapping[col], used[field] = field, col
	}
	if _, ok := used["name"]; !ok && in.Mode != "update" {
		fields["mapping"] = "Map a column to the name: every new record needs one."
	}
	if _, ok := used["sku"]; !ok && b.Target == models.ImportProducts && in.Mode != "update" {
		fields["mapping"] = "Map a column to the SKU: every new product needs one."
	}
	if _, ok := used[in.Key]; !ok && fields["key"] == "" {
		fields["mapping"] = "Map a column to the " + in.Key + ", which matches rows to customers."
	}
	if len(fields) > 0 {
		return nil, &models.ValidationError{Fields: fields}
	}
	return mapping, nil
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

// Start starts the import with id, which must have been checked as it stands (the caller
// queues the work).
func (s *Imports) Start(ctx context.Context, id string) error {
	return s.advance(ctx, id, audit.ImportRun, models.ImportChecked, models.ImportImporting, "Check the file before importing it.")
}

// StartUndo starts undoing the import with id (the caller queues the work).
func (s *Imports) StartUndo(ctx context.Context, id string) error {
	return s.advance(ctx, id, audit.ImportRevert, models.ImportImported, models.ImportReverting, "Only a finished import can be undone, once.")
}

func (s *Imports) advance(ctx context.Context, id string, action audit.Action, from, to, refusal string) error {
	return audited(ctx, s.db, audit.Event{Action: action, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		b, err := s.batch(tx, id, forUpdate)
		if err != nil {
			return err
		}
		if b.Status != from {
			return &models.ValidationError{Fields: map[string]string{"import": refusal}}
		}
		return tx.Model(&b).Updates(map[string]any{"status": to, "rows_done": 0}).Error
	})
}

// Fail marks the import with id failed, saying why, after its work stopped on an error.
func (s *Imports) Fail(ctx context.Context, id uuid.UUID, why error) error {
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Model(&models.ImportBatch{}).Where("id = ?", id).
			Updates(map[string]any{"status": models.ImportFailed, "failure": audit.Clean(why.Error(), 500)}).Error
	})
}

func jsonText(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// rowError is a row's refusal.
type rowError struct{ field, message string }

// Process checks (dry) or imports the import with id, a slice of rows per transaction, keeping
// its progress and counts current and recording every refused row. A real run records what it
// did to each customer, for the undo; each customer it writes is audited by the customer store
// with the request id of ctx, which names the import.
func (s *Imports) Process(ctx context.Context, id uuid.UUID, dry bool) error {
	var b models.ImportBatch
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&b).Error; err != nil {
			return err
		}
		return tx.Where("batch_id = ?", id).Delete(&models.ImportRejection{}).Error
	})
	if err != nil {
		return fmt.Errorf("start import: %w", err)
	}
	want := models.ImportImporting
	if dry {
		want = models.ImportChecking
	}
	if b.Status != want {
		return nil // already done, or changed since it was queued
	}
	if b.Kind == models.ImportRestore {
		return s.restore(ctx, b, dry)
	}
	counts, known := map[string]int{}, &importTags{ids: map[string]string{}}
	var (
		pending [][]string
		lines   []int
	)
	flush := func() error {
		err := tenant.Within(ctx, s.db, func(ctx context.Context) error {
			return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
				for i, row := range pending {
					decide := s.row
					if b.Target == models.ImportProducts {
						decide = s.productRow
					}
					action, rejected, err := decide(ctx, tx, b, row, dry, known)
					if err != nil {
						return fmt.Errorf("line %d: %w", lines[i], err)
					}
					counts[action]++
					for _, r := range rejected {
						if err := tx.Create(&models.ImportRejection{BatchID: b.ID, Line: lines[i], Field: r.field, Message: audit.Clean(r.message, 500)}).Error; err != nil {
							return fmt.Errorf("record rejection: %w", err)
						}
					}
				}
				b.RowsDone += len(pending)
				return tx.Model(&models.ImportBatch{}).Where("id = ?", b.ID).Updates(map[string]any{"rows_done": b.RowsDone,
					"to_create": counts["create"], "to_update": counts["update"], "to_skip": counts["skip"], "rejected": counts["reject"]}).Error
			})
		})
		pending, lines = pending[:0], lines[:0]
		return err
	}
	err = eachRow(&chunkReader{ctx: ctx, db: s.db, batch: b.ID}, b, func(row []string, line int, header bool) error {
		if header {
			return nil
		}
		pending, lines = append(pending, row), append(lines, line)
		if len(pending) < importSlice {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return s.finish(ctx, b.ID, dry, counts, known.missing)
}

// finish marks the import with id checked (dry) or imported, with what it counted; a check
// also keeps the names of the tags the import will make.
func (s *Imports) finish(ctx context.Context, id uuid.UUID, dry bool, counts map[string]int, newTags []string) error {
	done := models.ImportImported
	if dry {
		done = models.ImportChecked
	}
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		set := map[string]any{"status": done}
		if !dry {
			set["imported_at"] = time.Now()
		} else {
			set["new_tags"] = jsonText(append([]string{}, newTags...))
		}
		if err := tx.Model(&models.ImportBatch{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		if dry {
			return nil
		}
		return audit.Record(tx, audit.Event{Action: audit.ImportDone, EntityID: id.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]int{"created": counts["create"], "updated": counts["update"], "skipped": counts["skip"], "rejected": counts["reject"]}})
	})
}

// row decides what the import does with one row, and unless dry does it: create, update, skip
// or reject (with why).
func (s *Imports) row(ctx context.Context, tx *gorm.DB, b models.ImportBatch, row []string, dry bool, known *importTags) (string, []rowError, error) {
	cell := cellsOf(b, row)
	match, err := s.match(tx, b.MatchKey, cell[b.MatchKey])
	var ambiguous *rowError
	if errors.As(err, &ambiguous) {
		return "reject", []rowError{*ambiguous}, nil
	}
	if err != nil {
		return "", nil, err
	}
	switch {
	case match == uuid.Nil && b.Mode == "update", match != uuid.Nil && b.Mode == "create":
		return "skip", nil, nil
	case match == uuid.Nil:
		in := models.CustomerInput{}
		tagIDs, rejected, err := s.tags(tx, cell["tags"], dry, known)
		if err != nil || rejected != nil {
			return "reject", rejected, err
		}
		fillImport(&in, cell, tagIDs, true)
		if dry {
			return verdict("create", in.Validate())
		}
		c, err := s.customers.create(ctx, in, false)
		if action, rejected, err := verdict("create", err); action != "create" || err != nil {
			return action, rejected, err
		}
		return "create", nil, s.changed(tx, models.ImportCustomers, b.ID, c.ID, "created", nil)
	default:
		tagIDs, rejected, err := s.tags(tx, cell["tags"], dry, known)
		if err != nil || rejected != nil {
			return "reject", rejected, err
		}
		if dry {
			c, err := take(tx, match.String(), false)
			if err != nil {
				return "", nil, err
			}
			in := models.InputOf(c)
			fillImport(&in, cell, tagIDs, false)
			return verdict("update", in.Validate())
		}
		var before models.CustomerInput
		_, err = s.customers.patch(ctx, match.String(), func(cur *models.CustomerInput) {
			before = *cur
			fillImport(cur, cell, tagIDs, false)
		}, false)
		if action, rejected, err := verdict("update", err); action != "update" || err != nil {
			return action, rejected, err
		}
		return "update", nil, s.changed(tx, models.ImportCustomers, b.ID, match, "updated", &before)
	}
}

// verdict is action when err is nil, a rejection with its fields when err is invalid input,
// and err otherwise.
func verdict(action string, err error) (string, []rowError, error) {
	var invalid *models.ValidationError
	if errors.As(err, &invalid) {
		var out []rowError
		for _, f := range slices.Sorted(maps.Keys(invalid.Fields)) {
			out = append(out, rowError{field: importFieldOf(f), message: invalid.Fields[f]})
		}
		return "reject", out, nil
	}
	if err != nil {
		return "", nil, err
	}
	return action, nil, nil
}

// importFieldOf names a form field as the import does ("email[0]" → "email").
func importFieldOf(form string) string {
	form, _, _ = strings.Cut(form, "[")
	switch form {
	case "email_type":
		return "email"
	case "phone_type":
		return "phone"
	case "tag":
		return "tags"
	}
	return form
}

// changeLogs are where an import records what it did, by the records it fills: the table,
// its record column, and the records' own table.
var changeLogs = map[string][3]string{
	models.ImportCustomers: {"import_changes", "customer_id", "customers"},
	models.ImportProducts:  {"import_product_changes", "product_id", "products"},
}

// changed records what the import did to the record of target with id, as of now: created, or
// updated from before (its values as they were). A record the file names twice keeps what the
// import first did to it, as of the last time.
func (s *Imports) changed(tx *gorm.DB, target string, batch, id uuid.UUID, action string, before any) error {
	var raw any
	if before != nil { // a pointer to the values, or nil for a creation
		raw = jsonText(before)
	}
	log := changeLogs[target]
	err := tx.Exec(`INSERT INTO `+log[0]+` (tenant_id, batch_id, `+log[1]+`, action, before, updated_at)
		SELECT tenant_id, ?, id, ?, ?::jsonb, updated_at FROM `+log[2]+` WHERE tenant_id = current_tenant_id() AND id = ?
		ON CONFLICT (tenant_id, batch_id, `+log[1]+`) DO UPDATE SET updated_at = excluded.updated_at`,
		batch, action, raw, id).Error
	if err != nil {
		return fmt.Errorf("record import change: %w", err)
	}
	return nil
}

// match finds the customer outside the trash whose key (number or email) is value: none for an
// empty value, and a *rowError when several customers share an email.
func (s *Imports) match(tx *gorm.DB, key, value string) (uuid.UUID, error) {
	if value == "" {
		return uuid.Nil, nil
	}
	var ids []uuid.UUID
	q := tx.Model(&models.Customer{}).Where("deleted_at IS NULL")
	if key == "number" {
		q = q.Where("number_key = lower(?)", value)
	} else {
		q = q.Where("email_key = lower(?)", value)
	}
	if err := q.Limit(2).Pluck("id", &ids).Error; err != nil {
		return uuid.Nil, fmt.Errorf("match import row: %w", err)
	}
	switch len(ids) {
	case 0:
		return uuid.Nil, nil
	case 1:
		return ids[0], nil
	}
	return uuid.Nil, &rowError{field: key, message: "Several customers have this " + key + ": match by customer number instead."}
}

func (e *rowError) Error() string { return e.message }

// importTags are the tags an import has found or made so far, by lower-case name, and the
// names a check found missing, which the import will make.
type importTags struct {
	ids     map[string]string
	missing []string
}

// tags resolves a cell of tag names (comma- or semicolon-separated) to ids, creating the
// names the organization does not have yet unless dry, when it notes them as missing.
func (s *Imports) tags(tx *gorm.DB, cell string, dry bool, known *importTags) ([]string, []rowError, error) {
	if cell == "" {
		return nil, nil, nil
	}
	var ids []string
	for _, name := range strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == ';' }) {
		in := models.TagInput{Name: name, Color: "slate"}
		var invalid *models.ValidationError
		if errors.As(in.Validate(), &invalid) {
			return nil, []rowError{{field: "tags", message: "“" + audit.Clean(name, 50) + "”: " + invalid.Fields["name"]}}, nil
		}
		key := strings.ToLower(in.Name)
		if id, ok := known.ids[key]; ok {
			if id != "" { // "": missing, noted by a check
				ids = append(ids, id)
			}
			continue
		}
		var t models.Tag
		err := tx.Where("lower(name) = lower(?)", in.Name).Take(&t).Error
		switch {
		case err == nil:
			known.ids[key] = t.ID.String()
			ids = append(ids, t.ID.String())
			continue
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return nil, nil, fmt.Errorf("import tag: %w", err)
		case dry:
			known.ids[key], known.missing = "", append(known.missing, in.Name)
			continue
		}
		t = models.Tag{Name: in.Name, Color: in.Color}
		if err := tx.Transaction(func(sp *gorm.DB) error { return sp.Create(&t).Error }); err != nil {
			if !violates(err, "tags_tenant_name") { // another request added it since the read
				return nil, nil, fmt.Errorf("import tag: %w", err)
			}
			if err := tx.Where("lower(name) = lower(?)", in.Name).Take(&t).Error; err != nil {
				return nil, nil, fmt.Errorf("import tag: %w", err)
			}
		} else if err := audit.Record(tx, audit.Event{Action: audit.TagCreate, EntityID: t.ID.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]string{"name": t.Name, "color": t.Color}}); err != nil {
			return nil, nil, err
		}
		known.ids[key] = t.ID.String()
		ids = append(ids, t.ID.String())
	}
	return ids, nil, nil
}

// fillImport sets in's fields to a row's cells. A new customer takes every mapped cell; an
// update leaves a field alone when its cell is empty. Tags are added to those it has.
func fillImport(in *models.CustomerInput, cell map[string]string, tagIDs []string, create bool) {
	set := func(dst *string, field string) {
		if v, ok := cell[field]; ok && (create || v != "") {
			*dst = v
		}
	}
	set(&in.Name, "name")
	set(&in.Company, "company")
	set(&in.Number, "number")
	set(&in.Website, "website")
	set(&in.TaxID, "tax_id")
	set(&in.BillingAddress, "billing_address")
	set(&in.ShippingAddress, "shipping_address")
	set(&in.Currency, "currency")
	set(&in.PaymentTerms, "payment_terms")
	if v := strings.ToLower(cell["kind"]); v != "" {
		switch v {
		case "person", "individual", "private", "consumer":
			in.Kind = models.KindPerson
		case "company", "business", "organization", "organisation":
			in.Kind = models.KindCompany
		default:
			in.Kind = models.CustomerKind(v) // refused by validation
		}
	}
	// Typed contacts: an address or number the customer has is left as it is; a new one goes
	// first, so that the work email and phone, mapped first, become the ones the list shows.
	for _, f := range [][2]string{{"email_personal", "personal"}, {"email_billing", "billing"}, {"email", "work"}} {
		if v := cell[f[0]]; v != "" && !slices.Contains(in.Emails, strings.ToLower(v)) {
			in.Emails, in.EmailTypes = append([]string{v}, in.Emails...), append([]string{f[1]}, in.EmailTypes...)
		}
	}
	for _, f := range [][2]string{{"phone_fax", "fax"}, {"phone_home", "home"}, {"phone_mobile", "mobile"}, {"phone", "work"}} {
		if v := cell[f[0]]; v != "" && !slices.Contains(in.Phones, v) {
			in.Phones, in.PhoneTypes = append([]string{v}, in.Phones...), append([]string{f[1]}, in.PhoneTypes...)
		}
	}
	for _, id := range tagIDs {
		if !slices.Contains(in.TagIDs, id) {
			in.TagIDs = append(in.TagIDs, id)
		}
	}
	if create {
		in.Notes = cell["notes"]
	}
}

// Undo undoes the import with id: the customers it created go to the trash and those it
// changed get their values back, unless they changed since, which are kept and counted.
func (s *Imports) Undo(ctx context.Context, id uuid.UUID) error {
	var b models.ImportBatch
	if err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error { return tx.Where("id = ?", id).Take(&b).Error }); err != nil {
		return fmt.Errorf("start undo: %w", err)
	}
	if b.Status != models.ImportReverting {
		return nil
	}
	kept := 0
	for {
		handled := 0
		err := tenant.Within(ctx, s.db, func(ctx context.Context) error {
			return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
				undo := s.undoCustomers
				if b.Target == models.ImportProducts {
					undo = s.undoProducts
				}
				n, k, err := undo(ctx, tx, id)
				if err != nil {
					return err
				}
				handled, kept, b.RowsDone = n, kept+k, b.RowsDone+n
				return tx.Model(&models.ImportBatch{}).Where("id = ?", id).Updates(map[string]any{"rows_done": b.RowsDone, "kept": kept}).Error
			})
		})
		if err != nil {
			return fmt.Errorf("undo import: %w", err)
		}
		if handled < importSlice {
			break
		}
	}
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Model(&models.ImportBatch{}).Where("id = ?", id).Updates(map[string]any{"status": models.ImportReverted,
			"reverted_at": time.Now(), "reverted_by": requestUser(tx)}).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.ImportUndone, EntityID: id.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]int{"undone": b.RowsDone - kept, "kept": kept}})
	})
}

// undoCustomers undoes a slice of what the import with id did to customers, returning how
// many it handled and how many it kept.
func (s *Imports) undoCustomers(ctx context.Context, tx *gorm.DB, id uuid.UUID) (handled, kept int, err error) {
	var changes []models.ImportChange
	if err := tx.Where("batch_id = ? AND undo IS NULL", id).Order("customer_id").Limit(importSlice).Find(&changes).Error; err != nil {
		return 0, 0, err
	}
	for _, ch := range changes {
		outcome, err := s.undoOne(ctx, tx, ch)
		if err != nil {
			return 0, 0, err
		}
		if outcome == "kept" {
			kept++
		}
		if err := tx.Model(&models.ImportChange{}).Where("batch_id = ? AND customer_id = ?", id, ch.CustomerID).Update("undo", outcome).Error; err != nil {
			return 0, 0, err
		}
	}
	return len(changes), kept, nil
}

// undoOne undoes what an import did to one customer, unless the customer changed since.
func (s *Imports) undoOne(ctx context.Context, tx *gorm.DB, ch models.ImportChange) (string, error) {
	var now struct {
		UpdatedAt time.Time
		DeletedAt *time.Time
	}
	if err := tx.Raw("SELECT updated_at, deleted_at FROM customers WHERE id = ?", ch.CustomerID).Scan(&now).Error; err != nil {
		return "", err
	}
	if now.DeletedAt != nil || !now.UpdatedAt.Equal(ch.UpdatedAt) || (ch.Action == "updated" && ch.Before == nil) {
		return "kept", nil
	}
	var err error
	if ch.Action == "created" {
		err = s.customers.Trash(ctx, ch.CustomerID.String())
	} else {
		_, err = s.customers.patch(ctx, ch.CustomerID.String(), func(cur *models.CustomerInput) { *cur = *ch.Before }, false)
	}
	if models.IsAnswer(err) {
		return "kept", nil // refused as it stands now: left alone, and listed
	}
	return "undone", err
}

// ErrorFile writes the file of the import with id back as CSV, in UTF-8 with its delimiter,
// with a last column saying why each refused row was refused.
func (s *Imports) ErrorFile(ctx context.Context, id string, w io.Writer) error {
	return audited(ctx, s.db, audit.Event{Action: audit.ImportErrors, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		b, err := s.batch(tx, id)
		if err != nil {
			return err
		}
		if b.Kind == models.ImportRestore {
			return &models.ValidationError{Fields: map[string]string{"import": "A restore lists the customers it refused on its page."}}
		}
		var rejected []models.ImportRejection
		if err := tx.Where("batch_id = ?", b.ID).Order("line, field").Find(&rejected).Error; err != nil {
			return err
		}
		why := map[int]string{}
		for _, r := range rejected {
			if why[r.Line] != "" {
				why[r.Line] += "; "
			}
			why[r.Line] += r.Field + ": " + r.Message
		}
		out := csv.NewWriter(w)
		out.Comma = []rune(b.Delimiter)[0]
		err = eachRow(&chunkReader{tx: tx, batch: b.ID}, b, func(row []string, line int, header bool) error {
			cell := why[line]
			if header {
				cell = "Error"
			}
			return out.Write(append(row, cell))
		})
		if err != nil {
			return err
		}
		out.Flush()
		return out.Error()
	})
}

// eachRow reads b's file from r and calls fn with each row and its line in the file; header
// says the row is the header.
func eachRow(r io.Reader, b models.ImportBatch, fn func(row []string, line int, header bool) error) error {
	rows := csvimport.Reader(r, csvimport.Format{Encoding: b.Encoding, Delimiter: []rune(b.Delimiter)[0]})
	for first := true; ; first = false {
		row, err := rows.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read import: %w", err)
		}
		line, _ := rows.FieldPos(0)
		if err := fn(row, line, first && b.Header); err != nil {
			return err
		}
	}
}
