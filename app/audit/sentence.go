package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"moat/models"
)

// A Sentence is an event as a person reads it: "Ada Owner changed Grace Hopper: email a@x → b@y".
// The record's name (a link when Link is set) stands between Before and After.
type Sentence struct {
	Who     string
	Before  string // "changed ", "tried to view "
	Record  string // "Grace Hopper", "a customer", "an unknown record"; empty when the action names none
	Link    string // the record's page
	After   string // " to the trash"
	Detail  string // what changed, how many, or why it was refused
	Refused string // empty when allowed: "refused", or "refused as invalid"
}

// Text is the sentence as plain text, for tests and titles.
func (s Sentence) Text() string {
	t := s.Who + " " + s.Before + s.Record + s.After
	if s.Detail != "" {
		t += ": " + s.Detail
	}
	if s.Refused != "" {
		t += " (" + s.Refused + ")"
	}
	return t
}

// Name is what a record is called in the trail, and its page.
type Name struct{ Text, Link string }

// Names are records' names by entity and id, read with the page of the trail that shows them.
type Names map[string]Name

// NameKey is the key of a record in Names.
func NameKey(entity, id string) string { return entity + " " + id }

// Unknown is how the trail names a record that is not, or no longer, the tenant's. Ids of other
// tenants' records, ids that never existed and purged records all read the same.
const Unknown = "an unknown record"

// Describe makes the sentence of event e, naming its record from names.
func Describe(e Entry, names Names) Sentence {
	s := Sentence{Who: e.UserName}
	if s.Who == "" {
		s.Who = "Someone"
	}
	if e.APIToken != nil {
		s.Who += " via API token " + *e.APIToken
	}
	meta, ok := Lookup(Action(e.Action))
	if !ok {
		s.Before = "did " + e.Action // Record refuses unregistered actions; old rows may hold one
		return s
	}
	before, phrase, after := splitLabel(meta.Label)
	if e.Outcome != models.OutcomeAllowed {
		verb, rest, _ := strings.Cut(before, " ")
		before = "tried to " + baseVerbs[verb] + " " + rest
		s.Refused = "refused"
		if e.Outcome == models.OutcomeRejected {
			s.Refused = "refused as invalid"
		}
	}
	s.Before, s.After = before, after
	details := decode(e.Details)
	if phrase != "" {
		var kept string
		s.Record, s.Link, kept = recordName(e, phrase, details, names)
		delete(details, kept) // said once is enough
	}
	s.Detail = summary(Action(e.Action), e.Outcome, details)
	return s
}

// splitLabel cuts "moved {a customer} to the trash" into its words before, in and after braces.
func splitLabel(label string) (before, phrase, after string) {
	before, rest, ok := strings.Cut(label, "{")
	if !ok {
		return label, "", ""
	}
	phrase, after, _ = strings.Cut(rest, "}")
	return before, phrase, after
}

// recordName names the event's record: by its name today; by the path of a page or request;
// by the name the event itself kept, for a record since deleted; else by the label's words.
// A refused event's unnamed record is Unknown, whoever owns it.
// kept is the key of the details that named it, if any.
func recordName(e Entry, phrase string, details map[string]any, names Names) (name, link, kept string) {
	if n, ok := names[NameKey(e.Entity, e.EntityID)]; ok {
		return n.Text, n.Link, ""
	}
	switch {
	case Entity(e.Entity) == EntityPage || Entity(e.Entity) == EntityRequest:
		if e.EntityID != "" {
			return e.EntityID, "", ""
		}
	case e.Outcome != models.OutcomeAllowed && e.EntityID != "":
		return Unknown, "", ""
	}
	for _, k := range []string{"name", "email", "file", "number"} {
		if v, ok := details[k].(string); ok && v != "" && e.Outcome == models.OutcomeAllowed {
			return v, "", k
		}
	}
	return phrase, "", ""
}

// baseVerbs turns the first word of a label into what someone tried to do when refused.
var baseVerbs = map[string]string{
	"added": "add", "asked": "ask", "began": "begin", "built": "build", "called": "call",
	"cancelled": "cancel", "changed": "change", "checked": "check", "chose": "choose", "closed": "close",
	"counted": "count", "created": "create", "deactivated": "deactivate", "deleted": "delete",
	"downloaded": "download", "drafted": "draft", "ended": "end", "erased": "erase", "exported": "export",
	"finalized": "finalize", "finished": "finish", "invited": "invite", "issued": "issue", "joined": "join",
	"listed": "list", "mapped": "map", "marked": "mark", "moved": "move", "opened": "open", "reactivated": "reactivate",
	"read": "read", "recorded": "record", "removed": "remove", "reset": "reset", "restored": "restore",
	"retried": "retry", "reversed": "reverse", "revoked": "revoke", "sent": "send", "signed": "sign",
	"started": "start", "stored": "store", "tagged": "tag", "undid": "undo", "untagged": "untag",
	"uploaded": "upload", "used": "use", "viewed": "view", "voided": "void", "withdrew": "withdraw",
}

func decode(raw []byte) map[string]any {
	var d map[string]any
	if json.Unmarshal(raw, &d) != nil {
		return nil
	}
	return d
}

// summary says in words what the event's details hold: the changes, the counts, the reason
// for a refusal. The raw details stay one click away beside it.
func summary(a Action, outcome models.Outcome, d map[string]any) string {
	if d == nil {
		return ""
	}
	if d["erased"] == true {
		return "details erased with the customer"
	}
	if invalid, ok := d["invalid"].(map[string]any); ok {
		return pairs(invalid, 3, func(k string, v any) string { return field(k) + ": " + scalar(v) })
	}
	for _, k := range []string{"refused", "reason"} {
		if v, ok := d[k].(string); ok && v != "" {
			return v
		}
	}
	if outcome != models.OutcomeAllowed {
		return ""
	}
	switch a {
	case CustomerExport, InvoiceExport:
		if n, ok := d["count"].(float64); ok && n >= 0 {
			return plural(int64(n), map[Action]string{CustomerExport: "customer", InvoiceExport: "invoice"}[a]) + " as CSV"
		}
		return "as CSV"
	case InvoiceFinalize, InvoiceCreate:
		return joinNonEmpty(str(d, "number"), money(d, "total"), prefixed("for ", str(d, "customer")))
	case InvoicePayment:
		return joinNonEmpty(money(d, "amount"), prefixed("by ", str(d, "method")))
	case ProductStock:
		return joinNonEmpty(str(d, "kind"), prefixed("of ", str(d, "quantity")), prefixed("at ", str(d, "warehouse")))
	case ImportDone:
		return fmt.Sprintf("%s created, %s updated, %s skipped, %s refused", num(d, "created"), num(d, "updated"), num(d, "skipped"), num(d, "rejected"))
	}
	if changes, ok := changeSet(d); ok {
		return changeWords(changes)
	}
	return pairs(d, 4, func(k string, v any) string {
		if listing[k] {
			return ""
		}
		return fieldWords(k, v)
	})
}

// listing are details of how a list was shown, not what it showed.
var listing = map[string]bool{"page": true, "paged": true, "sort": true}

// changeSet reads details that are a field-by-field change: {"email": {"from": …, "to": …}}.
func changeSet(d map[string]any) (map[string][2]string, bool) {
	out := map[string][2]string{}
	for k, v := range d {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		from, okFrom := m["from"]
		to, okTo := m["to"]
		if !okFrom || !okTo {
			return nil, false
		}
		out[k] = [2]string{scalar(from), scalar(to)}
	}
	return out, len(out) > 0
}

// changeWords lists what changed, "email a@x → b@y"; a creation, where nothing was before,
// is the record itself and says nothing more.
func changeWords(changes map[string][2]string) string {
	keys := sortedKeys(changes)
	var parts []string
	for _, k := range keys {
		ch := changes[k]
		switch {
		case ch[0] == "":
			continue
		case ch[1] == "":
			parts = append(parts, field(k)+" "+short(ch[0])+" removed")
		default:
			parts = append(parts, field(k)+" "+short(ch[0])+" → "+short(ch[1]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if len(parts) > 4 {
		parts = append(parts[:4], "and "+strconv.Itoa(len(parts)-4)+" more")
	}
	return strings.Join(parts, ", ")
}

// pairs words up to max of d's entries, sorted by key, skipping those say leaves empty.
func pairs[V any](d map[string]V, max int, say func(k string, v V) string) string {
	var parts []string
	for _, k := range sortedKeys(d) {
		if p := say(k, d[k]); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > max {
		parts = append(parts[:max], "…")
	}
	return strings.Join(parts, ", ")
}

// scalar words a detail's value; ids, empty values and nested objects say nothing.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		if _, err := uuid.Parse(v); err == nil || v == "" {
			return ""
		}
		return short(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "yes"
		}
		return ""
	case []any:
		if len(v) == 0 {
			return ""
		}
		return strconv.Itoa(len(v))
	case map[string]any:
		return pairs(v, 3, fieldWords)
	}
	return ""
}

// fieldWords says "key value", or nothing when the value says nothing.
func fieldWords(k string, v any) string {
	if words := scalar(v); words != "" {
		return field(k) + " " + words
	}
	return ""
}

func field(k string) string { return strings.ReplaceAll(strings.ToLower(k), "_", " ") }

// short keeps a value readable in a sentence; the raw details keep all of it.
func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}

func str(d map[string]any, k string) string { s, _ := d[k].(string); return s }

func num(d map[string]any, k string) string {
	if s := scalar(d[k]); s != "" {
		return s
	}
	return "0"
}

func money(d map[string]any, k string) string {
	if str(d, k) == "" {
		return ""
	}
	return str(d, "currency") + " " + str(d, k)
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// joinNonEmpty joins the parts that say something with spaces.
func joinNonEmpty(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " ")
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
