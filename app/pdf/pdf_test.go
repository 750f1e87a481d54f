package pdf_test

import (
	"bytes"
	"context"
	"testing"

	"moat/app/pdf"
)

// Chromium prints a document to a PDF, twice on one browser. make test installs Debian's
// Chromium; without it this fails, saying so.
func TestPrintsHTMLToPDF(t *testing.T) {
	p := pdf.New("/usr/bin/chromium")
	defer p.Close()
	for i := range 2 {
		out, err := p.Print(context.Background(), `<!doctype html><html><head><style>h1{color:#333}</style></head><body><h1>Invoice INV-2026-0001</h1><script>document.title='ran'</script></body></html>`)
		if err != nil {
			t.Fatalf("print %d: %v (make test installs Debian's chromium)", i+1, err)
		}
		if !bytes.HasPrefix(out, []byte("%PDF-")) || len(out) < 1000 {
			t.Fatalf("print %d: %d bytes starting %q", i+1, len(out), out[:min(8, len(out))])
		}
	}
	if _, err := pdf.New("/nonexistent/chromium").Print(context.Background(), "<p>x</p>"); err == nil {
		t.Fatal("a missing Chromium printed")
	}
}
