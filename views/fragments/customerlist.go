package fragments

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"moat/app/store"
	"moat/models"
)

// ListState is the customer list's filter and order: everything its URL carries.
type ListState struct {
	Search, Kind, Tag, From, To string
	Sort                        string
	Desc                        bool
}

// Values is the state as URL values, leaving out defaults.
func (s ListState) Values() url.Values {
	v := url.Values{}
	for _, p := range s.params(1, "") {
		v.Set(p.key, p.value)
	}
	return v
}

// URL links to page of the list in this state; after is the keyset cursor, if any.
func (s ListState) URL(page int, after string) string {
	return string(s.appendURL(make([]byte, 0, 128), page, after, "&"))
}

// appendURL appends URL's result, separating parameters with amp: "&", or "&amp;" in HTML.
// Nothing else in it needs HTML escaping: QueryEscape leaves only letters, digits and -_.~%+.
func (s ListState) appendURL(b []byte, page int, after, amp string) []byte {
	b = append(b, "/customers"...)
	for i, p := range s.params(page, after) {
		if i == 0 {
			b = append(b, '?')
		} else {
			b = append(b, amp...)
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(p.value)...)
	}
	return b
}

type param struct{ key, value string }

// params is the state as URL parameters, leaving out defaults, in key order (as
// url.Values.Encode writes them), with page and the keyset cursor after.
func (s ListState) params(page int, after string) []param {
	ps := make([]param, 0, 9)
	add := func(key, value string) {
		if value != "" {
			ps = append(ps, param{key, value})
		}
	}
	add("after", after)
	if s.Desc {
		add("dir", "desc")
	}
	add("from", s.From)
	add("kind", s.Kind)
	if page > 1 {
		add("page", strconv.Itoa(page))
	}
	add("q", s.Search)
	if s.Sort != "name" {
		add("sort", s.Sort)
	}
	add("tag", s.Tag)
	add("to", s.To)
	return ps
}

// Filtered reports whether anything narrows the list.
func (s ListState) Filtered() bool {
	return s.Search != "" || s.Kind != "" || s.Tag != "" || s.From != "" || s.To != ""
}

// SortURL orders the list by col: ascending, or descending when it is already ascending.
func (s ListState) SortURL(col string) string {
	desc := s.Sort == col && !s.Desc
	s.Sort, s.Desc = col, desc
	return s.URL(1, "")
}

// ariaSort is the aria-sort value of column col's header.
func (s ListState) ariaSort(col string) string {
	switch {
	case s.Sort != col:
		return "none"
	case s.Desc:
		return "descending"
	}
	return "ascending"
}

// QuickFilter is a one-click filter of the list.
type QuickFilter struct {
	Label, URL string
	Active     bool
}

// FilterCount is how many of the filters behind the Filters button are set.
func (s ListState) FilterCount() int {
	n := 0
	for _, v := range []string{s.Kind, s.Tag, s.From, s.To} {
		if v != "" {
			n++
		}
	}
	return n
}

// quickFilters are the list's one-click views; each keeps the order and drops other filters.
func quickFilters(s ListState, tags []models.Tag, today time.Time) []QuickFilter {
	base := ListState{Sort: s.Sort, Desc: s.Desc}
	recent := base
	recent.From = today.AddDate(0, 0, -30).Format(time.DateOnly)
	companies, people := base, base
	companies.Kind, people.Kind = string(models.KindCompany), string(models.KindPerson)
	out := []QuickFilter{
		{"All", base.URL(1, ""), !s.Filtered()},
		{"Companies", companies.URL(1, ""), s == companies},
		{"People", people.URL(1, ""), s == people},
		{"Added in the last 30 days", recent.URL(1, ""), s == recent},
	}
	for _, t := range tags {
		tagged := base
		tagged.Tag = t.ID.String()
		out = append(out, QuickFilter{"#" + t.Name, tagged.URL(1, ""), s == tagged})
	}
	return out
}

// Column is one of the list's optional columns.
type Column struct {
	Key, Label string
	Sortable   bool
}

// Columns are the list's optional columns in display order (store.Columns names the same).
var Columns = []Column{
	{"number", "Number", true}, {"email", "Email", true}, {"phone", "Phone", false}, {"company", "Company", true},
	{"kind", "Type", false}, {"tags", "Tags", false}, {"created", "Added", true},
}

func visible(cols []string) []Column {
	var out []Column
	for _, c := range Columns {
		if slices.Contains(cols, c.Key) {
			out = append(out, c)
		}
	}
	return out
}

func cell(c models.Customer, col string) string {
	switch col {
	case "number":
		return c.Number
	case "email":
		return c.Email
	case "phone":
		return c.Phone
	case "company":
		return c.Company
	case "kind":
		return kindLabel(c.Kind)
	case "created":
		return c.CreatedAt.UTC().Format("2 Jan 2006")
	}
	return ""
}

func kindLabel(k models.CustomerKind) string {
	if k == models.KindPerson {
		return "Person"
	}
	return "Company"
}

// countText is the list's count: exact up to the cap, then "1,000+".
func countText(total int64, capped bool) string {
	if capped {
		return "1,000+ customers"
	}
	if total == 1 {
		return "1 customer"
	}
	return thousands(total) + " customers"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TimelineEntry is a note or an audited operation in a customer's timeline.
type TimelineEntry struct {
	When      time.Time
	Who       string
	Note      string // a note's text; empty for operations
	Action    string
	Outcome   models.Outcome
	Changes   []Change
	Views     int         // a person's views on When's day, folded into this one entry
	ViewTimes []time.Time // the newest of them, listed when the entry is opened
}

// The parts of a timeline one can show alone.
var TimelineParts = []Labelled{{"", "All"}, {"changes", "Changes"}, {"notes", "Notes"}, {"views", "Views"}}

// InTimelinePart reports whether e belongs to part (all when empty).
func InTimelinePart(e TimelineEntry, part string) bool {
	switch part {
	case "changes":
		return e.Note == "" && e.Views == 0
	case "notes":
		return e.Note != ""
	case "views":
		return e.Views > 0
	}
	return true
}

func viewedText(e TimelineEntry) string {
	return "viewed it " + timesText(e.Views) + " on " + e.When.UTC().Format("2 Jan 2006")
}

// timesText says "once", "14 times".
func timesText(n int) string {
	if n == 1 {
		return "once"
	}
	return thousands(int64(n)) + " times"
}

// SortTimeline puts the newest entries first.
func SortTimeline(t []TimelineEntry) {
	sort.SliceStable(t, func(i, j int) bool { return t[i].When.After(t[j].When) })
}

func timelineVerb(e TimelineEntry) string {
	if e.Outcome == models.OutcomeRejected {
		if e.Action == "customer.note" {
			return "tried to add an empty or over-long note"
		}
		return "tried to change it (refused as invalid)"
	}
	verb := map[string]string{
		"customer.view": "viewed it", "customer.create": "created it", "customer.update": "changed it",
		"customer.trash": "moved it to the trash", "customer.restore": "restored it", "customer.delete": "deleted it",
		"customer.note": "tried to add a note", "customer.tag": "tagged it", "customer.untag": "untagged it",
	}[e.Action]
	if verb == "" {
		verb = e.Action
	}
	if e.Outcome == models.OutcomeDenied {
		return verb + " (denied)"
	}
	return verb
}

var fieldLabels = map[string]string{
	"kind": "type", "number": "number", "name": "name", "company": "company", "emails": "emails", "phones": "phones",
	"website": "website", "tax_id": "tax id", "billing_address": "billing address", "shipping_address": "shipping address",
	"currency": "currency", "payment_terms": "payment terms (days)", "tags": "tags",
}

func has(list []string, s string) bool { return slices.Contains(list, s) }

// Plural says "1 customer", "2 customers", "1,000 customers".
func Plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

func bulkQuestion(p BulkProps) string {
	switch p.Action {
	case "trash":
		return "Move " + Plural(p.Count, "customer") + " to the trash?"
	case "tag":
		return "Add the tag “" + p.TagName + "” to " + Plural(p.Count, "customer") + "?"
	case "untag":
		return "Remove the tag “" + p.TagName + "” from " + Plural(p.Count, "customer") + "?"
	}
	return "Export " + Plural(p.Count, "customer") + " as CSV?"
}

func bulkVerb(p BulkProps) string {
	return map[string]string{"trash": "Move to trash", "tag": "Add tag", "untag": "Remove tag", "export": "Download CSV"}[p.Action]
}

func duplicateReason(d store.Duplicate) string {
	var why []string
	if d.SameEmail {
		why = append(why, "same email")
	}
	if d.SameTaxID {
		why = append(why, "same tax id")
	}
	if d.SimilarName {
		why = append(why, "similar name")
	}
	return strings.Join(why, ", ")
}

// filled drops the empty rows of a repeated field, keeping each value's type beside it, as the
// store does before it validates: so a re-rendered form's rows, and the errors by row number,
// match what was checked, and each 422 adds no extra empty row.
func filled(values, types []string) ([]string, []string) {
	var vs, ts []string
	for i, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		t := ""
		if i < len(types) {
			t = types[i]
		}
		vs, ts = append(vs, v), append(ts, t)
	}
	return vs, ts
}
