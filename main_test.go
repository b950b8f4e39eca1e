package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeWithEmbeddedDatabase is `make run` end to end: with no
// DATABASE_URL the binary starts its own PostgreSQL, migrates, seeds the
// demo firm, prints the logins, serves, and on SIGTERM drains and stops the
// database.
func TestServeWithEmbeddedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "accute")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(filterEnv(os.Environ(), "DATABASE_URL", "ACCUTE_ENV", "ACCUTE_DEMO_PASSWORD", "ACCUTE_SEED_DEMO"),
		"PORT="+fmt.Sprint(port), "ACCUTE_DATA_DIR="+data, "LOG_LEVEL=warn")
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The banner prints the URL and the generated demo password.
	password := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if rest, ok := strings.CutPrefix(line, "owner@demo.accute.test / "); ok {
				password <- rest
			}
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var pw string
	select {
	case pw = <-password:
	case <-time.After(90 * time.Second):
		t.Fatal("no demo login printed within 90s")
	}
	saved, err := os.ReadFile(filepath.Join(data, "demo-password"))
	if err != nil || strings.TrimSpace(string(saved)) != pw {
		t.Fatalf("demo password not stored in the data directory: %v", err)
	}
	if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", res, err)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(base+"/login", url.Values{"email": {"owner@demo.accute.test"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Demo Accounting LLP") {
		t.Fatalf("demo login: %d\n%.500s", res.StatusCode, body)
	}
	res, err = c.Get(base + "/o/demo/clients")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Bluebird Bakery") {
		t.Fatalf("demo clients: %d", res.StatusCode)
	}

	// Graceful shutdown stops the embedded database too.
	pidFile := findPostmasterPid(t, data)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit within 30s of SIGTERM")
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("embedded PostgreSQL still running (%s: %v)", pidFile, err)
	}

	// `accute admin grant` works on the same embedded database.
	grant := func(email string) (string, error) {
		cmd := exec.Command(bin, "admin", "grant", email)
		cmd.Env = append(filterEnv(os.Environ(), "DATABASE_URL"), "ACCUTE_DATA_DIR="+data, "LOG_LEVEL=warn")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := grant("OWNER@demo.accute.test"); err != nil || !strings.Contains(out, "platform administrator") {
		t.Fatalf("admin grant: %v\n%s", err, out)
	}
	if out, err := grant("nobody@demo.accute.test"); err == nil || !strings.Contains(out, "no user") {
		t.Fatalf("admin grant of an unknown user: %v\n%s", err, out)
	}
}

func findPostmasterPid(t *testing.T, data string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(filepath.Join(data, "postgres"))
	if err != nil {
		t.Fatalf("no cluster under %s/postgres: %v", data, err)
	}
	// As root the cluster may live outside the temporary directory
	// (/var/lib/accute/devdb-*): remove it with the test.
	if !strings.HasPrefix(dir, data) {
		t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(dir)) })
	}
	p := filepath.Join(dir, "postmaster.pid")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("cluster not running: %v", err)
	}
	return p
}

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
