// Package csvimport reads the spreadsheets people export from other systems: it tells their
// encoding (UTF-8, with or without a byte order mark, or Windows-1252), their delimiter and
// whether they start with a header, and reads them as a stream of rows.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Format is how a file is written.
type Format struct {
	Encoding  string // utf-8, utf-8-bom or windows-1252
	Delimiter rune   // , ; tab or |
	Header    bool   // its first row names the columns
}

// Delimiters are the delimiters Detect considers, in the order it prefers them on a tie.
var Delimiters = []rune{',', ';', '\t', '|'}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Detect tells the format of a file from its first bytes (64 KiB are plenty). names are the
// words a header might use (the fields' names and aliases, lower case): a first row using one
// of them, or with no digit or @ where the second row has some, is a header.
func Detect(head []byte, names map[string]bool) Format {
	f := Format{Encoding: "utf-8"}
	switch {
	case bytes.HasPrefix(head, bom):
		f.Encoding = "utf-8-bom"
	case !validUTF8Prefix(head):
		f.Encoding = "windows-1252"
	}
	text := decodeHead(head, f.Encoding)
	f.Delimiter = delimiter(text)
	rows := sample(text, f.Delimiter, 2)
	if len(rows) > 0 {
		f.Header = header(rows, names)
	}
	return f
}

// validUTF8Prefix reports whether b is UTF-8, allowing a character cut off at its end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

func decodeHead(head []byte, encoding string) string {
	r, _ := io.ReadAll(Decoder(bytes.NewReader(head), encoding))
	return string(r)
}

// Decoder is r as UTF-8 text, without a byte order mark.
func Decoder(r io.Reader, encoding string) io.Reader {
	switch encoding {
	case "windows-1252":
		return transform.NewReader(r, charmap.Windows1252.NewDecoder())
	case "utf-8-bom":
		return &skipBOM{r: r}
	}
	return r
}

type skipBOM struct {
	r       io.Reader
	checked bool
}

func (s *skipBOM) Read(p []byte) (int, error) {
	if !s.checked {
		s.checked = true
		var b [3]byte
		n, err := io.ReadFull(s.r, b[:])
		if n < 3 || !bytes.Equal(b[:], bom) {
			s.r = io.MultiReader(bytes.NewReader(b[:n]), s.r)
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				return 0, err
			}
		}
	}
	return s.r.Read(p)
}

// delimiter is the delimiter that splits the first lines into the most columns, the same
// number on each.
func delimiter(text string) rune {
	lines := strings.SplitN(text, "\n", 6)
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut off
	}
	best, bestScore := ',', 0
	for _, d := range Delimiters {
		rows := sample(strings.Join(lines, "\n"), d, len(lines))
		if len(rows) == 0 {
			continue
		}
		n, same := len(rows[0]), true
		for _, r := range rows[1:] {
			same = same && len(r) == n
		}
		score := n
		if !same {
			score = n / 2
		}
		if n > 1 && score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// sample reads up to n rows of text.
func sample(text string, d rune, n int) [][]string {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = d, -1, true
	var rows [][]string
	for len(rows) < n {
		row, err := r.Read()
		if err != nil {
			break
		}
		rows = append(rows, row)
	}
	return rows
}

func header(rows [][]string, names map[string]bool) bool {
	looksLikeData := func(cell string) bool { return strings.ContainsAny(cell, "@0123456789") }
	first := rows[0]
	for _, cell := range first {
		if names[Normalize(cell)] {
			return true
		}
	}
	if len(rows) < 2 {
		return false
	}
	firstData, secondData := false, false
	for _, cell := range first {
		firstData = firstData || looksLikeData(cell)
	}
	for _, cell := range rows[1] {
		secondData = secondData || looksLikeData(cell)
	}
	return !firstData && secondData
}

// Normalize is a column name as mappings compare it: lower case, single spaces, no
// punctuation around it ("E-mail " → "e-mail").
func Normalize(name string) string {
	name = strings.ToLower(strings.Join(strings.Fields(name), " "))
	return strings.Trim(name, " \"'*:#.")
}

// Reader reads the rows of r, written as f says. Rows may have any number of cells.
func Reader(r io.Reader, f Format) *csv.Reader {
	c := csv.NewReader(Decoder(r, f.Encoding))
	c.Comma, c.FieldsPerRecord, c.LazyQuotes, c.ReuseRecord = f.Delimiter, -1, true, false
	return c
}

// Columns names the columns of a file whose first row is first: its cells when it is a
// header, otherwise "Column 1", "Column 2" and so on.
func Columns(first []string, header bool) []string {
	out := make([]string, len(first))
	for i, cell := range first {
		if header && strings.TrimSpace(cell) != "" {
			out[i] = strings.TrimSpace(cell)
		} else {
			out[i] = fmt.Sprintf("Column %d", i+1)
		}
	}
	return out
}
