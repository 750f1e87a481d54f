// Package csvexport streams records out as CSV: a batch at a time, so memory stays that of one
// batch at any size, with every cell kept from being read as a formula by spreadsheets.
package csvexport

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Stream writes header, then the rows of each batch next returns, until a batch comes back
// smaller than size. next gets the last record of the previous batch (nil for the first), to
// continue after it; row turns a record into its cells. Each batch is flushed as it is written.
func Stream[T any](w io.Writer, header []string, size int, next func(last *T) ([]T, error), row func(T) []string) error {
	out := csv.NewWriter(w)
	out.Write(header) //nolint:errcheck // checked at Flush
	var last *T
	for {
		batch, err := next(last)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, rec := range batch {
			out.Write(Safe(row(rec)...)) //nolint:errcheck // checked at Flush
		}
		out.Flush()
		if err := out.Error(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if len(batch) < size {
			return nil
		}
		last = &batch[len(batch)-1]
	}
}

// Safe gives a cell that starts with = + - @, a tab or a carriage return a leading apostrophe
// (CSV injection), in place, and returns cells.
func Safe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
