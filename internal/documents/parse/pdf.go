package parse

import (
	"bytes"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// PDF text, page by page.
//
// pdfcpu (pure Go, maintained, with resource limits, context support,
// every standard encryption including AES-256, and cross-reference
// repair) reads the file's object structure. Text extraction is ours: a
// content-stream interpreter that follows the text state (matrices, font,
// spacing, Form XObjects) and places every shown string on the page, then
// a layout step that orders the strings into lines (top to bottom, left to
// right), puts spaces where glyphs are apart and tabs between table
// columns. A page without text that shows an image is taken for a scan:
// it goes to OCR when available, else into Result.NoTextPages.

const (
	maxPageTreeDepth = 64
	maxFormDepth     = 12   // nested Form XObjects
	maxFormsPerPage  = 2000 // Form XObject invocations per page
	maxStateDepth    = 256  // q/Q nesting
	maxOperandStack  = 4096
)

var pdfcpuSetup sync.Once

// pdfConfig is pdfcpu's configuration for reading with our limits. The
// configuration directory is disabled: reading needs no user fonts, and a
// server must not write to the user's config folder.
func pdfConfig(l Limits) *model.Configuration {
	pdfcpuSetup.Do(func() { model.ConfigPath = "disable" })
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	lim := conf.Limits
	lim.MaxStreamBytes = min(lim.MaxStreamBytes, l.MaxDecompressedBytes)
	lim.MaxDecodeBytes = min(lim.MaxDecodeBytes, l.MaxDecompressedBytes)
	lim.MaxObjectCount = l.MaxPDFObjects
	lim.MaxXRefEntries = l.MaxPDFObjects
	lim.MaxObjectStreamCount = min(lim.MaxObjectStreamCount, l.MaxPDFObjects)
	conf.Limits = lim
	return conf
}

func extractPDF(e *extraction, r io.ReaderAt, size int64) error {
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	if !bytes.Contains(head[:n], []byte("%PDF-")) {
		return formatErr(KindPDF, "no PDF header")
	}
	pc, err := pdfcpu.ReadWithContext(e.ctx, io.NewSectionReader(r, 0, size), pdfConfig(e.limits))
	if err != nil {
		return pdfReadError(e, r, size, err)
	}
	if pc == nil || pc.XRefTable == nil {
		return formatErr(KindPDF, "no cross-reference table")
	}
	p := &pdfPageReader{e: e, xt: pc.XRefTable, fonts: map[int]*pdfFont{}, forms: map[int][]byte{}}
	pages, err := p.pages()
	if err != nil {
		return err
	}
	e.res.Pages = len(pages)
	var scanned []scanPage
	for i, pg := range pages {
		if err := e.check(); err != nil {
			return err
		}
		text, cover, err := p.pageText(pg)
		if err != nil {
			return err
		}
		usable := usableText(text)
		// A scan: images and no text, or a page-sized image with a few
		// words on it (a stamp, a page number, a scanner app's mark).
		scan := (!usable && (cover > 0 || strings.TrimSpace(text) != "")) ||
			(usable && cover >= 0.5 && letterCount(text) < 100)
		switch {
		case scan && usable:
			scanned = append(scanned, scanPage{page: i + 1, text: text})
		case scan:
			scanned = append(scanned, scanPage{page: i + 1})
		case usable:
			if err := e.add(text, Locator{Page: i + 1}); err != nil {
				return err
			}
		}
	}
	if len(scanned) > 0 {
		return ocrPages(e, r, size, scanned)
	}
	return nil
}

// scanPage is a page that looks scanned, with the little text it has.
type scanPage struct {
	page int
	text string
}

func letterCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// pdfReadError classifies a failure to open a PDF.
func pdfReadError(e *extraction, r io.ReaderAt, size int64, err error) error {
	if ctxErr := e.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if errors.Is(err, pdfcpu.ErrWrongPassword) {
		return encryptedErr(KindPDF, "a password is required to open it")
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "encrypt") || strings.Contains(msg, "password") || pdfTailHasEncrypt(r, size) {
		return encryptedErr(KindPDF, "its encryption cannot be opened")
	}
	if errors.Is(err, filter.ErrDecodeLimitExceeded) {
		return &LimitError{Limit: LimitDecompressed, Max: e.limits.MaxDecompressedBytes}
	}
	if strings.Contains(msg, "exceeds limit") {
		return &LimitError{Limit: LimitObjects, Max: int64(e.limits.MaxPDFObjects)}
	}
	return wrapFormatErr(KindPDF, "cannot read the file structure", err)
}

// pdfTailHasEncrypt looks for an /Encrypt entry in the trailer area.
func pdfTailHasEncrypt(r io.ReaderAt, size int64) bool {
	n := min(size, 64<<10)
	buf := make([]byte, n)
	m, _ := r.ReadAt(buf, size-n)
	return bytes.Contains(buf[:m], []byte("/Encrypt"))
}

// usableText reports whether a page's text is real text rather than
// nothing or the replacement characters of fonts we cannot decode.
func usableText(s string) bool {
	good, bad := 0, 0
	for _, r := range s {
		switch {
		case r == '\uFFFD':
			bad++
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			good++
		}
	}
	return good > 0 && bad <= good
}

// pdfPageReader reads pages' text through the object table.
type pdfPageReader struct {
	e     *extraction
	xt    *model.XRefTable
	used  int64 // bytes of decoded streams
	fonts map[int]*pdfFont
	forms map[int][]byte
	err   error // a limit hit deep inside, reported by pageText
}

type pdfPage struct {
	dict types.Dict
	res  types.Dict
	area float64 // of the media box, in square points
}

func (p *pdfPageReader) resolve(o types.Object) types.Object {
	for range 8 {
		ref, ok := o.(types.IndirectRef)
		if !ok {
			return o
		}
		v, err := p.xt.Dereference(ref)
		if err != nil {
			return nil
		}
		o = v
	}
	return nil
}

func (p *pdfPageReader) dict(o types.Object) types.Dict {
	switch v := p.resolve(o).(type) {
	case types.Dict:
		return v
	case types.StreamDict:
		return v.Dict
	}
	return nil
}

func (p *pdfPageReader) array(o types.Object) types.Array {
	v, _ := p.resolve(o).(types.Array)
	return v
}

func (p *pdfPageReader) name(o types.Object) string {
	v, _ := p.resolve(o).(types.Name)
	return string(v)
}

func (p *pdfPageReader) number(o types.Object) (float64, bool) {
	switch v := p.resolve(o).(type) {
	case types.Integer:
		return float64(v), true
	case types.Float:
		return float64(v), true
	}
	return 0, false
}

// pages walks the page tree in document order, with inherited resources,
// guarding against cycles, depth and the page limit.
func (p *pdfPageReader) pages() ([]pdfPage, error) {
	cat, err := p.xt.Catalog()
	if err != nil || cat == nil {
		return nil, wrapFormatErr(KindPDF, "no document catalog", err)
	}
	type item struct {
		obj   types.Object
		res   types.Dict
		box   types.Array
		depth int
	}
	stack := []item{{obj: cat["Pages"]}}
	seen := map[int]bool{}
	var pages []pdfPage
	for len(stack) > 0 {
		if err := p.e.tick(); err != nil {
			return nil, err
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if ref, ok := it.obj.(types.IndirectRef); ok {
			n := ref.ObjectNumber.Value()
			if seen[n] {
				continue // a cycle, or a page listed twice
			}
			seen[n] = true
		}
		d := p.dict(it.obj)
		if d == nil {
			continue
		}
		res, box := it.res, it.box
		if rd := p.dict(d["Resources"]); rd != nil {
			res = rd
		}
		if mb := p.array(d["MediaBox"]); len(mb) == 4 {
			box = mb
		}
		typ := p.name(d["Type"])
		if kids := p.array(d["Kids"]); typ == "Pages" || (typ != "Page" && kids != nil) {
			if it.depth >= maxPageTreeDepth {
				return nil, formatErr(KindPDF, "page tree too deep")
			}
			for i := len(kids) - 1; i >= 0; i-- {
				stack = append(stack, item{obj: kids[i], res: res, box: box, depth: it.depth + 1})
			}
			if len(stack) > 4*p.e.limits.MaxPages+1024 {
				return nil, &LimitError{Limit: LimitPages, Max: int64(p.e.limits.MaxPages)}
			}
			continue
		}
		area := 612.0 * 792 // US Letter, when the box is missing
		if box != nil {
			var v [4]float64
			for i := range v {
				v[i], _ = p.number(box[i])
			}
			if a := math.Abs((v[2] - v[0]) * (v[3] - v[1])); a > 1 {
				area = a
			}
		}
		pages = append(pages, pdfPage{dict: d, res: res, area: area})
		if len(pages) > p.e.limits.MaxPages {
			return nil, &LimitError{Limit: LimitPages, Max: int64(p.e.limits.MaxPages)}
		}
	}
	if len(pages) == 0 {
		return nil, formatErr(KindPDF, "no pages")
	}
	return pages, nil
}

// streamContent decodes a stream within the decoded-bytes budget; nil for
// a missing or undecodable stream (a broken font map or content stream
// costs its text, not the document).
func (p *pdfPageReader) streamContent(o types.Object) []byte {
	sd, _, err := p.xt.DereferenceStreamDict(o)
	if err != nil || sd == nil {
		return nil
	}
	remaining := p.e.limits.MaxDecompressedBytes - p.used
	if remaining <= 0 {
		p.fail(&LimitError{Limit: LimitDecompressed, Max: p.e.limits.MaxDecompressedBytes})
		return nil
	}
	if err := sd.DecodeWithLimit(remaining); err != nil {
		if errors.Is(err, filter.ErrDecodeLimitExceeded) {
			p.fail(&LimitError{Limit: LimitDecompressed, Max: p.e.limits.MaxDecompressedBytes})
		}
		if len(sd.Content) == 0 {
			return nil
		}
	}
	p.used += int64(len(sd.Content))
	return sd.Content
}

func (p *pdfPageReader) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// contents concatenates a page's content streams.
func (p *pdfPageReader) contents(o types.Object) []byte {
	switch v := p.resolve(o).(type) {
	case types.StreamDict:
		if ref, ok := o.(types.IndirectRef); ok {
			return p.streamContent(ref)
		}
		return p.streamContent(v)
	case types.Array:
		var out []byte
		for _, c := range v {
			if b := p.streamContent(c); b != nil {
				out = append(out, b...)
				out = append(out, '\n')
			}
		}
		return out
	}
	return nil
}

// font returns the decoder of a font resource, cached by object number.
func (p *pdfPageReader) font(o types.Object) *pdfFont {
	ref, isRef := o.(types.IndirectRef)
	if isRef {
		if f, ok := p.fonts[ref.ObjectNumber.Value()]; ok {
			return f
		}
	}
	fd := p.dict(o)
	if fd == nil {
		return nil
	}
	f := p.loadFont(fd)
	if isRef {
		p.fonts[ref.ObjectNumber.Value()] = f
	}
	return f
}

// matrix is a PDF transformation [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul is m × n (m applied first).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type gstate struct {
	ctm      matrix
	font     *pdfFont
	size     float64
	tc, tw   float64
	th       float64
	tl, rise float64
}

// textRun is a string shown on the page: its start and end on the
// baseline (in default user space) and its font size there.
type textRun struct {
	x0, y0, x1, y1 float64
	size           float64
	start, end     int // the text: interp.text[start:end]
	dir            int // reading direction in quarter turns counterclockwise
}

type interp struct {
	p       *pdfPageReader
	gs      gstate
	stack   []gstate
	tm, tlm matrix
	runs    []textRun
	imgArea float64 // page area covered by images (overlaps counted twice)
	forms   int
	glyphs  []glyph
	text    []byte // the text of all runs
}

// pageText interprets a page's content and lays its text out. It also
// returns the share of the page that images cover (0 to 1).
func (p *pdfPageReader) pageText(pg pdfPage) (string, float64, error) {
	in := &interp{p: p, gs: gstate{ctm: identity, th: 1}}
	content := p.contents(pg.dict["Contents"])
	if err := in.run(content, pg.res, 0); err != nil {
		return "", 0, err
	}
	if p.err != nil {
		return "", 0, p.err
	}
	return layout(in.runs, in.text), math.Min(in.imgArea/pg.area, 1), nil
}

func (in *interp) run(content []byte, res types.Dict, depth int) error {
	l := &pdfLexer{b: content}
	var ops []pdfObj
	fontRes := in.p.dict(res["Font"])
	xobjRes := in.p.dict(res["XObject"])
	for count := 0; ; count++ {
		if count&1023 == 0 {
			if err := in.p.e.check(); err != nil {
				return err
			}
			if in.p.err != nil {
				return in.p.err
			}
		}
		o := l.next()
		switch o.kind {
		case tokEOF:
			return nil
		case tokOp:
		default:
			if len(ops) < maxOperandStack {
				ops = append(ops, o)
			}
			continue
		}
		if err := in.op(l, o.str, ops, fontRes, xobjRes, res, depth); err != nil {
			return err
		}
		clear(ops)
		ops = ops[:0]
		l.reset()
	}
}

func nums(ops []pdfObj, n int) ([]float64, bool) {
	if len(ops) < n {
		return nil, false
	}
	out := make([]float64, n)
	for i, o := range ops[len(ops)-n:] {
		if o.kind != tokNumber {
			return nil, false
		}
		out[i] = o.num
	}
	return out, true
}

func (in *interp) op(l *pdfLexer, op string, ops []pdfObj, fontRes, xobjRes, res types.Dict, depth int) error {
	gs := &in.gs
	switch op {
	case "q":
		if len(in.stack) < maxStateDepth {
			in.stack = append(in.stack, in.gs)
		}
	case "Q":
		if n := len(in.stack); n > 0 {
			in.gs = in.stack[n-1]
			in.stack = in.stack[:n-1]
		}
	case "cm":
		if v, ok := nums(ops, 6); ok {
			gs.ctm = matrix(v).mul(gs.ctm)
		}
	case "BT":
		in.tm, in.tlm = identity, identity
	case "Tf":
		if len(ops) >= 2 && ops[len(ops)-2].kind == tokName {
			gs.font = in.p.font(fontRes[ops[len(ops)-2].str])
			gs.size = ops[len(ops)-1].num
		}
	case "Tc":
		if v, ok := nums(ops, 1); ok {
			gs.tc = v[0]
		}
	case "Tw":
		if v, ok := nums(ops, 1); ok {
			gs.tw = v[0]
		}
	case "Tz":
		if v, ok := nums(ops, 1); ok {
			gs.th = v[0] / 100
		}
	case "TL":
		if v, ok := nums(ops, 1); ok {
			gs.tl = v[0]
		}
	case "Ts":
		if v, ok := nums(ops, 1); ok {
			gs.rise = v[0]
		}
	case "Td":
		if v, ok := nums(ops, 2); ok {
			in.tlm = matrix{1, 0, 0, 1, v[0], v[1]}.mul(in.tlm)
			in.tm = in.tlm
		}
	case "TD":
		if v, ok := nums(ops, 2); ok {
			gs.tl = -v[1]
			in.tlm = matrix{1, 0, 0, 1, v[0], v[1]}.mul(in.tlm)
			in.tm = in.tlm
		}
	case "Tm":
		if v, ok := nums(ops, 6); ok {
			in.tlm = matrix(v)
			in.tm = in.tlm
		}
	case "T*":
		in.nextLine()
	case "Tj":
		if len(ops) >= 1 && ops[len(ops)-1].kind == tokString {
			in.show(ops[len(ops)-1].str)
		}
	case "'":
		in.nextLine()
		if len(ops) >= 1 && ops[len(ops)-1].kind == tokString {
			in.show(ops[len(ops)-1].str)
		}
	case "\"":
		if len(ops) >= 3 && ops[len(ops)-1].kind == tokString {
			gs.tw, gs.tc = ops[len(ops)-3].num, ops[len(ops)-2].num
			in.nextLine()
			in.show(ops[len(ops)-1].str)
		}
	case "TJ":
		if len(ops) >= 1 && ops[len(ops)-1].kind == tokArray {
			for _, el := range ops[len(ops)-1].arr {
				switch el.kind {
				case tokString:
					in.show(el.str)
				case tokNumber:
					in.tm = matrix{1, 0, 0, 1, -el.num / 1000 * gs.size * gs.th, 0}.mul(in.tm)
				}
			}
		}
	case "BI":
		in.image()
		for { // the inline image's dictionary, up to ID, then its data
			o := l.next()
			if o.kind == tokEOF {
				return nil
			}
			if o.kind == tokOp && o.str == "ID" {
				l.skipInlineImage()
				break
			}
		}
	case "Do":
		if len(ops) >= 1 && ops[len(ops)-1].kind == tokName {
			return in.doXObject(xobjRes[ops[len(ops)-1].str], res, depth)
		}
	}
	return nil
}

// image counts an image drawn now: the unit square through the CTM.
func (in *interp) image() {
	m := in.gs.ctm
	in.imgArea += math.Max(math.Abs(m[0]*m[3]-m[1]*m[2]), 1)
}

func (in *interp) nextLine() {
	in.tlm = matrix{1, 0, 0, 1, 0, -in.gs.tl}.mul(in.tlm)
	in.tm = in.tlm
}

// doXObject notes an image or interprets a Form XObject in place.
func (in *interp) doXObject(o types.Object, res types.Dict, depth int) error {
	if o == nil {
		return nil
	}
	d := in.p.dict(o)
	if d == nil {
		return nil
	}
	switch in.p.name(d["Subtype"]) {
	case "Image":
		in.image()
		return nil
	case "Form":
	default:
		return nil
	}
	in.forms++
	if depth >= maxFormDepth || in.forms > maxFormsPerPage {
		return nil
	}
	var content []byte
	if ref, ok := o.(types.IndirectRef); ok {
		n := ref.ObjectNumber.Value()
		c, ok := in.p.forms[n]
		if !ok {
			c = in.p.streamContent(ref)
			in.p.forms[n] = c
		}
		content = c
	}
	if content == nil {
		return nil
	}
	formRes := res
	if r := in.p.dict(d["Resources"]); r != nil {
		formRes = r
	}
	saved, savedTM, savedTLM := in.gs, in.tm, in.tlm
	if m := in.p.array(d["Matrix"]); len(m) == 6 {
		var fm matrix
		for i := range fm {
			fm[i], _ = in.p.number(m[i])
		}
		in.gs.ctm = fm.mul(in.gs.ctm)
	}
	err := in.run(content, formRes, depth+1)
	in.gs, in.tm, in.tlm = saved, savedTM, savedTLM
	return err
}

// show places a string: each glyph advances the text matrix by its width
// and the character and word spacing.
func (in *interp) show(s string) {
	gs := &in.gs
	f := gs.font
	if f == nil {
		f = &pdfFont{simple: &defaultSimple, missing: defaultWidth, scale: 0.001}
	}
	in.glyphs = f.decode(s, in.glyphs[:0])
	trm := matrix{gs.size * gs.th, 0, 0, gs.size, 0, gs.rise}.mul(in.tm).mul(gs.ctm)
	x0, y0 := trm[4], trm[5]
	fontSize := math.Hypot(trm[2], trm[3])
	start := len(in.text)
	for _, g := range in.glyphs {
		in.text = append(in.text, g.text...)
		tx := g.width*gs.size + gs.tc
		if g.space {
			tx += gs.tw
		}
		in.tm = matrix{1, 0, 0, 1, tx * gs.th, 0}.mul(in.tm)
	}
	end := matrix{gs.size * gs.th, 0, 0, gs.size, 0, gs.rise}.mul(in.tm).mul(gs.ctm)
	if len(in.text) == start {
		return
	}
	dir := 0
	switch ax, ay := trm[0], trm[1]; {
	case math.Abs(ay) > math.Abs(ax) && ay > 0:
		dir = 1
	case math.Abs(ay) > math.Abs(ax):
		dir = 3
	case ax < 0:
		dir = 2
	}
	// A string that continues the previous one on its baseline (kerned
	// pieces of a word) extends it: fewer runs, same layout.
	if n := len(in.runs); n > 0 {
		p := &in.runs[n-1]
		px, py := turn(p.x1, p.y1, dir)
		nx, ny := turn(x0, y0, dir)
		if p.dir == dir && p.end == start && math.Abs(p.size-fontSize) < 0.01*fontSize &&
			math.Abs(py-ny) < 0.01*fontSize && nx-px > -0.05*fontSize && nx-px < 0.1*fontSize {
			p.x1, p.y1, p.end = end[4], end[5], len(in.text)
			return
		}
	}
	in.runs = append(in.runs, textRun{x0: x0, y0: y0, x1: end[4], y1: end[5], size: fontSize, start: start, end: len(in.text), dir: dir})
}

// turn rotates a point by dir quarter turns clockwise, undoing a
// reading direction of dir quarter turns counterclockwise.
func turn(x, y float64, dir int) (float64, float64) {
	switch dir {
	case 1:
		return y, -x
	case 2:
		return -x, -y
	case 3:
		return -y, x
	}
	return x, y
}

var defaultSimple = func() [256]string {
	var t [256]string
	for i := 32; i < 127; i++ {
		t[i] = string(rune(i))
	}
	return t
}()

// layout orders a page's text runs into lines: runs are grouped by
// baseline (top to bottom), each line read left to right. Runs apart by
// more than a fraction of the font size get a space between them, by
// several em a tab (table columns); a gap between lines well beyond the
// line spacing becomes a blank line (a paragraph break).
func layout(runs []textRun, text []byte) string {
	if len(runs) == 0 {
		return ""
	}
	// Read the page in the direction most of its text runs (a landscape
	// page drawn rotated on a portrait sheet reads bottom to top).
	var weight [4]int
	for _, r := range runs {
		weight[r.dir] += r.end - r.start
	}
	dir := 0
	for d := 1; d < 4; d++ {
		if weight[d] > weight[dir] {
			dir = d
		}
	}
	if dir != 0 {
		for i := range runs {
			r := &runs[i]
			r.x0, r.y0 = turn(r.x0, r.y0, dir)
			r.x1, r.y1 = turn(r.x1, r.y1, dir)
		}
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if math.Abs(runs[i].y0-runs[j].y0) > 0.01 {
			return runs[i].y0 > runs[j].y0
		}
		return runs[i].x0 < runs[j].x0
	})
	// Lines are runs of the sorted slice whose baselines are close.
	type line struct {
		y, size    float64
		start, end int
	}
	var lines []line
	for i, r := range runs {
		size := math.Max(r.size, 1)
		if n := len(lines); n > 0 {
			last := &lines[n-1]
			if math.Abs(last.y-r.y0) <= 0.45*math.Min(last.size, size) {
				last.end = i + 1
				last.size = math.Max(last.size, size)
				continue
			}
		}
		lines = append(lines, line{y: r.y0, size: size, start: i, end: i + 1})
	}
	var b strings.Builder
	for i, ln := range lines {
		if i > 0 {
			prev := lines[i-1]
			b.WriteByte('\n')
			if prev.y-ln.y > 2.0*math.Max(prev.size, ln.size) {
				b.WriteByte('\n')
			}
		}
		lr := runs[ln.start:ln.end]
		sort.SliceStable(lr, func(a, c int) bool { return lr[a].x0 < lr[c].x0 })
		var prev *textRun
		for k := range lr {
			r := &lr[k]
			if prev != nil {
				// Fake bold: the same string drawn again a hair to the right.
				if bytes.Equal(text[r.start:r.end], text[prev.start:prev.end]) && math.Abs(r.x0-prev.x0) < 0.3*r.size {
					continue
				}
				gap := r.x0 - prev.x1
				em := math.Max(math.Min(prev.size, r.size), 1)
				endsSpace := bytes.HasSuffix(text[prev.start:prev.end], []byte(" ")) || bytes.HasSuffix(text[prev.start:prev.end], []byte("\t"))
				startsSpace := bytes.HasPrefix(text[r.start:r.end], []byte(" "))
				switch {
				case gap > 3*em:
					b.WriteByte('\t')
				case gap > 0.15*em && !endsSpace && !startsSpace:
					b.WriteByte(' ')
				}
			}
			b.Write(text[r.start:r.end])
			prev = r
		}
	}
	return b.String()
}
