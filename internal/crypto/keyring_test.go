package crypto_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"accute/internal/crypto"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, crypto.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func ring(t testing.TB, current []byte, old ...[]byte) *crypto.KeyRing {
	t.Helper()
	r, err := crypto.NewKeyRing(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := ring(t, newKey(t))
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		ct, err := r.Seal(pt, []byte("users.secret:1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != len(pt)+crypto.Overhead {
			t.Fatalf("len = %d, want %d", len(ct), len(pt)+crypto.Overhead)
		}
		got, err := r.Open(ct, []byte("users.secret:1"))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open = %q, %v", got, err)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	r := ring(t, newKey(t))
	seen := map[string]bool{}
	for range 1000 {
		ct, err := r.Seal([]byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(ct[5:17])
		if seen[nonce] {
			t.Fatal("nonce repeated")
		}
		seen[nonce] = true
	}
}

func TestOpenRefusesTamperingEverywhere(t *testing.T) {
	r := ring(t, newKey(t))
	ad := []byte("user_mfa.totp_secret:abc")
	ct, err := r.Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Flip every bit of every byte: version/key id errors are malformed or
	// unknown key; anything else fails authentication. Never a plaintext.
	for i := range ct {
		for bit := range 8 {
			bad := bytes.Clone(ct)
			bad[i] ^= 1 << bit
			pt, err := r.Open(bad, ad)
			if err == nil {
				t.Fatalf("byte %d bit %d: opened to %q", i, bit, pt)
			}
			if !errors.Is(err, crypto.ErrAuth) && !errors.Is(err, crypto.ErrUnknownKey) && !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("byte %d: unexpected error %v", i, err)
			}
			if i >= 5 && !errors.Is(err, crypto.ErrAuth) {
				t.Fatalf("byte %d: %v, want ErrAuth", i, err)
			}
		}
	}
	// Wrong associated data: the value belongs to another row.
	if _, err := r.Open(ct, []byte("user_mfa.totp_secret:abd")); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("other row's AD: %v", err)
	}
	if _, err := r.Open(ct, nil); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("no AD: %v", err)
	}
}

func TestOpenRefusesTruncation(t *testing.T) {
	r := ring(t, newKey(t))
	ct, _ := r.Seal([]byte("hello world"), nil)
	for n := range len(ct) {
		if _, err := r.Open(ct[:n], nil); err == nil {
			t.Fatalf("opened a ciphertext cut to %d bytes", n)
		} else if n < crypto.Overhead && !errors.Is(err, crypto.ErrMalformed) {
			t.Fatalf("cut to %d: %v, want ErrMalformed", n, err)
		}
	}
	// Extra bytes are tampering too.
	if _, err := r.Open(append(bytes.Clone(ct), 0), nil); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("extended: %v", err)
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	a, b := ring(t, newKey(t)), ring(t, newKey(t))
	ct, _ := a.Seal([]byte("x"), nil)
	if _, err := b.Open(ct, nil); !errors.Is(err, crypto.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
}

func TestOldKeysOpenButNeverSeal(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	before := ring(t, oldKey)
	ct, _ := before.Seal([]byte("rotate me"), []byte("ad"))

	after := ring(t, newK, oldKey)
	pt, err := after.Open(ct, []byte("ad"))
	if err != nil || string(pt) != "rotate me" {
		t.Fatalf("old key: %q %v", pt, err)
	}
	if after.Current(ct) {
		t.Fatal("old ciphertext reported as current")
	}
	fresh, _ := after.Seal(pt, []byte("ad"))
	if !after.Current(fresh) {
		t.Fatal("new ciphertext not under the current key")
	}
	if id, _ := crypto.SealedKeyID(fresh); id != crypto.KeyID(newK) {
		t.Fatalf("sealed with key %x, want %x", id, crypto.KeyID(newK))
	}
	// Once the old key is dropped, old values no longer open.
	if _, err := ring(t, newK).Open(ct, []byte("ad")); !errors.Is(err, crypto.ErrUnknownKey) {
		t.Fatalf("dropped key: %v", err)
	}
}

func TestNewKeyRingValidates(t *testing.T) {
	k := newKey(t)
	if _, err := crypto.NewKeyRing(k[:16]); err == nil {
		t.Fatal("accepted a 16-byte key")
	}
	if _, err := crypto.NewKeyRing(k, k); err == nil {
		t.Fatal("accepted the same key twice")
	}
	if _, err := crypto.NewKeyRing(k, newKey(t)[:31]); err == nil {
		t.Fatal("accepted a short old key")
	}
}

func TestStringForm(t *testing.T) {
	r := ring(t, newKey(t))
	s, err := r.SealString("JBSWY3DPEHPK3PXP", "ad")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		t.Fatalf("not base64: %q", s)
	}
	if pt, err := r.OpenString(s, "ad"); err != nil || pt != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open = %q %v", pt, err)
	}
	if _, err := r.OpenString("not base64!", "ad"); !errors.Is(err, crypto.ErrMalformed) {
		t.Fatalf("bad base64: %v", err)
	}
	if _, err := r.OpenString(s[:len(s)-4], "ad"); err == nil {
		t.Fatal("opened a truncated string")
	}
}

// FuzzOpen feeds arbitrary bytes to Open: it must never panic and never
// succeed on anything Seal did not produce for that associated data.
func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, crypto.KeySize)
	r, err := crypto.NewKeyRing(key)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := r.Seal([]byte("seed plaintext"), []byte("ad"))
	f.Add(good, []byte("ad"))
	f.Add(good[:20], []byte("ad"))
	f.Add([]byte{1, 0, 0, 0, 0}, []byte{})
	f.Add([]byte{}, []byte("ad"))
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		pt, err := r.Open(ct, ad)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		// Only a genuine ciphertext opens: the fuzzer cannot forge a GCM tag,
		// so success means it replayed a seed (sealed in this or another
		// fuzzing process) with its own AD.
		if len(ct) != len(good) || string(ad) != "ad" || string(pt) != "seed plaintext" {
			t.Fatalf("forged ciphertext opened: %x / %q -> %q", ct, ad, pt)
		}
	})
}
