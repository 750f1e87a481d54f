package pages

import "strings"

// part is a piece of a mail body: text, or a link to show as one.
type part struct {
	Text string
	Link bool
}

// linkParts splits body at the web addresses it holds (each on a line of its own, as Moat
// writes them).
func linkParts(body string) []part {
	var out []part
	for _, line := range strings.SplitAfter(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "http://") || strings.HasPrefix(trimmed, "https://") {
			out = append(out, part{Text: trimmed, Link: true}, part{Text: "\n"})
			continue
		}
		out = append(out, part{Text: line})
	}
	return out
}
