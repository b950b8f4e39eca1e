package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/testutil"
)

// scimClient speaks SCIM to the test server with a bearer token.
type scimClient struct {
	t     *testing.T
	base  string
	token string
}

type scimAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (s scimClient) do(method, path, body string) scimAnswer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+"/scim/v2"+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := scimAnswer{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			s.t.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			s.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return a
}

func (a scimAnswer) want(t *testing.T, status int) scimAnswer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Raw)
	}
	return a
}

// wantError checks a SCIM error body.
func (a scimAnswer) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	a.want(t, status)
	schemas, _ := a.Body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || a.Body["status"] != strconv.Itoa(status) {
		t.Fatalf("not a SCIM error: %s", a.Raw)
	}
	if scimType != "" && a.Body["scimType"] != scimType {
		t.Fatalf("scimType %v, want %s: %s", a.Body["scimType"], scimType, a.Raw)
	}
}

func (a scimAnswer) str(key string) string { s, _ := a.Body[key].(string); return s }

// newSCIMToken creates a token through the settings page as the owner
// signed in with c.
func newSCIMToken(t *testing.T, c *testutil.Client, org db.Organization) string {
	t.Helper()
	res := c.PostForm("/o/"+org.Slug+"/settings/scim/tokens", url.Values{"name": {"Okta provisioning"}}).AssertStatus(http.StatusCreated)
	tok := res.Attr("[data-testid=scim-token-value]", "value")
	if !strings.HasPrefix(tok, "scim_") {
		t.Fatalf("no token on the page: %s", res.Text("main"))
	}
	return tok
}

// scimSetup is an organization with an owner session and a SCIM client;
// the organization has verified domains (SCIM provisions only those).
func scimSetup(t *testing.T, app *testApp, domains ...string) (*testutil.Client, db.User, db.Organization, scimClient) {
	t.Helper()
	c, owner, org := app.owner()
	for _, d := range domains {
		app.verifyDomain(org, owner, d)
	}
	return c, owner, org, scimClient{t: t, base: app.Srv.URL, token: newSCIMToken(t, c, org)}
}

// verifyDomain gives org a verified e-mail domain (see internal/sso).
func (a *testApp) verifyDomain(org db.Organization, owner db.User, domain string) {
	a.t.Helper()
	err := a.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		d, err := q.CreateSSODomain(context.Background(), db.CreateSSODomainParams{OrganizationID: org.ID, Domain: domain, ClaimedBy: &owner.ID})
		if err != nil {
			return err
		}
		_, err = q.VerifySSODomain(context.Background(), db.VerifySSODomainParams{OrganizationID: org.ID, ID: d.ID, Verification: "admin_email", VerifiedBy: &owner.ID})
		return err
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

func userBody(userName, email, given string) string {
	b, _ := json.Marshal(map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName,
		"name":   map[string]string{"givenName": given, "familyName": "Tester"},
		"emails": []map[string]any{{"value": email, "type": "work", "primary": true}}, "active": true, "externalId": "ext-" + given,
	})
	return string(b)
}

func (a *testApp) membership(org db.Organization, userID uuid.UUID) (db.Membership, bool) {
	a.t.Helper()
	var m db.Membership
	err := a.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		m, err = q.GetMembershipByUser(context.Background(), db.GetMembershipByUserParams{OrganizationID: org.ID, UserID: userID})
		return err
	})
	return m, err == nil
}

func (a *testApp) orgAudit(org db.Organization, action string) int {
	a.t.Helper()
	var n int32
	err := a.Store.AsPlatform(context.Background(), func(q *db.Queries) error {
		var err error
		n, err = q.CountAllAuditEvents(context.Background(), db.CountAllAuditEventsParams{Action: action, OrgSlug: org.Slug})
		return err
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return int(n)
}

func TestSCIMTokenAuthentication(t *testing.T) {
	app := newTestApp(t)
	c, _, orgA, a := scimSetup(t, app, "firm-a.example")
	_, _, orgB, b := scimSetup(t, app)

	anon := scimClient{t: t, base: app.Srv.URL}
	res := anon.do("GET", "/Users", "")
	res.wantError(t, http.StatusUnauthorized, "")
	if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatal("401 without WWW-Authenticate")
	}
	for _, bad := range []string{"nonsense", "scim_" + strings.Repeat("0", 32) + "_" + strings.Repeat("x", 43), a.token + "x", strings.ToUpper(a.token)} {
		scimClient{t: t, base: app.Srv.URL, token: bad}.do("GET", "/Users", "").wantError(t, http.StatusUnauthorized, "")
	}
	a.do("GET", "/ServiceProviderConfig", "").want(t, http.StatusOK)
	a.do("GET", "/ResourceTypes", "").want(t, http.StatusOK)
	a.do("GET", "/Schemas", "").want(t, http.StatusOK)

	// Organization B's token never sees A's users.
	created := a.do("POST", "/Users", userBody("ann@firm-a.example", "ann@firm-a.example", "Ann")).want(t, http.StatusCreated)
	id := created.str("id")
	b.do("GET", "/Users/"+id, "").wantError(t, http.StatusNotFound, "")
	b.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`).wantError(t, http.StatusNotFound, "")
	b.do("DELETE", "/Users/"+id, "").wantError(t, http.StatusNotFound, "")
	list := b.do("GET", `/Users?filter=`+url.QueryEscape(`userName eq "ann@firm-a.example"`), "").want(t, http.StatusOK)
	if list.Body["totalResults"].(float64) != 0 {
		t.Fatalf("B sees A's user: %s", list.Raw)
	}
	a.do("GET", "/Users/"+id, "").want(t, http.StatusOK)
	_ = orgB

	// Revoked: refused at once, and the attempt is in A's trail.
	page := c.Get("/o/" + orgA.Slug + "/settings/scim").AssertStatus(http.StatusOK)
	revoke := page.Attr("[data-testid=scim-token-row] form", "action")
	c.PostForm(revoke, nil).AssertStatus(http.StatusSeeOther)
	c.PostForm(revoke, nil).AssertStatus(http.StatusNotFound) // already revoked
	a.do("GET", "/Users", "").wantError(t, http.StatusUnauthorized, "")
	if app.orgAudit(orgA, audit.SCIMTokenRejected) != 1 || app.orgAudit(orgA, audit.SCIMTokenRevoked) != 1 || app.orgAudit(orgA, audit.SCIMTokenCreated) != 1 {
		t.Fatal("token events not audited")
	}
}

func TestSCIMUsersCreateFilterReplaceDelete(t *testing.T) {
	app := newTestApp(t)
	_, _, org, s := scimSetup(t, app, "firm.example")

	res := s.do("POST", "/Users", userBody("Ann@Firm.example", "ann@firm.example", "Ann")).want(t, http.StatusCreated)
	id := res.str("id")
	if res.Header.Get("Location") != app.Srv.URL+"/scim/v2/Users/"+id || res.Body["active"] != true || res.str("userName") != "Ann@Firm.example" {
		t.Fatalf("created: %s (Location %s)", res.Raw, res.Header.Get("Location"))
	}
	u, ok := app.userByEmail("ann@firm.example")
	if !ok || u.PasswordSet || u.EmailVerifiedAt != nil || u.Name != "Ann Tester" {
		t.Fatalf("account %+v", u)
	}
	if m, ok := app.membership(org, u.ID); !ok || m.Role != "staff" {
		t.Fatalf("membership %+v %v", m, ok)
	}
	if app.orgAudit(org, audit.SCIMUserCreated) != 1 {
		t.Fatal("creation not audited")
	}
	// userName is unique regardless of case; so is the person.
	s.do("POST", "/Users", userBody("ann@firm.example", "other@firm.example", "X")).wantError(t, http.StatusConflict, "uniqueness")
	s.do("POST", "/Users", userBody("ann2@firm.example", "ann@firm.example", "X")).wantError(t, http.StatusConflict, "uniqueness")

	s.do("POST", "/Users", userBody("bob@firm.example", "bob@firm.example", "Bob")).want(t, http.StatusCreated)
	s.do("POST", "/Users", userBody("cy@firm.example", "cy@firm.example", "Cy")).want(t, http.StatusCreated)

	list := s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "ANN@firm.example"`), "").want(t, http.StatusOK)
	resources, _ := list.Body["Resources"].([]any)
	if list.Body["totalResults"].(float64) != 1 || len(resources) != 1 || resources[0].(map[string]any)["id"] != id {
		t.Fatalf("filter: %s", list.Raw)
	}
	list = s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "nobody@firm.example"`), "").want(t, http.StatusOK)
	if list.Body["totalResults"].(float64) != 0 || len(list.Body["Resources"].([]any)) != 0 {
		t.Fatalf("empty filter: %s", list.Raw)
	}
	page := s.do("GET", "/Users?startIndex=1&count=2", "").want(t, http.StatusOK)
	if page.Body["totalResults"].(float64) != 3 || page.Body["itemsPerPage"].(float64) != 2 || page.Body["startIndex"].(float64) != 1 {
		t.Fatalf("page 1: %s", page.Raw)
	}
	page = s.do("GET", "/Users?startIndex=3&count=2", "").want(t, http.StatusOK)
	if page.Body["itemsPerPage"].(float64) != 1 || page.Body["startIndex"].(float64) != 3 {
		t.Fatalf("page 2: %s", page.Raw)
	}
	if ext := s.do("GET", "/Users?filter="+url.QueryEscape(`externalId eq "ext-Bob"`), ""); ext.Body["totalResults"].(float64) != 1 {
		t.Fatalf("externalId filter: %s", ext.Raw)
	}

	// PUT replaces; the account's name follows (SCIM created it), its
	// sign-in e-mail never changes.
	put := s.do("PUT", "/Users/"+id, userBody("ann@firm.example", "ann.new@firm.example", "Annie")).want(t, http.StatusOK)
	if put.Body["name"].(map[string]any)["givenName"] != "Annie" {
		t.Fatalf("put: %s", put.Raw)
	}
	u, _ = app.userByEmail("ann@firm.example")
	if u.Name != "Annie Tester" {
		t.Fatalf("account name %q", u.Name)
	}

	s.do("DELETE", "/Users/"+id, "").want(t, http.StatusNoContent)
	s.do("GET", "/Users/"+id, "").wantError(t, http.StatusNotFound, "")
	if _, ok := app.membership(org, u.ID); ok {
		t.Fatal("membership survived DELETE")
	}
	if app.orgAudit(org, audit.SCIMUserDeleted) != 1 || app.orgAudit(org, audit.SCIMUserUpdated) != 1 {
		t.Fatal("update/delete not audited")
	}
}

// Deactivation removes the membership and signs the person out of an
// existing browser session on its very next request.
func TestSCIMDeactivationEndsSessionsAtOnce(t *testing.T) {
	app := newTestApp(t)
	_, _, org, s := scimSetup(t, app, "example.test") // the factory's addresses
	browser, member := app.member(org, "manager")
	browser.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// The existing member is linked, their role kept.
	res := s.do("POST", "/Users", userBody(member.Email, member.Email, "Mia")).want(t, http.StatusCreated)
	id := res.str("id")
	if m, _ := app.membership(org, member.ID); m.Role != "manager" {
		t.Fatalf("linking changed the role to %q", m.Role)
	}
	browser.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// Okta deactivates with a replace carrying {"active": false}.
	okta := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	res = s.do("PATCH", "/Users/"+id, okta).want(t, http.StatusOK)
	if res.Body["active"] != false {
		t.Fatalf("patched: %s", res.Raw)
	}
	got := browser.Get("/o/" + org.Slug)
	if got.StatusCode != http.StatusSeeOther || !strings.HasPrefix(got.Location(), "/login") {
		t.Fatalf("deactivated member's session still works: %d %s", got.StatusCode, got.Location())
	}
	if _, ok := app.membership(org, member.ID); ok {
		t.Fatal("membership survived deactivation")
	}
	// The SCIM record stays, inactive, as identity providers expect.
	if again := s.do("GET", "/Users/"+id, "").want(t, http.StatusOK); again.Body["active"] != false {
		t.Fatalf("after deactivation: %s", again.Raw)
	}
	if app.orgAudit(org, audit.SCIMUserDeactivated) != 1 {
		t.Fatal("deactivation not audited")
	}

	// Entra reactivates with a string "True".
	entra := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`
	s.do("PATCH", "/Users/"+id, entra).want(t, http.StatusOK)
	if m, ok := app.membership(org, member.ID); !ok || m.Role != "staff" {
		t.Fatalf("reactivated membership %+v %v", m, ok)
	}
	app.login(browser, member.Email)
	browser.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)
	if app.orgAudit(org, audit.SCIMUserReactivated) != 1 {
		t.Fatal("reactivation not audited")
	}
}

func TestSCIMEntraStylePatch(t *testing.T) {
	app := newTestApp(t)
	_, _, _, s := scimSetup(t, app, "contoso.example")
	id := s.do("POST", "/Users", userBody("bob@contoso.example", "bob@contoso.example", "Bob")).want(t, http.StatusCreated).str("id")
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"emails[type eq \"work\"].value","value":"robert@contoso.example"},
		{"op":"Replace","path":"name.givenName","value":"Robert"},
		{"op":"Replace","path":"displayName","value":"Robert Tester"},
		{"op":"Add","path":"title","value":"Tax partner"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tax"},
		{"op":"Replace","path":"externalId","value":"entra-42"}]}`
	res := s.do("PATCH", "/Users/"+id, body).want(t, http.StatusOK)
	emails, _ := res.Body["emails"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["value"] != "robert@contoso.example" || res.str("displayName") != "Robert Tester" ||
		res.str("externalId") != "entra-42" || res.Body["name"].(map[string]any)["givenName"] != "Robert" {
		t.Fatalf("patched: %s", res.Raw)
	}
	// The sign-in e-mail is not the directory's to change.
	if _, ok := app.userByEmail("bob@contoso.example"); !ok {
		t.Fatal("the account's e-mail changed")
	}
	s.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"remove","path":"userName"}]}`).wantError(t, http.StatusBadRequest, "mutability")
	s.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"Replace","path":"active","value":"Maybe"}]}`).wantError(t, http.StatusBadRequest, "invalidValue")
}

func TestSCIMGroupsMapToRoles(t *testing.T) {
	app := newTestApp(t)
	c, _, org, s := scimSetup(t, app, "firm.example")
	for _, m := range [][2]string{{"Accute Managers", "manager"}, {"Accute Admins", "admin"}} {
		c.PostForm("/o/"+org.Slug+"/settings/scim/mappings", url.Values{"group_name": {m[0]}, "role": {m[1]}}).AssertStatus(http.StatusSeeOther)
	}
	u1 := s.do("POST", "/Users", userBody("u1@firm.example", "u1@firm.example", "One")).want(t, http.StatusCreated).str("id")
	u2 := s.do("POST", "/Users", userBody("u2@firm.example", "u2@firm.example", "Two")).want(t, http.StatusCreated).str("id")
	acc1, _ := app.userByEmail("u1@firm.example")
	acc2, _ := app.userByEmail("u2@firm.example")
	role := func(u db.User) string {
		m, ok := app.membership(org, u.ID)
		if !ok {
			return "none"
		}
		return m.Role
	}

	managers := s.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Accute Managers","members":[{"value":"`+u1+`"}]}`).want(t, http.StatusCreated)
	if role(acc1) != "manager" || role(acc2) != "staff" {
		t.Fatalf("after managers group: %s %s", role(acc1), role(acc2))
	}
	admins := s.do("POST", "/Groups", `{"displayName":"Accute Admins"}`).want(t, http.StatusCreated).str("id")
	// Entra adds members with a value list: the highest role wins.
	s.do("PATCH", "/Groups/"+admins, `{"Operations":[{"op":"Add","path":"members","value":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}]}`).want(t, http.StatusOK)
	if role(acc1) != "admin" || role(acc2) != "admin" {
		t.Fatalf("after admins group: %s %s", role(acc1), role(acc2))
	}
	// Okta removes by filter.
	s.do("PATCH", "/Groups/"+admins, `{"Operations":[{"op":"remove","path":"members[value eq \"`+u1+`\"]"}]}`).want(t, http.StatusOK)
	if role(acc1) != "manager" {
		t.Fatalf("after leaving admins: %s", role(acc1))
	}
	// Entra removes with a value list.
	s.do("PATCH", "/Groups/"+admins, `{"Operations":[{"op":"Remove","path":"members","value":[{"value":"`+u2+`"}]}]}`).want(t, http.StatusOK)
	if role(acc2) != "staff" {
		t.Fatalf("a role given by a mapping is taken back with the group: %s", role(acc2))
	}
	// The user shows their groups; groups filter by displayName.
	if g := s.do("GET", "/Users/"+u1, "").Body["groups"].([]any); len(g) != 1 || g[0].(map[string]any)["display"] != "Accute Managers" {
		t.Fatalf("user's groups: %v", g)
	}
	list := s.do("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "accute managers"`), "").want(t, http.StatusOK)
	items := list.Body["Resources"].([]any)
	if list.Body["totalResults"].(float64) != 1 || items[0].(map[string]any)["members"] != nil {
		t.Fatalf("group filter: %s", list.Raw)
	}
	full := s.do("GET", "/Groups/"+managers.str("id"), "").want(t, http.StatusOK)
	if m := full.Body["members"].([]any); len(m) != 1 || m[0].(map[string]any)["value"] != u1 {
		t.Fatalf("group members: %s", full.Raw)
	}
	// Renaming through PUT and deleting the group re-apply roles.
	s.do("PUT", "/Groups/"+managers.str("id"), `{"displayName":"Former Managers","members":[{"value":"`+u1+`"}]}`).want(t, http.StatusOK)
	if role(acc1) != "staff" {
		t.Fatalf("after rename: %s", role(acc1))
	}
	s.do("PATCH", "/Groups/"+managers.str("id"), `{"Operations":[{"op":"replace","value":{"id":"`+managers.str("id")+`","displayName":"Accute Managers"}}]}`).want(t, http.StatusOK)
	if role(acc1) != "manager" {
		t.Fatalf("after renaming back: %s", role(acc1))
	}
	s.do("DELETE", "/Groups/"+managers.str("id"), "").want(t, http.StatusNoContent)
	if role(acc1) != "staff" {
		t.Fatalf("after group deletion: %s", role(acc1))
	}
	s.do("GET", "/Groups/"+managers.str("id"), "").wantError(t, http.StatusNotFound, "")
	if app.orgAudit(org, audit.SCIMMemberRoleChanged) < 6 || app.orgAudit(org, audit.SCIMGroupCreated) != 2 || app.orgAudit(org, audit.SCIMGroupDeleted) != 1 {
		t.Fatal("group changes not audited")
	}

	// Another organization's user cannot be made a member; names are unique.
	_, _, _, other := scimSetup(t, app, "other.example")
	foreign := other.do("POST", "/Users", userBody("x@other.example", "x@other.example", "X")).want(t, http.StatusCreated).str("id")
	s.do("PATCH", "/Groups/"+admins, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+foreign+`"}]}]}`).wantError(t, http.StatusBadRequest, "invalidValue")
	s.do("POST", "/Groups", `{"displayName":"accute admins"}`).wantError(t, http.StatusConflict, "uniqueness")
	other.do("GET", "/Groups/"+admins, "").wantError(t, http.StatusNotFound, "")
}

func TestSCIMMalformedRequestsGetSCIMErrors(t *testing.T) {
	app := newTestApp(t)
	_, owner, org, s := scimSetup(t, app, "firm.example")
	id := s.do("POST", "/Users", userBody("m@firm.example", "m@firm.example", "M")).want(t, http.StatusCreated).str("id")

	s.do("POST", "/Users", `{"userName": "x@firm.example",`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	s.do("POST", "/Users", `not json at all`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	s.do("POST", "/Users", `{"userName": ["x"]}`).wantError(t, http.StatusBadRequest, "invalidValue")
	s.do("POST", "/Users", `{"userName": "no-email-here"}`).wantError(t, http.StatusBadRequest, "invalidValue")
	s.do("POST", "/Groups", `{"displayName": 7}`).wantError(t, http.StatusBadRequest, "invalidValue")
	s.do("PATCH", "/Users/"+id, `{"Operations": "replace"}`).wantError(t, http.StatusBadRequest, "")
	s.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"explode","path":"active","value":true}]}`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	s.do("GET", "/Users?filter="+url.QueryEscape(`userName sw "m"`), "").wantError(t, http.StatusBadRequest, "invalidFilter")
	s.do("GET", "/Users/not-a-uuid", "").wantError(t, http.StatusNotFound, "")
	s.do("GET", "/Users/"+uuid.NewString(), "").wantError(t, http.StatusNotFound, "")
	s.do("GET", "/Nothing", "").wantError(t, http.StatusNotFound, "")
	s.do("PUT", "/Users", `{}`).wantError(t, http.StatusNotFound, "") // no such endpoint: still a SCIM body
	s.do("POST", "/Users", `{"userName":"`+strings.Repeat("a", 2<<20)+`"}`).wantError(t, http.StatusRequestEntityTooLarge, "")

	// The last owner cannot be deprovisioned; the failed change leaves
	// nothing behind.
	ownerID := s.do("POST", "/Users", userBody(owner.Email, owner.Email, "Owner")).want(t, http.StatusCreated).str("id")
	s.do("PATCH", "/Users/"+ownerID, `{"Operations":[{"op":"replace","path":"active","value":false}]}`).wantError(t, http.StatusConflict, "")
	s.do("DELETE", "/Users/"+ownerID, "").wantError(t, http.StatusConflict, "")
	if m, ok := app.membership(org, owner.ID); !ok || m.Role != "owner" {
		t.Fatal("the last owner lost their membership")
	}
	if got := s.do("GET", "/Users/"+ownerID, "").want(t, http.StatusOK); got.Body["active"] != true {
		t.Fatalf("failed deactivation was saved: %s", got.Raw)
	}
}

// An organization cannot pull in (and later sign out) someone else's
// account, nor pre-create accounts for addresses it does not own: SCIM
// makes members only on the organization's verified domains (existing
// members are linked whatever their address).
func TestSCIMProvisionsOnlyVerifiedDomains(t *testing.T) {
	app := newTestApp(t)
	_, owner, org, s := scimSetup(t, app)
	outsider := app.F.User("someone@elsewhere.example")
	app.F.Org(outsider, "Elsewhere")
	s.do("POST", "/Users", userBody(outsider.Email, outsider.Email, "Some")).wantError(t, http.StatusForbidden, "")
	s.do("POST", "/Users", userBody("new@elsewhere.example", "new@elsewhere.example", "New")).wantError(t, http.StatusForbidden, "")
	if _, ok := app.membership(org, outsider.ID); ok {
		t.Fatal("an outside account was made a member")
	}
	if _, exists := app.userByEmail("new@elsewhere.example"); exists {
		t.Fatal("an account was created on a domain the organization does not own")
	}

	// A member on another domain is linked; once they leave, the
	// organization can neither sign them out nor pull them back.
	browser, member := app.member(org, "staff")
	id := s.do("POST", "/Users", userBody(member.Email, member.Email, "Mem")).want(t, http.StatusCreated).str("id")
	browser.PostForm("/o/"+org.Slug+"/leave", nil).AssertStatus(http.StatusSeeOther)
	app.login(browser, member.Email)
	s.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, http.StatusOK)
	if signedInAs(browser) != member.Name {
		t.Fatal("a former member was signed out by the organization")
	}
	s.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":true}}]}`).wantError(t, http.StatusForbidden, "")
	if _, ok := app.membership(org, member.ID); ok {
		t.Fatal("a former member was pulled back in")
	}

	// With the domain verified, both work.
	app.verifyDomain(org, owner, "elsewhere.example")
	s.do("POST", "/Users", userBody(outsider.Email, outsider.Email, "Some")).want(t, http.StatusCreated)
	if m, ok := app.membership(org, outsider.ID); !ok || m.Role != "staff" {
		t.Fatalf("verified-domain account not provisioned: %+v %v", m, ok)
	}
	s.do("POST", "/Users", userBody("new@elsewhere.example", "new@elsewhere.example", "New")).want(t, http.StatusCreated)
}
