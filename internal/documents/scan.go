package documents

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"time"
)

// Scanner checks uploads for malware while they stream in.
type Scanner interface {
	// Begin opens a scan; the upload's bytes are written to the session as
	// they arrive, then Verdict gives the result.
	Begin(ctx context.Context) (ScanSession, error)
}

// ScanSession is one file's scan.
type ScanSession interface {
	Write(p []byte) (int, error)
	// Verdict finishes the scan: the name of what was found ("" when the
	// file is clean), or an error when the file could not be scanned.
	Verdict() (found string, err error)
	Close() error
}

// Clamd scans with ClamAV's daemon over its INSTREAM protocol: the command
// "zINSTREAM\0", then the content as chunks each preceded by its length
// (4 bytes, big-endian), then a zero length; clamd answers
// "stream: OK\0" or "stream: <signature> FOUND\0" (or "... ERROR\0").
//
// clamd refuses streams longer than its StreamMaxLength (25 MB by default):
// set it to at least UPLOAD_MAX_BYTES, or large uploads are refused as
// unscannable. Scanning fails closed: an upload that cannot be scanned is
// not stored.
type Clamd struct {
	// Addr is host:port, tcp://host:port, unix:/path or an absolute path to
	// clamd's socket.
	Addr    string
	Timeout time.Duration // per network operation; 30s when zero
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	network, addr := "tcp", c.Addr
	switch {
	case strings.HasPrefix(addr, "unix:"):
		network, addr = "unix", strings.TrimPrefix(addr, "unix:")
	case strings.HasPrefix(addr, "/"):
		network = "unix"
	case strings.HasPrefix(addr, "tcp://"):
		addr = strings.TrimPrefix(addr, "tcp://")
	}
	d := net.Dialer{Timeout: c.timeout()}
	return d.DialContext(ctx, network, addr)
}

func (c *Clamd) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}

// Begin implements Scanner.
func (c *Clamd) Begin(ctx context.Context) (ScanSession, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("clamd: connect: %w", err)
	}
	s := &clamdSession{conn: conn, timeout: c.timeout(), w: bufio.NewWriterSize(conn, 64<<10)}
	_ = conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.WriteString("zINSTREAM\x00"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clamd: %w", err)
	}
	return s, nil
}

// Ping checks that clamd answers (for start-up checks).
func (c *Clamd) Ping(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return fmt.Errorf("clamd: connect: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(c.timeout()))
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("clamd: %w", err)
	}
	reply, err := bufio.NewReader(conn).ReadString(0)
	if err != nil || strings.TrimRight(reply, "\x00") != "PONG" {
		return fmt.Errorf("clamd: unexpected answer to PING: %q (%v)", reply, err)
	}
	return nil
}

type clamdSession struct {
	conn    net.Conn
	w       *bufio.Writer
	timeout time.Duration
	hdr     [4]byte
}

// maxClamdChunk keeps each INSTREAM chunk well under clamd's limits.
const maxClamdChunk = 1 << 20

func (s *clamdSession) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxClamdChunk)]
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		binary.BigEndian.PutUint32(s.hdr[:], uint32(len(chunk)))
		if _, err := s.w.Write(s.hdr[:]); err != nil {
			return n, err
		}
		if _, err := s.w.Write(chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

func (s *clamdSession) Verdict() (string, error) {
	_ = s.conn.SetDeadline(time.Now().Add(2 * s.timeout))
	// The terminating zero-length chunk. A write error here (clamd closed
	// the connection after a size limit) still leaves its answer to read.
	_, werr := s.w.Write([]byte{0, 0, 0, 0})
	if werr == nil {
		werr = s.w.Flush()
	}
	reply, err := bufio.NewReader(s.conn).ReadString(0)
	reply = strings.TrimSpace(strings.TrimRight(reply, "\x00"))
	if reply == "" {
		if err == nil {
			err = werr
		}
		return "", fmt.Errorf("clamd: no answer: %v", err)
	}
	return parseClamdReply(reply)
}

func parseClamdReply(reply string) (string, error) {
	// "stream: OK", "stream: Eicar-Test-Signature FOUND", "... ERROR".
	body := reply
	if i := strings.LastIndex(body, ": "); i >= 0 {
		body = body[i+2:]
	}
	switch {
	case body == "OK":
		return "", nil
	case strings.HasSuffix(body, " FOUND"):
		return strings.TrimSuffix(body, " FOUND"), nil
	}
	return "", fmt.Errorf("clamd: %s", reply)
}

func (s *clamdSession) Close() error { return s.conn.Close() }
