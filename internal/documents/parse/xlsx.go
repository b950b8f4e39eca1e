package parse

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// extractXLSX reads every sheet of a workbook, in workbook order, hidden
// sheets included. Each row with a value becomes one segment whose text
// lists the row's non-empty cells with their references ("A7: Revenue |
// C7: 1,200.00"), so every value can be cited exactly, and whose locator
// is the sheet and the row's cell range (Summary!A7:C7). Values are as
// the cell shows them (number formats, dates), shared and inline strings
// resolved, formulas by their cached result.
//
// Cell values come from excelize. The archive is checked first: entry
// count, encryption, declared sizes, and every XML part read once through
// the depth-limited, byte-counting reader, so excelize only ever sees an
// archive within the limits.
func extractXLSX(e *extraction, r io.ReaderAt, size int64) error {
	z, err := openZip(e, KindXLSX, r, size)
	if err != nil {
		return err
	}
	if err := z.checkDeclaredTotal(); err != nil {
		return err
	}
	if z.file(z.mainPart("xl/workbook.xml")) == nil {
		return formatErr(KindXLSX, "no workbook part (xl/workbook.xml)")
	}
	for _, f := range z.zr.File {
		name := strings.ToLower(f.Name)
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			continue
		}
		if err := z.walkXML(f, func(*xmlReader, xml.Token) error { return nil }); err != nil {
			return err
		}
	}
	if err := e.check(); err != nil {
		return err
	}

	budget := max(e.limits.MaxDecompressedBytes, size+1)
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit: budget,
		// Parts up to this size are held in memory, larger sheets go to a
		// temporary file that Close removes.
		UnzipXMLSizeLimit: min(budget, 64<<20),
	})
	if err != nil {
		return wrapFormatErr(KindXLSX, "cannot open the workbook", err)
	}
	defer f.Close()

	sheets := f.GetSheetList()
	e.res.Sheets = sheets
	for _, sheet := range sheets {
		if err := xlsxSheet(e, f, sheet); err != nil {
			return err
		}
	}
	return nil
}

func xlsxSheet(e *extraction, f *excelize.File, sheet string) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return wrapFormatErr(KindXLSX, "cannot read sheet "+strconv.Quote(sheet), err)
	}
	defer rows.Close()
	var b strings.Builder
	for row := 1; rows.Next(); row++ {
		if err := e.check(); err != nil {
			return err
		}
		cols, err := rows.Columns()
		if err != nil {
			return wrapFormatErr(KindXLSX, "cannot read sheet "+strconv.Quote(sheet), err)
		}
		b.Reset()
		first, last := 0, 0
		for i, v := range cols {
			v = strings.TrimSpace(strings.Join(strings.Fields(v), " "))
			if v == "" {
				continue
			}
			col := i + 1
			if first == 0 {
				first = col
			} else {
				b.WriteString(" | ")
			}
			last = col
			b.WriteString(cellName(col, row))
			b.WriteString(": ")
			b.WriteString(v)
		}
		if first == 0 {
			continue
		}
		if err := e.add(b.String(), rowLocator(sheet, row, first, last)); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return err
		}
		return wrapFormatErr(KindXLSX, "cannot read sheet "+strconv.Quote(sheet), err)
	}
	return nil
}

// rowLocator places the cells first..last of a row.
func rowLocator(sheet string, row, first, last int) Locator {
	loc := Locator{Sheet: sheet, Row: row, Column: first, ColumnEnd: last, Cell: cellName(first, row)}
	if last > first {
		loc.Cell += ":" + cellName(last, row)
	}
	return loc
}

// cellName is the A1-style reference of a 1-based column and row.
func cellName(col, row int) string {
	return columnName(col) + strconv.Itoa(row)
}

// columnName is the letters of a 1-based column: 1 A, 26 Z, 27 AA.
func columnName(col int) string {
	if col < 1 {
		return ""
	}
	var buf [8]byte
	i := len(buf)
	for col > 0 && i > 0 {
		col--
		i--
		buf[i] = byte('A' + col%26)
		col /= 26
	}
	return string(buf[i:])
}
