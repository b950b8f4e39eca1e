// Package auth signs people up and in: passwords, sessions, e-mail
// verification and password reset.
package auth

import (
	"errors"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules.
const (
	MinPasswordLength = 10
	MaxPasswordBytes  = 72 // bcrypt ignores anything longer
)

// ValidatePassword returns a message for the user, or "" when acceptable.
func ValidatePassword(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "Use at least 10 characters."
	case len(pw) > MaxPasswordBytes:
		return "Use at most 72 bytes."
	}
	return ""
}

// HashPassword hashes pw with bcrypt at cost.
func HashPassword(pw string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(b), err
}

// CheckPassword compares in constant time; false for any mismatch.
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Errors returned to handlers.
var (
	ErrInvalidCredentials = errors.New("invalid e-mail or password")
	ErrSuspended          = errors.New("account suspended")
	ErrInvalidToken       = errors.New("this link is invalid or has expired")
)
