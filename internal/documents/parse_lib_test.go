package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func libFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("parse", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runParser(ctx context.Context, key string, b []byte) ([]Chunk, error) {
	var out []Chunk
	err := DefaultParsers()[key].Parse(ctx, bytes.NewReader(b), int64(len(b)), func(c Chunk) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// blankPDF is a valid one-page PDF without any text.
func blankPDF() []byte {
	var b bytes.Buffer
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
		"<< /Length 0 >>\nstream\n\nendstream",
	}
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func TestLibraryParsers(t *testing.T) {
	ctx := context.Background()
	chunks, err := runParser(ctx, TypePDF.Key, libFixture(t, "report.pdf"))
	if err != nil || len(chunks) != 3 || chunks[2].Page != 3 || chunks[2].ref() != "page 3" || !strings.Contains(chunks[1].Text, "balance sheet") {
		t.Fatalf("pdf: %v %+v", err, chunks)
	}
	chunks, err = runParser(ctx, TypeXLSX.Key, libFixture(t, "workbook.xlsx"))
	if err != nil || len(chunks) != 2 || chunks[0].Sheet != "Summary" || chunks[0].Cell != "A1:D5" || chunks[1].ref() != "'Q1 Data'!B1:C2" {
		t.Fatalf("xlsx: %v %+v", err, chunks)
	}
	chunks, err = runParser(ctx, TypeDOCX.Key, libFixture(t, "report.docx"))
	if err != nil || len(chunks) != 3 || chunks[0].ref() != "paragraphs 1-4" || chunks[1].ref() != "table 1, rows 1-2" {
		t.Fatalf("docx: %v %+v", err, chunks)
	}

	// Unreadable files fail with the library's reason.
	var failure *ParseFailure
	if _, err := runParser(ctx, TypePDF.Key, libFixture(t, "encrypted-aes256.pdf")); !errors.As(err, &failure) || !strings.Contains(failure.Reason, "password-protected") {
		t.Fatalf("encrypted: %v", err)
	}
	if _, err := runParser(ctx, TypeDOCX.Key, libFixture(t, "report.pdf")); !errors.As(err, &failure) || !strings.Contains(failure.Reason, "Word (DOCX)") {
		t.Fatalf("not a docx: %v", err)
	}
	// A page without text: no text, not failed.
	if _, err := runParser(ctx, TypePDF.Key, blankPDF()); !errors.Is(err, ErrNoText) {
		t.Fatalf("blank pdf: %v", err)
	}
	// Cancellation is retried, not a failure.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := runParser(cctx, TypePDF.Key, libFixture(t, "report.pdf")); err == nil || errors.As(err, &failure) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestChunkRef(t *testing.T) {
	for _, tc := range []struct {
		c    Chunk
		want string
	}{
		{Chunk{Page: 4}, "page 4"},
		{Chunk{Sheet: "Q1 2024", Cell: "A1:B2"}, "'Q1 2024'!A1:B2"},
		{Chunk{Cell: "A1:C3"}, "A1:C3"},
		{Chunk{LineStart: 1, LineEnd: 2}, "lines 1-2"},
		{Chunk{LineStart: 5, LineEnd: 5}, "line 5"},
		{Chunk{Ref: "paragraphs 4-9", Page: 1}, "paragraphs 4-9"},
	} {
		if got := tc.c.ref(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}
