// Command uploadbench measures the memory a large upload costs the server:
// it starts the real server (a built binary, on a fresh database), signs in
// as the demo owner, uploads one file of -size bytes through the same
// multipart endpoint the page's uploader uses, downloads it back, and
// samples the server's resident memory (VmRSS) every few milliseconds
// throughout. An upload streams through the encrypting writer to storage,
// so the growth must stay flat whatever the file's size: the run fails
// when it reaches -max-growth.
//
//	go run ./cmd/uploadbench -size 200MB
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"accute/internal/benchutil"
)

const demoPassword = "bench-password-2026"

func main() {
	size := flag.Int64("size", 200_000_000, "bytes to upload")
	maxGrowth := flag.Int64("max-growth", 64<<20, "largest acceptable growth of the server's RSS, in bytes")
	flag.Parse()
	if err := run(*size, *maxGrowth); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

func run(size, maxGrowth int64) error {
	ctx := context.Background()
	admin := benchutil.AdminURL()
	dsn, err := benchutil.FreshDatabase(ctx, admin, "accute_bench_upload")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "accute-uploadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := benchutil.BuildServer(tmp)
	if err != nil {
		return err
	}
	port, err := benchutil.FreePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(),
		"DATABASE_URL="+dsn, "PORT="+strconv.Itoa(port), "BASE_URL="+base, "ACCUTE_ENV=development",
		"ACCUTE_DATA_DIR="+filepath.Join(tmp, "data"), "ACCUTE_DEMO_PASSWORD="+demoPassword, "LOG_LEVEL=warn",
		"UPLOAD_MAX_BYTES="+strconv.FormatInt(size+1000, 10))
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	if err := benchutil.WaitReady(base); err != nil {
		return err
	}
	client, err := login(base)
	if err != nil {
		return err
	}
	// Warm up: the pages and the upload path once with a small file, so
	// the baseline includes what any server has after its first requests.
	for range 5 {
		if res, err := client.Get(base + "/o/demo/documents"); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	if _, _, err := uploadFile(client, base, "warmup.png", 1<<20); err != nil {
		return fmt.Errorf("warm-up upload: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	pid := srv.Process.Pid
	baseline, err := rss(pid)
	if err != nil {
		return err
	}

	up := startSampling(pid)
	t0 := time.Now()
	docURL, sum, err := uploadFile(client, base, "bench-200mb.png", size)
	upTime := time.Since(t0)
	upPeak := up.stop()
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}

	down := startSampling(pid)
	t0 = time.Now()
	got, n, err := download(client, base+docURL+"/download")
	downTime := time.Since(t0)
	downPeak := down.stop()
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if n != size || got != sum {
		return fmt.Errorf("downloaded %d bytes with sha256 %s; uploaded %d with %s", n, got, size, sum)
	}
	hwm, _ := benchutil.ProcStatus(pid, "VmHWM:")

	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	rate := func(d time.Duration) string { return fmt.Sprintf("%.0f MB/s", float64(size)/1e6/d.Seconds()) }
	fmt.Printf("\n## Upload and download of a %s file (%s)\n\n", mb(size), time.Now().UTC().Format("2006-01-02"))
	fmt.Printf("Machine: %d cores, %s; the server built from this tree on a fresh database, local disk storage, "+
		"the file sent as one multipart upload over loopback; server RSS (VmRSS) sampled every 5 ms.\n\n", runtime.NumCPU(), runtime.Version())
	fmt.Println("| | time | rate | server RSS before | peak during | growth |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	fmt.Printf("| upload (stream, SHA-256, sniff, AES-GCM, disk) | %s | %s | %s | %s | %s |\n", upTime.Round(time.Millisecond), rate(upTime), mb(baseline), mb(upPeak), mb(upPeak-baseline))
	fmt.Printf("| download (decrypt, stream) | %s | %s | %s | %s | %s |\n", downTime.Round(time.Millisecond), rate(downTime), mb(baseline), mb(downPeak), mb(downPeak-baseline))
	fmt.Printf("\nServer peak RSS over the whole run (VmHWM): %s. Limit on growth: %d MiB.\n", mb(hwm), maxGrowth>>20)
	if growth := max(upPeak, downPeak) - baseline; growth >= maxGrowth {
		return fmt.Errorf("server RSS grew by %s, over the limit of %s", mb(growth), mb(maxGrowth))
	}
	return nil
}

// uploadFile streams a generated file (a PNG signature, then pseudo-random
// bytes) as a multipart upload, never holding it in memory; it returns the
// document's address and the file's SHA-256.
func uploadFile(client *http.Client, base, name string, size int64) (string, string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sum := sha256.New()
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+name+`"`)
		h.Set("Content-Type", "image/png")
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(io.MultiWriter(part, sum), io.LimitReader(newContent(), size))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, base+"/o/demo/documents", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var out struct {
		Document *struct {
			URL  string `json:"url"`
			Size int64  `json:"size"`
		} `json:"document"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", "", fmt.Errorf("answer %d: %w", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusCreated || out.Document == nil {
		return "", "", fmt.Errorf("answer %d: %s", res.StatusCode, out.Error)
	}
	if out.Document.Size != size {
		return "", "", fmt.Errorf("stored %d bytes, sent %d", out.Document.Size, size)
	}
	return out.Document.URL, hex.EncodeToString(sum.Sum(nil)), nil
}

// content yields a PNG signature and then pseudo-random bytes (which do
// not compress and are not text).
type content struct {
	head []byte
	rng  *rand.ChaCha8
}

func newContent() *content {
	return &content{head: []byte("\x89PNG\r\n\x1a\n"), rng: rand.NewChaCha8([32]byte{1, 2, 3})}
}

func (c *content) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.rng.Read(p)
}

func download(client *http.Client, u string) (string, int64, error) {
	res, err := client.Get(u)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("answer %d", res.StatusCode)
	}
	var h hash.Hash = sha256.New()
	n, err := io.Copy(h, res.Body)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// sampler records the peak RSS of a process until stopped.
type sampler struct {
	peak atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func startSampling(pid int) *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := rss(pid); err == nil && v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak.Load()
}

func rss(pid int) (int64, error) { return benchutil.ProcStatus(pid, "VmRSS:") }

func login(base string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(base+"/login", url.Values{"email": {"owner@demo.accute.test"}, "password": {demoPassword}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login answered %d", res.StatusCode)
	}
	return c, nil
}
