// Package static embeds the files served under /static: the CSS built by Tailwind, htmx and
// Swagger UI copied from their npm packages, Moat's small scripts, and the styles of printed
// invoices.
package static

import "embed"

// FS holds the static files.
//
//go:embed app.css app.js htmx.min.js print.css api-docs.js swagger-ui
var FS embed.FS
