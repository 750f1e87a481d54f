package csvimport

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

var names = map[string]bool{"name": true, "email": true, "e-mail": true, "company": true}

func TestDetect(t *testing.T) {
	latin, _ := charmap.Windows1252.NewEncoder().String("Name;Company\nZoë;Café\n")
	for _, c := range []struct {
		name, text string
		want       Format
	}{
		{"utf-8, commas, header by name", "Name,Email\nAda,ada@example.com\n", Format{"utf-8", ',', true}},
		{"bom", "\xEF\xBB\xBFName;E-mail\nAda;ada@example.com\n", Format{"utf-8-bom", ';', true}},
		{"windows-1252", latin, Format{"windows-1252", ';', true}},
		{"tabs", "Kunde\tMail\nAda\tada@example.com\n", Format{"utf-8", '\t', true}},
		{"no header", "Ada,ada@example.com\nGrace,grace@example.com\n", Format{"utf-8", ',', false}},
		{"quoted delimiters", "\"Lovelace, Ada\";x@example.com\n\"Hopper, Grace\";y@example.com\n", Format{"utf-8", ';', false}},
		{"bars", "name|email\nAda|a@x.io\n", Format{"utf-8", '|', true}},
		{"a character cut at the end of the sample", "name,company\nZoë,Caf\xC3", Format{"utf-8", ',', true}},
	} {
		if got := Detect([]byte(c.text), names); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestReaderDecodes(t *testing.T) {
	latin, _ := charmap.Windows1252.NewEncoder().String("Zoë;Café Zürich\n")
	r := Reader(strings.NewReader(latin), Format{Encoding: "windows-1252", Delimiter: ';'})
	row, err := r.Read()
	if err != nil || row[0] != "Zoë" || row[1] != "Café Zürich" {
		t.Fatalf("%q %v", row, err)
	}
	r = Reader(strings.NewReader("\xEF\xBB\xBFname,x\n"), Format{Encoding: "utf-8-bom", Delimiter: ','})
	if row, _ := r.Read(); row[0] != "name" {
		t.Fatalf("the byte order mark stayed: %q", row[0])
	}
	// A file shorter than a byte order mark reads as it is.
	if b, _ := io.ReadAll(Decoder(strings.NewReader("a"), "utf-8-bom")); string(b) != "a" {
		t.Fatalf("%q", b)
	}
}

func TestColumnsAndNormalize(t *testing.T) {
	if got := Columns([]string{"Name", " ", "E-mail"}, true); got[1] != "Column 2" || got[2] != "E-mail" {
		t.Fatalf("%q", got)
	}
	if got := Columns([]string{"Ada", "x"}, false); got[0] != "Column 1" {
		t.Fatalf("%q", got)
	}
	if got := Normalize("  E-Mail  Address: "); got != "e-mail address" {
		t.Fatalf("%q", got)
	}
}
