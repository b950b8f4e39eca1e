package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeRefusesWhatIsNotOneKnownObject(t *testing.T) {
	cases := []struct {
		body, wantMsg, wantField string
	}{
		{``, "empty", ""},
		{`   `, "empty", ""},
		{`{"name": "A"`, "ends too early", ""},
		{`{"name": "A",}`, "Malformed JSON at byte", ""},
		{`nonsense`, "Malformed JSON at byte", ""},
		{`[1, 2]`, "must be a JSON object", ""},
		{`"text"`, "must be a JSON object", ""},
		{`{"name": "A", "colour": "red"}`, `Unknown field "colour"`, "colour"},
		{`{"name": 5}`, "Validation failed", "name"},
		{`{"name": "A"} {"name": "B"}`, "unexpected data after the object", ""},
		{`{"name": "A"} x`, "unexpected data after the object", ""},
	}
	for _, tc := range cases {
		var in ClientInput
		err := Decode([]byte(tc.body), &in)
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("%q: error %v, want a 400", tc.body, err)
			continue
		}
		if !strings.Contains(ae.Message, tc.wantMsg) {
			t.Errorf("%q: message %q, want it to contain %q", tc.body, ae.Message, tc.wantMsg)
		}
		if tc.wantField != "" && ae.Details[tc.wantField] == "" {
			t.Errorf("%q: details %v, want one for %s", tc.body, ae.Details, tc.wantField)
		}
	}
	var in ClientInput
	if err := Decode([]byte(` {"name": "Acme", "kind": "business"} `+"\n"), &in); err != nil || in.Name != "Acme" {
		t.Fatalf("valid body: %v %+v", err, in)
	}
}

// FuzzDecode feeds arbitrary bytes to the API's JSON decoding: it must
// never panic, and must either fill the struct or answer a 400 *Error with
// a readable message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Acme","kind":"business","email":"a@b.example"}`,
		`{"name":null,"notes":"x"}`, `{"email":"x","password":"y","otp":"123456"}`, `{"refresh_token":"acc_rt_x"}`,
		`{`, `}`, `[]`, `null`, `{"name":"\u0000"}`, `{"name":1e999}`, `{"a":{"b":[1,2,{"c":null}]}}`, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{&ClientInput{}, &ClientPatch{}, &ContactInput{}, &InvitationInput{}, &TokenRequest{}, &RefreshRequest{}}
		for _, dst := range targets {
			err := Decode(body, dst)
			if err == nil {
				continue
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Message == "" || !utf8.ValidString(ae.Message) {
				t.Fatalf("Decode(%q) into %T: %#v", body, dst, err)
			}
		}
	})
}
