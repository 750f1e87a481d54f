// Package csvcell keeps exported CSV cells from being read as formulas by spreadsheets.
package csvcell

import "strings"

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
