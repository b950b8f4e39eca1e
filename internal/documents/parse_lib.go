package documents

import (
	"context"
	"errors"
	"io"
	"strconv"

	"accute/internal/documents/parse"
)

// libraryParser extracts a file of kind with internal/documents/parse
// and emits its search-sized chunks with their exact places (parse.Chunk.Ref). A document the library cannot read
// (damaged, password-protected, over a limit) is a *ParseFailure with
// parse.Reason; a cancelled context stays an error, so the job retries.
// A document without any text (a scan OCR could not read) is ErrNoText.
func libraryParser(kind parse.Kind) Parser {
	return ParserFunc(func(ctx context.Context, r io.ReaderAt, size int64, emit func(Chunk) error) error {
		res, err := parse.Extract(ctx, r, size, kind, parse.Limits{Time: Limits.Time})
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, parse.ErrLimit) {
				return err
			}
			if errors.Is(err, parse.ErrEncrypted) || errors.Is(err, parse.ErrMalformed) ||
				errors.Is(err, parse.ErrLimit) || errors.Is(err, parse.ErrUnsupportedKind) {
				return &ParseFailure{Reason: parse.Reason(err)}
			}
			return err
		}
		chunks := parse.Chunks(res, parse.DefaultChunkChars)
		if len(chunks) == 0 {
			return ErrNoText
		}
		for _, c := range chunks {
			if err := emit(chunkFromLibrary(c)); err != nil {
				return err
			}
		}
		return nil
	})
}

// chunkLocator is what is stored as a chunk's locator: where it starts and
// where it ends.
type chunkLocator struct {
	Start parse.Locator `json:"start"`
	End   parse.Locator `json:"end"`
}

func chunkFromLibrary(c parse.Chunk) Chunk {
	return Chunk{Text: c.Text, Ref: c.Ref(), Locator: chunkLocator{Start: c.Loc, End: c.End},
		Page: c.Loc.Page, Sheet: c.Loc.Sheet, Cell: c.Loc.Cell, LineStart: c.Loc.LineStart, LineEnd: c.Loc.LineEnd}
}

// ref is the chunk's place as people cite it.
func (c Chunk) ref() string {
	switch {
	case c.Ref != "":
		return c.Ref
	case c.Page > 0:
		return "page " + strconv.Itoa(c.Page)
	case c.Sheet != "" || c.Cell != "":
		if c.Sheet == "" {
			return c.Cell
		}
		return parse.SheetRef(c.Sheet, c.Cell)
	case c.LineStart > 0:
		if c.LineEnd > c.LineStart {
			return "lines " + strconv.Itoa(c.LineStart) + "-" + strconv.Itoa(c.LineEnd)
		}
		return "line " + strconv.Itoa(c.LineStart)
	}
	return ""
}
