package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"moat/app/imports"
	"moat/app/jobs"
	"moat/app/store"
	"moat/models"
)

// Import is a file of customers being imported, as the import page shows it: uploaded in
// parts, described (its columns, first rows and their mapping), checked, imported in the
// background and maybe undone. Poll it for progress.
type Import struct {
	ID         string            `json:"id" format:"uuid"`
	Kind       string            `json:"kind" enum:"csv,moat-export" doc:"A CSV file, or a Moat export restored into an organization with no customers"`
	FileName   string            `json:"file_name"`
	FileSize   int64             `json:"file_size"`
	FileHash   string            `json:"file_hash" doc:"SHA-256 of the file, once uploaded"`
	Status     string            `json:"status" enum:"receiving,uploaded,checking,checked,importing,imported,reverting,reverted,failed"`
	Encoding   string            `json:"encoding"`
	Delimiter  string            `json:"delimiter"`
	Header     bool              `json:"header" doc:"The first row names the columns"`
	Columns    []string          `json:"columns"`
	Preview    [][]string        `json:"preview" doc:"The first rows"`
	Mapping    map[string]string `json:"mapping" doc:"Column index → field"`
	Mode       string            `json:"mode" enum:"create,update,upsert"`
	MatchKey   string            `json:"match_key" enum:"number,email"`
	RowsTotal  int               `json:"rows_total"`
	RowsDone   int               `json:"rows_done" doc:"Progress of the running check, import or undo"`
	ToCreate   int               `json:"created" doc:"Rows that create a customer (would, after a check)"`
	ToUpdate   int               `json:"updated"`
	ToSkip     int               `json:"skipped"`
	Rejected   int               `json:"rejected"`
	Kept       int               `json:"kept" doc:"Customers an undo left alone, changed since the import"`
	NewTags    []string          `json:"new_tags" doc:"The tags the last check found missing, which the import makes"`
	Failure    string            `json:"failure"`
	Rejections []ImportRejection `json:"rejections" doc:"The first 100 refused rows of the last check or import"`
	CreatedAt  time.Time         `json:"created_at"`
	ImportedAt *time.Time        `json:"imported_at"`
	RevertedAt *time.Time        `json:"reverted_at"`
}

// ImportRejection is a row a check or an import refused.
type ImportRejection struct {
	Line    int    `json:"line" doc:"Its line in the file (the header is line 1); in a restore, its place among the export's customers"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportList is the organization's imports, newest first (at most 100).
type ImportList struct {
	Data []Import `json:"data"`
}

// ImportPath names an import.
type ImportPath struct {
	ID string `path:"id"`
}

// ImportSettings say how a file's rows become customers.
type ImportSettings struct {
	Mapping map[string]string `json:"mapping" doc:"Column index (from 0) → field: name, company, kind, number, email, phone, website, tax_id, billing_address, shipping_address, currency, payment_terms, tags, notes. Ignored for a restore."`
	Mode    string            `json:"mode" enum:"create,update,upsert" default:"upsert"`
	Key     string            `json:"key" enum:"number,email" default:"email" doc:"What matches a row to a customer"`
}

type importOutput struct {
	Body Import
}

func importOf(b models.ImportBatch, rejected []models.ImportRejection) Import {
	out := Import{ID: b.ID.String(), Kind: b.Kind, FileName: b.FileName, FileSize: b.FileSize, FileHash: b.FileHash, Status: b.Status,
		Encoding: b.Encoding, Delimiter: b.Delimiter, Header: b.Header, Columns: b.Columns, Preview: b.Preview, Mapping: b.Mapping,
		Mode: b.Mode, MatchKey: b.MatchKey, RowsTotal: b.RowsTotal, RowsDone: b.RowsDone, ToCreate: b.ToCreate, ToUpdate: b.ToUpdate,
		ToSkip: b.ToSkip, Rejected: b.Rejected, Kept: b.Kept, NewTags: append([]string{}, b.NewTags...), Failure: b.Failure, Rejections: []ImportRejection{},
		CreatedAt: b.CreatedAt.UTC(), ImportedAt: b.ImportedAt, RevertedAt: b.RevertedAt}
	for _, r := range rejected {
		out.Rejections = append(out.Rejections, ImportRejection{Line: r.Line, Field: r.Field, Message: r.Message})
	}
	return out
}

var importFields = fieldNames{names: map[string]string{"key": "key", "mode": "mode"}}

func (a *api) imports(h huma.API) {
	huma.Register(h, operation("list-imports", http.MethodGet, "/imports", "customers", "read", "List customer imports"),
		func(ctx context.Context, _ *struct{}) (*struct{ Body ImportList }, error) {
			batches, err := a.Imports.List(ctx)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &struct{ Body ImportList }{Body: ImportList{Data: make([]Import, len(batches))}}
			for i, b := range batches {
				out.Body.Data[i] = importOf(b, nil)
			}
			return out, nil
		})

	read := func(ctx context.Context, id string) (*importOutput, error) {
		b, rejected, err := a.Imports.Get(ctx, id)
		return &importOutput{Body: importOf(b, rejected)}, err
	}
	huma.Register(h, operation("get-import", http.MethodGet, "/imports/{id}", "customers", "read", "Get an import and its progress"),
		func(ctx context.Context, in *ImportPath) (*importOutput, error) {
			return written(a, ctx, importFields, func(context.Context) (string, error) { return in.ID, nil }, read)
		})

	begin := operation("begin-import", http.MethodPost, "/imports", "customers", "write", "Start an import")
	begin.Description += " Send the file next, in parts of up to 256 KiB (upload-import-part), then finish the upload. A CSV of customers of up to 16 MB, or the ZIP of a Moat export. (Products are imported on the import page.)"
	huma.Register(h, begin, func(ctx context.Context, in *struct {
		Body struct {
			FileName string `json:"file_name" maxLength:"255" doc:"The file's name, as the import page lists it"`
		}
	}) (*importOutput, error) {
		out, err := written(a, ctx, importFields, func(ctx context.Context) (string, error) {
			id, err := a.Imports.Begin(ctx, in.Body.FileName, models.ImportCustomers)
			return id.String(), err
		}, read)
		if out != nil {
			out.Body.Rejections = []ImportRejection{}
		}
		return out, err
	})

	part := operation("upload-import-part", http.MethodPost, "/imports/{id}/parts/{seq}", "customers", "write", "Upload a part of an import's file")
	part.DefaultStatus = http.StatusNoContent
	part.Description += " Parts are numbered from 0 and sent in order; the body is the part's bytes."
	huma.Register(h, part, func(ctx context.Context, in *struct {
		ImportPath
		Seq     int    `path:"seq" minimum:"0" maximum:"1000"`
		RawBody []byte `contentType:"application/octet-stream"`
	}) (*noContent, error) {
		if err := a.Imports.Append(ctx, in.ID, in.Seq, in.RawBody); err != nil {
			return nil, a.fail(ctx, err, fieldNames{names: map[string]string{"file": "body"}})
		}
		return &noContent{}, nil
	})

	finish := operation("finish-import-upload", http.MethodPost, "/imports/{id}/finish", "customers", "write", "Finish the upload of an import's file")
	finish.DefaultStatus = http.StatusOK
	finish.Description += " The answer describes the file: its columns, first rows and the mapping Moat proposes."
	huma.Register(h, finish, func(ctx context.Context, in *ImportPath) (*importOutput, error) {
		return written(a, ctx, importFields, func(ctx context.Context) (string, error) {
			_, err := a.Imports.Finish(ctx, in.ID)
			return in.ID, err
		}, read)
	})

	queue := func(ctx context.Context, id string, job func(jobs.Who, uuid.UUID) river.JobArgs) (*importOutput, error) {
		batch := models.ParseID(id)
		if err := imports.Enqueue(ctx, a.Jobs, a.Imports, job(jobs.WhoOf(ctx), batch), batch); err != nil {
			return nil, a.fail(ctx, err, fieldNames{})
		}
		out, err := read(ctx, id)
		if err != nil {
			return nil, a.fail(ctx, err, fieldNames{})
		}
		return out, nil
	}
	background := func(op huma.Operation, about string) huma.Operation {
		op.DefaultStatus = http.StatusAccepted
		op.Description += " " + about + " It runs in the background: poll get-import for its progress."
		return op
	}

	check := background(operation("check-import", http.MethodPost, "/imports/{id}/check", "customers", "write", "Check an import's rows"),
		"Maps the columns as the settings say and checks every row, writing no customer: the counts say what the import would do. "+
			"Pass back the mapping finish-import-upload proposed, or your own.")
	huma.Register(h, check, func(ctx context.Context, in *struct {
		ImportPath
		Body ImportSettings
	}) (*importOutput, error) {
		set := store.ImportSettings{Mapping: in.Body.Mapping, Mode: in.Body.Mode, Key: in.Body.Key}
		if set.Mapping == nil {
			set.Mapping = map[string]string{}
		}
		if err := a.Imports.Configure(ctx, in.ID, set); err != nil {
			return nil, a.fail(ctx, err, importFields)
		}
		return queue(ctx, in.ID, func(w jobs.Who, b uuid.UUID) river.JobArgs { return imports.Check{Who: w, Batch: b} })
	})

	step := func(op huma.Operation, start func(context.Context, string) error, job func(jobs.Who, uuid.UUID) river.JobArgs) {
		huma.Register(h, op, func(ctx context.Context, in *ImportPath) (*importOutput, error) {
			if err := start(ctx, in.ID); err != nil {
				return nil, a.fail(ctx, err, importFields)
			}
			return queue(ctx, in.ID, job)
		})
	}
	step(background(operation("run-import", http.MethodPost, "/imports/{id}/run", "customers", "write", "Import a checked file"),
		"The file must have been checked as it stands."),
		a.Imports.Start, func(w jobs.Who, b uuid.UUID) river.JobArgs { return imports.Run{Who: w, Batch: b} })
	step(background(operation("undo-import", http.MethodPost, "/imports/{id}/undo", "customers", "write", "Undo an import"),
		"Customers it created go to the trash; those it changed get their values back, except those changed since."),
		a.Imports.StartUndo, func(w jobs.Who, b uuid.UUID) river.JobArgs { return imports.Undo{Who: w, Batch: b} })
}
