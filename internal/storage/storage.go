// Package storage keeps files: a small Backend interface with two
// implementations (local disk, the default, and S3-compatible object
// storage), and the streaming encryption every stored file goes through
// (crypt.go). It knows nothing of documents or the database: callers name
// objects by key and hold the data keys.
package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("storage: object not found")

// Backend stores opaque objects by key. Keys are relative slash-separated
// paths of [a-z0-9._-] segments (see ValidKey).
type Backend interface {
	// Put stores everything r yields under key. The object appears whole or
	// not at all: a failed or cancelled Put leaves nothing under key.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the object for random access. The caller closes it.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// Object is a stored object opened for reading.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

var segmentPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// ValidKey reports whether key is a valid object key: up to 16 segments
// that start with a letter or digit, so no absolute paths, no "..", nothing
// a file system or an object store would read twice.
func ValidKey(key string) bool {
	segs := strings.Split(key, "/")
	if len(segs) > 16 {
		return false
	}
	for _, s := range segs {
		if !segmentPattern.MatchString(s) || strings.Contains(s, "..") {
			return false
		}
	}
	return true
}

// Local stores objects as files under a directory.
type Local struct {
	Root string
}

// NewLocal returns a Local backend rooted at dir, creating it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	return &Local{Root: dir}, nil
}

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("storage: invalid key %q", key)
	}
	return filepath.Join(l.Root, filepath.FromSlash(key)), nil
}

// Put writes to a temporary file beside the target, syncs it, and renames
// it into place.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := p + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, contextReader{ctx, r})
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("storage: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("storage: close: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return n, fmt.Errorf("storage: %w", err)
	}
	ok = true
	return n, nil
}

// Open opens the object's file.
func (l *Local) Open(_ context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	return localObject{f, st.Size()}, nil
}

// Delete removes the object's file.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

type localObject struct {
	*os.File
	size int64
}

func (o localObject) Size() int64 { return o.size }

// contextReader stops a copy when ctx ends (a client that went away).
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
