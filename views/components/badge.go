package components

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Badge is a small coloured label: kind is success, warn, error, info or
// neutral (anything else is a plain badge). It is written in Go rather
// than templ because it is drawn on every row of long tables, and a templ
// component costs a closure, a context and several context lookups per
// call; this one costs one small allocation.
func Badge(kind, text string) templ.Component { return badge{kind: kind, text: text} }

type badge struct{ kind, text string }

// badgeOpen is each kind's opening tag.
var badgeOpen = map[string]string{
	"success": `<span class="badge badge-success">`,
	"warn":    `<span class="badge badge-warn">`,
	"error":   `<span class="badge badge-error">`,
	"info":    `<span class="badge badge-info">`,
	"neutral": `<span class="badge badge-neutral">`,
}

func (b badge) Render(_ context.Context, w io.Writer) error {
	open, ok := badgeOpen[b.kind]
	if !ok {
		open = `<span class="badge">`
	}
	if _, err := io.WriteString(w, open); err != nil {
		return err
	}
	if err := writeEscaped(w, b.text); err != nil {
		return err
	}
	_, err := io.WriteString(w, "</span>")
	return err
}
