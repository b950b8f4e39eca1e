// Package migrations embeds the numbered SQL migrations into the binary.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
