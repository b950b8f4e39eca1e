package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// jsonCodec stores session data as JSON with string values only, so that
// PostgreSQL can read the user id out of a session (app_enter_session) and
// a page costs one round trip less. It is also cheaper than gob, which
// compiles its decoder on every request.
type jsonCodec struct{}

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

func (jsonCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	values := map[string]any{}
	if !bytes.HasPrefix(b, []byte("{")) {
		// Data in an older format: start an empty session rather than fail.
		return time.Now().Add(time.Hour), values, nil
	}
	var in sessionJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return time.Time{}, nil, fmt.Errorf("decode session: %w", err)
	}
	for k, v := range in.Values {
		values[k] = v
	}
	return in.Deadline, values, nil
}
