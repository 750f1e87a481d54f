package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/keyset"
	"moat/app/tenant"
	"moat/models"
)

// CountCap is where the list stops counting: a page shows "1,000+" beyond it, so a count never
// reads more of a large tenant than this.
const CountCap = 1000

// Filter picks customers of the tenant. Every field is optional; Clean drops values that do not
// parse, so a hand-edited URL shows the unfiltered list rather than an error.
type Filter struct {
	Search string
	Kind   models.CustomerKind // company or person
	Tag    string              // a tag's id
	From   string              // created on or after this day, YYYY-MM-DD (UTC)
	To     string              // created on or before this day
}

// Clean normalizes f: search text PostgreSQL can compare, and only valid kinds, ids and days.
func (f Filter) Clean() Filter {
	f.Search = cleanSearch(f.Search)
	if f.Kind != models.KindCompany && f.Kind != models.KindPerson {
		f.Kind = ""
	}
	if _, err := uuid.Parse(f.Tag); err != nil || len(f.Tag) != 36 {
		f.Tag = ""
	}
	day := func(s string) string {
		// PostgreSQL has no year 0, which Go parses.
		if d, err := time.Parse(time.DateOnly, s); err != nil || d.Year() < 1 {
			return ""
		}
		return s
	}
	f.From, f.To = day(f.From), day(f.To)
	return f
}

// Empty reports whether f picks every customer.
func (f Filter) Empty() bool { return f == Filter{} }

// Sorts are the list's sort orders, by URL name, each an indexed expression.
var Sorts = map[string]string{
	"name":    "lower(name)",
	"number":  "lpad(lower(number), 30)", // C-9 before C-10, C-99999 before C-100000
	"email":   "lower(email)",
	"company": "lower(company)",
	"created": "created_at",
}

// ListQuery asks for one page of the list. Page counts from 1; After is a keyset cursor from a
// previous page's Next and wins over Page when it was made for the same order.
type ListQuery struct {
	Filter
	Sort  string // a key of Sorts; name when empty or unknown
	Desc  bool
	Page  int
	After string
	Limit int  // customers a page, 1 to 100; PageSize when 0
	Bare  bool // no count and no columns: the API's list, which shows neither
}

// pageSize is how many records a page of a list holds when limit asks for some: 1 to 100, and
// PageSize otherwise.
func pageSize(limit int) int {
	if limit < 1 || limit > 100 {
		return PageSize
	}
	return limit
}

// CustomerPage is one page of the list.
type CustomerPage struct {
	Customers []models.Customer // with their tags
	Query     ListQuery         // the query as cleaned and run
	Next      string            // cursor of the next page; empty on the last page
	Total     int64             // customers matching the filter, counted up to CountCap+1
	Columns   []string          // the columns the person chose
	Tags      []models.Tag      // the tenant's tags by name, for the filter and bulk bars
}

// List returns a page of the customers of the tenant in ctx that match the filter, and how
// many match. Search matches when every word of it starts a word of the customer's name, email
// or company.
func (s *Customers) List(ctx context.Context, lq ListQuery) (CustomerPage, error) {
	lq.Filter = lq.Filter.Clean()
	if _, ok := Sorts[lq.Sort]; !ok {
		if lq.Sort != "" {
			lq.Desc = false // an unknown order's direction means nothing
		}
		lq.Sort = "name" // the default order; its URL leaves out sort=name
	}
	p := CustomerPage{Query: lq}
	after, ok := keyset.Decode(lq.After, sortNames()...)
	paged := ok && after.Sort == lq.Sort && after.Desc == lq.Desc
	switch {
	case paged && (lq.Page < 2 || lq.Page > 100000):
		p.Query.Page = 2 // the number is only a label; a cursor always points past the first page
	case !paged && (lq.Page < 1 || lq.Page > 100000):
		p.Query.Page = 1
	}
	if !paged {
		p.Query.After = ""
	}
	var words []string
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if words, err = searchWords(tx, lq.Search); err != nil {
			return err
		}
		// Queued now, the audit row and COMMIT travel with the page: a list is one round trip,
		// and so is a search, but for one whose words PostgreSQL must split (asciiWords).
		if err := audit.Record(tx, audit.Event{Action: audit.CustomerList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed,
			Details: map[string]any{"search": lq.Search, "filter": p.Query.Filter, "sort": lq.Sort, "page": p.Query.Page}}); err != nil {
			return err
		}
		// The summary rides with the page as uncorrelated subqueries, evaluated once.
		page, err := listPage(tenant.Last(tx), p.Query, words, after, paged)
		if err != nil {
			return err
		}
		rows := page.customers
		if len(rows) > pageSize(lq.Limit) {
			rows = rows[:pageSize(lq.Limit)]
			last := rows[len(rows)-1]
			p.Next = keyset.Cursor{Sort: lq.Sort, Desc: lq.Desc, Value: page.sortKeys[len(rows)-1], At: last.CreatedAt, ID: last.ID}.Encode()
		}
		if err := p.setSummary(page.summary); err != nil {
			return err
		}
		// Each row's tags in the order of the tenant's tags, which is by name.
		byID := make(map[string]int, len(p.Tags))
		for i, t := range p.Tags {
			byID[t.ID.String()] = i
		}
		for i := range rows {
			ids := page.tagIDs[i]
			if ids == nil {
				continue
			}
			var at []int
			for _, id := range strings.Split(*ids, ",") {
				if n, ok := byID[id]; ok {
					at = append(at, n)
				}
			}
			slices.Sort(at)
			for _, n := range at {
				rows[i].Tags = append(rows[i].Tags, p.Tags[n])
			}
		}
		p.Customers = rows
		return nil
	})
	return p, err
}

// summarySelect reads how many customers match (up to the cap), the person's columns and the
// tenant's tags, as select columns. Each is an uncorrelated subquery built through
// the tenant scope like any other query, so PostgreSQL evaluates it once per statement.
const summarySelect = "coalesce((?), 0) AS summary_total, (?) AS summary_columns, (?) AS summary_tags"

func summaryArgs(tx *gorm.DB, lq ListQuery, words []string) []any {
	tags := tx.Model(&models.Tag{}).Select("coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name, 'color', color) ORDER BY lower(name)), '[]')")
	var count *gorm.DB
	switch {
	case lq.Bare:
		return []any{tx.Raw("SELECT 0"), tx.Raw("SELECT NULL::jsonb"), tags}
	case lq.Filter.Empty():
		// Every customer outside the trash: the tenant's counter, which the writes keep, reads
		// one row where a count would read a thousand.
		count = tx.Raw("SELECT least(live, ?) FROM customer_counters WHERE tenant_id = current_tenant_id()", CountCap+1)
	case searchOnly(lq.Filter, words):
		// Terms leave the index with the customer's trip to the trash: they alone can count.
		match, args := termsMatch(words)
		count = tx.Raw("SELECT count(*) FROM (SELECT DISTINCT customer_id FROM ("+match+") m LIMIT ?) c", append(args, CountCap+1)...)
	default:
		count = tx.Raw("SELECT count(*) FROM (?) m", filtered(tx, lq.Filter, words).Select("1").Limit(CountCap+1))
	}
	return []any{
		count,
		tx.Model(&models.UserSettings{}).Select("customer_columns").Where("user_id = ?", audit.RequestFrom(tx.Statement.Context).UserID),
		tags,
	}
}

// summaryRow is what summarySelect reads.
type summaryRow struct {
	Total   int64  `gorm:"column:summary_total"`
	Columns []byte `gorm:"column:summary_columns"` // JSON, or NULL before the person chooses
	Tags    []byte `gorm:"column:summary_tags"`    // JSON
}

func (p *CustomerPage) setSummary(sum summaryRow) error {
	p.Total, p.Columns = sum.Total, DefaultColumns
	if sum.Columns != nil {
		if err := json.Unmarshal(sum.Columns, &p.Columns); err != nil {
			return fmt.Errorf("list columns: %w", err)
		}
	}
	if sum.Tags != nil {
		if err := json.Unmarshal(sum.Tags, &p.Tags); err != nil {
			return fmt.Errorf("list tags: %w", err)
		}
	}
	return nil
}

// listColumns are what a list row shows (any column it can show) and its cursor needs: not the
// whole record, whose contacts and addresses would only be read, sent and decoded for nothing.
// listPage scans them in this order.
const listColumns = "id, kind, number, name, email, phone, company, created_at"

// listed is a page of the list as read: its customers, each one's tag ids and sort key, and
// the list's summary.
type listed struct {
	customers []models.Customer
	tagIDs    []*string // comma-separated
	sortKeys  []string
	summary   summaryRow
}

// listPage reads one page (and one row more, to know whether a next page exists).
func listPage(tx *gorm.DB, lq ListQuery, words []string, after keyset.Cursor, paged bool) (listed, error) {
	expr, dir, cmp := Sorts[lq.Sort], "", ">"
	if lq.Desc {
		dir, cmp = " DESC", "<"
	}
	offset := (lq.Page - 1) * pageSize(lq.Limit)
	if paged {
		offset = 0 // the cursor says where the page starts
	}
	var q *gorm.DB
	if searchOnly(lq.Filter, words) && lq.Sort == "name" && !lq.Desc {
		// The common case of search, in name order, picks the page's customers from the terms
		// index alone (words, sort keys and ids), so a common word costs little more than a rare
		// one, and only they are fetched.
		pick, args := termsMatch(words)
		pick = "SELECT DISTINCT customer_id, sort_key FROM (" + pick + ") m" // a customer can have several words with one prefix
		if paged {
			pick += " WHERE (sort_key, customer_id) > (?, ?)"
			args = append(args, after.Value, after.ID)
		}
		pick += " ORDER BY sort_key, customer_id LIMIT ? OFFSET ?"
		args = append(args, pageSize(lq.Limit)+1, offset)
		q = tx.Model(&models.Customer{}).Where("deleted_at IS NULL").Where("id IN (SELECT customer_id FROM ("+pick+") page)", args...)
	} else {
		q = filtered(tx, lq.Filter, words)
		switch {
		case paged && lq.Sort == "created":
			q = q.Where("(created_at, id) "+cmp+" (?, ?)", after.At, after.ID)
		case paged:
			q = q.Where("("+expr+", id) "+cmp+" (?, ?)", after.Value, after.ID)
		case offset > 0:
			q = q.Offset(offset)
		}
	}
	sortKey := expr + " AS sort_key"
	if lq.Sort == "created" {
		sortKey = "'' AS sort_key" // the cursor takes created_at itself
	}
	q = q.Select(listColumns + ", " + listTagIDs + ", " + sortKey).Order(expr + dir + ", id" + dir).Limit(pageSize(lq.Limit) + 1)
	order := "p.sort_key" + dir + ", p.id" + dir
	if lq.Sort == "created" {
		order = "p.created_at" + dir + ", p.id" + dir
	}
	// The summary joined to the page: on every row, and on a row of its own when the page is
	// empty, so that an empty page needs no second statement.
	q = tx.Raw("SELECT p.*, s.* FROM (SELECT "+summarySelect+") s LEFT JOIN (?) p ON true ORDER BY "+order,
		append(summaryArgs(tx, lq, words), q)...)
	var page listed
	err := tenant.Rows(q, &[]models.Customer{}, func(r pgx.Rows) error {
		n := pageSize(lq.Limit) + 1
		page = listed{customers: make([]models.Customer, 0, n), tagIDs: make([]*string, 0, n), sortKeys: make([]string, 0, n)}
		for r.Next() {
			if r.RawValues()[0] == nil { // no customer (id, listColumns' first, is NULL): the summary alone
				return r.Scan(nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, &page.summary.Total, &page.summary.Columns, &page.summary.Tags)
			}
			page.customers = append(page.customers, models.Customer{})
			c := &page.customers[len(page.customers)-1]
			var tagIDs *string
			var sortKey string
			// Every row carries the summary; the first one's is read, the others' skipped (nil).
			var total, columns, tags any
			if len(page.customers) == 1 {
				total, columns, tags = &page.summary.Total, &page.summary.Columns, &page.summary.Tags
			}
			if err := r.Scan(&c.ID, &c.Kind, &c.Number, &c.Name, &c.Email, &c.Phone, &c.Company, &c.CreatedAt, &tagIDs, &sortKey,
				total, columns, tags); err != nil {
				return err
			}
			page.tagIDs, page.sortKeys = append(page.tagIDs, tagIDs), append(page.sortKeys, sortKey)
		}
		return nil
	})
	if err != nil {
		return listed{}, fmt.Errorf("list customers: %w", err)
	}
	return page, nil
}

// searchOnly reports whether f is a search by words and nothing else: the terms index alone
// can then pick and count the matches.
func searchOnly(f Filter, words []string) bool {
	return len(words) > 0 && f == Filter{Search: f.Search}
}

// filtered is the tenant's customers outside the trash that match f, whose search text has
// been split into words.
func filtered(tx *gorm.DB, f Filter, words []string) *gorm.DB {
	q := tx.Model(&models.Customer{}).Where("deleted_at IS NULL")
	switch {
	case len(words) > 0:
		// Each word must start a word of the customer's name, email or company. The ranges
		// use text_pattern_ops comparisons, which row level security lets the index serve;
		// ILIKE it does not, its operator not being LEAKPROOF.
		match, args := termsMatch(words)
		q = q.Where("id IN (SELECT customer_id FROM ("+match+") m)", args...)
	case f.Search != "":
		// Nothing but punctuation: match it literally, the slow way; such searches are rare.
		like := "%" + escapeLike(f.Search) + "%"
		q = q.Where("(name ILIKE ? OR email ILIKE ? OR company ILIKE ?)", like, like, like)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Tag != "" {
		q = q.Where("id IN (?)", tx.Model(&models.CustomerTag{}).Select("customer_id").Where("tag_id = ?", f.Tag))
	}
	if f.From != "" {
		q = q.Where("created_at >= ?::date", f.From)
	}
	if f.To != "" {
		q = q.Where("created_at < ?::date + 1", f.To)
	}
	return q
}

// termsMatch is the SQL picking (customer_id, sort_key) of the customers that have a term
// starting with each of words.
func termsMatch(words []string) (string, []any) {
	parts := make([]string, len(words))
	args := make([]any, 0, 2*len(words))
	for i, w := range words {
		parts[i] = "SELECT customer_id, sort_key FROM customer_terms WHERE tenant_id = current_tenant_id() AND term ~>=~ ? AND term ~<~ ?"
		args = append(args, w, w+maxRune)
	}
	return strings.Join(parts, " INTERSECT "), args
}

// cleanSearch keeps what PostgreSQL can compare: valid UTF-8 in NFC (as customers are stored)
// without control characters, at most 200 characters.
func cleanSearch(s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, ""))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200])
	}
	return s
}

// maxRune sorts after every character (byte-wise, as text_pattern_ops compares): word+maxRune
// bounds the words that start with word.
const maxRune = "\U0010FFFF"

// searchWords splits a search into words exactly as the schema splits customers into terms
// (customer_words: lower-cased runs of [:alnum:], as PostgreSQL's locale defines them): the
// first five different ones, each at most 100 characters. Words hold no spaces, so they travel space-separated.
func searchWords(tx *gorm.DB, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if words, ok := asciiWords(s); ok {
		return words, nil
	}
	return sqlWords(tx, s)
}

// sqlWords is searchWords by PostgreSQL's split.
func sqlWords(tx *gorm.DB, s string) ([]string, error) {
	var joined string
	err := tx.Raw(`SELECT coalesce(string_agg(w, ' ' ORDER BY n), '') FROM (
		SELECT left(w, 100) AS w, min(n) AS n FROM regexp_split_to_table(lower(?), '[^[:alnum:]]+') WITH ORDINALITY t(w, n)
		WHERE w <> '' GROUP BY 1 ORDER BY 2 LIMIT 5) words`, s).
		Scan(&joined).Error
	if err != nil {
		return nil, fmt.Errorf("search words: %w", err)
	}
	return strings.Fields(joined), nil
}

// asciiWords is searchWords without the round trip, for what needs no locale to split: ASCII
// without a capital I. Every locale lower-cases A–Z to a–z but those of Turkish descent
// (Turkish, Azeri, Crimean Tatar, …), where I becomes a dotless ı, and every locale's [:alnum:]
// holds exactly A–Z, a–z and 0–9 among ASCII. TestASCIIWordsSplitAsPostgreSQLDoes holds it to
// the SQL.
func asciiWords(s string) ([]string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == 'I' {
			return nil, false
		}
	}
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') }) {
		w = w[:min(len(w), 100)]
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
		if len(words) == 5 {
			break
		}
	}
	return words, true
}

// escapeLike makes s match itself literally in a LIKE pattern (PostgreSQL's default escape
// character is the backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// sortNames are the names of the list's orders, which a cursor must be made for.
func sortNames() []string {
	names := make([]string, 0, len(Sorts))
	for n := range Sorts {
		names = append(names, n)
	}
	return names
}
