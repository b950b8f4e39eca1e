package scim

import (
	"errors"
	"testing"

	"github.com/google/uuid"
)

func TestDecodeUserAcceptsOktaAndEntraBodies(t *testing.T) {
	okta := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@firm.example",
		"name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"primary":true,"value":"ann@firm.example","type":"work"}],
		"displayName":"Ann Lee","locale":"en-US","externalId":"00u1","groups":[],"password":"ignored","active":true}`
	u, err := DecodeUser([]byte(okta))
	if err != nil {
		t.Fatal(err)
	}
	if u.UserName != "ann@firm.example" || u.GivenName != "Ann" || u.FamilyName != "Lee" || u.Email != "ann@firm.example" || !u.Active || u.ExternalID != "00u1" {
		t.Fatalf("okta user %+v", u)
	}
	entra := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"a1b2","userName":"bob@contoso.example","active":"True","displayName":"Bob",
		"emails":[{"primary":"true","type":"work","value":"Bob@Contoso.example"}],
		"meta":{"resourceType":"User"},"name":{"formatted":"Bob B","familyName":"B","givenName":"Bob"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tax"}}`
	u, err = DecodeUser([]byte(entra))
	if err != nil {
		t.Fatal(err)
	}
	if !u.Active || u.Email != "Bob@Contoso.example" || u.DisplayName != "Bob" {
		t.Fatalf("entra user %+v", u)
	}
}

func TestDecodeRejectsMalformedInputWith400(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `{"userName":`,
		"array":           `[{"userName":"x"}]`,
		"empty":           ``,
		"wrong type":      `{"userName": 42}`,
		"bad bool":        `{"userName":"x@example.test","active":"maybe"}`,
		"no userName":     `{"emails":[{"value":"x@example.test"}]}`,
		"trailing":        `{"userName":"x@example.test"} {}`,
		"emails a string": `{"userName":"x@example.test","emails":"x@example.test"}`,
	} {
		_, err := DecodeUser([]byte(body))
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, body := range map[string]string{
		"no operations":   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
		"bad op":          `{"Operations":[{"op":"merge","path":"active","value":true}]}`,
		"remove no path":  `{"Operations":[{"op":"remove"}]}`,
		"replace novalue": `{"Operations":[{"op":"replace","path":"active"}]}`,
		"ops not a list":  `{"Operations":{"op":"replace"}}`,
	} {
		_, err := DecodePatch([]byte(body))
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 {
			t.Errorf("patch %s: %v", name, err)
		}
	}
}

func patch(t *testing.T, body string) []PatchOp {
	t.Helper()
	ops, err := DecodePatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestApplyUserPatchOktaStyle(t *testing.T) {
	u := UserAttrs{UserName: "ann@firm.example", Email: "ann@firm.example", Active: true}
	ops := patch(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"x","active":false}}]}`)
	if err := ApplyUserPatch(&u, ops); err != nil || u.Active {
		t.Fatalf("deactivate: %+v %v", u, err)
	}
	ops = patch(t, `{"Operations":[{"op":"replace","value":{"name":{"givenName":"Anne","familyName":"Lee"},"emails":[{"value":"anne@firm.example","primary":true}]}}]}`)
	if err := ApplyUserPatch(&u, ops); err != nil || u.GivenName != "Anne" || u.Email != "anne@firm.example" {
		t.Fatalf("replace attrs: %+v %v", u, err)
	}
}

func TestApplyUserPatchEntraStyle(t *testing.T) {
	u := UserAttrs{UserName: "bob@contoso.example", Email: "bob@contoso.example", Active: true, GivenName: "Bob"}
	ops := patch(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"},
		{"op":"Add","path":"emails[type eq \"work\"].value","value":"robert@contoso.example"},
		{"op":"Replace","path":"name.givenName","value":"Robert"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Audit"},
		{"op":"Add","path":"title","value":"Partner"},
		{"op":"Replace","path":"userName","value":"robert@contoso.example"},
		{"op":"Remove","path":"externalId"}]}`)
	if err := ApplyUserPatch(&u, ops); err != nil {
		t.Fatal(err)
	}
	if u.Active || u.Email != "robert@contoso.example" || u.GivenName != "Robert" || u.UserName != "robert@contoso.example" {
		t.Fatalf("entra patch: %+v", u)
	}
	ops = patch(t, `{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`)
	if err := ApplyUserPatch(&u, ops); err != nil || !u.Active {
		t.Fatalf("reactivate: %+v %v", u, err)
	}
	for _, body := range []string{
		`{"Operations":[{"op":"remove","path":"userName"}]}`,
		`{"Operations":[{"op":"replace","path":"active","value":"perhaps"}]}`,
		`{"Operations":[{"op":"replace","value":"not an object"}]}`,
		`{"Operations":[{"op":"add","path":"groups","value":[{"value":"x"}]}]}`,
	} {
		v := u
		if err := ApplyUserPatch(&v, patch(t, body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

func TestApplyGroupPatch(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	g := groupState{DisplayName: "Tax", Members: map[uuid.UUID]bool{a: true}}
	// Entra: add and remove with a value list.
	ops := patch(t, `{"Operations":[{"op":"Add","path":"members","value":[{"value":"`+b.String()+`"},{"value":"`+c.String()+`"}]},
		{"op":"Remove","path":"members","value":[{"value":"`+a.String()+`"}]}]}`)
	if err := applyGroupPatch(&g, ops); err != nil || g.Members[a] || !g.Members[b] || !g.Members[c] {
		t.Fatalf("entra members: %+v %v", g, err)
	}
	// Okta: remove by filter, rename with a replace object.
	ops = patch(t, `{"Operations":[{"op":"remove","path":"members[value eq \"`+b.String()+`\"]"},
		{"op":"replace","value":{"id":"whatever","displayName":"Tax Managers"}}]}`)
	if err := applyGroupPatch(&g, ops); err != nil || g.Members[b] || !g.Members[c] || g.DisplayName != "Tax Managers" {
		t.Fatalf("okta patch: %+v %v", g, err)
	}
	// Replacing the member list, then removing everyone.
	ops = patch(t, `{"Operations":[{"op":"replace","path":"members","value":[{"value":"`+a.String()+`"}]}]}`)
	if err := applyGroupPatch(&g, ops); err != nil || len(g.Members) != 1 || !g.Members[a] {
		t.Fatalf("replace members: %+v %v", g, err)
	}
	if err := applyGroupPatch(&g, patch(t, `{"Operations":[{"op":"remove","path":"members"}]}`)); err != nil || len(g.Members) != 0 {
		t.Fatalf("remove all: %+v %v", g, err)
	}
	if err := applyGroupPatch(&g, patch(t, `{"Operations":[{"op":"add","path":"members","value":[{"value":"not-a-uuid"}]}]}`)); err == nil {
		t.Fatal("accepted a member that is not an id")
	}
	if err := applyGroupPatch(&g, patch(t, `{"Operations":[{"op":"replace","path":"owner","value":"x"}]}`)); err == nil {
		t.Fatal("accepted an unknown group attribute")
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter(`userName eq "Ann@Firm.example"`, "username")
	if err != nil || f.Attr != "username" || f.Value != "Ann@Firm.example" {
		t.Fatalf("%+v %v", f, err)
	}
	f, err = ParseFilter(`displayName EQ "Tax \"A\" team"`, "displayname")
	if err != nil || f.Value != `Tax "A" team` {
		t.Fatalf("%+v %v", f, err)
	}
	for _, bad := range []string{`userName co "a"`, `userName eq a`, `password eq "x"`, `userName eq "a" or userName eq "b"`, `eq "x"`} {
		if _, err := ParseFilter(bad, "username"); err == nil {
			t.Errorf("accepted %s", bad)
		} else if se := err.(*Error); se.ScimType != "invalidFilter" {
			t.Errorf("%s: %v", bad, se)
		}
	}
}

func TestTokenCarriesTheOrganization(t *testing.T) {
	org := uuid.New()
	raw, hash := newToken(org)
	got, ok := parseToken(raw)
	if !ok || got != org || len(hash) != 32 {
		t.Fatalf("parse %q: %v %v", raw, got, ok)
	}
	for _, bad := range []string{"", "scim_", "scim_abc_def", "other_" + raw[5:], raw[:20]} {
		if _, ok := parseToken(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzDecode feeds arbitrary bodies to every SCIM decoder and patch
// applier: they must answer a value or a 4xx SCIM error, never panic.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"userName":"a@b.example","active":true,"emails":[{"value":"a@b.example","primary":true}]}`,
		`{"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y.example"}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"0e8f6f0a-8f5e-4d5e-9a55-2f1f9b2f1d11\"]"}]}`,
		`{"displayName":"Tax","members":[{"value":"0e8f6f0a-8f5e-4d5e-9a55-2f1f9b2f1d11"}]}`,
		`{"name":{"givenName":null},"emails":{"value":1}}`,
		`[]`, `null`, `{`, `{"userName":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	check := func(t *testing.T, err error) {
		if err == nil {
			return
		}
		var se *Error
		if !errors.As(err, &se) || se.Status < 400 || se.Status >= 500 {
			t.Fatalf("error is not a 4xx SCIM error: %#v", err)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := DecodeUser(body)
		check(t, err)
		_, err = DecodeGroup(body)
		check(t, err)
		ops, err := DecodePatch(body)
		check(t, err)
		if err == nil {
			u := UserAttrs{UserName: "u@example.test", Active: true}
			check(t, ApplyUserPatch(&u, ops))
			g := groupState{DisplayName: "G", Members: map[uuid.UUID]bool{}}
			check(t, applyGroupPatch(&g, ops))
		}
		_, err = ParseFilter(string(body), "username", "displayname")
		check(t, err)
	})
}
