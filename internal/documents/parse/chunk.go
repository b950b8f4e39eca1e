package parse

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultChunkChars is the chunk size Chunk uses for maxChars <= 0.
const DefaultChunkChars = 1500

// Chunk is a piece of a document's text sized for search and retrieval,
// with its place. A chunk never spans two PDF pages, two sheets, two Word
// tables (or a table and body text); within those it gathers consecutive
// segments up to the size asked for, and a segment longer than that is
// cut at a paragraph, line, cell or word boundary, each piece keeping its
// place.
type Chunk struct {
	Text string `json:"text"`
	// Loc is where the chunk starts, except for spreadsheets, CSV and
	// text, where it covers the whole chunk: Cell is the range of all its
	// cells ("A1:F50"), LineStart-LineEnd all its lines.
	Loc Locator `json:"loc"`
	// End is the locator of the chunk's last segment.
	End Locator `json:"end"`
}

// Ref is the chunk's place as a person cites it: "page 3",
// "Summary!A1:F50", "paragraphs 4-9", "table 1, rows 2-5", "lines 10-42".
func (c Chunk) Ref() string {
	l, end := c.Loc, c.End
	switch {
	case l.Page > 0:
		if end.Page > l.Page {
			return fmt.Sprintf("pages %d-%d", l.Page, end.Page)
		}
		return "page " + strconv.Itoa(l.Page)
	case l.Sheet != "" || l.Cell != "":
		return l.String()
	case l.Table > 0:
		switch {
		case end.Row > l.Row:
			return fmt.Sprintf("table %d, rows %d-%d", l.Table, l.Row, end.Row)
		case end.Column > l.Column:
			return fmt.Sprintf("table %d, row %d", l.Table, l.Row)
		}
		return l.String()
	case l.Paragraph > 0:
		if end.Paragraph > l.Paragraph {
			return fmt.Sprintf("paragraphs %d-%d", l.Paragraph, end.Paragraph)
		}
		return l.String()
	}
	return l.String()
}

// Chunks groups a result's segments into chunks of at most maxChars
// characters (DefaultChunkChars when maxChars <= 0), for search.
func Chunks(res *Result, maxChars int) []Chunk {
	if res == nil {
		return nil
	}
	if maxChars <= 0 {
		maxChars = DefaultChunkChars
	}
	c := chunker{kind: res.Kind, max: maxChars}
	for _, seg := range res.Segments {
		if res.Kind == KindDOCX && seg.Loc.Table > 0 {
			// A table row reads as one line: a cell's paragraphs are joined.
			seg.Text = strings.ReplaceAll(seg.Text, "\n", " / ")
		}
		for _, p := range splitSegment(res.Kind, seg, maxChars) {
			c.add(p)
		}
	}
	c.flush()
	return c.out
}

type chunker struct {
	kind  Kind
	max   int
	out   []Chunk
	open  bool
	key   string
	b     strings.Builder
	chars int
	first Locator
	last  Locator
	// bounding box of a sheet's or CSV's cells
	minCol, maxCol int
}

func (c *chunker) add(s Segment) {
	key := groupKey(c.kind, s.Loc)
	sep := ""
	if c.open {
		sep = separator(c.kind, c.last, s.Loc)
	}
	text := s.Text
	n := utf8.RuneCountInString(text)
	if c.open && (key != c.key || c.chars+len(sep)+n > c.max) {
		c.flush()
		sep = ""
	}
	if !c.open {
		c.open, c.key, c.first = true, key, s.Loc
		c.minCol, c.maxCol = s.Loc.Column, max(s.Loc.ColumnEnd, s.Loc.Column)
	}
	c.b.WriteString(sep)
	c.b.WriteString(text)
	c.chars += len(sep) + n
	c.last = s.Loc
	if s.Loc.Column > 0 {
		c.minCol = min(c.minCol, s.Loc.Column)
		c.maxCol = max(c.maxCol, s.Loc.ColumnEnd, s.Loc.Column)
	}
}

func (c *chunker) flush() {
	if !c.open {
		return
	}
	loc := c.first
	switch c.kind {
	case KindXLSX, KindCSV:
		loc.Column, loc.ColumnEnd = c.minCol, c.maxCol
		loc.Cell = cellName(c.minCol, c.first.Row)
		if end := cellName(c.maxCol, c.last.Row); end != loc.Cell {
			loc.Cell += ":" + end
		}
	case KindTXT:
		loc.LineEnd = c.last.LineEnd
	}
	c.out = append(c.out, Chunk{Text: c.b.String(), Loc: loc, End: c.last})
	c.open = false
	c.b.Reset()
	c.chars = 0
}

// groupKey names the unit a chunk must stay within.
func groupKey(kind Kind, l Locator) string {
	switch kind {
	case KindPDF:
		return "p" + strconv.Itoa(l.Page)
	case KindXLSX:
		return l.Sheet
	case KindDOCX:
		return "t" + strconv.Itoa(l.Table) // 0: body paragraphs
	}
	return ""
}

// separator joins two consecutive segments of a chunk.
func separator(kind Kind, prev, next Locator) string {
	switch kind {
	case KindDOCX:
		if next.Table > 0 && next.Row == prev.Row {
			return " | "
		}
	case KindTXT:
		if next.LineStart > prev.LineEnd+1 {
			return "\n\n" // blank lines between
		}
	case KindPDF:
		return "\n\n"
	}
	return "\n"
}

// splitSegment cuts a segment longer than max characters into pieces at
// the best boundary, each with its place (for text, its exact lines).
func splitSegment(kind Kind, s Segment, max int) []Segment {
	if utf8.RuneCountInString(s.Text) <= max {
		return []Segment{s}
	}
	var out []Segment
	text := s.Text
	line := s.Loc.LineStart
	for text != "" {
		if utf8.RuneCountInString(text) <= max {
			out = append(out, pieceAt(s.Loc, text, line))
			break
		}
		cut, skip := cutPoint(kind, text, max)
		piece := text[:cut]
		out = append(out, pieceAt(s.Loc, piece, line))
		line += strings.Count(text[:cut+skip], "\n")
		text = text[cut+skip:]
	}
	return out
}

func pieceAt(loc Locator, text string, line int) Segment {
	if loc.LineStart > 0 {
		loc.LineStart = line
		loc.LineEnd = line + strings.Count(text, "\n")
	}
	return Segment{Text: text, Loc: loc}
}

// cutPoint finds where to cut text so the first piece has at most max
// characters: after the last paragraph break, line break, cell separator,
// sentence end or space in its second half, else at max. It returns the
// byte offset of the cut and the length of the separator to drop.
func cutPoint(kind Kind, text string, max int) (cut, skip int) {
	limit := len(text)
	n := 0
	for i := range text {
		if n == max {
			limit = i
			break
		}
		n++
	}
	window := text[:limit]
	half := limit / 2
	seps := []string{"\n\n", "\n", ". ", " "}
	if kind == KindXLSX || kind == KindCSV || kind == KindDOCX {
		seps = []string{"\n\n", "\n", " | ", ". ", " "}
	}
	for _, sep := range seps {
		if i := strings.LastIndex(window, sep); i >= half && i > 0 {
			if sep == ". " {
				return i + 1, 1 // keep the full stop
			}
			return i, len(sep)
		}
	}
	return limit, 0
}
