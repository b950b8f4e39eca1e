package parse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// OCR of scanned PDF pages: pdftoppm (poppler-utils) renders the page to a
// grey PNG and Tesseract (tesseract-ocr) reads it. Both run as separate
// processes, each page bounded by OCR.PageTimeout and by the extraction's
// context, so a hostile page cannot hang or crash the caller. Pages that
// cannot be read this way are reported in Result.NoTextPages; the
// document itself does not fail.

const maxOCROutput = 1 << 20 // bytes of text Tesseract may print for one page

func ocrPages(e *extraction, r io.ReaderAt, size int64, pages []scanPage) (err error) {
	cfg := e.limits.OCR
	res := e.res
	defer func() {
		// OCR text comes after the text layer pages: back to page order.
		sort.SliceStable(res.Segments, func(i, j int) bool { return res.Segments[i].Loc.Page < res.Segments[j].Loc.Page })
		sort.Ints(res.NoTextPages)
	}()
	// keep reports a page without (recovered) text, keeping what little
	// text it has.
	keep := func(p scanPage) error {
		res.NoTextPages = append(res.NoTextPages, p.page)
		return e.add(p.text, Locator{Page: p.page})
	}
	noText := func(from int, note string) error {
		for _, p := range pages[from:] {
			if err := keep(p); err != nil {
				return err
			}
		}
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
		return nil
	}
	if cfg.Disabled {
		return noText(0, "OCR is turned off: pages without a text layer were not read.")
	}
	tess, err1 := lookTool(cfg.Tesseract, "tesseract")
	ppm, err2 := lookTool(cfg.Pdftoppm, "pdftoppm")
	if err1 != nil || err2 != nil {
		return noText(0, "OCR is not available (install tesseract-ocr and poppler-utils): pages without a text layer were not read.")
	}
	dir, err := os.MkdirTemp("", "accute-ocr-")
	if err != nil {
		return noText(0, "OCR could not start: "+err.Error())
	}
	defer os.RemoveAll(dir)
	pdfPath := filepath.Join(dir, "doc.pdf")
	if err := writeFile(pdfPath, io.NewSectionReader(r, 0, size)); err != nil {
		return noText(0, "OCR could not start: "+err.Error())
	}
	failed := false
	for i, sp := range pages {
		if err := e.ctx.Err(); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			return noText(i, "OCR stopped at the time limit: some pages without a text layer were not read.")
		}
		if i >= cfg.MaxPages {
			return noText(i, fmt.Sprintf("OCR read the first %d scanned pages only.", cfg.MaxPages))
		}
		pctx, cancel := withTimeout(e.ctx, cfg.PageTimeout)
		text, err := ocrPage(pctx, ppm, tess, pdfPath, dir, sp.page, cfg)
		cancel()
		if err == nil && usableText(text) {
			if sp.text != "" {
				text = sp.text + "\n\n" + text
			}
			if err := e.add(text, Locator{Page: sp.page}); err != nil {
				return err
			}
			res.OCRPages = append(res.OCRPages, sp.page)
			continue
		}
		if err != nil && !failed {
			failed = true
			res.Notes = append(res.Notes, fmt.Sprintf("OCR failed on page %d: %v", sp.page, err))
		}
		if err := keep(sp); err != nil {
			return err
		}
	}
	return nil
}

func lookTool(configured, name string) (string, error) {
	if configured != "" {
		return exec.LookPath(configured)
	}
	return exec.LookPath(name)
}

func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ocrPage renders one page and recognizes its text.
func ocrPage(ctx context.Context, ppm, tess, pdfPath, dir string, page int, cfg OCR) (string, error) {
	prefix := filepath.Join(dir, "page-"+strconv.Itoa(page))
	n := strconv.Itoa(page)
	render := exec.CommandContext(ctx, ppm, "-f", n, "-l", n, "-r", strconv.Itoa(cfg.DPI), "-gray", "-png", "-singlefile", pdfPath, prefix)
	if out, err := runTool(render); err != nil {
		return "", fmt.Errorf("pdftoppm: %w%s", err, stderrTail(out))
	}
	img := prefix + ".png"
	defer os.Remove(img)
	recognize := exec.CommandContext(ctx, tess, img, "stdout", "-l", cfg.Language, "--psm", "3")
	// One thread per page: the server has other work.
	recognize.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxOCROutput, 4096
	recognize.Stdout, recognize.Stderr = &stdout, &stderr
	recognize.WaitDelay = 2 * time.Second
	if err := recognize.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("tesseract: %w", ctx.Err())
		}
		return "", fmt.Errorf("tesseract: %w%s", err, stderrTail(stderr.Bytes()))
	}
	return stdout.String(), nil
}

func runTool(cmd *exec.Cmd) ([]byte, error) {
	var out limitedBuffer
	out.max = 4096
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		return out.Bytes(), err
	}
	return out.Bytes(), err
}

func stderrTail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	if len(b) > 200 {
		b = b[len(b)-200:]
	}
	return ": " + string(b)
}

// limitedBuffer keeps the first max bytes written and discards the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
