package fragments

import (
	"context"
	"encoding/hex"
	"html"
	"io"
	"sync"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"moat/models"
)

// customerTable writes the list's table head and rows. They are the hot path of the busiest
// page, so they are written here rather than in templ, whose generated code spends an
// allocation or two on each of a row's dozen values (an interface conversion per attribute,
// fmt.Sprint per text) and a call through the writer on each piece. Here the table is appended
// to one pooled buffer and written once. Every value is HTML-escaped as templ escapes it
// (html.EscapeString); ids are written from their bytes. The markup is what the rest of the
// page (static/app.js, the tests) expects: keep it in step with TagChips.
func customerTable(s ListState, customers []models.Customer, cols []Column) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		buf := tableBuffers.Get().(*[]byte)
		defer tableBuffers.Put(buf)
		b := append((*buf)[:0], `<thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600"><tr><th scope="col" class="w-8 px-3 py-3"><input type="checkbox" data-select-page aria-label="Select every customer on this page" class="rounded border-slate-300"></th>`...)
		b = appendHeader(b, s, Column{"name", "Name", true})
		for _, col := range cols {
			b = appendHeader(b, s, col)
		}
		b = append(b, `<th scope="col" class="px-4 py-3"><span class="sr-only">Actions</span></th></tr></thead> <tbody class="divide-y divide-slate-100">`...)
		for i := range customers {
			b = appendRow(b, &customers[i], cols)
		}
		b = append(b, `</tbody>`...)
		*buf = b
		_, err := w.Write(b)
		return err
	})
}

// tableBuffers hold tables between renders: a page of 25 rows is about 25 KB.
var tableBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32*1024); return &b }}

// appendHeader appends col's header: a link that sorts by it, if it can.
func appendHeader(b []byte, s ListState, col Column) []byte {
	sort := s.ariaSort(col.Key)
	b = append(b, `<th scope="col" class="px-4 py-3`...)
	if col.Key != "name" && col.Key != "email" { // phones show name and email
		b = append(b, ` hidden md:table-cell`...)
	}
	b = append(b, `" aria-sort="`...)
	b = append(b, sort...)
	b = append(b, `">`...)
	if !col.Sortable {
		b = appendText(b, col.Label)
		return append(b, `</th>`...)
	}
	sorted := s
	sorted.Sort, sorted.Desc = col.Key, s.Sort == col.Key && !s.Desc
	var buf [256]byte
	url := sorted.appendURL(buf[:0], 1, "", "&amp;")
	b = append(b, `<a href="`...)
	b = append(b, url...)
	b = append(b, `" hx-get="`...)
	b = append(b, url...)
	b = append(b, `" hx-target="#customer-results" hx-swap="outerHTML" hx-push-url="true" class="inline-flex items-center gap-1 hover:text-slate-900" data-testid="sort-`...)
	b = appendText(b, col.Key)
	b = append(b, `">`...)
	b = appendText(b, col.Label)
	switch sort {
	case "ascending":
		b = append(b, ` <span aria-hidden="true">▲</span>`...)
	case "descending":
		b = append(b, ` <span aria-hidden="true">▼</span>`...)
	default:
		b = append(b, ' ')
	}
	return append(b, `</a></th>`...)
}

func appendRow(b []byte, c *models.Customer, cols []Column) []byte {
	var idText [36]byte
	id := idText[:]
	setID(&idText, c.ID)
	b = append(b, `<tr id="customer-row-`...)
	b = append(b, id...)
	b = append(b, `" data-testid="customer-row" class="hover:bg-slate-50"><td class="px-3 py-3"><input type="checkbox" name="id" value="`...)
	b = append(b, id...)
	b = append(b, `" data-select-row aria-label="Select `...)
	b = appendText(b, c.Name)
	b = append(b, `" class="rounded border-slate-300"></td><td class="px-4 py-3 font-medium"><a href="/customers/`...)
	b = append(b, id...)
	b = append(b, `" hx-get="/customers/`...)
	b = append(b, id...)
	b = append(b, `" hx-target="#content" hx-push-url="true" class="text-indigo-700 hover:underline">`...)
	b = appendText(b, c.Name)
	b = append(b, `</a></td>`...)
	for _, col := range cols {
		switch col.Key {
		case "email":
			b = append(b, ` <td class="px-4 py-3 text-slate-700">`...)
			b = appendText(b, c.Email)
		case "tags":
			b = append(b, ` <td class="hidden px-4 py-3 text-slate-700 md:table-cell">`...)
			b = appendTags(b, c.Tags)
		default:
			b = append(b, ` <td class="hidden px-4 py-3 text-slate-700 md:table-cell">`...)
			b = appendText(b, cell(*c, col.Key))
		}
		b = append(b, `</td>`...)
	}
	b = append(b, `<td class="px-4 py-3 text-right"><button type="button" hx-delete="/customers/`...)
	b = append(b, id...)
	b = append(b, `" hx-confirm="Move `...)
	b = appendText(b, c.Name)
	b = append(b, ` to the trash? You can restore it from the trash." hx-target="closest tr" hx-swap="outerHTML" class="rounded px-2 py-1 text-sm text-rose-700 hover:bg-rose-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-500" aria-label="Move `...)
	b = appendText(b, c.Name)
	return append(b, ` to the trash" data-testid="row-trash">Trash</button></td></tr>`...)
}

// appendTags appends what TagChips writes.
func appendTags(b []byte, tags []models.Tag) []byte {
	if len(tags) == 0 {
		return b
	}
	b = append(b, `<ul class="flex flex-wrap gap-1" aria-label="Tags">`...)
	for _, t := range tags {
		b = append(b, `<li class="tag rounded-full px-2 py-0.5 text-xs font-medium" data-color="`...)
		b = appendText(b, t.Color)
		b = append(b, `" data-testid="tag-chip">`...)
		b = appendText(b, t.Name)
		b = append(b, `</li>`...)
	}
	return append(b, `</ul>`...)
}

// appendText appends s escaped for HTML text and quoted attribute values, as templ does.
func appendText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if escaped[s[i]] {
			return append(b, html.EscapeString(s)...)
		}
	}
	return append(b, s...)
}

// escaped marks the bytes html.EscapeString replaces.
var escaped = [256]bool{'&': true, '\'': true, '<': true, '>': true, '"': true}

// setID writes id in its canonical text form, as uuid.UUID.String does, without allocating.
func setID(dst *[36]byte, id uuid.UUID) {
	hex.Encode(dst[0:8], id[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], id[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], id[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], id[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:], id[10:])
}
