package documents

import (
	"context"
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

// Snippet markers: ts_headline puts them around matches (they are removed
// from the text first, so only ts_headline's are there).
const (
	MarkStart = "\uE000"
	MarkEnd   = "\uE001"
)

// SearchPerPage is the size of a page of search results; SearchMaxPage the
// deepest page served.
const (
	SearchPerPage = 20
	SearchMaxPage = 50
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

// SearchResult is a page of hits.
type SearchResult struct {
	Hits  []SearchHit
	Total int
	Page  int
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
	err := s.Store.InOrg(ctx, org, func(qs *db.Queries) error {
		rows, err := qs.SearchDocumentChunks(ctx, db.SearchDocumentChunksParams{
			OrganizationID: org, Query: q, ClientID: f.ClientID, ContentType: mime,
			CreatedFrom: f.From, CreatedBefore: f.Before, MaxRows: int32(per), Skip: int32((out.Page - 1) * per),
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.Total = int(r.Total)
			out.Hits = append(out.Hits, SearchHit{
				DocumentID: r.DocumentID, DocumentName: r.DocumentName, ContentType: r.ContentType, ClientID: r.ClientID,
				ClientName: r.ClientName, Created: r.DocumentCreatedAt, Page: intOf(r.Page), Sheet: strOf(r.Sheet),
				Cell: strOf(r.Cell), LineStart: intOf(r.LineStart), LineEnd: intOf(r.LineEnd), Ref: r.Ref,
				Snippet: r.Snippet, Rank: r.Rank,
			})
		}
		return nil
	})
	return out, err
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
