package documents

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"accute/internal/testutil"
)

const eicar = testutil.EICAR

func scan(t *testing.T, c *Clamd, content []byte, writeSize int) (string, error) {
	t.Helper()
	s, err := c.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for len(content) > 0 {
		n := min(writeSize, len(content))
		if _, err := s.Write(content[:n]); err != nil {
			break // the verdict tells why
		}
		content = content[n:]
	}
	return s.Verdict()
}

func TestClamdScansStreams(t *testing.T) {
	fake := testutil.NewFakeClamd(t, 1<<20)
	c := &Clamd{Addr: fake.Addr(), Timeout: 5 * time.Second}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	clean := bytes.Repeat([]byte("clean content "), 5000)
	if found, err := scan(t, c, clean, 4096); err != nil || found != "" {
		t.Fatalf("clean file: %q %v", found, err)
	}
	// clamd received exactly the bytes, however they were chunked.
	if got := <-fake.Streams; !bytes.Equal(got, clean) {
		t.Fatalf("clamd received %d bytes, want %d", len(got), len(clean))
	}
	// EICAR split across writes is still found.
	infected := append(bytes.Repeat([]byte("x"), 3000), []byte(eicar)...)
	if found, err := scan(t, c, infected, 3010); err != nil || found != "Eicar-Test-Signature" {
		t.Fatalf("EICAR: %q %v", found, err)
	}
	<-fake.Streams
	// Over clamd's limit: an error, never "clean".
	if found, err := scan(t, &Clamd{Addr: fake.Addr()}, bytes.Repeat([]byte("y"), 2<<20), 64<<10); err == nil || found != "" {
		t.Fatalf("over the limit: %q %v", found, err)
	} else if !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("over the limit: %v", err)
	}
	// No answer: an error.
	fake.Drop.Store(true)
	if _, err := scan(t, c, []byte("abc"), 10); err == nil {
		t.Fatal("no answer was taken as clean")
	}
	// Nobody listening: Begin fails.
	if _, err := (&Clamd{Addr: "127.0.0.1:1", Timeout: time.Second}).Begin(context.Background()); err == nil {
		t.Fatal("connected to nothing")
	}
}

func TestParseClamdReply(t *testing.T) {
	cases := map[string]struct {
		found string
		err   bool
	}{
		"stream: OK":                            {"", false},
		"stream: Win.Test.EICAR_HDB-1 FOUND":    {"Win.Test.EICAR_HDB-1", false},
		"INSTREAM size limit exceeded. ERROR":   {"", true},
		"stream: Can't allocate memory ERROR":   {"", true},
		"1: stream: Eicar-Test-Signature FOUND": {"Eicar-Test-Signature", false},
	}
	for reply, want := range cases {
		found, err := parseClamdReply(reply)
		if found != want.found || (err != nil) != want.err {
			t.Errorf("%q: %q %v", reply, found, err)
		}
	}
}
