// Package markdown renders Markdown written by AI agents (and people) as
// HTML that is safe to put into a page: goldmark with GitHub's extensions
// (tables, strikethrough, task lists, autolinks) and no raw HTML, then
// bluemonday's policy for user content, so nothing the model writes can
// run script, load a frame or post a form, whatever it was prompted with.
package markdown

import (
	"bytes"
	"html"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	xhtml "golang.org/x/net/html"
)

// Renderer converts Markdown to sanitized HTML. It is safe for concurrent
// use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New builds a renderer.
func New() *Renderer {
	// goldmark without html.WithUnsafe drops raw HTML and javascript:
	// links; the sanitizer is the second, independent line.
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+-]+$`)).OnElements("code")
	return &Renderer{md: md, policy: p}
}

var shared = sync.OnceValue(New)

// Render converts src with a shared renderer.
func Render(src string) string { return shared().Render(src) }

// Render converts src to sanitized HTML.
func (r *Renderer) Render(src string) string {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only on a writer error; fall back to text.
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	return r.policy.Sanitize(buf.String())
}

// Link is where a citation marker points.
type Link struct {
	Href  string
	Title string
}

// markers are citation markers in text: [3], [1, 2].
var markers = regexp.MustCompile(`\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]`)

// LinkCitations turns citation markers ([3], [1, 2]) in safe HTML from
// Render into links to the passages they cite; markers of unknown refs,
// and markers inside code or links, stay text.
func LinkCitations(safe string, link func(ref int) (Link, bool)) string {
	if !strings.Contains(safe, "[") {
		return safe
	}
	z := xhtml.NewTokenizer(strings.NewReader(safe))
	var out strings.Builder
	skip := 0 // depth inside code, pre and a
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return out.String()
		case xhtml.StartTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "code", "pre", "a":
				if tt == xhtml.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			}
			out.Write(z.Raw())
		case xhtml.TextToken:
			raw := string(z.Raw())
			if skip > 0 {
				out.WriteString(raw)
				continue
			}
			out.WriteString(markers.ReplaceAllStringFunc(raw, func(m string) string {
				var parts []string
				for _, d := range strings.Split(m[1:len(m)-1], ",") {
					n, err := strconv.Atoi(strings.TrimSpace(d))
					l, ok := link(n)
					if err != nil || !ok {
						return m
					}
					parts = append(parts, `<a class="cite-ref" href="`+html.EscapeString(l.Href)+`" title="`+html.EscapeString(l.Title)+`">`+strconv.Itoa(n)+`</a>`)
				}
				return `<sup class="cite">[` + strings.Join(parts, ", ") + `]</sup>`
			}))
		default:
			out.Write(z.Raw())
		}
	}
}
