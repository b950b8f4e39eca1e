package testutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Frame is one Server-Sent Events frame as a browser parses it: the lines
// up to a blank line. Comment holds comment lines (": keep-alive");
// HasID distinguishes "no id field" from "id: " (which resets the id).
type Frame struct {
	ID      string
	HasID   bool
	Event   string
	Data    string
	Comment string
	Retry   string
}

// SSE reads a text/event-stream response frame by frame.
type SSE struct {
	t      testing.TB
	Res    *http.Response
	cancel context.CancelFunc
	frames chan frameOrErr
}

type frameOrErr struct {
	f   Frame
	err error
}

// OpenSSE GETs url with the given headers (cookies come from client's jar)
// and checks the answer is a 200 event stream. Close it when done (it is
// also closed when the test ends).
func OpenSSE(t testing.TB, client *http.Client, url string, header http.Header) *SSE {
	t.Helper()
	s, err := TryOpenSSE(client, url, header)
	if err != nil {
		t.Fatal(err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// TryOpenSSE is OpenSSE that returns the error (for a stream expected to be
// refused, check Res.StatusCode of the error's *SSEStatusError).
func TryOpenSSE(client *http.Client, url string, header http.Header) (*SSE, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4000))
		res.Body.Close()
		cancel()
		return nil, &SSEStatusError{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Body: string(b)}
	}
	s := &SSE{Res: res, cancel: cancel, frames: make(chan frameOrErr, 1024)}
	go s.read()
	return s, nil
}

// SSEStatusError is a stream request that was not answered with a 200
// event stream.
type SSEStatusError struct {
	Status      int
	ContentType string
	Body        string
}

func (e *SSEStatusError) Error() string {
	return fmt.Sprintf("not an event stream: %d %s: %.300s", e.Status, e.ContentType, e.Body)
}

func (s *SSE) read() {
	defer close(s.frames)
	br := bufio.NewReader(s.Res.Body)
	var f Frame
	var data []string
	started := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			s.frames <- frameOrErr{err: err}
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if started {
				f.Data = strings.Join(data, "\n")
				s.frames <- frameOrErr{f: f}
			}
			f, data, started = Frame{}, nil, false
			continue
		}
		started = true
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "":
			if f.Comment != "" {
				f.Comment += "\n"
			}
			f.Comment += value
		case "id":
			f.ID, f.HasID = value, true
		case "event":
			f.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			f.Retry = value
		}
	}
}

// ErrStreamEnded is returned by Next when the server closed the stream.
var ErrStreamEnded = errors.New("the stream ended")

// Next returns the next frame, waiting at most timeout. It returns
// ErrStreamEnded when the server closed the stream.
func (s *SSE) Next(timeout time.Duration) (Frame, error) {
	select {
	case fe, ok := <-s.frames:
		if !ok {
			return Frame{}, ErrStreamEnded
		}
		if fe.err != nil {
			if errors.Is(fe.err, io.EOF) {
				return Frame{}, ErrStreamEnded
			}
			return Frame{}, fe.err
		}
		return fe.f, nil
	case <-time.After(timeout):
		return Frame{}, fmt.Errorf("no frame within %s", timeout)
	}
}

// NextEvent is Next that skips comment-only frames (heartbeats).
func (s *SSE) NextEvent(timeout time.Duration) (Frame, error) {
	deadline := time.Now().Add(timeout)
	for {
		f, err := s.Next(time.Until(deadline))
		if err != nil || f.Comment == "" || f.HasID || f.Event != "" || f.Data != "" {
			return f, err
		}
	}
}

// MustNext is NextEvent that fails the test on error.
func (s *SSE) MustNext(timeout time.Duration) Frame {
	s.t.Helper()
	f, err := s.NextEvent(timeout)
	if err != nil {
		s.t.Fatalf("SSE: %v", err)
	}
	return f
}

// WaitEnd waits for the server to close the stream, failing the test when
// an event arrives first or it stays open past timeout; heartbeats are
// skipped.
func (s *SSE) WaitEnd(timeout time.Duration) {
	s.t.Helper()
	f, err := s.NextEvent(timeout)
	if !errors.Is(err, ErrStreamEnded) {
		s.t.Fatalf("SSE: want the end of the stream, got %+v (err %v)", f, err)
	}
}

// Close abandons the stream.
func (s *SSE) Close() {
	s.cancel()
	_ = s.Res.Body.Close()
}
