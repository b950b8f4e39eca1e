package parse

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strings"
)

// Office Open XML files (DOCX, XLSX) are zip archives of XML parts. A
// hostile archive can declare or hold far more data than its size
// suggests (a zip bomb), list millions of entries, or nest XML without
// end. zipDoc checks the declared sizes before opening an entry, counts
// the bytes actually inflated (never trusting the declaration), and
// xmlReader bounds the element depth.

// cfbMagic starts an OLE compound file: the container of password-
// protected Office documents (and of legacy .doc/.xls files).
var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

type zipDoc struct {
	e     *extraction
	kind  Kind
	zr    *zip.Reader
	files map[string]*zip.File // by lower-case name: part names are case-insensitive
	used  int64                // bytes inflated so far, all entries together
}

func openZip(e *extraction, kind Kind, r io.ReaderAt, size int64) (*zipDoc, error) {
	head := make([]byte, len(cfbMagic))
	if n, _ := r.ReadAt(head, 0); n == len(head) && bytes.Equal(head, cfbMagic) {
		if cfbEncrypted(r, size) {
			return nil, encryptedErr(kind, "the Office document is protected with a password")
		}
		return nil, formatErr(kind, "the file is a legacy (pre-2007) Office document, not Office Open XML")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, wrapFormatErr(kind, "not a valid zip archive", err)
	}
	if len(zr.File) > e.limits.MaxZipEntries {
		return nil, &LimitError{Limit: LimitZipEntries, Max: int64(e.limits.MaxZipEntries)}
	}
	z := &zipDoc{e: e, kind: kind, zr: zr, files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		if _, dup := z.files[name]; !dup {
			z.files[name] = f
		}
	}
	return z, nil
}

// cfbEncrypted looks for the "EncryptionInfo" stream name (UTF-16LE) in the
// first megabyte of a compound file: Office writes it for documents saved
// with a password.
func cfbEncrypted(r io.ReaderAt, size int64) bool {
	n := min(size, 1<<20)
	buf := make([]byte, n)
	m, _ := r.ReadAt(buf, 0)
	want := []byte{'E', 0, 'n', 0, 'c', 0, 'r', 0, 'y', 0, 'p', 0, 't', 0, 'i', 0, 'o', 0, 'n', 0, 'I', 0, 'n', 0, 'f', 0, 'o', 0}
	return bytes.Contains(buf[:m], want)
}

// file finds an entry by name (case-insensitive, without a leading slash).
func (z *zipDoc) file(name string) *zip.File {
	return z.files[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// open opens an entry for reading within the inflation budget.
func (z *zipDoc) open(f *zip.File) (io.ReadCloser, error) {
	if f.Flags&0x1 != 0 {
		return nil, encryptedErr(z.kind, "archive entry "+f.Name+" is encrypted")
	}
	remaining := z.e.limits.MaxDecompressedBytes - z.used
	if f.UncompressedSize64 > uint64(max(remaining, 0)) {
		return nil, &LimitError{Limit: LimitDecompressed, Max: z.e.limits.MaxDecompressedBytes}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, wrapFormatErr(z.kind, "cannot open entry "+f.Name, err)
	}
	return &countingReader{z: z, rc: rc, r: io.LimitReader(rc, remaining+1)}, nil
}

// declaredTotal checks the sum of all entries' declared sizes against the
// budget, for readers that inflate the whole archive.
func (z *zipDoc) checkDeclaredTotal() error {
	var total uint64
	for _, f := range z.zr.File {
		total += f.UncompressedSize64
		if total > uint64(z.e.limits.MaxDecompressedBytes) {
			return &LimitError{Limit: LimitDecompressed, Max: z.e.limits.MaxDecompressedBytes}
		}
	}
	return nil
}

// countingReader charges inflated bytes to the archive's budget.
type countingReader struct {
	z  *zipDoc
	rc io.ReadCloser
	r  io.Reader
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.z.used += int64(n)
	if c.z.used > c.z.e.limits.MaxDecompressedBytes {
		return n, &LimitError{Limit: LimitDecompressed, Max: c.z.e.limits.MaxDecompressedBytes}
	}
	if err != nil && err != io.EOF {
		var le *LimitError
		if !errors.As(err, &le) {
			err = wrapFormatErr(c.z.kind, "damaged archive entry", err)
		}
	}
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

// relationship is one entry of an OPC .rels part.
type relationship struct {
	ID, Type, Target, TargetMode string
}

// readRels reads the relationships of a part ("word/document.xml" ->
// "word/_rels/document.xml.rels"; "" for the package's own _rels/.rels).
// Targets come back resolved against the part's folder. A missing rels
// part is no relationships.
func (z *zipDoc) readRels(part string) ([]relationship, error) {
	dir, file := path.Split(part)
	f := z.file(dir + "_rels/" + file + ".rels")
	if f == nil {
		return nil, nil
	}
	var rels []relationship
	err := z.walkXML(f, func(x *xmlReader, tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			return nil
		}
		var rel relationship
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Id":
				rel.ID = a.Value
			case "Type":
				rel.Type = a.Value
			case "Target":
				rel.Target = a.Value
			case "TargetMode":
				rel.TargetMode = a.Value
			}
		}
		if rel.TargetMode != "External" {
			if strings.HasPrefix(rel.Target, "/") {
				rel.Target = strings.TrimPrefix(rel.Target, "/")
			} else {
				rel.Target = path.Clean(path.Join(dir, rel.Target))
			}
		}
		rels = append(rels, rel)
		return nil
	})
	return rels, err
}

// mainPart finds the package's main part through _rels/.rels (by the
// relationship type's last segment, which is the same in transitional and
// strict OOXML), else fallback.
func (z *zipDoc) mainPart(fallback string) string {
	rels, err := z.readRels("")
	if err == nil {
		for _, rel := range rels {
			if strings.HasSuffix(rel.Type, "/officeDocument") && z.file(rel.Target) != nil {
				return rel.Target
			}
		}
	}
	return fallback
}

// walkXML streams an entry's XML through fn, token by token, within the
// depth limit.
func (z *zipDoc) walkXML(f *zip.File, fn func(x *xmlReader, tok xml.Token) error) error {
	rc, err := z.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	x := newXMLReader(z.e, z.kind, f.Name, rc)
	for {
		tok, err := x.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(x, tok); err != nil {
			return err
		}
	}
}

// xmlReader is a depth-limited token loop over encoding/xml. The standard
// decoder expands only the predefined entities (no DTD entities, so no
// "billion laughs"), and this loop stops documents nested deeper than
// Limits.MaxXMLDepth before they cost memory or time.
type xmlReader struct {
	e     *extraction
	kind  Kind
	name  string
	d     *xml.Decoder
	depth int
}

func newXMLReader(e *extraction, kind Kind, name string, r io.Reader) *xmlReader {
	d := xml.NewDecoder(r)
	d.Strict = true
	// OOXML parts are UTF-8 or UTF-16; anything the standard decoder does
	// not know is refused.
	return &xmlReader{e: e, kind: kind, name: name, d: d}
}

func (x *xmlReader) next() (xml.Token, error) {
	if err := x.e.tick(); err != nil {
		return nil, err
	}
	tok, err := x.d.Token()
	if err != nil {
		if err == io.EOF {
			if x.depth != 0 {
				return nil, formatErr(x.kind, x.name+": unexpected end of XML")
			}
			return nil, io.EOF
		}
		var le *LimitError
		var fe *FormatError
		if errors.As(err, &le) || errors.As(err, &fe) {
			return nil, err
		}
		return nil, wrapFormatErr(x.kind, x.name+": invalid XML", err)
	}
	switch tok.(type) {
	case xml.StartElement:
		x.depth++
		if x.depth > x.e.limits.MaxXMLDepth {
			return nil, &LimitError{Limit: LimitXMLDepth, Max: int64(x.e.limits.MaxXMLDepth)}
		}
	case xml.EndElement:
		x.depth--
	}
	return tok, nil
}

// skip consumes the rest of the element whose start was just read.
func (x *xmlReader) skip() error {
	target := x.depth - 1
	for x.depth > target {
		if _, err := x.next(); err != nil {
			if err == io.EOF {
				return formatErr(x.kind, x.name+": unexpected end of XML")
			}
			return err
		}
	}
	return nil
}
