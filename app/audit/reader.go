package audit

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"moat/app/csvexport"
	"moat/app/keyset"
	"moat/app/tenant"
	"moat/models"
)

// PageSize is how many events a page of the trail shows.
const PageSize = 50

// Filter narrows the trail. Zero fields do not filter. Before is the cursor of a page's last
// event: the next page starts after it, which stays fast at any depth.
type Filter struct {
	UserID   uuid.UUID
	Action   Action
	Entity   Entity
	EntityID string
	Outcome  models.Outcome
	From, To time.Time // To is exclusive
	Before   string
	Changes  bool   // only what changed records: a timeline, not the reads
	Group    Group  // a kind of action in words, or refusals
	Customer string // words of a customer's name, or its number: that customer's events

	customerIDs []string // the customers Customer matched; empty, not nil, when none did
}

// Group is a filter of the trail in words: a kind of action, or every refusal.
type Group string

// The groups, in the order the trail offers them.
const (
	GroupChanges Group = "changes"
	GroupViews   Group = "views"
	GroupAccess  Group = "sign-ins"
	GroupExports Group = "exports"
	GroupRefused Group = "refused"
)

// Groups lists the groups with how the trail names them.
var Groups = []struct {
	Group Group
	Label string
}{
	{GroupChanges, "Changes"}, {GroupViews, "Views"}, {GroupAccess, "Sign-ins and access"}, {GroupExports, "Exports"}, {GroupRefused, "Refused only"},
}

// groupKinds are the kinds of action each group but refusals holds.
var groupKinds = map[Group]Kind{GroupChanges: KindChange, GroupViews: KindView, GroupAccess: KindAccess, GroupExports: KindExport}

// Page is one page of the trail, newest first.
type Page struct {
	Events []Entry
	Names  Names         // the names of the events' records
	People []models.User // the tenant's people, for the filter; id and name only
	Next   string        // cursor of the next page; empty on the last
	// Customers is how many customers the Customer words matched (at most MaxCustomers).
	Customers int
	// Refusals are the filtered trail's refusals by person, on the first page of refusals: who
	// keeps opening what they may not, or what is not there.
	Refusals []Refusals
}

// Refusals are one person's refused requests in the filtered trail.
type Refusals struct {
	UserName string
	Count    int
	Last     time.Time
}

// MaxCustomers caps the customers a filter by name matches; a word that matches more is too
// broad to be the customer someone meant.
const MaxCustomers = 50

// Entry is an event with the name of the person who caused it.
type Entry struct {
	models.AuditEvent
	UserName string
}

// Reader reads a tenant's trail.
type Reader struct{ db *gorm.DB }

// NewReader returns a Reader over db.
func NewReader(db *gorm.DB) *Reader { return &Reader{db: db} }

// List returns a page of the trail of the tenant in ctx, and records that it was read.
func (r *Reader) List(ctx context.Context, f Filter) (Page, error) {
	var p Page
	err := tenant.Tx(ctx, r.db, func(tx *gorm.DB) error {
		if err := Record(tx, Event{Action: AuditList, Entity: EntityAudit, Outcome: models.OutcomeAllowed, Details: f.details()}); err != nil {
			return err
		}
		var err error
		if p.Customers, err = f.resolve(tx); err != nil {
			return err
		}
		rows, err := page(tx, f, PageSize+1)
		if err != nil {
			return err
		}
		if f.Group == GroupRefused && f.Before == "" {
			if p.Refusals, err = refusals(tx, f); err != nil {
				return err
			}
		}
		if len(rows) > PageSize {
			rows = rows[:PageSize]
			last := rows[len(rows)-1]
			p.Next = keyset.Cursor{At: last.OccurredAt, ID: last.ID}.Encode()
		}
		p.Events = rows
		named := rows
		if f.EntityID != "" {
			// The record the trail is filtered to is named even on a page without its events.
			named = append(slices.Clone(rows), Entry{AuditEvent: models.AuditEvent{Entity: string(f.Entity), EntityID: f.EntityID}})
		}
		if p.Names, err = names(tx, named); err != nil {
			return err
		}
		if err := tenant.Last(tx).Select("id", "name").Order("lower(name)").Find(&p.People).Error; err != nil {
			return fmt.Errorf("audit people: %w", err)
		}
		return nil
	})
	return p, err
}

// History returns the newest changes to one record (who did what; the reads are in the trail),
// for showing beside it. Reading it is part of viewing the record, which is audited there.
func (r *Reader) History(ctx context.Context, entity Entity, id string, limit int) (out []Entry, err error) {
	err = tenant.Read(ctx, r.db, func(_ context.Context, rd *tenant.Reads) error {
		r.QueueHistory(rd, entity, id, limit, &out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}

// QueueHistory queues History's read in rd, into out.
func (*Reader) QueueHistory(rd *tenant.Reads, entity Entity, id string, limit int, out *[]Entry) {
	rd.Find(pageQuery(rd.Tx(), Filter{Entity: entity, EntityID: id, Changes: true}, limit), out)
}

// Viewings are one person's reads of a record on one day (UTC): the timeline folds them into
// one line rather than one per view.
type Viewings struct {
	UserName string
	Day      time.Time
	Count    int
	Times    []time.Time // the newest 20, newest first
}

// Viewer is one person's reads of a record over the last days, for the "viewed by" summary.
type Viewer struct {
	UserID   uuid.UUID
	UserName string
	Count    int
	Last     time.Time
}

// Views returns the allowed reads of the record with id over the last days: one Viewings per
// person and day, newest first, and one Viewer per person, the most frequent first. Both come
// from record_views, where each read is folded as the trail records it, in one statement that
// reads a row per person and day however often the record was viewed. Reading them is part of
// viewing the record.
func (r *Reader) Views(ctx context.Context, entity Entity, id string, days int) (daily []Viewings, people []Viewer, err error) {
	err = tenant.Read(ctx, r.db, func(_ context.Context, rd *tenant.Reads) error {
		r.QueueViews(rd, entity, id, days, &daily, &people)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record views: %w", err)
	}
	return daily, people, nil
}

// QueueViews queues Views' read in rd, into daily and people.
func (*Reader) QueueViews(rd *tenant.Reads, entity Entity, id string, days int, daily *[]Viewings, people *[]Viewer) {
	// GROUPING SETS: per person and day (one row each), and per person, in one statement.
	q := rd.Tx().Raw(`SELECT GROUPING(day) = 1 AS per_person, user_id,
			coalesce((SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = v.user_id), '') AS user_name,
			coalesce(day, 'epoch') AS day, sum(views)::int AS count, max(last_at) AS last, coalesce(max(times), '{}') AS times
		FROM record_views v
		WHERE v.tenant_id = current_tenant_id() AND v.entity = ? AND v.entity_id = ? AND v.day >= ((now() AT TIME ZONE 'UTC') - make_interval(days => ?))::date
		GROUP BY GROUPING SETS ((user_id, day), (user_id))
		ORDER BY per_person, day DESC, count DESC, last DESC`, string(entity), id, days)
	// A map dest: GORM cannot describe the arrays, and pgx scans them here anyway.
	rd.Rows(q, &[]map[string]any{}, func(rows pgx.Rows) error {
		*daily, *people = nil, nil
		for rows.Next() {
			var perPerson bool
			var user uuid.UUID
			var v Viewings
			var last time.Time
			if err := rows.Scan(&perPerson, &user, &v.UserName, &v.Day, &v.Count, &last, &v.Times); err != nil {
				return err
			}
			// Kept newest first as views commit; on Citus one committed late stays where it came.
			slices.SortFunc(v.Times, func(a, b time.Time) int { return b.Compare(a) })
			switch {
			case !perPerson && len(*daily) < maxViewDays:
				*daily = append(*daily, v)
			case perPerson && len(*people) < maxViewers:
				*people = append(*people, Viewer{UserID: user, UserName: v.UserName, Count: v.Count, Last: last})
			}
		}
		return nil
	})
}

// maxViewDays and maxViewers bound the folded lines and the people a record's page lists.
const (
	maxViewDays = 60
	maxViewers  = 20
)

// exportBatch is how many events Export holds in memory at once.
const exportBatch = 1000

// RecordExport records that the filtered trail is being exported. Callers record before they
// stream, so an export is audited even if the download breaks off.
func (r *Reader) RecordExport(ctx context.Context, f Filter) error {
	return tenant.Tx(ctx, r.db, func(tx *gorm.DB) error {
		return Record(tx, Event{Action: AuditExport, Entity: EntityAudit, Outcome: models.OutcomeAllowed, Details: f.details()})
	})
}

// Export writes the filtered trail as CSV to w, newest first, a batch at a time in short
// transactions, so memory stays the same at any size.
func (r *Reader) Export(ctx context.Context, f Filter, w io.Writer) error {
	if f.Customer != "" {
		err := tenant.Tx(ctx, r.db, func(tx *gorm.DB) error { _, err := f.resolve(tx); return err })
		if err != nil {
			return err
		}
	}
	header := []string{"occurred_at", "user_id", "user", "action", "entity", "entity_id", "outcome", "ip", "user_agent", "request_id", "details", "api_token"}
	return csvexport.Stream(w, header, exportBatch, func(last *Entry) (rows []Entry, err error) {
		if last != nil {
			f.Before = keyset.Cursor{At: last.OccurredAt, ID: last.ID}.Encode()
		}
		err = tenant.Tx(ctx, r.db, func(tx *gorm.DB) error {
			rows, err = page(tenant.Last(tx), f, exportBatch)
			return err
		})
		return rows, err
	}, func(e Entry) []string {
		user := ""
		if e.UserID != nil {
			user = e.UserID.String()
		}
		token := ""
		if e.APIToken != nil {
			token = *e.APIToken
		}
		return []string{e.OccurredAt.UTC().Format(time.RFC3339Nano), user, e.UserName, e.Action, e.Entity, e.EntityID,
			string(e.Outcome), e.IP, e.UserAgent, e.RequestID, string(e.Details), token}
	})
}

// resolve finds the customers f.Customer names, and returns how many, so that f finds their
// events alone; a filter that names none finds none.
func (f *Filter) resolve(tx *gorm.DB) (int, error) {
	if f.Customer == "" {
		return 0, nil
	}
	if f.customerIDs == nil {
		ids, err := matchCustomers(tx, f.Customer)
		if err != nil {
			return 0, err
		}
		f.Entity, f.customerIDs = EntityCustomer, append([]string{}, ids...) // not nil: resolved
	}
	return len(f.customerIDs), nil
}

// matchCustomers finds the tenant's customers whose number is words, or whose name holds them,
// at most MaxCustomers, trashed and erased ones included: their events stay in the trail.
func matchCustomers(tx *gorm.DB, words string) ([]string, error) {
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(words) + "%"
	var ids []string
	err := tx.Raw(`SELECT id::text FROM customers WHERE tenant_id = current_tenant_id() AND (number_key = lower(?) OR name ILIKE ?)
		ORDER BY lower(name), id LIMIT ?`, words, like, MaxCustomers).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("audit customers named %q: %w", words, err)
	}
	return ids, nil
}

// refusals counts the filtered trail's refusals by person, the most first.
func refusals(tx *gorm.DB, f Filter) ([]Refusals, error) {
	f.Before = ""
	var out []Refusals
	err := filtered(tx.Model(&models.AuditEvent{}), f).
		Select(`coalesce((SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = audit_events.user_id), '') AS user_name,
			count(*) AS count, max(occurred_at) AS last`).
		Group("tenant_id, user_id").Order("count DESC, last DESC").Limit(20).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("audit refusals: %w", err)
	}
	return out, nil
}

// page runs the filtered, keyset-paged query inside tx.
func page(tx *gorm.DB, f Filter, limit int) ([]Entry, error) {
	var rows []Entry
	if err := pageQuery(tx, f, limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return rows, nil
}

// pageQuery is page's statement.
func pageQuery(tx *gorm.DB, f Filter, limit int) *gorm.DB {
	// Each event with the name of its person, read in the same statement.
	return filtered(tx.Model(&models.AuditEvent{}), f).Select(`audit_events.*, (SELECT u.name FROM users u
		WHERE u.tenant_id = current_tenant_id() AND u.id = audit_events.user_id) AS user_name`).
		Order("occurred_at DESC, id DESC").Limit(limit)
}

// filtered adds f's conditions to q.
func filtered(q *gorm.DB, f Filter) *gorm.DB {
	if f.UserID != uuid.Nil {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", string(f.Action))
	}
	if f.Entity != "" {
		q = q.Where("entity = ?", string(f.Entity))
	}
	if f.EntityID != "" {
		q = q.Where("entity_id = ?", f.EntityID)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	switch {
	case f.customerIDs == nil:
	case len(f.customerIDs) == 0:
		q = q.Where("false") // words that name no customer find no event
	default:
		q = q.Where("entity_id IN ?", f.customerIDs)
	}
	if kind, ok := groupKinds[f.Group]; f.Changes || ok {
		if f.Changes {
			kind = KindChange
		}
		// Written out, not a parameter, so the partial index of changes serves it; kind is
		// one of the package's constants.
		q = q.Where("kind = '" + string(kind) + "'")
	}
	if f.Group == GroupRefused {
		q = q.Where("outcome <> 'allowed'")
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To)
	}
	if c, ok := keyset.Decode(f.Before, ""); ok && !c.At.IsZero() {
		q = q.Where("(occurred_at, id) < (?, ?)", c.At, c.ID)
	}
	return q
}

func (f Filter) details() map[string]string {
	d := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	if f.UserID != uuid.Nil {
		add("user", f.UserID.String())
	}
	add("action", string(f.Action))
	add("entity", string(f.Entity))
	add("entity_id", f.EntityID)
	add("outcome", string(f.Outcome))
	add("group", string(f.Group))
	add("customer", f.Customer)
	if !f.From.IsZero() {
		add("from", f.From.Format(time.DateOnly))
	}
	if !f.To.IsZero() {
		add("to", f.To.Format(time.DateOnly))
	}
	return d
}
