package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"
)

// jsonCodec stores session data as JSON with string values only, so that
// PostgreSQL can read the user id out of a session (app_enter_session) and
// a page costs one round trip less. It is also cheaper than gob, which
// compiles its decoder on every request.
//
// A session's data only changes when the session is written (at login, a
// flash message, the five-minutely device refresh), so Decode remembers
// what it decoded last for each data it saw (bounded) and hands out a copy
// instead of parsing the same JSON on every request.
type jsonCodec struct{ memo *sessionMemo }

func newJSONCodec() jsonCodec {
	return jsonCodec{memo: &sessionMemo{entries: map[string]decodedSession{}}}
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any // never modified: Decode returns copies
}

// sessionMemo maps session data to its decoded form. When full it starts
// over; its working set is the sessions active at once.
type sessionMemo struct {
	mu      sync.RWMutex
	entries map[string]decodedSession
}

const sessionMemoSize = 4096

type sessionJSON struct {
	Deadline time.Time         `json:"deadline"`
	Values   map[string]string `json:"values"`
}

func (jsonCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	out := sessionJSON{Deadline: deadline, Values: make(map[string]string, len(values))}
	for k, v := range values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("session value %q is a %T: only strings are stored", k, v)
		}
		out.Values[k] = s
	}
	return json.Marshal(out)
}

func (c jsonCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if !bytes.HasPrefix(b, []byte("{")) {
		// Data in an older format: start an empty session rather than fail.
		return time.Now().Add(time.Hour), map[string]any{}, nil
	}
	if c.memo != nil {
		c.memo.mu.RLock()
		d, ok := c.memo.entries[string(b)]
		c.memo.mu.RUnlock()
		if ok {
			return d.deadline, maps.Clone(d.values), nil // scs changes the map it gets
		}
	}
	var in sessionJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return time.Time{}, nil, fmt.Errorf("decode session: %w", err)
	}
	values := make(map[string]any, len(in.Values))
	for k, v := range in.Values {
		values[k] = v
	}
	if c.memo != nil {
		c.memo.mu.Lock()
		if len(c.memo.entries) >= sessionMemoSize {
			clear(c.memo.entries)
		}
		c.memo.entries[string(b)] = decodedSession{deadline: in.Deadline, values: maps.Clone(values)}
		c.memo.mu.Unlock()
	}
	return in.Deadline, values, nil
}
