// Package components holds stateless view pieces that take a props struct.
package components

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

func inputClass(invalid bool) string {
	base := "block w-full rounded-md border px-3 py-2 text-sm shadow-sm focus:outline-none focus:ring-2 "
	if invalid {
		return base + "border-rose-400 focus:ring-rose-500"
	}
	return base + "border-slate-300 focus:border-indigo-500 focus:ring-indigo-500"
}

func orString(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
