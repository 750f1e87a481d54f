// Package fragments holds the pieces htmx swaps; each has a stable root id matching its
// hx-target.
package fragments

import (
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"moat/models"
)

func customerURL(c models.Customer) templ.SafeURL {
	return templ.SafeURL("/customers/" + c.ID.String())
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// device names a browser from its user agent, roughly: enough to tell sessions apart.
func device(ua string) string {
	browser, system := "Browser", ""
	for _, b := range []string{"Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"} {
		if strings.Contains(ua, b) {
			browser = map[string]string{"Edg/": "Edge", "Firefox/": "Firefox", "Chrome/": "Chrome", "Safari/": "Safari", "curl/": "curl"}[b]
			break
		}
	}
	for _, s := range []string{"Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"} {
		if strings.Contains(ua, s) {
			system = s
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// expiry names a token's lifetime of days days, 0 being for ever.
func expiry(days int) string {
	if days == 0 {
		return "never"
	}
	return "in " + strconv.Itoa(days) + " days"
}

// importStatus says an import's status in words.
func importStatus(s string) string {
	return map[string]string{
		models.ImportReceiving: "Uploading", models.ImportUploaded: "Ready to check", models.ImportChecking: "Checking",
		models.ImportChecked: "Checked", models.ImportImporting: "Importing", models.ImportImported: "Imported",
		models.ImportReverting: "Undoing", models.ImportReverted: "Undone", models.ImportFailed: "Failed",
	}[s]
}

// progressTotal is what a running import's progress counts up to: its rows, or for an undo
// the customers it wrote.
func progressTotal(b models.ImportBatch) int {
	if b.Status == models.ImportReverting {
		return b.ToCreate + b.ToUpdate
	}
	return b.RowsTotal
}

// countLabel names a count: what a check found, or what the import did.
func countLabel(status, what string) string {
	if status == models.ImportChecked {
		return map[string]string{"create": "To add", "update": "To change"}[what]
	}
	return map[string]string{"create": "Added", "update": "Changed"}[what]
}

func delimiterName(d string) string {
	return map[string]string{",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[d]
}

func cellAt(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// firstError is one of errs' messages, the same one each time.
func firstError(errs map[string]string) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return errs[keys[0]]
}

// rejectionPlace says where a refused row is: its line in a CSV file, or its place among an
// export's customers.
func rejectionPlace(b models.ImportBatch, line int) string {
	if b.Kind == models.ImportRestore {
		return "Customer " + strconv.Itoa(line)
	}
	return "Line " + strconv.Itoa(line)
}

// matchKeyLabel names a field that matches an import's rows to records.
func matchKeyLabel(key string) string {
	switch key {
	case "number":
		return "Customer number"
	case "sku":
		return "SKU"
	}
	return "Email"
}
