package testutil

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// EICAR is the EICAR anti-virus test file: harmless, and detected by every
// scanner as "Eicar-Test-Signature".
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// FakeClamd speaks ClamAV's clamd protocol on loopback, for tests on
// machines without clamd: zPING, and zINSTREAM with length-prefixed chunks
// ended by a zero length, answering "stream: Eicar-Test-Signature FOUND"
// for content holding the EICAR string, "stream: OK" otherwise, and
// "INSTREAM size limit exceeded. ERROR" past Limit bytes, as clamd does.
type FakeClamd struct {
	ln    net.Listener
	Limit int
	// Streams receives every scanned stream.
	Streams chan []byte
	// Drop makes it close connections without answering.
	Drop atomic.Bool
}

// NewFakeClamd listens on a free loopback port until the test ends.
func NewFakeClamd(t testing.TB, limit int) *FakeClamd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &FakeClamd{ln: ln, Limit: limit, Streams: make(chan []byte, 64)}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

// Addr is the host:port to give CLAMAV_ADDR.
func (f *FakeClamd) Addr() string { return f.ln.Addr().String() }

func (f *FakeClamd) serve() {
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(conn)
	}
}

func (f *FakeClamd) handle(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	cmd, err := r.ReadString(0)
	if err != nil {
		return
	}
	switch cmd {
	case "zPING\x00":
		_, _ = conn.Write([]byte("PONG\x00"))
		return
	case "zINSTREAM\x00":
	default:
		_, _ = conn.Write([]byte("UNKNOWN COMMAND\x00"))
		return
	}
	var stream bytes.Buffer
	for {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return
		}
		if n == 0 {
			break
		}
		if stream.Len()+int(n) > f.Limit {
			_, _ = conn.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
			return
		}
		if _, err := io.CopyN(&stream, r, int64(n)); err != nil {
			return
		}
	}
	select {
	case f.Streams <- stream.Bytes():
	default:
	}
	if f.Drop.Load() {
		return
	}
	if bytes.Contains(stream.Bytes(), []byte(EICAR)) {
		_, _ = conn.Write([]byte("stream: Eicar-Test-Signature FOUND\x00"))
		return
	}
	_, _ = conn.Write([]byte("stream: OK\x00"))
}
