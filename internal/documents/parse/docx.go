package parse

import (
	"encoding/xml"
	"io"
	"strings"
)

// extractDOCX reads the main document part of a Word file in document
// order: each body paragraph becomes a segment located by its paragraph
// index, each cell of a top-level table a segment located by table, row
// and cell. Formatting is ignored. Text in a nested table or a text box
// belongs to the enclosing cell or paragraph. Headers, footers, footnotes
// and comments are not read.
func extractDOCX(e *extraction, r io.ReaderAt, size int64) error {
	z, err := openZip(e, KindDOCX, r, size)
	if err != nil {
		return err
	}
	part := z.mainPart("word/document.xml")
	f := z.file(part)
	if f == nil {
		return formatErr(KindDOCX, "no main document part (word/document.xml)")
	}
	w := &docxWalker{e: e}
	if err := z.walkXML(f, w.token); err != nil {
		return err
	}
	if !w.sawBody {
		return formatErr(KindDOCX, "the main part has no document body")
	}
	return nil
}

// docxWalker is the state of one pass over document.xml.
type docxWalker struct {
	e       *extraction
	sawBody bool

	pDepth   int // paragraphs open (a text box paragraph sits inside another)
	tblDepth int // tables open (nested tables sit inside cells)
	runDepth int
	inText   bool // inside w:t (or m:t): its character data is text

	para        int // body paragraphs seen
	table       int // top-level tables seen
	row, cell   int // position in the current top-level table
	nestedCells int // cells seen in the current nested table row

	buf strings.Builder
}

func (w *docxWalker) token(x *xmlReader, tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		switch t.Name.Local {
		case "body":
			w.sawBody = true
		case "AlternateContent":
			// Drawings and text boxes come twice: as mc:Choice and as a
			// legacy mc:Fallback copy. Read the choice only.
		case "Fallback":
			return x.skip()
		case "p":
			w.pDepth++
			switch {
			case w.pDepth == 1 && w.tblDepth == 0:
				w.para++
				w.buf.Reset()
			case w.buf.Len() > 0:
				// A further paragraph in a cell, or a text box paragraph.
				w.newline()
			}
		case "tbl":
			w.tblDepth++
			if w.tblDepth == 1 && w.pDepth == 0 {
				w.table++
				w.row = 0
			} else if w.buf.Len() > 0 {
				w.newline()
			}
		case "tr":
			if w.tblDepth == 1 && w.pDepth == 0 {
				w.row++
				w.cell = 0
			} else {
				w.nestedCells = 0
			}
		case "tc":
			if w.tblDepth == 1 && w.pDepth == 0 {
				w.cell++
				w.buf.Reset()
			} else {
				if w.nestedCells > 0 {
					w.buf.WriteString(" | ")
				}
				w.nestedCells++
			}
		case "r":
			w.runDepth++
		case "t":
			w.inText = true
		case "delText", "instrText", "delInstrText":
			// Deleted text of tracked changes and field codes are not
			// what the document shows.
			return x.skip()
		case "tab":
			if w.runDepth > 0 { // w:tab in a run; w:tabs/w:tab in paragraph properties are tab stops
				w.buf.WriteByte('\t')
			}
		case "br", "cr":
			if w.runDepth > 0 {
				w.buf.WriteByte('\n')
			}
		case "noBreakHyphen":
			w.buf.WriteByte('-')
		case "pPr", "rPr", "tblPr", "trPr", "tcPr", "sectPr", "tblGrid":
			// Properties only: nothing to read.
			return x.skip()
		}
	case xml.EndElement:
		switch t.Name.Local {
		case "t":
			w.inText = false
		case "r":
			w.runDepth--
		case "p":
			w.pDepth--
			if w.pDepth == 0 && w.tblDepth == 0 {
				return w.e.add(w.buf.String(), Locator{Paragraph: w.para})
			}
			if w.pDepth > 0 {
				w.newline() // a text box paragraph ends inside its anchor paragraph
			}
		case "tc":
			if w.tblDepth == 1 && w.pDepth == 0 {
				return w.e.add(w.buf.String(), Locator{Table: w.table, Row: w.row, Column: w.cell})
			}
		case "tr":
			if w.tblDepth > 1 || w.pDepth > 0 {
				w.newline()
			}
		case "tbl":
			w.tblDepth--
		}
	case xml.CharData:
		if w.inText {
			w.buf.Write(t)
		}
	}
	return nil
}

func (w *docxWalker) newline() {
	s := w.buf.String()
	if s != "" && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " | ") {
		w.buf.WriteByte('\n')
	}
}
