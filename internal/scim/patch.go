package scim

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Schema URNs.
const (
	UserSchema         = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListSchema         = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchSchema        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SPConfigSchema     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

func decodeValue(raw json.RawMessage, dest any) error {
	if err := json.Unmarshal(raw, dest); err != nil {
		return jsonError(err)
	}
	return nil
}

// normalPath lower-cases a path and drops the core schema prefix.
func normalPath(path, schema string) string {
	p := strings.TrimSpace(path)
	if len(p) > len(schema) && strings.EqualFold(p[:len(schema)], schema) && p[len(schema)] == ':' {
		p = p[len(schema)+1:]
	}
	return strings.ToLower(p)
}

// ApplyUserPatch applies PATCH operations to u, in order, in the ways Okta
// and Microsoft Entra send them: a replace without a path carrying an
// object of attributes ({"active": false}), and paths such as "active",
// "name.givenName" or `emails[type eq "work"].value`. Attributes Accute does
// not keep (title, phone numbers, the enterprise extension...) are
// accepted and ignored.
func ApplyUserPatch(u *UserAttrs, ops []PatchOp) error {
	for _, op := range ops {
		if op.Path == "" {
			var attrs map[string]json.RawMessage
			if err := decodeValue(op.Value, &attrs); err != nil || attrs == nil {
				return badRequest("invalidValue", "A %s without a path needs an object of attributes.", op.Op)
			}
			for k, v := range attrs {
				if err := applyUserAttr(u, op.Op, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyUserAttr(u, op.Op, op.Path, op.Value); err != nil {
			return err
		}
	}
	if u.UserName == "" {
		return badRequest("invalidValue", "userName cannot be empty.")
	}
	return nil
}

var emailFilterPath = regexp.MustCompile(`^emails\[[^\]]*\](\.value)?$`)

func applyUserAttr(u *UserAttrs, op, path string, raw json.RawMessage) error {
	p := normalPath(path, UserSchema)
	remove := op == "remove"
	setString := func(dest *string) error {
		if remove {
			*dest = ""
			return nil
		}
		var s str
		if err := decodeValue(raw, &s); err != nil {
			return err
		}
		*dest = s.Value
		return nil
	}
	switch {
	case p == "active":
		if remove {
			return nil
		}
		var b flexBool
		if err := decodeValue(raw, &b); err != nil {
			return err
		}
		if !b.Set {
			return badRequest("invalidValue", "active must be true or false.")
		}
		u.Active = b.Value
	case p == "username":
		if remove {
			return badRequest("mutability", "userName is required and cannot be removed.")
		}
		return setString(&u.UserName)
	case p == "externalid":
		return setString(&u.ExternalID)
	case p == "displayname":
		return setString(&u.DisplayName)
	case p == "name.givenname":
		return setString(&u.GivenName)
	case p == "name.familyname":
		return setString(&u.FamilyName)
	case p == "name.formatted":
		if u.DisplayName == "" || remove {
			return setString(&u.DisplayName)
		}
	case p == "name":
		if remove {
			u.GivenName, u.FamilyName = "", ""
			return nil
		}
		var n nameDoc
		if err := decodeValue(raw, &n); err != nil {
			return err
		}
		if op == "replace" {
			u.GivenName, u.FamilyName = n.GivenName.Value, n.FamilyName.Value
		}
		if n.GivenName.Set {
			u.GivenName = n.GivenName.Value
		}
		if n.FamilyName.Set {
			u.FamilyName = n.FamilyName.Value
		}
		if n.Formatted.Value != "" && u.DisplayName == "" {
			u.DisplayName = n.Formatted.Value
		}
	case p == "emails":
		if remove {
			u.Email = ""
			return nil
		}
		var l emailList
		if err := decodeValue(raw, &l); err != nil {
			return err
		}
		if e := l.primary(); e != "" || op == "replace" {
			u.Email = e
		}
	case emailFilterPath.MatchString(p):
		if remove {
			u.Email = ""
			return nil
		}
		if strings.HasSuffix(p, ".value") {
			return setString(&u.Email)
		}
		var l emailList
		if err := decodeValue(raw, &l); err != nil {
			return err
		}
		if e := l.primary(); e != "" {
			u.Email = e
		}
	case p == "id" || p == "meta" || p == "groups" || strings.HasPrefix(p, "meta."):
		if p == "groups" {
			return badRequest("mutability", "groups is read-only: change membership through the Group resource.")
		}
		// id and meta are read-only; Okta repeats id in replace objects.
	default:
		// Not kept by Accute: accepted and ignored.
	}
	return nil
}

// groupState is a group being patched.
type groupState struct {
	DisplayName string
	ExternalID  string
	Members     map[uuid.UUID]bool
}

var memberFilterPath = regexp.MustCompile(`^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$`)

// applyGroupPatch applies PATCH operations to g: member add/remove as
// Okta and Entra send them (members with a value list, or a
// members[value eq "id"] filter), displayName and externalId.
func applyGroupPatch(g *groupState, ops []PatchOp) error {
	for _, op := range ops {
		if op.Path == "" {
			var attrs map[string]json.RawMessage
			if err := decodeValue(op.Value, &attrs); err != nil || attrs == nil {
				return badRequest("invalidValue", "A %s without a path needs an object of attributes.", op.Op)
			}
			for k, v := range attrs {
				if err := applyGroupAttr(g, op.Op, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyGroupAttr(g, op.Op, op.Path, op.Value); err != nil {
			return err
		}
	}
	if g.DisplayName == "" {
		return badRequest("invalidValue", "displayName cannot be empty.")
	}
	if len(g.Members) > maxMembers {
		return &Error{Status: 413, ScimType: "tooMany", Detail: "Too many members in one group."}
	}
	return nil
}

func applyGroupAttr(g *groupState, op, path string, raw json.RawMessage) error {
	p := normalPath(path, GroupSchema)
	remove := op == "remove"
	switch {
	case p == "displayname":
		if remove {
			return badRequest("mutability", "displayName is required and cannot be removed.")
		}
		var s str
		if err := decodeValue(raw, &s); err != nil {
			return err
		}
		g.DisplayName = s.Value
	case p == "externalid":
		if remove {
			g.ExternalID = ""
			return nil
		}
		var s str
		if err := decodeValue(raw, &s); err != nil {
			return err
		}
		g.ExternalID = s.Value
	case p == "members":
		if remove && len(bytes.TrimSpace(raw)) == 0 {
			g.Members = map[uuid.UUID]bool{}
			return nil
		}
		var l memberList
		if err := decodeValue(raw, &l); err != nil {
			return err
		}
		if remove {
			// Ids that are not ours cannot be members: nothing to remove.
			for _, m := range l {
				if id, err := uuid.Parse(m.Value.Value); err == nil {
					delete(g.Members, id)
				}
			}
			return nil
		}
		ids, err := l.ids()
		if err != nil {
			return err
		}
		if op == "replace" {
			g.Members = map[uuid.UUID]bool{}
		}
		for _, id := range ids {
			g.Members[id] = true
		}
	case memberFilterPath.MatchString(p):
		if !remove {
			return badRequest("invalidPath", "Only remove may target a member by filter.")
		}
		if id, err := uuid.Parse(memberFilterPath.FindStringSubmatch(p)[1]); err == nil {
			delete(g.Members, id)
		}
	case p == "id" || p == "meta" || p == "schemas":
		// Read-only; Okta repeats the id in replace objects.
	default:
		return badRequest("invalidPath", "Groups have no attribute %q.", truncate(path, 80))
	}
	return nil
}

// Filter is a parsed filter of the form `attribute eq "value"`, the only
// kind identity providers send when provisioning.
type Filter struct {
	Attr  string // lower-cased attribute path
	Value string
}

var filterPattern = regexp.MustCompile(`(?i)^\s*([a-z][a-z0-9._:-]*)\s+eq\s+(".*")\s*$`)

// ParseFilter reads a filter; allowed lists the attributes (lower case)
// that may be filtered on. An empty filter is the zero Filter.
func ParseFilter(s string, allowed ...string) (Filter, error) {
	if strings.TrimSpace(s) == "" {
		return Filter{}, nil
	}
	m := filterPattern.FindStringSubmatch(s)
	if m == nil {
		return Filter{}, badRequest("invalidFilter", "Only filters of the form attribute eq \"value\" are supported.")
	}
	var value string
	if err := json.Unmarshal([]byte(m[2]), &value); err != nil {
		return Filter{}, badRequest("invalidFilter", "The filter's value must be a quoted string.")
	}
	attr := strings.ToLower(m[1])
	for _, a := range allowed {
		if attr == a {
			return Filter{Attr: attr, Value: value}, nil
		}
	}
	return Filter{}, badRequest("invalidFilter", "Filtering on %q is not supported.", truncate(m[1], 80))
}
