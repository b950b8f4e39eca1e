package crypto

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// RandomToken returns 32 random bytes in base64url (43 characters): for
// state values, cookies and the secret part of tokens.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewToken returns a RandomToken and the hash to store.
func NewToken() (token string, hash []byte) {
	token = RandomToken()
	return token, HashToken(token)
}

// HashToken is how bearer tokens and links (e-mail, invitation, API, SCIM,
// refresh) are stored and looked up: the SHA-256 of the token text. Tokens
// carry 192 bits or more of randomness, so a fast unsalted hash suffices.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
