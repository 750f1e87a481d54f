// Package keyset is the cursor of every keyset-paged list: where a page ended, in the order it
// was listed by. It travels through the browser as an opaque string and is checked when it
// comes back, so a hand-edited one is simply no cursor.
package keyset

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Cursor is the last row of a page: its value in the sort order and its id, the tie-break.
type Cursor struct {
	Sort  string    `json:"s,omitempty"` // the order, by the list's name for it
	Desc  bool      `json:"d,omitempty"`
	Value string    `json:"v,omitempty"` // the sort expression's value, for orders by text
	At    time.Time `json:"t,omitzero"`  // the value, for orders by time
	ID    uuid.UUID `json:"i"`
}

// maxLen bounds what Decode reads: a sort value is at most a few hundred characters.
const maxLen = 1200

// Encode returns the cursor as a URL-safe string.
func (c Cursor) Encode() string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Decode reads a cursor made by Encode for one of sorts (any sort when none is named). ok is
// false for anything else: a cursor of another order, a malformed or oversized one, one without
// an id, or a value PostgreSQL could not compare (invalid UTF-8, NUL).
func Decode(s string, sorts ...string) (c Cursor, ok bool) {
	if s == "" || len(s) > maxLen {
		return Cursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == uuid.Nil ||
		!utf8.ValidString(c.Value) || strings.ContainsRune(c.Value, 0) {
		return Cursor{}, false
	}
	if len(sorts) > 0 && !slices.Contains(sorts, c.Sort) {
		return Cursor{}, false
	}
	return c, true
}
