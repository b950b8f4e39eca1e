package components

import (
	"bytes"
	"context"
	"testing"

	"github.com/a-h/templ"
)

// Text writes the same bytes as a { } expression (templ.EscapeString).
func TestTextEscapesLikeTempl(t *testing.T) {
	for _, s := range []string{"", "plain", `<b>"Smith" & O'Neil</b>`, "&&", "<", "trailing>", "ünïcødé — “quotes” \u2028", "\x00\xff"} {
		var buf bytes.Buffer
		if err := Text(s).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if want := templ.EscapeString(s); buf.String() != want {
			t.Errorf("Text(%q) = %q, want %q", s, buf.String(), want)
		}
	}
}

func TestTextDoesNotAllocate(t *testing.T) {
	var buf bytes.Buffer
	buf.Grow(1024)
	s := Text(`Smith & "Sons" <ltd>`)
	if n := testing.AllocsPerRun(100, func() {
		buf.Reset()
		_ = s.Render(context.Background(), &buf)
	}); n != 0 {
		t.Fatalf("%v allocations per Render", n)
	}
}

// Badge writes what its templ version did: a span with the kind's class.
func TestBadge(t *testing.T) {
	for _, c := range []struct{ kind, text, want string }{
		{"success", "Active", `<span class="badge badge-success">Active</span>`},
		{"warn", "Archived", `<span class="badge badge-warn">Archived</span>`},
		{"error", "Failed", `<span class="badge badge-error">Failed</span>`},
		{"info", "Business", `<span class="badge badge-info">Business</span>`},
		{"neutral", "Individual", `<span class="badge badge-neutral">Individual</span>`},
		{"", "Plain", `<span class="badge">Plain</span>`},
		{`"><script>`, `<b>&`, `<span class="badge">&lt;b&gt;&amp;</span>`},
	} {
		var buf bytes.Buffer
		if err := Badge(c.kind, c.text).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("Badge(%q, %q) = %s, want %s", c.kind, c.text, buf.String(), c.want)
		}
	}
}
