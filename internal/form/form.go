// Package form validates user input and carries per-field error messages
// back to forms (HTML) and to the JSON API's "details".
package form

import (
	"net/mail"
	"sort"
	"strings"
	"unicode/utf8"
)

// Errors maps a field name to a message for the user.
type Errors map[string]string

// Error lists the problems, so Errors can be returned as an error.
func (e Errors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records msg for field unless the field already has one.
func (e Errors) Add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// Any reports whether there is at least one error.
func (e Errors) Any() bool { return len(e) > 0 }

// Err returns e as an error, or nil when empty.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Clean trims surrounding space and drops control characters other than
// newlines and tabs.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// Required checks a non-empty value of at most max characters.
func (e Errors) Required(field, value string, max int) {
	if value == "" {
		e.Add(field, "This field is required.")
		return
	}
	e.MaxLen(field, value, max)
}

// MaxLen checks value is at most max characters.
func (e Errors) MaxLen(field, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		e.Add(field, "Use at most "+itoa(max)+" characters.")
	}
}

// Email checks an optional e-mail address; required adds presence.
func (e Errors) Email(field, value string, required bool) {
	if value == "" {
		if required {
			e.Add(field, "Enter an e-mail address.")
		}
		return
	}
	if !ValidEmail(value) {
		e.Add(field, "Enter a valid e-mail address, like name@example.com.")
	}
}

// ValidEmail accepts a bare address (no display name) of sane length.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndex(s, "@")
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// OneOf checks value is one of allowed.
func (e Errors) OneOf(field, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	e.Add(field, "Choose one of the options.")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// LikeEscape escapes LIKE and ILIKE wildcards (with PostgreSQL's default
// escape character, the backslash), so that a search for "50%" or "a_b"
// means those characters, not "50 followed by anything".
func LikeEscape(s string) string { return likeEscaper.Replace(s) }
