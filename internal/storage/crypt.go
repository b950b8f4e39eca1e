package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The encrypted file format ("ACS1"): a header, then the plaintext in
// fixed-size chunks, each sealed on its own with AES-256-GCM, so a file of
// any size is encrypted and decrypted as a stream in constant memory, and
// any byte range can be read by decrypting only the chunks it touches.
//
//	header  = "ACS1" | chunk size (uint32) | data key id (16) | blob id (16) | salt (32) | nonce prefix (7)
//	chunk i = AES-256-GCM(file key, nonce = prefix | i (uint32) | final (1 byte), plaintext[i], ad = header)
//
// The file key is HKDF-SHA256 of the organization's data key with the
// file's random salt and the key's context (the organization id), so no
// two files share a key and the 7-byte random prefix with the counter never
// repeats a nonce under one key. Every chunk authenticates the whole
// header: changing the chunk size, key id or blob id breaks every chunk.
// The counter in the nonce stops chunks being reordered, and the final flag
// stops truncation at a chunk boundary (the new last chunk was not sealed
// as final) and extension. The blob id in the header binds the file to its
// database row: a file swapped for another one fails to open (see Open).
//
// Every chunk but the last holds exactly ChunkSize bytes of plaintext; the
// last holds 0 to ChunkSize bytes (0 only for an empty file).
const (
	magic = "ACS1"
	// ChunkSize is the plaintext size of a full chunk.
	ChunkSize  = 64 << 10
	saltSize   = 32
	prefixSize = 7
	tagSize    = 16
	// HeaderSize is the size of the header in bytes.
	HeaderSize = 4 + 4 + 16 + 16 + saltSize + prefixSize
	hkdfInfo   = "accute blob v1"
)

// Errors from decryption. Every failure to authenticate is ErrTampered;
// decryption never returns unauthenticated bytes.
var (
	ErrTampered  = errors.New("storage: encrypted file failed authentication (changed, truncated or swapped)")
	ErrMalformed = errors.New("storage: not an encrypted file of a known format")
)

// Key is a data key as the format needs it.
type Key struct {
	ID      [16]byte // the data key's id (org_data_keys.id)
	Secret  []byte   // 32 bytes
	Context []byte   // bound into every file key: the organization id
}

// CiphertextSize is the size of the encrypted file for n bytes of
// plaintext.
func CiphertextSize(n int64) int64 {
	chunks := n / ChunkSize
	if n%ChunkSize != 0 || n == 0 {
		chunks++
	}
	return HeaderSize + n + chunks*tagSize
}

// plaintextSize inverts CiphertextSize for the given chunk size, reporting
// false for sizes no file of this format can have.
func plaintextSize(ct int64, chunk int64) (int64, bool) {
	body := ct - HeaderSize
	if body < tagSize {
		return 0, false
	}
	full := chunk + tagSize
	n := (body + full - 1) / full // chunks, the last possibly short
	last := body - (n-1)*full
	if last < tagSize {
		return 0, false
	}
	return body - n*tagSize, true
}

func fileAEAD(k Key, salt []byte) (cipher.AEAD, error) {
	if len(k.Secret) != 32 {
		return nil, fmt.Errorf("storage: data key is %d bytes, want 32", len(k.Secret))
	}
	fk, err := hkdf.Key(sha256.New, k.Secret, salt, hkdfInfo+"\x00"+string(k.Context), 32)
	if err != nil {
		return nil, fmt.Errorf("storage: derive file key: %w", err)
	}
	block, err := aes.NewCipher(fk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkNonce(dst []byte, prefix []byte, i uint32, final bool) []byte {
	dst = append(dst[:0], prefix...)
	dst = binary.BigEndian.AppendUint32(dst, i)
	if final {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// EncryptReader reads plaintext from src and yields the encrypted file.
type EncryptReader struct {
	src    io.Reader
	aead   cipher.AEAD
	header []byte
	prefix []byte
	nonce  []byte

	cur, next []byte // plaintext: the chunk to seal, and the one read ahead
	nextErr   error  // the error reading next ended with (io.EOF at the end)
	out       []byte // sealed bytes not yet returned
	outPos    int
	counter   uint32
	done      bool
	err       error
}

// NewEncryptReader encrypts src under k for the blob blobID. It reads src
// one chunk ahead (to know which chunk is the last), so it holds about two
// chunks of memory whatever the size of src.
func NewEncryptReader(src io.Reader, k Key, blobID [16]byte) (*EncryptReader, error) {
	header := make([]byte, 0, HeaderSize)
	header = append(header, magic...)
	header = binary.BigEndian.AppendUint32(header, ChunkSize)
	header = append(header, k.ID[:]...)
	header = append(header, blobID[:]...)
	random := make([]byte, saltSize+prefixSize)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("storage: random: %w", err)
	}
	header = append(header, random...)
	aead, err := fileAEAD(k, random[:saltSize])
	if err != nil {
		return nil, err
	}
	e := &EncryptReader{
		src: src, aead: aead, header: header, prefix: header[HeaderSize-prefixSize:],
		cur: make([]byte, 0, ChunkSize), next: make([]byte, 0, ChunkSize),
		out: append(make([]byte, 0, ChunkSize+tagSize), header...),
	}
	// Prime the look-ahead.
	e.next, e.nextErr = readChunk(src, e.next)
	return e, nil
}

// readChunk fills buf (to its capacity) from r; io.EOF means r is done.
func readChunk(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:cap(buf)]
	n, err := io.ReadFull(r, buf)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return buf[:n], err
}

// Read implements io.Reader.
func (e *EncryptReader) Read(p []byte) (int, error) {
	for e.outPos >= len(e.out) {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		e.sealNext()
	}
	n := copy(p, e.out[e.outPos:])
	e.outPos += n
	return n, nil
}

func (e *EncryptReader) sealNext() {
	e.cur, e.next = e.next, e.cur
	err := e.nextErr
	if err != nil && err != io.EOF {
		e.err = err
		return
	}
	final := err == io.EOF
	if !final {
		e.next, e.nextErr = readChunk(e.src, e.next)
		if e.nextErr == io.EOF && len(e.next) == 0 {
			final = true
		} else if e.nextErr != nil && e.nextErr != io.EOF {
			e.err = e.nextErr
			return
		}
	}
	e.nonce = chunkNonce(e.nonce, e.prefix, e.counter, final)
	e.out = e.aead.Seal(e.out[:0], e.nonce, e.cur, e.header)
	e.outPos = 0
	e.counter++
	if e.counter == 0 {
		e.err = errors.New("storage: file too large for the format")
		return
	}
	e.done = final
}

// Reader decrypts an encrypted file with random access: it implements
// io.ReadSeeker (for http.ServeContent and range requests) and io.ReaderAt
// (for formats such as ZIP that need it), decrypting only the chunks a read
// touches and holding one decrypted chunk at a time.
type Reader struct {
	src    io.ReaderAt
	aead   cipher.AEAD
	header []byte
	prefix []byte
	chunk  int64
	size   int64 // plaintext
	chunks int64
	pos    int64

	buf    []byte // the decrypted chunk bufIdx
	bufIdx int64
	sealed []byte
	nonce  []byte
}

// KeyFunc returns the data key with the given id.
type KeyFunc func(id [16]byte) (Key, error)

// Header is what an encrypted file says about itself.
type Header struct {
	KeyID  [16]byte
	BlobID [16]byte
}

// ReadHeader reads the header of an encrypted file.
func ReadHeader(src io.ReaderAt) (Header, []byte, error) {
	header := make([]byte, HeaderSize)
	if _, err := src.ReadAt(header, 0); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, nil, ErrMalformed
		}
		return Header{}, nil, fmt.Errorf("storage: read header: %w", err)
	}
	if string(header[:4]) != magic {
		return Header{}, nil, ErrMalformed
	}
	var h Header
	copy(h.KeyID[:], header[8:24])
	copy(h.BlobID[:], header[24:40])
	return h, header, nil
}

// Open prepares to decrypt the encrypted file src of size bytes, which must
// belong to the blob blobID and be sealed with a key from keys. A file
// whose header names another blob fails with ErrTampered.
func Open(src io.ReaderAt, size int64, blobID [16]byte, keys KeyFunc) (*Reader, error) {
	h, header, err := ReadHeader(src)
	if err != nil {
		return nil, err
	}
	if h.BlobID != blobID {
		return nil, ErrTampered
	}
	chunk := int64(binary.BigEndian.Uint32(header[4:8]))
	if chunk < 1024 || chunk > 16<<20 {
		return nil, ErrMalformed
	}
	pt, ok := plaintextSize(size, chunk)
	if !ok {
		return nil, ErrTampered
	}
	k, err := keys(h.KeyID)
	if err != nil {
		return nil, err
	}
	aead, err := fileAEAD(k, header[40:40+saltSize])
	if err != nil {
		return nil, err
	}
	chunks := (pt + chunk - 1) / chunk
	if chunks == 0 {
		chunks = 1
	}
	r := &Reader{
		src: src, aead: aead, header: header, prefix: header[HeaderSize-prefixSize:], chunk: chunk,
		size: pt, chunks: chunks, bufIdx: -1,
	}
	// The last chunk proves the file is whole (and the size right); reading
	// it first makes a truncated or extended file fail at once.
	if err := r.load(chunks - 1); err != nil {
		return nil, err
	}
	return r, nil
}

// Size is the plaintext size.
func (r *Reader) Size() int64 { return r.size }

func (r *Reader) load(i int64) error {
	if r.bufIdx == i {
		return nil
	}
	off := HeaderSize + i*(r.chunk+tagSize)
	n := r.chunk + tagSize
	if i == r.chunks-1 {
		n = r.size - i*r.chunk + tagSize
	}
	if int64(cap(r.sealed)) < n {
		r.sealed = make([]byte, n)
	}
	r.sealed = r.sealed[:n]
	got, err := r.src.ReadAt(r.sealed, off)
	if err != nil && !(errors.Is(err, io.EOF) && int64(got) == n) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrTampered
		}
		return fmt.Errorf("storage: read chunk %d: %w", i, err)
	}
	r.nonce = chunkNonce(r.nonce, r.prefix, uint32(i), i == r.chunks-1)
	buf, err := r.aead.Open(r.buf[:0], r.nonce, r.sealed, r.header)
	if err != nil {
		r.bufIdx = -1
		return ErrTampered
	}
	r.buf, r.bufIdx = buf, i
	return nil
}

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("storage: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := off / r.chunk
		if err := r.load(i); err != nil {
			return n, err
		}
		c := copy(p[n:], r.buf[off-i*r.chunk:])
		n += c
		off += int64(c)
	}
	return n, nil
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if int64(len(p)) > r.size-r.pos {
		p = p[:r.size-r.pos]
	}
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("storage: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("storage: negative position")
	}
	r.pos = abs
	return abs, nil
}
