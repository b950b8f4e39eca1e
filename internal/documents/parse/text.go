package parse

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Plain text and CSV.
//
// Both are read as UTF-8 (a byte order mark is dropped) or as UTF-16 when
// the file starts with a UTF-16 byte order mark (Excel's "Unicode text").
// A text file that is not valid UTF-8 is refused (ErrInvalidEncoding); a
// CSV file that is not valid UTF-8 is read as Windows-1252, which is what
// Excel writes on Windows.

const (
	sniffBytes = 64 << 10
	// txtSegmentChars is the size past which a block of lines is cut into
	// several segments (at a line end).
	txtSegmentChars = 1500
)

// textSource opens r as UTF-8 text. lenient chooses Windows-1252 for
// content that is not UTF-8 instead of refusing it.
func textSource(kind Kind, r io.ReaderAt, size int64, lenient bool) (*bufio.Reader, bool, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), sniffBytes)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return bufio.NewReaderSize(transform.NewReader(br, dec), sniffBytes), true, nil
	}
	if lenient {
		sample, _ := br.Peek(sniffBytes)
		if !validPrefix(sample) {
			return bufio.NewReaderSize(transform.NewReader(br, charmap.Windows1252.NewDecoder()), sniffBytes), true, nil
		}
	}
	return br, false, nil
}

// validPrefix reports whether b is valid UTF-8 apart from a rune cut at
// its end.
func validPrefix(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return !utf8.FullRune(b) && len(b) < utf8.UTFMax
		}
		b = b[n:]
	}
	return true
}

// lineReader yields the lines of a text: each whole line without its end,
// or, for a line longer than the buffer, the line in pieces cut between
// runes.
type lineReader struct {
	br    *bufio.Reader
	carry []byte
}

// next returns a piece and whether it ends a line.
func (lr *lineReader) next() ([]byte, bool, error) {
	s, err := lr.br.ReadSlice('\n')
	buf := make([]byte, 0, len(lr.carry)+len(s))
	buf = append(append(buf, lr.carry...), s...)
	lr.carry = nil
	switch {
	case err == nil:
		return bytes.TrimSuffix(buf[:len(buf)-1], []byte{'\r'}), true, nil
	case errors.Is(err, bufio.ErrBufferFull):
		cut := len(buf)
		for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
			if utf8.RuneStart(buf[i]) {
				if !utf8.FullRune(buf[i:]) {
					cut = i
				}
				break
			}
		}
		lr.carry = buf[cut:]
		return buf[:cut], false, nil
	case err == io.EOF:
		if len(buf) == 0 {
			return nil, true, io.EOF
		}
		return bytes.TrimSuffix(buf, []byte{'\r'}), true, nil
	default:
		return nil, false, err
	}
}

// extractTXT makes a segment of each block of consecutive non-blank lines
// (cut at a line end when it grows past about 1,500 characters), located
// by its first and last line numbers. A lone carriage return (old Mac
// line ends) ends a line too.
func extractTXT(e *extraction, r io.ReaderAt, size int64) error {
	br, transcoded, err := textSource(KindTXT, r, size, false)
	if err != nil {
		return err
	}
	lr := &lineReader{br: br}
	var block strings.Builder
	blockStart, blockEnd := 0, 0
	flush := func() error {
		if block.Len() == 0 {
			return nil
		}
		err := e.add(block.String(), Locator{LineStart: blockStart, LineEnd: blockEnd})
		block.Reset()
		return err
	}
	line := 1
	partial := false // the previous piece did not end its line
	for {
		if err := e.tick(); err != nil {
			return err
		}
		piece, eol, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return wrapFormatErr(KindTXT, "cannot read the text", err)
		}
		if !transcoded && (!utf8.Valid(piece) || bytes.IndexByte(piece, 0) >= 0) {
			return &FormatError{Kind: KindTXT, Reason: "invalid UTF-8 or binary data on line " + itoa(line), Err: ErrInvalidEncoding}
		}
		parts := strings.Split(string(piece), "\r")
		for i, part := range parts {
			if i > 0 {
				line++
				partial = false
			}
			ends := eol || i < len(parts)-1
			if !partial && strings.TrimSpace(part) == "" && ends {
				if err := flush(); err != nil { // a blank line ends the block
					return err
				}
				continue
			}
			// A line longer than the read buffer comes in pieces: it gets
			// segments of its own, each with its line number.
			long := partial || !ends
			if !partial && (block.Len() >= txtSegmentChars || (long && block.Len() > 0)) {
				if err := flush(); err != nil {
					return err
				}
			}
			switch {
			case block.Len() == 0:
				blockStart = line
			case !partial:
				block.WriteByte('\n')
			}
			block.WriteString(part)
			blockEnd = line
			partial = !ends
			if long {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if eol {
			line++
			partial = false
		}
	}
	return flush()
}

// extractCSV makes a segment of each record with a value: its non-empty
// fields with their A1-style references ("A2: 2024-01-31 | C2: 1200.50"),
// located by the record's number and cell range. The delimiter (comma,
// semicolon, tab or pipe) is sniffed from the first lines; quotes are
// read leniently.
func extractCSV(e *extraction, r io.ReaderAt, size int64) error {
	br, _, err := textSource(KindCSV, r, size, true)
	if err != nil {
		return err
	}
	sample, _ := br.Peek(sniffBytes)
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(sample)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var b strings.Builder
	for row := 1; ; row++ {
		if err := e.tick(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wrapFormatErr(KindCSV, "cannot read record "+itoa(row), err)
		}
		b.Reset()
		first, last := 0, 0
		for i, v := range rec {
			v = strings.Join(strings.Fields(v), " ")
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
		loc := rowLocator("", row, first, last)
		if err := e.add(b.String(), loc); err != nil {
			return err
		}
	}
}

// sniffDelimiter picks the delimiter that splits the first lines into the
// same number of fields most consistently (quoted text is not counted).
func sniffDelimiter(sample []byte) rune {
	candidates := []rune{',', ';', '\t', '|'}
	var lines []string
	for line := range strings.SplitSeq(string(sample), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		lines = append(lines, line)
		if len(lines) == 20 {
			break
		}
	}
	if len(lines) > 1 && !bytes.HasSuffix(sample, []byte{'\n'}) && len(sample) >= sniffBytes {
		lines = lines[:len(lines)-1] // the last line may be cut
	}
	best, bestScore := ',', -1
	for _, c := range candidates {
		freq := map[int]int{}
		for _, line := range lines {
			n, quoted := 0, false
			for _, r := range line {
				switch {
				case r == '"':
					quoted = !quoted
				case r == c && !quoted:
					n++
				}
			}
			if n > 0 {
				freq[n]++
			}
		}
		mode, count := 0, 0
		for n, k := range freq {
			if k > count || (k == count && n > mode) {
				mode, count = n, k
			}
		}
		if count == 0 {
			continue
		}
		if score := count*1000 + min(mode, 999); score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func itoa(n int) string { return strconv.Itoa(n) }
