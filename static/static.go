// Package static embeds the files served under /static: the CSS built by Tailwind, htmx copied
// from its npm package, Moat's small script, and the styles of printed invoices.
package static

import "embed"

// FS holds the static files.
//
//go:embed app.css app.js htmx.min.js print.css
var FS embed.FS
