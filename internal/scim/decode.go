package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Limits on what one request may carry.
const (
	maxOperations = 1000
	maxMembers    = 10000
	maxString     = 1024
)

// decodeObject decodes a JSON object into dest. Any malformed input is a
// 400 SCIM error, never a panic or a 500; unknown attributes are ignored
// (identity providers send many we do not keep).
func decodeObject(b []byte, dest any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return badRequest("invalidSyntax", "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dest); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalidSyntax", "Unexpected data after the JSON object.")
	}
	return nil
}

func jsonError(err error) *Error {
	var te *json.UnmarshalTypeError
	var se *scimValueError
	switch {
	case errors.As(err, &se):
		return badRequest("invalidValue", "%s", se.msg)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return badRequest("invalidValue", "Attribute %q has the wrong type (%s given).", field, te.Value)
	}
	return badRequest("invalidSyntax", "The request body is not valid JSON.")
}

type scimValueError struct{ msg string }

func (e *scimValueError) Error() string { return e.msg }

// flexBool is a SCIM boolean. Microsoft Entra sends "True"/"False" as
// strings in PATCH operations, so those are accepted too.
type flexBool struct {
	Set   bool
	Value bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(string(bytes.TrimSpace(b))) {
	case "true", `"true"`:
		*f = flexBool{true, true}
	case "false", `"false"`:
		*f = flexBool{true, false}
	case "null":
		*f = flexBool{}
	default:
		return &scimValueError{"A boolean (true or false) was expected."}
	}
	return nil
}

// str is a SCIM string attribute; null means empty.
type str struct {
	Set   bool
	Value string
}

func (s *str) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*s = str{Set: true}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return &scimValueError{"A string was expected."}
	}
	if len(v) > maxString || !utf8.ValidString(v) {
		return &scimValueError{"A string attribute is too long or not valid UTF-8."}
	}
	*s = str{true, strings.TrimSpace(v)}
	return nil
}

type nameDoc struct {
	Formatted  str `json:"formatted"`
	GivenName  str `json:"givenName"`
	FamilyName str `json:"familyName"`
}

type emailDoc struct {
	Value   str      `json:"value"`
	Type    str      `json:"type"`
	Primary flexBool `json:"primary"`
}

// emailList accepts an array of e-mails or a single one.
type emailList []emailDoc

func (l *emailList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		var out []emailDoc
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		*l = out
	case len(b) > 0 && b[0] == '{':
		var one emailDoc
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = emailList{one}
	case string(b) == "null":
		*l = emailList{}
	default:
		return &scimValueError{"emails must be a list of e-mail objects."}
	}
	return nil
}

// primary picks the address to keep: the primary one, else a work one,
// else the first.
func (l emailList) primary() string {
	for _, e := range l {
		if e.Primary.Value && e.Value.Value != "" {
			return e.Value.Value
		}
	}
	for _, e := range l {
		if strings.EqualFold(e.Type.Value, "work") && e.Value.Value != "" {
			return e.Value.Value
		}
	}
	for _, e := range l {
		if e.Value.Value != "" {
			return e.Value.Value
		}
	}
	return ""
}

type userDoc struct {
	UserName    str       `json:"userName"`
	ExternalID  str       `json:"externalId"`
	Name        *nameDoc  `json:"name"`
	DisplayName str       `json:"displayName"`
	Emails      emailList `json:"emails"`
	Active      flexBool  `json:"active"`
}

// UserAttrs are the attributes of a SCIM user that Accute keeps.
type UserAttrs struct {
	UserName    string
	ExternalID  string
	GivenName   string
	FamilyName  string
	DisplayName string
	Email       string
	Active      bool
}

// DecodeUser reads a User resource (POST, PUT). userName is required;
// active defaults to true.
func DecodeUser(b []byte) (UserAttrs, error) {
	var d userDoc
	if err := decodeObject(b, &d); err != nil {
		return UserAttrs{}, err
	}
	u := UserAttrs{
		UserName: d.UserName.Value, ExternalID: d.ExternalID.Value, DisplayName: d.DisplayName.Value,
		Email: d.Emails.primary(), Active: !d.Active.Set || d.Active.Value,
	}
	if d.Name != nil {
		u.GivenName, u.FamilyName = d.Name.GivenName.Value, d.Name.FamilyName.Value
		if u.DisplayName == "" {
			u.DisplayName = d.Name.Formatted.Value
		}
	}
	if u.UserName == "" {
		return UserAttrs{}, badRequest("invalidValue", "userName is required.")
	}
	return u, nil
}

// PatchOp is one operation of a PATCH request (RFC 7644 section 3.5.2).
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

type patchDoc struct {
	Operations []PatchOp `json:"Operations"`
}

// DecodePatch reads a PatchOp request.
func DecodePatch(b []byte) ([]PatchOp, error) {
	var d patchDoc
	if err := decodeObject(b, &d); err != nil {
		return nil, err
	}
	if len(d.Operations) == 0 {
		return nil, badRequest("invalidSyntax", "Operations is required.")
	}
	if len(d.Operations) > maxOperations {
		return nil, &Error{Status: 413, ScimType: "tooMany", Detail: "Too many operations in one request."}
	}
	for i := range d.Operations {
		op := &d.Operations[i]
		op.Op = strings.ToLower(strings.TrimSpace(op.Op))
		op.Path = strings.TrimSpace(op.Path)
		switch op.Op {
		case "add", "replace":
			if len(bytes.TrimSpace(op.Value)) == 0 {
				return nil, badRequest("invalidValue", "Operation %d (%s) needs a value.", i+1, op.Op)
			}
		case "remove":
			if op.Path == "" {
				return nil, badRequest("noTarget", "Operation %d (remove) needs a path.", i+1)
			}
		default:
			return nil, badRequest("invalidSyntax", "Operation %d: op must be add, replace or remove.", i+1)
		}
	}
	return d.Operations, nil
}

type memberDoc struct {
	Value str `json:"value"`
}

// memberList accepts an array of members or a single one.
type memberList []memberDoc

func (l *memberList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		var out []memberDoc
		if err := json.Unmarshal(b, &out); err != nil {
			return err
		}
		*l = out
	case len(b) > 0 && b[0] == '{':
		var one memberDoc
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = memberList{one}
	case string(b) == "null":
		*l = memberList{}
	default:
		return &scimValueError{"members must be a list of {\"value\": id} objects."}
	}
	return nil
}

func (l memberList) ids() ([]uuid.UUID, error) {
	if len(l) > maxMembers {
		return nil, &Error{Status: 413, ScimType: "tooMany", Detail: "Too many members in one request."}
	}
	out := make([]uuid.UUID, 0, len(l))
	for _, m := range l {
		id, err := uuid.Parse(m.Value.Value)
		if err != nil {
			return nil, badRequest("invalidValue", "Member %q is not a user of this organization.", truncate(m.Value.Value, 80))
		}
		out = append(out, id)
	}
	return out, nil
}

type groupDoc struct {
	DisplayName str        `json:"displayName"`
	ExternalID  str        `json:"externalId"`
	Members     memberList `json:"members"`
}

// GroupAttrs are the attributes of a SCIM group.
type GroupAttrs struct {
	DisplayName string
	ExternalID  string
	Members     []uuid.UUID
}

// DecodeGroup reads a Group resource (POST, PUT).
func DecodeGroup(b []byte) (GroupAttrs, error) {
	var d groupDoc
	if err := decodeObject(b, &d); err != nil {
		return GroupAttrs{}, err
	}
	ids, err := d.Members.ids()
	if err != nil {
		return GroupAttrs{}, err
	}
	g := GroupAttrs{DisplayName: d.DisplayName.Value, ExternalID: d.ExternalID.Value, Members: ids}
	if g.DisplayName == "" {
		return GroupAttrs{}, badRequest("invalidValue", "displayName is required.")
	}
	return g, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
