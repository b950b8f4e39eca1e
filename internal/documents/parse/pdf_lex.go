package parse

import (
	"bytes"
	"strconv"
)

// A small lexer for PDF content streams and CMaps: numbers, names,
// strings, arrays, dictionaries and operators. It never recurses deeper
// than maxLexDepth and never allocates more than its input, so a hostile
// content stream cannot exhaust the stack or memory.

const maxLexDepth = 32

type pdfTokKind int

const (
	tokEOF pdfTokKind = iota
	tokNumber
	tokName
	tokString // literal or hex, decoded to bytes
	tokArray
	tokDict
	tokOp
	tokOther // true/false/null and stray delimiters
)

type pdfObj struct {
	kind pdfTokKind
	num  float64
	str  string // name (without /), string bytes, operator
	arr  []pdfObj
	dict map[string]pdfObj
}

type pdfLexer struct {
	b   []byte
	pos int
	// Array elements live in arena until the consumer calls reset after
	// an operator, so the arrays of TJ operators cost no allocation each.
	arena, tmp []pdfObj
}

// reset releases the arrays read since the last reset.
func (l *pdfLexer) reset() { l.arena = l.arena[:0] }

func isPDFSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *pdfLexer) skipSpace() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case isPDFSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// next reads one object (an operand or an operator).
func (l *pdfLexer) next() pdfObj { return l.object(0) }

func (l *pdfLexer) object(depth int) pdfObj {
	l.skipSpace()
	if l.pos >= len(l.b) {
		return pdfObj{kind: tokEOF}
	}
	c := l.b[l.pos]
	switch {
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
			l.pos++
		}
		return pdfObj{kind: tokName, str: decodeNameEscapes(l.b[start:l.pos])}
	case c == '(':
		l.pos++
		return pdfObj{kind: tokString, str: l.literalString()}
	case c == '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return l.dictionary(depth + 1)
		}
		l.pos++
		return pdfObj{kind: tokString, str: l.hexString()}
	case c == '[':
		l.pos++
		return l.array(depth + 1)
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.pos++
		if c == '>' && l.pos < len(l.b) && l.b[l.pos] == '>' {
			l.pos++
		}
		return pdfObj{kind: tokOther, str: string(c)}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		start := l.pos
		l.pos++
		for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
			l.pos++
		}
		if f, ok := parsePDFNumber(l.b[start:l.pos]); ok {
			return pdfObj{kind: tokNumber, num: f}
		}
		return pdfObj{kind: tokOp, str: string(l.b[start:l.pos])}
	default:
		start := l.pos
		for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
			l.pos++
		}
		word := string(l.b[start:l.pos])
		switch word {
		case "true", "false", "null":
			return pdfObj{kind: tokOther, str: word}
		}
		return pdfObj{kind: tokOp, str: word}
	}
}

func (l *pdfLexer) array(depth int) pdfObj {
	start := len(l.tmp)
	for {
		l.skipSpace()
		if l.pos >= len(l.b) {
			break
		}
		if l.b[l.pos] == ']' {
			l.pos++
			break
		}
		if depth > maxLexDepth {
			l.skipNested()
			continue
		}
		o := l.object(depth)
		if o.kind == tokEOF || o.kind == tokOp { // an operator cannot sit in an array: malformed, stop here
			break
		}
		l.tmp = append(l.tmp, o)
	}
	off := len(l.arena)
	l.arena = append(l.arena, l.tmp[start:]...)
	clear(l.tmp[start:])
	l.tmp = l.tmp[:start]
	return pdfObj{kind: tokArray, arr: l.arena[off:len(l.arena):len(l.arena)]}
}

func (l *pdfLexer) dictionary(depth int) pdfObj {
	out := pdfObj{kind: tokDict, dict: map[string]pdfObj{}}
	for {
		l.skipSpace()
		if l.pos >= len(l.b) {
			return out
		}
		if l.b[l.pos] == '>' {
			l.pos++
			if l.pos < len(l.b) && l.b[l.pos] == '>' {
				l.pos++
			}
			return out
		}
		if depth > maxLexDepth {
			l.skipNested()
			continue
		}
		k := l.object(depth)
		if k.kind == tokEOF || k.kind == tokOp {
			return out
		}
		v := l.object(depth)
		if v.kind == tokEOF {
			return out
		}
		if k.kind == tokName {
			out.dict[k.str] = v
		}
	}
}

// skipNested skips one token without building it (beyond the depth
// limit), so a deeply nested input costs a linear scan only.
func (l *pdfLexer) skipNested() {
	c := l.b[l.pos]
	switch c {
	case '(':
		l.pos++
		l.literalString()
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return
		}
		l.pos++
		l.hexString()
	default:
		l.pos++
		for l.pos < len(l.b) && !isPDFSpace(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
			l.pos++
		}
	}
}

func (l *pdfLexer) literalString() string {
	var out []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return string(out)
			}
			out = append(out, c)
		case '\\':
			if l.pos >= len(l.b) {
				return string(out)
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
			case '\n':
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for i := 0; i < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; i++ {
					v = v*8 + int(l.b[l.pos]-'0')
					l.pos++
				}
				out = append(out, byte(v))
			default:
				out = append(out, e)
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func (l *pdfLexer) hexString() string {
	var out []byte
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v, ok := unhexByte(c)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return string(out)
}

func unhexByte(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decodeNameEscapes(b []byte) string {
	if bytes.IndexByte(b, '#') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			h, ok1 := unhexByte(b[i+1])
			lo, ok2 := unhexByte(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func parsePDFNumber(b []byte) (float64, bool) {
	// Producers write "--5" or "5-" now and then; readers take the number.
	s := string(b)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	s = string(bytes.TrimLeft(b, "+-"))
	neg := len(b) > 0 && b[0] == '-'
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if neg {
			f = -f
		}
		return f, true
	}
	return 0, false
}

// skipInlineImage moves past an inline image's data after its ID
// operator: to the EI operator that follows whitespace.
func (l *pdfLexer) skipInlineImage() {
	if l.pos < len(l.b) && isPDFSpace(l.b[l.pos]) {
		l.pos++
	}
	for l.pos < len(l.b) {
		i := bytes.Index(l.b[l.pos:], []byte("EI"))
		if i < 0 {
			l.pos = len(l.b)
			return
		}
		at := l.pos + i
		l.pos = at + 2
		before := at == 0 || isPDFSpace(l.b[at-1])
		after := at+2 >= len(l.b) || isPDFSpace(l.b[at+2]) || isPDFDelim(l.b[at+2])
		if before && after {
			return
		}
	}
}
