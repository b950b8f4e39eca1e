// Package search renders full-text search over an organization's documents.
package search

import (
	"net/url"
	"strconv"

	"accute/views/components"
)

// View is the search page.
type View struct {
	Action   string // the search page's path
	Query    string
	ClientID string
	Type     string
	From     string // YYYY-MM-DD
	To       string // YYYY-MM-DD
	Clients  []components.Option
	Types    []components.Option
	Errors   map[string]string
	Searched bool // a query was given (and valid)
	Hits     []Hit
	Pager    components.Pager
	// Capped: more places match than a search ranks (Pager.Total, the
	// pool); the page says so and how to narrow.
	Capped bool
	// DocumentsURL is the library.
	DocumentsURL string
}

// Hit is one matching place in a document.
type Hit struct {
	DocumentURL string
	Name        string
	TypeLabel   string
	Client      string
	ClientURL   string
	Locator     string // "page 3", "Summary!A1:D5", "paragraphs 4-9"
	SnippetHTML string // escaped text with <mark> around matches
	Uploaded    string
}

// PageURL is the address of page n of the same search.
func (v View) PageURL(n int) string {
	q := url.Values{}
	set := func(k, val string) {
		if val != "" {
			q.Set(k, val)
		}
	}
	set("q", v.Query)
	set("client", v.ClientID)
	set("type", v.Type)
	set("from", v.From)
	set("to", v.To)
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return v.Action
	}
	return v.Action + "?" + q.Encode()
}

// Filtered reports whether a filter besides the query is set.
func (v View) Filtered() bool {
	return v.ClientID != "" || v.Type != "" || v.From != "" || v.To != ""
}

func queryEscape(s string) string { return url.QueryEscape(s) }
