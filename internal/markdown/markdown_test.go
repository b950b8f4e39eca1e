package markdown_test

import (
	"strings"
	"testing"

	"accute/internal/markdown"
)

func TestRenderIsSafe(t *testing.T) {
	for _, src := range []string{
		"<script>alert(1)</script>",
		"[click](javascript:alert(1))",
		"<img src=x onerror=alert(1)>",
		"<iframe src=https://evil.example></iframe>",
		"<form action=/logout method=post><button>x</button></form>",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
		"```\n</code><script>alert(1)</script>\n```",
		"<svg><script>alert(1)</script></svg>",
	} {
		out := strings.ToLower(markdown.Render(src))
		for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "<iframe", "<form", "data:text", "<svg"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q rendered as %q, which contains %q", src, out, bad)
			}
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	out := markdown.Render("**VAT** is due:\n\n| Quarter | Due |\n|---|---|\n| Q1 | 7 May |\n\n- [x] filed\n\nSee https://gov.example/vat.")
	for _, want := range []string{"<strong>VAT</strong>", "<table>", "<td>Q1</td>", `href="https://gov.example/vat"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
}

func TestLinkCitations(t *testing.T) {
	links := map[int]markdown.Link{1: {Href: "/o/f/documents/a?passage=page+2#passage", Title: "Guide — page 2"}, 3: {Href: "/x?b=1&c=2", Title: `"quoted"`}}
	find := func(n int) (markdown.Link, bool) { l, ok := links[n]; return l, ok }
	html := markdown.Render("The rate is 20% [1], filed [3]; see [1, 3]. Unknown [2] stays. `code [1]` too.")
	out := markdown.LinkCitations(html, find)
	for _, want := range []string{
		`<sup class="cite">[<a class="cite-ref" href="/o/f/documents/a?passage=page+2#passage" title="Guide — page 2">1</a>]</sup>`,
		`href="/x?b=1&amp;c=2" title="&#34;quoted&#34;">3</a>`,
		`[<a class="cite-ref" href="/o/f/documents/a?passage=page+2#passage" title="Guide — page 2">1</a>, <a class="cite-ref"`,
		"Unknown [2] stays",
		"<code>code [1]</code>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
