package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// sseConn is one SSE response read frame by frame: a plain HTTP/1.1
// connection per stream (10,000 of them cost little: one goroutine and two
// small buffers each), dialled to a chosen address.
type sseConn struct {
	conn net.Conn
	body io.ReadCloser
	r    *bufio.Reader
	line []byte // a line longer than the buffer, assembled
}

// frame is one SSE event.
type frame struct {
	id    int64
	event string
	data  []byte
	at    time.Time // when its last line was read
}

// openStream dials addr, sends GET path for host with headers and reads
// the response head: anything but 200 is an error.
func openStream(ctx context.Context, addr, host, path string, header http.Header, bufSize int) (*sseConn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, bufSize)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		c.Close()
		return nil, fmt.Errorf("%s answered %d: %s", path, res.StatusCode, bytes.TrimSpace(b))
	}
	_ = c.SetDeadline(time.Time{})
	return &sseConn{conn: c, body: res.Body, r: bufio.NewReaderSize(res.Body, bufSize)}, nil
}

func (s *sseConn) Close() error { return s.conn.Close() }

// readLine returns the next line without its end of line; the slice is
// valid until the next call.
func (s *sseConn) readLine() ([]byte, error) {
	l, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], l...)
		for errors.Is(err, bufio.ErrBufferFull) {
			l, err = s.r.ReadSlice('\n')
			s.line = append(s.line, l...)
		}
		l = s.line
	}
	if err != nil {
		return nil, err
	}
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r")), nil
}

// next reads the next event (comments, heartbeats included, are
// skipped). f.data is reused by the following call unless keep is set.
func (s *sseConn) next(f *frame, keep bool) error {
	f.id, f.event = 0, ""
	if keep {
		f.data = nil
	} else {
		f.data = f.data[:0]
	}
	has := false
	for {
		l, err := s.readLine()
		if err != nil {
			return err
		}
		if len(l) == 0 {
			if has {
				f.at = time.Now()
				return nil
			}
			continue
		}
		if l[0] == ':' {
			continue
		}
		name, value, _ := bytes.Cut(l, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "id":
			f.id, _ = strconv.ParseInt(string(value), 10, 64)
		case "event":
			f.event = string(value)
		case "data":
			if has && len(f.data) > 0 {
				f.data = append(f.data, '\n')
			}
			f.data = append(f.data, value...)
			has = true
		}
	}
}
