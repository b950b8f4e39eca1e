package api

import (
	"encoding/hex"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"accute/internal/db"
)

// The client list is the API's hot path (and its benchmark): encoding/json
// spends most of its time there in reflection and in re-validating what
// time.Time's MarshalJSON wrote. These appenders write the same bytes as
// encoding/json (a test compares them) without either.

// jsonAppender is data that writes its own JSON; respond uses it as is.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// clientPage is a page of the client list, encoded straight from the
// database rows as Page[Client] would be.
type clientPage struct {
	rows []db.ListClientsPageRow
	next *string
}

func (p clientPage) appendJSON(b []byte) []byte {
	b = append(b, `{"items":[`...)
	for i := range p.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendClient(b, &p.rows[i])
	}
	b = append(b, `],"next_cursor":`...)
	if p.next == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *p.next)
	}
	return append(b, '}')
}

// appendClient writes a row as the Client type's JSON.
func appendClient(b []byte, c *db.ListClientsPageRow) []byte {
	b = append(b, `{"id":`...)
	b = appendUUID(b, c.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, c.Name)
	b = append(b, `,"kind":`...)
	b = appendString(b, c.Kind)
	b = append(b, `,"email":`...)
	b = appendString(b, c.Email)
	b = append(b, `,"phone":`...)
	b = appendString(b, c.Phone)
	b = append(b, `,"tax_id":`...)
	b = appendString(b, c.TaxID)
	b = append(b, `,"address":`...)
	b = appendString(b, c.Address)
	b = append(b, `,"notes":`...)
	b = appendString(b, c.Notes)
	b = append(b, `,"status":`...)
	b = appendString(b, status(c.ArchivedAt))
	b = append(b, `,"archived_at":`...)
	if c.ArchivedAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *c.ArchivedAt)
	}
	b = append(b, `,"created_at":`...)
	b = appendTime(b, c.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, c.UpdatedAt)
	return append(b, '}')
}

func appendUUID(b []byte, id uuid.UUID) []byte {
	var s [38]byte
	s[0], s[37] = '"', '"'
	hex.Encode(s[1:9], id[0:4])
	s[9] = '-'
	hex.Encode(s[10:14], id[4:6])
	s[14] = '-'
	hex.Encode(s[15:19], id[6:8])
	s[19] = '-'
	hex.Encode(s[20:24], id[8:10])
	s[24] = '-'
	hex.Encode(s[25:37], id[10:16])
	return append(b, s[:]...)
}

// appendTime is time.Time's MarshalJSON (RFC 3339 with nanoseconds).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does by default: control
// characters, quotes and backslashes escaped, <, > and & escaped for HTML,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
