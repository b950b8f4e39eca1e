// Package crypto seals secrets stored in the database (TOTP secrets, SAML
// and OIDC keys, providers' API keys) with AES-256-GCM under a key ring, so
// that keys can rotate without a flag day.
//
// # Format
//
// A sealed value is
//
//	version (1 byte, 0x01) | key id (4 bytes) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
//
// and, for text columns, that byte string in standard base64. The key id is
// derived from the key itself (the first four bytes of
// HMAC-SHA256(key, "accute key id")), so configuration never has to name
// keys and a wrong key can never be tried by mistake. Every message gets a
// fresh random 96-bit nonce: with at most a few million values sealed per
// key, the chance of a nonce repeating stays far below 2^-32.
//
// # Associated data
//
// Seal and Open take associated data that binds a ciphertext to where it
// belongs, such as "user_mfa.totp_secret:<user id>". A value copied into
// another row, or used for another purpose, fails to open. The header
// (version and key id) is authenticated too.
//
// # Keys and rotation
//
// ENCRYPTION_KEY is the current key: everything new is sealed with it.
// ENCRYPTION_KEYS_OLD lists earlier keys (comma-separated, base64), which
// are only used to open. To rotate: put the old key into
// ENCRYPTION_KEYS_OLD, a new one into ENCRYPTION_KEY, restart, and run
// `accute keys rotate`, which re-encrypts every registered column (see
// Column and Rotate); then the old key can be dropped.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

const (
	version1   = 0x01
	headerSize = 1 + 4 // version, key id
	nonceSize  = 12
	tagSize    = 16
	// Overhead is how many bytes Seal adds to the plaintext.
	Overhead = headerSize + nonceSize + tagSize
)

// Errors from Open. Every failure is one of them; Open never returns
// garbage.
var (
	// ErrMalformed: not a sealed value (too short, unknown version, bad base64).
	ErrMalformed = errors.New("crypto: malformed ciphertext")
	// ErrUnknownKey: sealed with a key that is not in the ring.
	ErrUnknownKey = errors.New("crypto: ciphertext was sealed with a key that is not configured")
	// ErrAuth: the ciphertext, its header or the associated data was changed.
	ErrAuth = errors.New("crypto: ciphertext failed authentication")
)

type key struct {
	id   uint32
	aead cipher.AEAD
}

// KeyRing holds the current key and older ones. It is safe for concurrent
// use.
type KeyRing struct {
	current *key
	byID    map[uint32]*key
}

// KeyID returns the id a key is known by in ciphertexts.
func KeyID(k []byte) uint32 {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("accute key id"))
	return binary.BigEndian.Uint32(m.Sum(nil)[:4])
}

// NewKeyRing builds a ring that seals with current and opens with current
// and any of old. Every key must be 32 bytes; duplicates are refused.
func NewKeyRing(current []byte, old ...[]byte) (*KeyRing, error) {
	r := &KeyRing{byID: map[uint32]*key{}}
	for i, raw := range append([][]byte{current}, old...) {
		if len(raw) != KeySize {
			return nil, fmt.Errorf("crypto: key %d is %d bytes, want %d", i, len(raw), KeySize)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("crypto: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("crypto: key %d: %w", i, err)
		}
		k := &key{id: KeyID(raw), aead: aead}
		if _, dup := r.byID[k.id]; dup {
			return nil, fmt.Errorf("crypto: key %d is listed twice (or its id collides)", i)
		}
		r.byID[k.id] = k
		if i == 0 {
			r.current = k
		}
	}
	return r, nil
}

// CurrentKeyID is the id of the key Seal uses.
func (r *KeyRing) CurrentKeyID() uint32 { return r.current.id }

// Seal encrypts plaintext with the current key, binding it to ad.
func (r *KeyRing) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+tagSize)
	out[0] = version1
	binary.BigEndian.PutUint32(out[1:headerSize], r.current.id)
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("crypto: nonce: %w", err)
	}
	return r.current.aead.Seal(out, nonce, plaintext, aad(out[:headerSize], ad)), nil
}

// Open decrypts a value made by Seal with any key of the ring, checking
// that it was sealed with the same associated data.
func (r *KeyRing) Open(sealed, ad []byte) ([]byte, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	k, ok := r.byID[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	nonce := sealed[headerSize : headerSize+nonceSize]
	pt, err := k.aead.Open(nil, nonce, sealed[headerSize+nonceSize:], aad(sealed[:headerSize], ad))
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// SealedKeyID returns the id of the key a sealed value was made with.
func SealedKeyID(sealed []byte) (uint32, error) {
	if len(sealed) < Overhead || sealed[0] != version1 {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(sealed[1:headerSize]), nil
}

// Current reports whether sealed was made with the current key.
func (r *KeyRing) Current(sealed []byte) bool {
	id, err := SealedKeyID(sealed)
	return err == nil && id == r.current.id
}

// SealString seals plaintext for a text column: base64 of Seal.
func (r *KeyRing) SealString(plaintext, ad string) (string, error) {
	b, err := r.Seal([]byte(plaintext), []byte(ad))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// OpenString opens a value made by SealString.
func (r *KeyRing) OpenString(sealed, ad string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrMalformed
	}
	pt, err := r.Open(b, []byte(ad))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// aad is what GCM authenticates besides the ciphertext: the header, then
// the caller's associated data. The header has a fixed size, so the
// concatenation is unambiguous.
func aad(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	return append(append(out, header...), ad...)
}
