package parse

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/text/encoding/charmap"
)

// Font decoding: from the codes a content stream shows to Unicode text
// and glyph widths. The font's ToUnicode CMap wins; otherwise a simple
// font's encoding (WinAnsi, MacRoman, Standard, with /Differences glyph
// names). Type0 (CID) fonts without a ToUnicode map have no reliable text.

const (
	maxCMapEntries = 200000 // bfchar entries of one CMap
	maxCMapRanges  = 5000   // bfrange ranges of one CMap
	defaultWidth   = 500.0  // glyph width (1/1000 em) when a font gives none
)

type codeSpace struct {
	n      int
	lo, hi uint32
}

type cmapRange struct {
	lo, hi uint32
	n      int      // code length in bytes
	base   []rune   // destination of lo; later codes increment its last rune
	list   []string // explicit destinations (array form)
}

type pdfFont struct {
	cid       bool // Type0: multi-byte codes
	spaces    []codeSpace
	chars     map[uint64]string // (n<<32 | code) -> text
	ranges    []cmapRange
	simple    *[256]string // simple font: code -> text (no ToUnicode, or gaps in it)
	first     int
	widths    []float64
	missing   float64
	dw        float64
	cidWidths map[uint32]float64
	scale     float64 // glyph space to text space (1/1000, or a Type3 font matrix)
}

// glyph is one decoded code: its text and its width in text space units
// per unit of font size.
type glyph struct {
	text  string
	width float64
	space bool // single-byte code 32: word spacing applies
}

// decode splits a shown string into glyphs.
func (f *pdfFont) decode(s string, out []glyph) []glyph {
	for len(s) > 0 {
		n := f.codeLen(s)
		var code uint32
		for i := range n {
			code = code<<8 | uint32(s[i])
		}
		g := glyph{text: f.text(code, n), width: f.width(code) * f.scale, space: n == 1 && code == 32}
		out = append(out, g)
		s = s[n:]
	}
	return out
}

func (f *pdfFont) codeLen(s string) int {
	if len(f.spaces) > 0 {
		for n := 1; n <= 4 && n <= len(s); n++ {
			var code uint32
			for i := range n {
				code = code<<8 | uint32(s[i])
			}
			for _, sp := range f.spaces {
				if sp.n == n && code >= sp.lo && code <= sp.hi {
					return n
				}
			}
		}
	}
	if f.cid && len(s) >= 2 {
		return 2
	}
	return 1
}

func (f *pdfFont) text(code uint32, n int) string {
	if f.chars != nil {
		if t, ok := f.chars[uint64(n)<<32|uint64(code)]; ok {
			return t
		}
	}
	for i := range f.ranges {
		r := &f.ranges[i]
		if r.n != n || code < r.lo || code > r.hi {
			continue
		}
		off := code - r.lo
		if r.list != nil {
			if int(off) < len(r.list) {
				return r.list[off]
			}
			return ""
		}
		if len(r.base) == 0 {
			return ""
		}
		rs := append([]rune(nil), r.base...)
		rs[len(rs)-1] += rune(off)
		return string(rs)
	}
	if f.simple != nil && n == 1 {
		return f.simple[code&0xff]
	}
	if f.cid {
		return "\uFFFD"
	}
	return ""
}

func (f *pdfFont) width(code uint32) float64 {
	if f.cid {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.dw
	}
	i := int(code) - f.first
	if i >= 0 && i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i]
	}
	return f.missing
}

// loadFont builds the decoder of a font dictionary.
func (p *pdfPageReader) loadFont(fd types.Dict) *pdfFont {
	f := &pdfFont{scale: 0.001, missing: defaultWidth, dw: 1000}
	subtype := p.name(fd["Subtype"])
	if subtype == "Type0" {
		f.cid = true
		if desc := p.array(fd["DescendantFonts"]); len(desc) > 0 {
			if d := p.dict(desc[0]); d != nil {
				if dw, ok := p.number(d["DW"]); ok {
					f.dw = dw
				}
				f.cidWidths = p.cidWidths(p.array(d["W"]))
			}
		}
		// Identity-H/V and UCS-2 CMaps use two-byte codes; a ToUnicode
		// map's code space below overrides this.
		f.spaces = []codeSpace{{n: 2, lo: 0, hi: 0xffff}}
	} else {
		if fc, ok := p.number(fd["FirstChar"]); ok {
			f.first = int(fc)
		}
		for _, w := range p.array(fd["Widths"]) {
			v, _ := p.number(w)
			f.widths = append(f.widths, v)
		}
		if desc := p.dict(fd["FontDescriptor"]); desc != nil {
			if mw, ok := p.number(desc["MissingWidth"]); ok && mw > 0 {
				f.missing = mw
			}
		}
		if subtype == "Type3" {
			if m := p.array(fd["FontMatrix"]); len(m) == 6 {
				if a, ok := p.number(m[0]); ok && a != 0 {
					f.scale = a
				}
			}
		}
		f.simple = p.simpleEncoding(fd)
	}
	if tu := fd["ToUnicode"]; tu != nil {
		if data := p.streamContent(tu); data != nil {
			p.parseCMap(f, data)
		}
	}
	return f
}

func (p *pdfPageReader) cidWidths(w types.Array) map[uint32]float64 {
	out := map[uint32]float64{}
	for i := 0; i < len(w); {
		first, ok := p.number(w[i])
		if !ok || i+1 >= len(w) {
			break
		}
		if list := p.array(w[i+1]); list != nil {
			for j, v := range list {
				if x, ok := p.number(v); ok && len(out) < maxCMapEntries {
					out[uint32(first)+uint32(j)] = x
				}
			}
			i += 2
			continue
		}
		if i+2 >= len(w) {
			break
		}
		last, _ := p.number(w[i+1])
		x, _ := p.number(w[i+2])
		for c := first; c <= last && len(out) < maxCMapEntries; c++ {
			out[uint32(c)] = x
		}
		i += 3
	}
	return out
}

// simpleEncoding maps a simple font's one-byte codes to text.
func (p *pdfPageReader) simpleEncoding(fd types.Dict) *[256]string {
	var table [256]string
	base := "StandardEncoding"
	if p.name(fd["Subtype"]) == "TrueType" {
		base = "WinAnsiEncoding"
	}
	var diffs types.Array
	switch enc := p.resolve(fd["Encoding"]).(type) {
	case types.Name:
		base = string(enc)
	case types.Dict:
		if b := p.name(enc["BaseEncoding"]); b != "" {
			base = b
		}
		diffs = p.array(enc["Differences"])
	}
	switch base {
	case "MacRomanEncoding":
		fillCharmap(&table, charmap.Macintosh)
	case "StandardEncoding":
		fillCharmap(&table, charmap.Windows1252)
		table['\''] = "\u2019"
		table['`'] = "\u2018"
	default: // WinAnsiEncoding, and what we do not know
		fillCharmap(&table, charmap.Windows1252)
	}
	code := 0
	for _, d := range diffs {
		switch v := p.resolve(d).(type) {
		case types.Integer:
			code = int(v)
		case types.Float:
			code = int(v)
		case types.Name:
			if code >= 0 && code < 256 {
				table[code] = glyphText(string(v))
			}
			code++
		}
	}
	return &table
}

func fillCharmap(t *[256]string, cm *charmap.Charmap) {
	for i := 32; i < 256; i++ {
		r := cm.DecodeByte(byte(i))
		if r == '\uFFFD' || (r >= 0x7f && r < 0xa0) {
			continue
		}
		t[i] = string(r)
	}
}

// parseCMap reads a ToUnicode CMap: code space ranges, bfchar and bfrange
// mappings. Entries past maxCMapEntries are ignored.
func (p *pdfPageReader) parseCMap(f *pdfFont, data []byte) {
	l := &pdfLexer{b: data}
	var stack []pdfObj
	var spaces []codeSpace
	entries := 0
	if f.chars == nil {
		f.chars = map[uint64]string{}
	}
	for {
		o := l.next()
		if o.kind == tokEOF {
			break
		}
		if o.kind != tokOp {
			if len(stack) < 4096 {
				stack = append(stack, o)
			}
			continue
		}
		switch o.str {
		case "endcodespacerange":
			for i := 0; i+1 < len(stack); i += 2 {
				lo, hi := stack[i], stack[i+1]
				if lo.kind != tokString || hi.kind != tokString || len(lo.str) != len(hi.str) || len(lo.str) == 0 || len(lo.str) > 4 {
					continue
				}
				spaces = append(spaces, codeSpace{n: len(lo.str), lo: bytesCode(lo.str), hi: bytesCode(hi.str)})
			}
		case "endbfchar":
			for i := 0; i+1 < len(stack) && entries < maxCMapEntries; i += 2 {
				src, dst := stack[i], stack[i+1]
				if src.kind != tokString || len(src.str) == 0 || len(src.str) > 4 {
					continue
				}
				f.chars[uint64(len(src.str))<<32|uint64(bytesCode(src.str))] = cmapDest(dst)
				entries++
			}
		case "endbfrange":
			for i := 0; i+2 < len(stack) && len(f.ranges) < maxCMapRanges; i += 3 {
				lo, hi, dst := stack[i], stack[i+1], stack[i+2]
				if lo.kind != tokString || hi.kind != tokString || len(lo.str) == 0 || len(lo.str) > 4 || len(hi.str) != len(lo.str) {
					continue
				}
				r := cmapRange{lo: bytesCode(lo.str), hi: bytesCode(hi.str), n: len(lo.str)}
				if r.hi < r.lo {
					continue
				}
				switch dst.kind {
				case tokString:
					r.base = []rune(utf16BE(dst.str))
				case tokArray:
					for _, d := range dst.arr {
						r.list = append(r.list, cmapDest(d))
					}
				default:
					continue
				}
				f.ranges = append(f.ranges, r)
			}
		}
		stack = stack[:0]
		l.reset()
	}
	if len(spaces) > 0 {
		sort.Slice(spaces, func(i, j int) bool { return spaces[i].n < spaces[j].n })
		f.spaces = spaces
	}
}

func bytesCode(s string) uint32 {
	var c uint32
	for i := 0; i < len(s); i++ {
		c = c<<8 | uint32(s[i])
	}
	return c
}

func cmapDest(o pdfObj) string {
	switch o.kind {
	case tokString:
		return utf16BE(o.str)
	case tokName:
		return glyphText(o.str)
	}
	return ""
}

// utf16BE decodes a CMap destination (UTF-16BE; an odd trailing byte is
// dropped).
func utf16BE(s string) string {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return string(utf16.Decode(u))
}

// glyphText maps a glyph name to its text: Adobe Glyph List names common
// in Latin documents, uniXXXX and uXXXX[XX] names, ligatures and suffixed
// variants ("a.sc", "f_i").
func glyphText(name string) string {
	if t, ok := glyphNames[name]; ok {
		return t
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return name
	}
	if strings.HasPrefix(name, "uni") && len(name) >= 7 && (len(name)-3)%4 == 0 {
		var u []uint16
		for i := 3; i+4 <= len(name); i += 4 {
			v, err := strconv.ParseUint(name[i:i+4], 16, 16)
			if err != nil {
				u = nil
				break
			}
			u = append(u, uint16(v))
		}
		if u != nil {
			return string(utf16.Decode(u))
		}
	}
	if strings.HasPrefix(name, "u") && len(name) >= 5 && len(name) <= 7 {
		if v, err := strconv.ParseUint(name[1:], 16, 32); err == nil && v <= 0x10ffff {
			return string(rune(v))
		}
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return glyphText(name[:i])
	}
	if strings.Contains(name, "_") {
		var b strings.Builder
		for part := range strings.SplitSeq(name, "_") {
			b.WriteString(glyphText(part))
		}
		return b.String()
	}
	return ""
}

// glyphNames holds the Adobe Glyph List names of the characters of
// Windows-1252 and Latin-1 plus common typographic glyphs. Single letters
// are handled by glyphText.
var glyphNames = func() map[string]string {
	const list = `space 0020 exclam 0021 quotedbl 0022 numbersign 0023 dollar 0024 percent 0025
ampersand 0026 quotesingle 0027 quoteright 2019 parenleft 0028 parenright 0029 asterisk 002A plus 002B
comma 002C hyphen 002D minus 2212 period 002E slash 002F zero 0030 one 0031 two 0032 three 0033 four 0034
five 0035 six 0036 seven 0037 eight 0038 nine 0039 colon 003A semicolon 003B less 003C equal 003D
greater 003E question 003F at 0040 bracketleft 005B backslash 005C bracketright 005D asciicircum 005E
underscore 005F grave 0060 quoteleft 2018 braceleft 007B bar 007C braceright 007D asciitilde 007E
Euro 20AC quotesinglbase 201A florin 0192 quotedblbase 201E ellipsis 2026 dagger 2020 daggerdbl 2021
circumflex 02C6 perthousand 2030 Scaron 0160 guilsinglleft 2039 OE 0152 Zcaron 017D quotedblleft 201C
quotedblright 201D bullet 2022 endash 2013 emdash 2014 tilde 02DC trademark 2122 scaron 0161
guilsinglright 203A oe 0153 zcaron 017E Ydieresis 0178 nbspace 00A0 exclamdown 00A1 cent 00A2
sterling 00A3 currency 00A4 yen 00A5 brokenbar 00A6 section 00A7 dieresis 00A8 copyright 00A9
ordfeminine 00AA guillemotleft 00AB logicalnot 00AC sfthyphen 00AD registered 00AE macron 00AF
degree 00B0 plusminus 00B1 twosuperior 00B2 threesuperior 00B3 acute 00B4 mu 00B5 paragraph 00B6
periodcentered 00B7 cedilla 00B8 onesuperior 00B9 ordmasculine 00BA guillemotright 00BB
onequarter 00BC onehalf 00BD threequarters 00BE questiondown 00BF Agrave 00C0 Aacute 00C1
Acircumflex 00C2 Atilde 00C3 Adieresis 00C4 Aring 00C5 AE 00C6 Ccedilla 00C7 Egrave 00C8 Eacute 00C9
Ecircumflex 00CA Edieresis 00CB Igrave 00CC Iacute 00CD Icircumflex 00CE Idieresis 00CF Eth 00D0
Ntilde 00D1 Ograve 00D2 Oacute 00D3 Ocircumflex 00D4 Otilde 00D5 Odieresis 00D6 multiply 00D7
Oslash 00D8 Ugrave 00D9 Uacute 00DA Ucircumflex 00DB Udieresis 00DC Yacute 00DD Thorn 00DE
germandbls 00DF agrave 00E0 aacute 00E1 acircumflex 00E2 atilde 00E3 adieresis 00E4 aring 00E5
ae 00E6 ccedilla 00E7 egrave 00E8 eacute 00E9 ecircumflex 00EA edieresis 00EB igrave 00EC iacute 00ED
icircumflex 00EE idieresis 00EF eth 00F0 ntilde 00F1 ograve 00F2 oacute 00F3 ocircumflex 00F4
otilde 00F5 odieresis 00F6 divide 00F7 oslash 00F8 ugrave 00F9 uacute 00FA ucircumflex 00FB
udieresis 00FC yacute 00FD thorn 00FE ydieresis 00FF dotlessi 0131 Lslash 0141 lslash 0142
fraction 2044 fi FB01 fl FB02 ff FB00 ffi FB03 ffl FB04 figuredash 2012 quotereversed 201B
minute 2032 second 2033 infinity 221E notequal 2260 lessequal 2264 greaterequal 2265 approxequal 2248
arrowright 2192 arrowleft 2190 checkmark 2713 lozenge 25CA summation 2211 product 220F
radical 221A partialdiff 2202 Delta 2206 Omega 2126 pi 03C0 uni00A0 00A0`
	fields := strings.Fields(list)
	m := make(map[string]string, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		v, _ := strconv.ParseUint(fields[i+1], 16, 32)
		m[fields[i]] = string(rune(v))
	}
	return m
}()
