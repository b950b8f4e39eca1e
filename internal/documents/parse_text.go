package documents

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// csvRowsPerChunk is how many rows one chunk of a CSV file holds.
const csvRowsPerChunk = 50

// parseCSV reads CSV rows into chunks of up to csvRowsPerChunk rows,
// located by their cell range as a spreadsheet would name it ("A1:F50"),
// each row on its own line with its cells separated by " | ".
func parseCSV(ctx context.Context, r io.ReaderAt, size int64, emit func(Chunk) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var b strings.Builder
	firstRow, row, widest := 1, 0, 0
	flush := func() error {
		text := strings.TrimSpace(b.String())
		b.Reset()
		if text == "" {
			return nil
		}
		cell := "A" + strconv.Itoa(firstRow) + ":" + columnName(max(widest, 1)) + strconv.Itoa(row)
		widest = 0
		return emit(Chunk{Cell: cell, Text: text})
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) && !errors.Is(perr.Err, csv.ErrFieldCount) {
			return &ParseFailure{Reason: "The CSV file is malformed: " + perr.Error() + "."}
		}
		if err != nil {
			return err
		}
		row++
		if row == 1 && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
		}
		if b.Len() == 0 {
			firstRow = row
		}
		line := strings.Join(trimAll(rec), " | ")
		if strings.Trim(line, " |") != "" {
			b.WriteString(line)
			b.WriteByte('\n')
			widest = max(widest, len(rec))
		}
		if row-firstRow+1 >= csvRowsPerChunk || b.Len() >= Limits.ChunkLen {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func trimAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, s := range rec {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// columnName is a spreadsheet column's letters: 1 -> A, 27 -> AA.
func columnName(n int) string {
	var out []byte
	for n > 0 {
		n--
		out = append([]byte{byte('A' + n%26)}, out...)
		n /= 26
	}
	return string(out)
}
