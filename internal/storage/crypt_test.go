package storage

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func testKey(t testing.TB) Key {
	t.Helper()
	k := Key{Secret: make([]byte, 32), Context: []byte("org-1")}
	_, _ = rand.Read(k.Secret)
	_, _ = rand.Read(k.ID[:])
	return k
}

func keyFunc(k Key) KeyFunc {
	return func(id [16]byte) (Key, error) {
		if id != k.ID {
			return Key{}, errors.New("unknown key")
		}
		return k, nil
	}
}

func encrypt(t testing.TB, plain []byte, k Key, blob [16]byte) []byte {
	t.Helper()
	er, err := NewEncryptReader(bytes.NewReader(plain), k, blob)
	if err != nil {
		t.Fatal(err)
	}
	// Read in odd sizes to exercise the reader's buffering.
	var out bytes.Buffer
	buf := make([]byte, 7777)
	for {
		n, err := er.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestEncryptRoundTripAtChunkBoundaries covers the sizes where the format
// changes shape: empty, one byte, exactly one chunk, one past, several
// chunks exactly, and several plus a tail.
func TestEncryptRoundTripAtChunkBoundaries(t *testing.T) {
	k := testKey(t)
	var blob [16]byte
	_, _ = rand.Read(blob[:])
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize, 3*ChunkSize + 12345} {
		plain := random(n)
		ct := encrypt(t, plain, k, blob)
		if int64(len(ct)) != CiphertextSize(int64(n)) {
			t.Fatalf("size %d: ciphertext %d bytes, CiphertextSize says %d", n, len(ct), CiphertextSize(int64(n)))
		}
		if n > 64 && bytes.Contains(ct, plain[:64]) {
			t.Fatalf("size %d: plaintext visible in ciphertext", n)
		}
		r, err := Open(bytes.NewReader(ct), int64(len(ct)), blob, keyFunc(k))
		if err != nil {
			t.Fatalf("size %d: open: %v", n, err)
		}
		if r.Size() != int64(n) {
			t.Fatalf("size %d: reader says %d", n, r.Size())
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("size %d: read: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip differs", n)
		}
	}
}

// TestReaderSeeksAndReadsRanges reads ranges across chunk boundaries, as
// range requests do.
func TestReaderSeeksAndReadsRanges(t *testing.T) {
	k := testKey(t)
	var blob [16]byte
	plain := random(5*ChunkSize + 99)
	ct := encrypt(t, plain, k, blob)
	r, err := Open(bytes.NewReader(ct), int64(len(ct)), blob, keyFunc(k))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ off, n int64 }{
		{0, 10}, {ChunkSize - 5, 10}, {2*ChunkSize - 1, ChunkSize + 2}, {int64(len(plain)) - 50, 50}, {3 * ChunkSize, 1},
	}
	for _, c := range cases {
		if _, err := r.Seek(c.off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, c.n)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("range %d+%d: %v", c.off, c.n, err)
		}
		if !bytes.Equal(buf, plain[c.off:c.off+c.n]) {
			t.Fatalf("range %d+%d differs", c.off, c.n)
		}
	}
	// Seeking from the end, and reading past it.
	if pos, _ := r.Seek(-3, io.SeekEnd); pos != int64(len(plain))-3 {
		t.Fatalf("seek end: %d", pos)
	}
	rest, _ := io.ReadAll(r)
	if !bytes.Equal(rest, plain[len(plain)-3:]) {
		t.Fatal("tail differs")
	}
	buf := make([]byte, 10)
	if n, err := r.ReadAt(buf, int64(len(plain))+5); n != 0 || err != io.EOF {
		t.Fatalf("read past end: %d %v", n, err)
	}
}

// TestTamperingIsDetected: any changed byte, a truncation (also at a chunk
// boundary), an extension, another blob's file or a wrong key fails, and
// never yields bytes.
func TestTamperingIsDetected(t *testing.T) {
	k := testKey(t)
	var blob, other [16]byte
	other[0] = 1
	plain := random(3 * ChunkSize)
	ct := encrypt(t, plain, k, blob)

	readAll := func(b []byte, id [16]byte, keys KeyFunc) error {
		r, err := Open(bytes.NewReader(b), int64(len(b)), id, keys)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		return err
	}
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	cases := map[string]error{
		"byte in first chunk":     readAll(flip(HeaderSize+10), blob, keyFunc(k)),
		"byte in middle chunk":    readAll(flip(HeaderSize+ChunkSize+tagSize+3), blob, keyFunc(k)),
		"tag of last chunk":       readAll(flip(len(ct)-1), blob, keyFunc(k)),
		"salt in header":          readAll(flip(45), blob, keyFunc(k)),
		"chunk size in header":    readAll(flip(6), blob, keyFunc(k)),
		"truncated mid-chunk":     readAll(ct[:len(ct)-100], blob, keyFunc(k)),
		"truncated at a boundary": readAll(ct[:HeaderSize+2*(ChunkSize+tagSize)], blob, keyFunc(k)),
		"extended":                readAll(append(bytes.Clone(ct), 0, 0, 0), blob, keyFunc(k)),
		"another blob's file":     readAll(ct, other, keyFunc(k)),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrTampered", name, err)
		}
	}
	wrong := testKey(t)
	wrong.ID = k.ID
	if err := readAll(ct, blob, keyFunc(wrong)); !errors.Is(err, ErrTampered) {
		t.Errorf("wrong key: %v", err)
	}
	if err := readAll(ct[:10], blob, keyFunc(k)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short file: %v", err)
	}
	// Chunks swapped with each other fail too (the counter is in the nonce).
	sw := bytes.Clone(ct)
	a, b := sw[HeaderSize:HeaderSize+ChunkSize+tagSize], sw[HeaderSize+ChunkSize+tagSize:HeaderSize+2*(ChunkSize+tagSize)]
	tmp := bytes.Clone(a)
	copy(a, b)
	copy(b, tmp)
	if err := readAll(sw, blob, keyFunc(k)); !errors.Is(err, ErrTampered) {
		t.Errorf("swapped chunks: %v", err)
	}
}

// TestEncryptionIsRandomized: the same content encrypts differently each
// time (fresh salt and nonce prefix).
func TestEncryptionIsRandomized(t *testing.T) {
	k := testKey(t)
	var blob [16]byte
	plain := []byte("the same content")
	if bytes.Equal(encrypt(t, plain, k, blob), encrypt(t, plain, k, blob)) {
		t.Fatal("two encryptions of the same content are identical")
	}
}

func BenchmarkEncrypt(b *testing.B) {
	k := testKey(b)
	var blob [16]byte
	plain := random(8 << 20)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		er, _ := NewEncryptReader(bytes.NewReader(plain), k, blob)
		_, _ = io.Copy(io.Discard, er)
	}
}

func FuzzOpen(f *testing.F) {
	k := Key{Secret: make([]byte, 32), Context: []byte("org")}
	var blob [16]byte
	er, _ := NewEncryptReader(bytes.NewReader([]byte("hello, fuzz")), k, blob)
	seed, _ := io.ReadAll(er)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), int64(len(data)), blob, func([16]byte) (Key, error) { return k, nil })
		if err != nil {
			return
		}
		_, _ = io.ReadAll(r)
	})
}
