package documents

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"accute/internal/db"
	"accute/internal/form"
)

// Search is full-text search over the extracted text of the organization's
// active documents (the current version of each): PostgreSQL's
// websearch_to_tsquery over document_chunks.tsv (GIN index), ranked with
// ts_rank_cd, with snippets from ts_headline. Each hit is one chunk, so it
// points at an exact place: a page, a sheet and cell range, paragraphs or
// lines.
//
// The cost is bounded whatever the words: a search takes the first
// SearchPool matching chunks (after the filters) from the index, in the
// table's order, and ranks and counts only those. When more match, the
// result says so (Capped) and its Total is SearchPool: "1,000+". Words on
// most pages ("total", "amount") are then ranked within that pool; more
// words or a filter narrow the search to all its matches.

// Snippet markers: ts_headline puts them around matches (they are removed
// from the text first, so only ts_headline's are there); the SQL function
// search_snippet (migration 00112) writes them as chr(57344), chr(57345).
const (
	MarkStart = "\uE000"
	MarkEnd   = "\uE001"
)

// SearchPerPage is the size of a page of search results; SearchMaxPage the
// deepest page served; SearchPool how many matches a search ranks and
// counts at most (SearchMaxPage pages of SearchPerPage).
const (
	SearchPerPage = 20
	SearchMaxPage = 50
	SearchPool    = SearchMaxPage * SearchPerPage
)

// SearchFilter is a search: the query (web-search syntax: words, "a
// phrase", -not, or) and optional filters.
type SearchFilter struct {
	Query    string
	ClientID *uuid.UUID
	Type     string     // a Type's Key
	From     *time.Time // uploaded on or after
	Before   *time.Time // uploaded before
	Page     int
	PerPage  int // SearchPerPage when 0
}

// SetDates sets the filter's upload dates from the "from" and "to" inputs
// (YYYY-MM-DD, either may be empty; "to" includes that whole day) and
// returns what is wrong with them, by input name, for the web form and the
// API alike.
func (f *SearchFilter) SetDates(from, to string) map[string]string {
	errs := map[string]string{}
	if from != "" {
		if d, err := time.Parse(time.DateOnly, from); err == nil {
			f.From = &d
		} else {
			errs["from"] = "Enter a date as YYYY-MM-DD."
		}
	}
	if to != "" {
		if d, err := time.Parse(time.DateOnly, to); err == nil {
			end := d.AddDate(0, 0, 1) // through the end of that day
			f.Before = &end
		} else {
			errs["to"] = "Enter a date as YYYY-MM-DD."
		}
	}
	if f.From != nil && f.Before != nil && !f.From.Before(*f.Before) {
		errs["to"] = "The end date is before the start date."
	}
	return errs
}

// SearchHit is one matching chunk with its document and place.
type SearchHit struct {
	DocumentID   uuid.UUID
	DocumentName string
	ContentType  string
	ClientID     *uuid.UUID
	ClientName   string
	Created      time.Time
	Page         int
	Sheet        string
	Cell         string
	LineStart    int
	LineEnd      int
	// Ref is the place as people cite it: "page 3", "Summary!A1:D5",
	// "paragraphs 4-9", "lines 10-42".
	Ref string
	// Snippet is the text around the matches, matches between MarkStart
	// and MarkEnd; see SnippetHTML and SnippetText.
	Snippet string
	Rank    float64
}

// SearchResult is a page of hits. Total is how many places match, or
// SearchPool when Capped: more match than a search ranks.
type SearchResult struct {
	Hits   []SearchHit
	Total  int
	Capped bool
	Page   int
}

// MaxQueryLen bounds a query (runes).
const MaxQueryLen = 200

// CleanQuery normalizes a search query: trimmed, one line, at most
// MaxQueryLen runes.
func CleanQuery(s string) string {
	s = form.Clean(strings.ReplaceAll(strings.ReplaceAll(s, MarkStart, ""), MarkEnd, ""))
	if utf8.RuneCountInString(s) > MaxQueryLen {
		s = string([]rune(s)[:MaxQueryLen])
	}
	return s
}

// Search runs f in org. An empty query finds nothing.
func (s *Service) Search(ctx context.Context, org uuid.UUID, f SearchFilter) (SearchResult, error) {
	var out SearchResult
	err := s.Store.InOrg(ctx, org, func(qs *db.Queries) error {
		var err error
		out, err = SearchWith(ctx, qs, org, f)
		return err
	})
	return out, err
}

// SearchWith is Search in the caller's transaction (which must be in org):
// the AI agents' search_documents tool runs inside its run's transaction.
func SearchWith(ctx context.Context, qs *db.Queries, org uuid.UUID, f SearchFilter) (SearchResult, error) {
	per := f.PerPage
	if per <= 0 {
		per = SearchPerPage
	}
	out := SearchResult{Page: min(max(f.Page, 1), SearchMaxPage)}
	q := CleanQuery(f.Query)
	if q == "" {
		return out, nil
	}
	mime := ""
	if f.Type != "" {
		for _, t := range Types {
			if t.Key == f.Type {
				mime = t.MIME
			}
		}
	}
	// Only the pool is ranked: pages end with it.
	skip := (out.Page - 1) * per
	if skip >= SearchPool {
		return out, nil
	}
	rows, err := qs.SearchDocumentChunks(ctx, db.SearchDocumentChunksParams{
		OrganizationID: org, Query: q, Facets: searchFacets(org, f.ClientID, mime, f.From, f.Before, time.Now()),
		ClientID: f.ClientID, ContentType: mime,
		CreatedFrom: f.From, CreatedBefore: f.Before, PoolLimit: SearchPool + 1,
		MaxRows: int32(min(per, SearchPool-skip)), Skip: int32(skip),
	})
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		out.Total, out.Capped = min(int(r.Total), SearchPool), int(r.Total) > SearchPool
		out.Hits = append(out.Hits, SearchHit{
			DocumentID: r.DocumentID, DocumentName: r.DocumentName, ContentType: r.ContentType, ClientID: r.ClientID,
			ClientName: r.ClientName, Created: r.DocumentCreatedAt, Page: intOf(r.Page), Sheet: strOf(r.Sheet),
			Cell: strOf(r.Cell), LineStart: intOf(r.LineStart), LineEnd: intOf(r.LineEnd), Ref: r.Ref,
			Snippet: r.Snippet, Rank: r.Rank,
		})
	}
	return out, nil
}

// searchMaxDateFacets bounds the upload-date part of a facet query: a
// longer range is left to the check on the document (it narrows little).
const searchMaxDateFacets = 48

// searchFacets is the facet query of a search (migration 00111): the
// organization, and the client, type (MIME) and upload months the filters
// ask for, for the index to intersect with the words. An open range ends
// a month after now (clocks differ). The facets only narrow: the query
// still checks each filter on the document.
func searchFacets(org uuid.UUID, client *uuid.UUID, mime string, from, before *time.Time, now time.Time) string {
	// A client belongs to one organization: its facet narrows more.
	terms := []string{facetLexeme("org " + org.String())}
	if client != nil {
		terms = []string{facetLexeme("client " + client.String())}
	}
	if mime != "" {
		terms = append(terms, facetLexeme("type "+mime))
	}
	if from != nil {
		end := now.AddDate(0, 1, 0)
		if before != nil {
			end = *before
		}
		if dates := dateFacets(from.UTC(), end.UTC().Add(-time.Nanosecond)); len(dates) <= searchMaxDateFacets {
			terms = append(terms, "("+strings.Join(dates, " | ")+")")
		}
	}
	return strings.Join(terms, " & ")
}

// dateFacets are the year and month facets covering first..last, whole
// years as a year; just first's month when last is before it (the index
// then finds what the filter on the document rejects: nothing). More than
// searchMaxDateFacets means too many.
func dateFacets(first, last time.Time) []string {
	y, m := first.Year(), first.Month()
	ly, lm := last.Year(), last.Month()
	var out []string
	for len(out) <= searchMaxDateFacets && (y < ly || (y == ly && m <= lm)) {
		if m == time.January && (y < ly || lm == time.December) {
			out = append(out, facetLexeme(fmt.Sprintf("year %04d", y)))
			y++
			continue
		}
		out = append(out, facetLexeme(fmt.Sprintf("month %04d-%02d", y, m)))
		if m++; m > time.December {
			y, m = y+1, time.January
		}
	}
	if len(out) == 0 {
		out = append(out, facetLexeme(fmt.Sprintf("month %04d-%02d", first.Year(), first.Month())))
	}
	return out
}

// facetLexeme quotes s as a tsquery lexeme.
func facetLexeme(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// SnippetHTML is a snippet as safe HTML: the text escaped, then the
// markers turned into <mark> elements (an unpaired marker is dropped).
func SnippetHTML(snippet string) string {
	esc := html.EscapeString(snippet)
	var b strings.Builder
	open := false
	for _, r := range esc {
		switch string(r) {
		case MarkStart:
			if !open {
				b.WriteString("<mark>")
				open = true
			}
		case MarkEnd:
			if open {
				b.WriteString("</mark>")
				open = false
			}
		default:
			b.WriteRune(r)
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return b.String()
}

// SnippetText is a snippet without its markers.
func SnippetText(snippet string) string {
	return strings.NewReplacer(MarkStart, "", MarkEnd, "").Replace(snippet)
}

func intOf(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
