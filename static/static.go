// Package static embeds the files served under /static: the CSS built by Tailwind, htmx copied
// from its npm package, and Moat's small script.
package static

import "embed"

// FS holds the static files.
//
//go:embed app.css app.js htmx.min.js
var FS embed.FS
