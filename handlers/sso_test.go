package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// ssoFixture is an organization with SAML single sign-on configured
// against a real in-process IdP, through the settings pages, with its
// domain verified.
type ssoFixture struct {
	t      *testing.T
	app    *testApp
	idp    *testIdP
	owner  *testutil.Client
	user   db.User
	org    db.Organization
	domain string
	spMeta []byte
}

type ssoOpts struct {
	noIdPInitiated bool
	defaultRole    string
}

func newSSOFixture(t *testing.T, opts ssoOpts) *ssoFixture {
	t.Helper()
	return newSSOFixtureOn(t, newTestApp(t), newTestIdP(t), opts)
}

// newSSOFixtureOn sets up another organization in app, with idp.
func newSSOFixtureOn(t *testing.T, app *testApp, idp *testIdP, opts ssoOpts) *ssoFixture {
	t.Helper()
	f := &ssoFixture{t: t, app: app, idp: idp, domain: "firm-" + strings.ToLower(uuid.NewString()[:6]) + ".test"}
	f.user = app.F.User("owner@" + f.domain)
	f.org = app.F.Org(f.user, "")
	f.owner = app.client()
	app.login(f.owner, f.user.Email)

	role := opts.defaultRole
	if role == "" {
		role = tenant.RoleStaff
	}
	form := url.Values{
		"enabled": {"on"}, "source": {"url"}, "metadata_url": {idp.MetadataURL()},
		"attr_groups": {"eduPersonAffiliation"}, "default_role": {role},
	}
	if !opts.noIdPInitiated {
		form.Set("allow_idp_initiated", "on")
	}
	res := f.owner.PostForm(f.settingsURL(""), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save sso settings: %d\n%.3000s", res.StatusCode, res.Body)
	}
	res = f.owner.PostForm(f.settingsURL("/domains"), url.Values{"domain": {f.domain}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim domain: %d\n%.2000s", res.StatusCode, res.Body)
	}
	meta := app.client().Get("/sso/saml/" + f.org.Slug + "/metadata").AssertStatus(http.StatusOK)
	f.spMeta = []byte(meta.Body)
	idp.AddServiceProvider(f.org.Slug, f.spMeta)
	return f
}

func (f *ssoFixture) settingsURL(rest string) string {
	return "/o/" + f.org.Slug + "/settings/sso" + rest
}
func (f *ssoFixture) acsURL() string { return f.app.Srv.URL + "/sso/saml/" + f.org.Slug + "/acs" }
func (f *ssoFixture) entityID() string {
	return f.app.Srv.URL + "/sso/saml/" + f.org.Slug + "/metadata"
}

// spLogin runs an SP-initiated sign-in in browser c, from the SSO page,
// and returns the IdP's response form (not yet posted to the ACS).
func (f *ssoFixture) spLogin(c *testutil.Client, idpUser, password, email string) postForm {
	f.t.Helper()
	res := c.PostForm("/sso", url.Values{"identifier": {email}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/sso/saml/"+f.org.Slug+"/login" {
		f.t.Fatalf("POST /sso: %d %q\n%.1000s", res.StatusCode, res.Location(), res.Body)
	}
	toIdP := c.Follow(res)
	if !strings.HasPrefix(toIdP.Location(), f.idp.Srv.URL+"/sso?") {
		f.t.Fatalf("start: %d, Location %q", toIdP.StatusCode, toIdP.Location())
	}
	return idpLogin(f.t, c, toIdP, idpUser, password)
}

// crafted is a response crafted for this organization's SP, valid unless
// changed.
func (f *ssoFixture) crafted(email string) craft {
	return craft{
		Key: f.idp.Key, Cert: f.idp.Cert, Issuer: f.idp.EntityID(),
		Audience: f.entityID(), Recipient: f.acsURL(), Destination: f.acsURL(),
		NameID: email, SignResponse: true, SignAssert: true,
	}
}

// post posts a SAML response form to the ACS.
func post(c *testutil.Client, f postForm) *testutil.Response {
	return c.PostForm(f.Action, f.Values)
}

func postResponse(c *testutil.Client, acs, samlResponse string) *testutil.Response {
	return c.PostForm(acs, url.Values{"SAMLResponse": {samlResponse}})
}

// signedIn reports whether c has a session (the account page loads).
func signedIn(c *testutil.Client) bool {
	return c.Get("/account").StatusCode == http.StatusOK
}

func TestSSOSPInitiatedLoginProvisionsWithGroupRole(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	// Partners are managers; everyone else gets the default role (staff).
	f.owner.PostForm(f.settingsURL("/groups"), url.Values{"group": {"Partners"}, "role": {tenant.RoleManager}}).AssertStatus(http.StatusSeeOther)
	email := "alice@" + f.domain
	f.idp.AddUser("alice", email, "alice-password", "Partners", "Everyone")

	browser := f.app.client()
	form := f.spLogin(browser, "alice", "alice-password", email)
	if form.Action != f.acsURL() {
		t.Fatalf("IdP posts to %q, want the ACS %q", form.Action, f.acsURL())
	}
	if xml := decodeResponseXML(t, form.Values.Get("SAMLResponse")); !strings.Contains(xml, "EncryptedAssertion") {
		t.Fatalf("the IdP should encrypt to the SP certificate in our metadata:\n%.500s", xml)
	}
	res := post(browser, form)
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+f.org.Slug {
		t.Fatalf("ACS: %d %q\n%.2000s", res.StatusCode, res.Location(), res.Body)
	}
	page := browser.Follow(res).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=current-user]"); got != "Common alice" {
		t.Fatalf("signed in as %q", got)
	}
	if !strings.Contains(page.Text("[data-testid=flash]"), "Welcome to") {
		t.Fatalf("no welcome flash: %q", page.Text("[data-testid=flash]"))
	}

	// The user was provisioned: verified e-mail, manager through the group.
	ctx := context.Background()
	u, err := f.app.Store.Q().GetUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerifiedAt == nil || u.Name != "Common alice" {
		t.Fatalf("provisioned user: verified=%v name=%q", u.EmailVerifiedAt, u.Name)
	}
	if m := membership(t, f.app, f.org, u); m.Role != tenant.RoleManager {
		t.Fatalf("role %q, want manager from the Partners group", m.Role)
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOUserProvisioned, "joined as Manager (new account)")
	assertAudit(t, f.app, f.org.ID, audit.SSOLogin, "signed in with SAML")

	// The request was used up: the same response cannot be posted again
	// (the request binding refuses it before the replay cache would).
	again := post(browser, form)
	if again.StatusCode != http.StatusForbidden {
		t.Fatalf("replayed response: %d, want 403", again.StatusCode)
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLoginFailed, "does not answer a sign-in started in this browser")

	// Group membership changes at the IdP follow on the next sign-in.
	f.idp.AddUser("alice", email, "alice-password", "Everyone")
	b2 := f.app.client()
	post(b2, f.spLogin(b2, "alice", "alice-password", email)).AssertStatus(http.StatusSeeOther)
	if m := membership(t, f.app, f.org, u); m.Role != tenant.RoleManager {
		// No group matches now: the role stays (only a matching mapping changes it).
		t.Fatalf("role changed to %q without a matching group", m.Role)
	}
	f.owner.PostForm(f.settingsURL("/groups"), url.Values{"group": {"Everyone"}, "role": {tenant.RoleStaff}}).AssertStatus(http.StatusSeeOther)
	b3 := f.app.client()
	post(b3, f.spLogin(b3, "alice", "alice-password", email)).AssertStatus(http.StatusSeeOther)
	if m := membership(t, f.app, f.org, u); m.Role != tenant.RoleStaff {
		t.Fatalf("role %q, want staff from the Everyone group", m.Role)
	}
	assertAudit(t, f.app, f.org.ID, audit.MemberRoleChanged, "from identity provider groups")
}

func membership(t *testing.T, app *testApp, org db.Organization, u db.User) db.Membership {
	t.Helper()
	var m db.Membership
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		m, err = q.GetMembershipByUser(context.Background(), db.GetMembershipByUserParams{OrganizationID: org.ID, UserID: u.ID})
		return err
	})
	if err != nil {
		t.Fatalf("membership of %s: %v", u.Email, err)
	}
	return m
}

// assertAudit fails unless the organization's trail has an event with
// action whose summary contains want.
func assertAudit(t *testing.T, app *testApp, orgID uuid.UUID, action, want string) {
	t.Helper()
	ctx := context.Background()
	var summaries []string
	err := app.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListAuditEvents(ctx, db.ListAuditEventsParams{OrganizationID: &orgID, Action: action, MaxRows: 100})
		for _, r := range rows {
			summaries = append(summaries, r.Summary)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range summaries {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Fatalf("no %s audit event containing %q; have %q", action, want, summaries)
}

// refusedLogin posts samlResponse to the ACS from a fresh browser and
// checks the refusal: 403, the refusal page, no session, and an audit
// event with the reason.
func (f *ssoFixture) refusedLogin(t *testing.T, acs, samlResponse, reason string) {
	t.Helper()
	c := f.app.client()
	res := postResponse(c, acs, samlResponse)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403\n%.1500s", res.StatusCode, res.Body)
	}
	if h1 := res.Text("h1"); h1 != "Sign-in refused" {
		t.Fatalf("page title %q", h1)
	}
	if signedIn(c) {
		t.Fatal("a refused response signed the browser in")
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLoginFailed, reason)
}

// acceptedLogin posts samlResponse from a fresh browser and checks that it
// signed in as email.
func (f *ssoFixture) acceptedLogin(t *testing.T, samlResponse, email string) *testutil.Client {
	t.Helper()
	c := f.app.client()
	res := postResponse(c, f.acsURL(), samlResponse)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303\n%.1500s", res.StatusCode, res.Body)
	}
	page := c.Follow(res)
	if page.StatusCode == http.StatusSeeOther { // a client user goes on to the client portal
		page = c.Follow(page)
	}
	page.AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=current-user]"); got == "" {
		t.Fatal("not signed in after the ACS")
	}
	if _, err := f.app.Store.Q().GetUserByEmail(context.Background(), email); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return c
}

// TestSSOAcceptsSignedResponseOrAssertionEncryptionAndNameIDFormats covers
// the shapes Okta, Entra ID and Google Workspace send: a signed response
// and/or a signed assertion, encrypted assertions, and NameID formats
// emailAddress, persistent, unspecified and transient with the e-mail in
// an attribute. They arrive IdP-initiated (no InResponseTo), which the
// fixture allows.
func TestSSOAcceptsSignedResponseOrAssertionEncryptionAndNameIDFormats(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	spCert := spCertificate(t, f.spMeta)
	cases := []struct {
		name string
		edit func(c *craft, email string)
	}{
		{"signed response and assertion", func(c *craft, email string) {}},
		{"signed response only", func(c *craft, email string) { c.SignAssert = false }},
		{"signed assertion only", func(c *craft, email string) { c.SignResponse = false }},
		{"encrypted signed assertion", func(c *craft, email string) { c.SignResponse, c.EncryptTo = false, spCert }},
		{"encrypted assertion in a signed response", func(c *craft, email string) { c.SignAssert, c.EncryptTo = false, spCert }},
		{"persistent NameID, e-mail attribute", func(c *craft, email string) {
			c.NameIDFormat, c.NameID = string(saml.PersistentNameIDFormat), "00u1a2b3c4"+uuid.NewString()[:4]
			c.Attributes = map[string][]string{"email": {email}}
		}},
		{"unspecified NameID, Entra ID claim", func(c *craft, email string) {
			c.NameIDFormat, c.NameID = string(saml.UnspecifiedNameIDFormat), "AAAAAAAAAAAAAAAAAAAAAJ"+uuid.NewString()[:4]
			c.Attributes = map[string][]string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": {email}}
		}},
		{"unspecified NameID that is the address", func(c *craft, email string) { c.NameIDFormat = string(saml.UnspecifiedNameIDFormat) }},
		{"transient NameID, mail attribute", func(c *craft, email string) {
			c.NameIDFormat, c.NameID = string(saml.TransientNameIDFormat), "_"+uuid.NewString()
			c.Attributes = map[string][]string{"mail": {strings.ToUpper(email)}}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := "user" + string(rune('a'+i)) + "@" + f.domain
			c := f.crafted(email)
			tc.edit(&c, email)
			f.acceptedLogin(t, c.Build(t), email)
		})
	}
}

func TestSSORefusesBadResponses(t *testing.T) {
	app := newTestApp(t)
	idp := newTestIdP(t)
	f := newSSOFixtureOn(t, app, idp, ssoOpts{})
	other := newSSOFixtureOn(t, app, idp, ssoOpts{}) // a second organization's SP
	email := "bob@" + f.domain
	_, key2 := testKeys(t)
	cert2 := selfSigned(t, key2, "Impostor IdP")

	cases := []struct {
		name   string
		acs    string
		build  func() string
		reason string
	}{
		{"unsigned", "", func() string { c := f.crafted(email); c.SignResponse, c.SignAssert = false, false; return c.Build(t) }, "unsigned response and assertion"},
		{"signed by another key", "", func() string { c := f.crafted(email); c.Key, c.Cert = key2, cert2; return c.Build(t) }, "certificate that is not in the identity provider metadata"},
		{"tampered after signing", "", func() string {
			xml := decodeResponseXML(t, f.crafted(email).Build(t))
			xml = strings.ReplaceAll(xml, "bob@", "mallory@")
			return base64Std(xml)
		}, "invalid signature"},
		{"tampered assertion only signed", "", func() string {
			c := f.crafted(email)
			c.SignResponse = false
			xml := strings.ReplaceAll(decodeResponseXML(t, c.Build(t)), "bob@", "mallory@")
			return base64Std(xml)
		}, "invalid signature"},
		{"wrong audience (another organization's SP)", "", func() string { c := f.crafted(email); c.Audience = other.entityID(); return c.Build(t) }, "wrong audience"},
		{"wrong recipient", "", func() string { c := f.crafted(email); c.Recipient = other.acsURL(); return c.Build(t) }, "wrong destination or recipient"},
		{"wrong destination", "", func() string { c := f.crafted(email); c.Destination = other.acsURL(); return c.Build(t) }, "wrong destination or recipient"},
		{"response for another organization's ACS", "", func() string {
			c := other.crafted(email) // audience, destination and recipient of the other organization
			return c.Build(t)
		}, "wrong destination or recipient"},
		{"wrong issuer", "", func() string {
			c := f.crafted(email)
			c.Issuer = "https://idp.elsewhere.example/metadata"
			return c.Build(t)
		}, "issuer"},
		{"expired", "", func() string { c := f.crafted(email); c.Now = time.Now().Add(-10 * time.Minute); return c.Build(t) }, "expired"},
		{"not yet valid", "", func() string { c := f.crafted(email); c.Now = time.Now().Add(10 * time.Minute); return c.Build(t) }, "not yet valid"},
		{"answers no request of this browser", "", func() string { c := f.crafted(email); c.InResponseTo = "id-0123456789abcdef"; return c.Build(t) }, "does not answer a sign-in started in this browser"},
		{"address outside the verified domains", "", func() string { c := f.crafted("eve@unverified-firm.test"); return c.Build(t) }, "is not verified for the organization"},
		{"address on another organization's domain", "", func() string { c := f.crafted("carol@" + other.domain); return c.Build(t) }, "is not verified for the organization"},
		{"persistent NameID without an e-mail", "", func() string {
			c := f.crafted(email)
			c.NameIDFormat, c.NameID = string(saml.PersistentNameIDFormat), "bob@"+f.domain
			return c.Build(t)
		}, "no e-mail address in the response"},
		{"not base64", "", func() string { return "<samlp:Response>" }, "malformed response"},
		{"not XML", "", func() string { return base64Std("hello") }, "malformed response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acs := tc.acs
			if acs == "" {
				acs = f.acsURL()
			}
			f.refusedLogin(t, acs, tc.build(), tc.reason)
		})
	}
	if _, err := app.Store.Q().GetUserByEmail(context.Background(), email); err == nil {
		t.Fatal("a refused response provisioned the user")
	}
	// The control: the same crafted response, untouched, is accepted.
	f.acceptedLogin(t, f.crafted(email).Build(t), email)
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestSSOReplayedAssertionIsRefused(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	email := "dave@" + f.domain
	resp := f.crafted(email).Build(t)
	f.acceptedLogin(t, resp, email)
	f.refusedLogin(t, f.acsURL(), resp, "replayed assertion")
	// A new response carrying the same signed assertion is refused too: it
	// is the assertion id that is used up.
	old := decodeResponseXML(t, resp)
	c := f.crafted(email)
	c.SignResponse = false
	wrapper := decodeResponseXML(t, c.Build(t))
	cut := func(x string) (int, int) {
		return strings.Index(x, "<saml:Assertion"), strings.Index(x, "</saml:Assertion>") + len("</saml:Assertion>")
	}
	oStart, oEnd := cut(old)
	ws, we := cut(wrapper)
	if oStart < 0 || ws < 0 {
		t.Fatal("no assertion in the crafted responses")
	}
	rewrapped := wrapper[:ws] + old[oStart:oEnd] + wrapper[we:]
	f.refusedLogin(t, f.acsURL(), base64Std(rewrapped), "replayed assertion")
}

func TestSSOIdPInitiatedLogin(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	email := "erin@" + f.domain
	f.idp.AddUser("erin", email, "erin-password")
	f.idp.AddShortcut("accute", f.entityID(), "/orgs")
	browser := f.app.client()
	form := idpInitiated(t, f, browser, "erin", "erin-password")
	res := post(browser, form)
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/orgs" {
		t.Fatalf("IdP-initiated ACS: %d %q (want the relay state /orgs)\n%.1500s", res.StatusCode, res.Location(), res.Body)
	}
	if !signedIn(browser) {
		t.Fatal("not signed in")
	}
	// The same response again: the assertion id is used up.
	f.refusedLogin(t, f.acsURL(), form.Values.Get("SAMLResponse"), "replayed assertion")

	// A relay state that is not a path of this site is ignored.
	f.idp.AddShortcut("evil", f.entityID(), "https://evil.example/phish")
	b2 := f.app.client()
	res = post(b2, idpInitiatedAgain(t, f, b2, "evil", "erin", "erin-password"))
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+f.org.Slug {
		t.Fatalf("foreign relay state: %d %q", res.StatusCode, res.Location())
	}
}

func TestSSOIdPInitiatedRefusedWhenOff(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{noIdPInitiated: true})
	email := "frank@" + f.domain
	f.idp.AddUser("frank", email, "frank-password")
	f.idp.AddShortcut("accute", f.entityID(), "")
	browser := f.app.client()
	res := post(browser, idpInitiated(t, f, browser, "frank", "frank-password"))
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text("[data-testid=message]"), "Sign-in must start from Accute") {
		t.Fatalf("unsolicited response: %d %q", res.StatusCode, res.Text("[data-testid=message]"))
	}
	if signedIn(browser) {
		t.Fatal("signed in by an unsolicited response")
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLoginFailed, "unsolicited response")
	// SP-initiated still works for the same user and browser.
	post(browser, f.spLogin(browser, "frank", "frank-password", email)).AssertStatus(http.StatusSeeOther)
	if !signedIn(browser) {
		t.Fatal("SP-initiated sign-in failed")
	}
}

// idpInitiated signs in at the IdP and follows its shortcut to Accute.
func idpInitiated(t *testing.T, f *ssoFixture, c *testutil.Client, user, password string) postForm {
	t.Helper()
	return idpInitiatedAgain(t, f, c, "accute", user, password)
}

func idpInitiatedAgain(t *testing.T, f *ssoFixture, c *testutil.Client, shortcut, user, password string) postForm {
	t.Helper()
	start := f.idp.Srv.URL + "/login/" + shortcut
	page := c.Get(start).AssertStatus(http.StatusOK)
	if strings.Contains(page.Body, "SAMLResponse") {
		return parsePostForm(t, page)
	}
	login := parsePostForm(t, page)
	login.Values.Set("user", user)
	login.Values.Set("password", password)
	c.PostForm(login.Action, login.Values).AssertStatus(http.StatusOK) // the IdP session
	out := parsePostForm(t, c.Get(start).AssertStatus(http.StatusOK))
	if out.Values.Get("SAMLResponse") == "" {
		t.Fatal("the IdP sent no SAMLResponse")
	}
	return out
}

func TestSSOExpiredAndNotYetValidByClock(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	email := "gina@" + f.domain
	f.idp.AddUser("gina", email, "gina-password")
	browser := f.app.client()
	form := f.spLogin(browser, "gina", "gina-password", email)
	b2 := f.app.client()
	early := f.spLogin(b2, "gina", "gina-password", email)
	// Ten minutes pass at the SP before the browser posts the response.
	f.app.SSO.SetClock(dsig.NewFakeClock(clockwork.NewFakeClockAt(time.Now().Add(10 * time.Minute))))
	res := post(browser, form)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text("[data-testid=message]"), "expired") {
		t.Fatalf("late response: %d %q", res.StatusCode, res.Text("[data-testid=message]"))
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLoginFailed, "expired")

	// The SP's clock ten minutes behind: the response is from the future.
	f.app.SSO.SetClock(dsig.NewFakeClock(clockwork.NewFakeClockAt(time.Now().Add(-10 * time.Minute))))
	res = post(b2, early)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("early response: %d", res.StatusCode)
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLoginFailed, "not yet valid")

	f.app.SSO.SetClock(nil)
	b3 := f.app.client()
	post(b3, f.spLogin(b3, "gina", "gina-password", email)).AssertStatus(http.StatusSeeOther)
}

func TestSSOLinksExistingUserAndRefusesSuspended(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{defaultRole: tenant.RoleClient})
	ctx := context.Background()
	// An existing account on the domain, not yet a member: linked by e-mail.
	existing := f.app.F.User("hank@" + f.domain)
	c := f.acceptedLogin(t, f.crafted(existing.Email).Build(t), existing.Email)
	if m := membership(t, f.app, f.org, existing); m.Role != tenant.RoleClient {
		t.Fatalf("linked member role %q, want the default (client)", m.Role)
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOUserProvisioned, "(existing account)")
	// Their password still works (SSO is not required yet).
	f.app.login(f.app.client(), existing.Email)
	_ = c

	// The owner keeps the owner role whatever the groups say.
	f.owner.PostForm(f.settingsURL("/groups"), url.Values{"group": {"Staff"}, "role": {tenant.RoleStaff}}).AssertStatus(http.StatusSeeOther)
	oc := f.crafted(f.user.Email)
	oc.Attributes = map[string][]string{"groups": {"Staff"}}
	f.acceptedLogin(t, oc.Build(t), f.user.Email)
	if m := membership(t, f.app, f.org, f.user); m.Role != tenant.RoleOwner {
		t.Fatalf("owner became %q through an IdP group", m.Role)
	}

	// A suspended user is refused.
	if _, err := f.app.Store.Q().SuspendUser(ctx, existing.ID); err != nil {
		t.Fatal(err)
	}
	f.refusedLogin(t, f.acsURL(), f.crafted(existing.Email).Build(t), "account suspended")
}

func TestSSORequiredRefusesPasswordLogin(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	ctx := context.Background()
	colleague := f.app.F.User("ivy@" + f.domain)
	outsider := f.app.F.User("")

	// Not before one SSO sign-in succeeded.
	res := f.owner.PostForm(f.settingsURL("/required"), url.Values{"required": {"on"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "Sign in once with single sign-on") {
		t.Fatalf("required before any SSO sign-in: %d\n%.800s", res.StatusCode, res.Body)
	}
	if page := f.owner.Get(f.settingsURL("")).AssertStatus(http.StatusOK); page.Count("[data-testid=sso-required-blockers] li") != 1 {
		t.Fatalf("blockers: %q", page.Text("[data-testid=sso-required-blockers]"))
	}
	f.acceptedLogin(t, f.crafted(colleague.Email).Build(t), colleague.Email)
	f.owner.PostForm(f.settingsURL("/required"), url.Values{"required": {"on"}}).AssertStatus(http.StatusSeeOther)
	assertAudit(t, f.app, f.org.ID, audit.SSORequiredChanged, "password sign-in refused")

	if name, required := f.app.SSO.Required(ctx, "IVY@"+strings.ToUpper(f.domain)); !required || name != f.org.Name {
		t.Fatalf("Required = %q, %v", name, required)
	}
	if _, required := f.app.SSO.Required(ctx, outsider.Email); required {
		t.Fatal("SSO required for an address outside the domain")
	}

	// Password login on the domain is refused with a clear message, even
	// with the right password, and signs nobody in.
	c := f.app.client()
	res = c.PostForm("/login", url.Values{"email": {colleague.Email}, "password": {testutil.Password}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("password login: %d, want 403", res.StatusCode)
	}
	if msg := res.Text("[data-testid=form-error]"); !strings.Contains(msg, f.org.Name+" requires you to sign in with your company account") {
		t.Fatalf("message %q", msg)
	}
	if res.Count("[data-testid=sso-link]") != 1 || signedIn(c) {
		t.Fatal("no SSO link, or signed in anyway")
	}
	hx := c.HTMX(http.MethodPost, "/login", url.Values{"email": {colleague.Email}, "password": {testutil.Password}})
	if hx.StatusCode != http.StatusForbidden || hx.Count("[data-testid=login-form]") != 1 || strings.Contains(hx.Body, "<html") {
		t.Fatalf("htmx login: %d\n%.500s", hx.StatusCode, hx.Body)
	}
	var failed int
	if err := f.app.Store.AsPlatform(ctx, func(q *db.Queries) error {
		rows, err := q.ListAllAuditEvents(ctx, db.ListAllAuditEventsParams{Action: audit.LoginFailed, Actor: colleague.Email, MaxRows: 50})
		for _, r := range rows {
			if strings.Contains(r.Summary, "requires single sign-on") {
				failed++
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if failed < 2 {
		t.Fatalf("%d audited refusals, want 2", failed)
	}
	// Others still log in with a password.
	f.app.login(f.app.client(), outsider.Email)
	// SSO itself still works for them.
	f.acceptedLogin(t, f.crafted(colleague.Email).Build(t), colleague.Email)

	// Turning SSO off lifts the requirement.
	f.owner.PostForm(f.settingsURL("/required"), url.Values{"required": {"off"}}).AssertStatus(http.StatusSeeOther)
	f.app.login(f.app.client(), colleague.Email)
}

func TestSSOStartPage(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	c := f.app.client()
	login := c.Get("/login").AssertStatus(http.StatusOK)
	if login.Attr("[data-testid=sso-link]", "href") != "/sso" {
		t.Fatal("the login page has no SSO link")
	}
	c.Get("/sso").AssertStatus(http.StatusOK)
	for _, bad := range []string{"", "nobody@unknown-firm.test", "no-such-org", "x@gmail.com"} {
		res := c.PostForm("/sso", url.Values{"identifier": {bad}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.Count("[data-testid=error-identifier]") != 1 {
			t.Fatalf("%q: %d", bad, res.StatusCode)
		}
	}
	hx := c.HTMX(http.MethodPost, "/sso", url.Values{"identifier": {"nobody@unknown-firm.test"}})
	if hx.StatusCode != http.StatusUnprocessableEntity || strings.Contains(hx.Body, "<html") || hx.Count("[data-testid=sso-start-form]") != 1 {
		t.Fatalf("htmx: %d", hx.StatusCode)
	}
	// By slug, with a next page.
	res := c.PostForm("/sso", url.Values{"identifier": {f.org.Slug}, "next": {"/orgs"}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/sso/saml/"+f.org.Slug+"/login?next=%2Forgs" {
		t.Fatalf("by slug: %d %q", res.StatusCode, res.Location())
	}
	toIdP := c.Follow(res)
	if toIdP.StatusCode != http.StatusSeeOther || !strings.HasPrefix(toIdP.Location(), f.idp.Srv.URL+"/sso?SAMLRequest=") {
		t.Fatalf("to the IdP: %d %q", toIdP.StatusCode, toIdP.Location())
	}
	ck := toIdP.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "accute_saml=") || !strings.Contains(ck, "Path=/sso/saml/"+f.org.Slug+"/") || !strings.Contains(ck, "HttpOnly") {
		t.Fatalf("tracking cookie: %q", ck)
	}
	// After sign-in the browser lands on the next page.
	email := "jack@" + f.domain
	f.idp.AddUser("jack", email, "jack-password")
	done := post(c, idpLogin(t, c, toIdP, "jack", "jack-password"))
	if done.StatusCode != http.StatusSeeOther || done.Location() != "/orgs" {
		t.Fatalf("after sign-in: %d %q", done.StatusCode, done.Location())
	}
	// Unknown organizations have no SAML endpoints.
	c.Get("/sso/saml/no-such-org/metadata").AssertStatus(http.StatusNotFound)
	c.Get("/sso/saml/no-such-org/login").AssertStatus(http.StatusNotFound)
	c.PostForm("/sso/saml/no-such-org/acs", url.Values{"SAMLResponse": {"x"}}).AssertStatus(http.StatusNotFound)
}

func TestSSOMetadataAndACSCrossOrigin(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	res := f.app.client().Get("/sso/saml/" + f.org.Slug + "/metadata").AssertStatus(http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/samlmetadata+xml" {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{`entityID="` + f.entityID() + `"`, `Location="` + f.acsURL() + `"`, `use="encryption"`, `use="signing"`, "SingleLogoutService"} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("metadata lacks %s:\n%s", want, res.Body)
		}
	}
	if strings.Contains(res.Body, "HTTP-Artifact") {
		t.Fatal("metadata advertises the artifact binding")
	}
	// The IdP's POST is cross-site by design: the ACS accepts it...
	email := "kim@" + f.domain
	c := f.app.client()
	req := c.NewRequest(http.MethodPost, f.acsURL(), strings.NewReader(url.Values{"SAMLResponse": {f.crafted(email).Build(t)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.elsewhere.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := c.Do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cross-site ACS post: %d\n%.500s", res.StatusCode, res.Body)
	}
	// ...while every other form stays protected.
	req = c.NewRequest(http.MethodPost, "/sso", strings.NewReader("identifier="+f.org.Slug))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := c.Do(req); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "came from another site") {
		t.Fatalf("cross-site POST /sso: %d", res.StatusCode)
	}
}

func TestSSOSingleLogoutSPInitiated(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	email := "lee@" + f.domain
	f.idp.AddUser("lee", email, "lee-password")
	browser := f.app.client()
	post(browser, f.spLogin(browser, "lee", "lee-password", email)).AssertStatus(http.StatusSeeOther)

	res := browser.PostForm("/logout", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), f.idp.Srv.URL+"/slo?SAMLRequest=") {
		t.Fatalf("logout: %d %q", res.StatusCode, res.Location())
	}
	if signedIn(browser) {
		t.Fatal("still signed in at Accute after logout")
	}
	back := browser.Follow(res)
	var done *testutil.Response
	switch {
	case back.StatusCode == http.StatusFound || back.StatusCode == http.StatusSeeOther:
		done = browser.Follow(back)
	case back.StatusCode == http.StatusOK && strings.Contains(back.Body, "SAMLResponse"):
		done = post(browser, parsePostForm(t, back))
	default:
		t.Fatalf("IdP SLO: %d\n%.1000s", back.StatusCode, back.Body)
	}
	done.AssertStatus(http.StatusOK)
	if h1 := done.Text("h1"); h1 != "Signed out" {
		t.Fatalf("after the IdP's answer: %q\n%.800s", h1, done.Body)
	}
}

func TestSSOSingleLogoutIdPInitiated(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	email := "max@" + f.domain
	f.idp.AddUser("max", email, "max-password")
	browser := f.app.client()
	post(browser, f.spLogin(browser, "max", "max-password", email)).AssertStatus(http.StatusSeeOther)
	other := f.acceptedLogin(t, f.crafted(email).Build(t), email) // the same user in another browser

	// Logging out at the IdP sends a signed LogoutRequest to Accute
	// through the browser.
	toSP := browser.Get(f.idp.Srv.URL + "/logout")
	var res *testutil.Response
	var replay func() *testutil.Response
	switch {
	case toSP.StatusCode == http.StatusFound || toSP.StatusCode == http.StatusSeeOther:
		if !strings.HasPrefix(toSP.Location(), f.app.Srv.URL+"/sso/saml/"+f.org.Slug+"/slo?SAMLRequest=") {
			t.Fatalf("IdP logout goes to %q", toSP.Location())
		}
		target := toSP.Location()
		res = browser.Get(target)
		replay = func() *testutil.Response { return f.app.client().Get(target) }
	case toSP.StatusCode == http.StatusOK && strings.Contains(toSP.Body, "SAMLRequest"):
		form := parsePostForm(t, toSP)
		res = post(browser, form)
		replay = func() *testutil.Response { return post(f.app.client(), form) }
	default:
		t.Fatalf("IdP logout: %d\n%.1000s", toSP.StatusCode, toSP.Body)
	}
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), f.idp.Srv.URL+"/slo?SAMLResponse=") {
		t.Fatalf("IdP-initiated SLO: %d %q\n%.800s", res.StatusCode, res.Location(), res.Body)
	}
	if signedIn(browser) || signedIn(other) {
		t.Fatal("sessions survived the IdP's logout")
	}
	assertAudit(t, f.app, f.org.ID, audit.SSOLogout, "single logout")
	// The same request again is a replay.
	if res := replay(); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed logout request: %d", res.StatusCode)
	}
}

func TestSSOSettingsPage(t *testing.T) {
	app := newTestApp(t)
	idp := newTestIdP(t)
	ownerC, owner, org := app.owner()
	base := "/o/" + org.Slug + "/settings/sso"

	// Reached from the settings page; nothing set up yet.
	if href := ownerC.Get("/o/"+org.Slug+"/settings").AssertStatus(http.StatusOK).Attr("[data-testid=sso-settings-link]", "href"); href != base {
		t.Fatalf("settings link %q", href)
	}
	page := ownerC.Get(base).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=sso-status]"); got != "Not set up" {
		t.Fatalf("status %q", got)
	}
	if got := page.Text("[data-testid=sso-acs-url]"); got != app.Srv.URL+"/sso/saml/"+org.Slug+"/acs" {
		t.Fatalf("ACS URL %q", got)
	}
	if page.Count("[data-testid=sso-metadata-url]") != 0 || page.Count("[data-testid=sso-test]") != 0 {
		t.Fatal("metadata link or test sign-in before any key pair exists")
	}
	app.client().Get("/sso/saml/" + org.Slug + "/metadata").AssertStatus(http.StatusNotFound)

	// Invalid input: 422, inline, nothing saved.
	bad := []struct {
		form  url.Values
		field string
	}{
		{url.Values{"enabled": {"on"}, "source": {"url"}, "default_role": {"staff"}}, "metadata_url"},
		{url.Values{"source": {"url"}, "metadata_url": {"ftp://idp.example/metadata"}, "default_role": {"staff"}}, "metadata_url"},
		{url.Values{"source": {"url"}, "metadata_url": {app.Srv.URL + "/healthz"}, "default_role": {"staff"}}, "metadata_url"},
		{url.Values{"source": {"xml"}, "metadata_xml": {"<html>not metadata</html>"}, "default_role": {"staff"}}, "metadata_xml"},
		{url.Values{"source": {"url"}, "default_role": {"owner"}}, "default_role"},
		{url.Values{"source": {"url"}, "default_role": {"custom:" + uuid.NewString()}}, "default_role"},
	}
	for _, b := range bad {
		res := ownerC.PostForm(base, b.form)
		if res.StatusCode != http.StatusUnprocessableEntity || res.Count("[data-testid=error-"+b.field+"]") != 1 {
			t.Fatalf("%v: %d, want 422 with an error on %s\n%.1500s", b.form, res.StatusCode, b.field, res.Body)
		}
	}
	hx := ownerC.HTMX(http.MethodPost, base, url.Values{"enabled": {"on"}, "source": {"url"}, "default_role": {"staff"}})
	if hx.StatusCode != http.StatusUnprocessableEntity || strings.Contains(hx.Body, "<html") || hx.Count("form[data-testid=sso-form]") != 1 {
		t.Fatalf("htmx 422: %d\n%.500s", hx.StatusCode, hx.Body)
	}
	ctx := context.Background()
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.GetSAMLConnection(ctx, org.ID)
		return err
	})
	if err == nil {
		t.Fatal("a refused form saved a connection")
	}

	// Pasted metadata; a custom default role; IdP-initiated off.
	role := app.F.CustomRole(org, "Bookkeeper", "clients.read")
	res := ownerC.PostForm(base, url.Values{
		"enabled": {"on"}, "source": {"xml"}, "metadata_xml": {idp.Metadata()}, "default_role": {"custom:" + role.ID.String()},
		"attr_email": {"mail"},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%.2000s", res.StatusCode, res.Body)
	}
	page = ownerC.Follow(res).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=sso-status]"); got != "On" {
		t.Fatalf("status after save %q", got)
	}
	if got := page.Text("[data-testid=sso-idp-summary]"); !strings.Contains(got, idp.EntityID()) || !strings.Contains(got, "Pasted XML") {
		t.Fatalf("IdP summary %q", got)
	}
	if page.Attr("input[name=allow_idp_initiated]", "checked") != "" || page.Attr("select[name=default_role] option[selected]", "value") != "custom:"+role.ID.String() {
		t.Fatal("the form does not show what was saved")
	}
	if page.Count("[data-testid=sso-test]") != 1 || page.Count("[data-testid=sso-refresh]") != 0 {
		t.Fatal("test sign-in missing, or refresh offered for pasted metadata")
	}
	assertAudit(t, app, org.ID, audit.SSOSettingsUpdated, "single sign-on turned on")
	assertAudit(t, app, org.ID, audit.SSOSettingsUpdated, "(pasted metadata)")
	var conn db.SamlConnection
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		conn, err = q.GetSAMLConnection(ctx, org.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if conn.AllowIdpInitiated || conn.DefaultRole != tenant.RoleCustom || conn.AttrEmail != "mail" || bytes.Contains(conn.SpPrivateKey, []byte("PRIVATE KEY")) {
		t.Fatalf("saved connection: %+v", conn)
	}
	// Saving again with the XML left empty keeps the pasted metadata.
	ownerC.PostForm(base, url.Values{"enabled": {"on"}, "source": {"xml"}, "default_role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	// Refresh needs a metadata URL.
	if res := ownerC.PostForm(base+"/refresh", nil); res.StatusCode != http.StatusUnprocessableEntity || res.Count("[data-testid=form-error]") != 1 {
		t.Fatalf("refresh of pasted metadata: %d", res.StatusCode)
	}
	// From a URL, then refreshed.
	ownerC.PostForm(base, url.Values{"enabled": {"on"}, "source": {"url"}, "metadata_url": {idp.MetadataURL()}, "default_role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	if page := ownerC.Get(base); page.Count("[data-testid=sso-refresh]") != 1 {
		t.Fatal("no refresh button for metadata from a URL")
	}
	ownerC.PostForm(base+"/refresh", nil).AssertStatus(http.StatusSeeOther)
	assertAudit(t, app, org.ID, audit.SSOMetadataRefreshed, "metadata fetched again from "+idp.MetadataURL())

	// Group mappings: owner refused, duplicates refused, removal.
	if res := ownerC.PostForm(base+"/groups", url.Values{"group": {"Admins"}, "role": {"owner"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("group → owner: %d", res.StatusCode)
	}
	ownerC.PostForm(base+"/groups", url.Values{"group": {"Admins"}, "role": {"admin"}}).AssertStatus(http.StatusSeeOther)
	if res := ownerC.PostForm(base+"/groups", url.Values{"group": {"Admins"}, "role": {"staff"}}); res.StatusCode != http.StatusUnprocessableEntity || res.Count("[data-testid=error-group]") != 1 {
		t.Fatalf("duplicate group: %d", res.StatusCode)
	}
	page = ownerC.Get(base)
	if page.Count("[data-testid=sso-group-row]") != 1 || !strings.Contains(page.Text("[data-testid=sso-group-row]"), "Admin") {
		t.Fatalf("group rows: %q", page.Text("[data-testid=sso-groups]"))
	}
	del, _ := page.Find("[data-testid=sso-group-row] form").Attr("action")
	ownerC.PostForm(del, nil).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm(del, nil).AssertStatus(http.StatusNotFound)
	ownerC.PostForm(base+"/groups/not-a-uuid/delete", nil).AssertStatus(http.StatusNotFound)
	assertAudit(t, app, org.ID, audit.SSOGroupUnmapped, "Admins")

	// Domains: the owner's own confirmed domain is verified at once, others wait.
	for _, d := range []string{"gmail.com", "not a domain", "localhost"} {
		if res := ownerC.PostForm(base+"/domains", url.Values{"domain": {d}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("domain %q: %d", d, res.StatusCode)
		}
	}
	ownerC.PostForm(base+"/domains", url.Values{"domain": {"@Example.TEST"}}).AssertStatus(http.StatusSeeOther) // the factory owner is @example.test
	ownerC.PostForm(base+"/domains", url.Values{"domain": {"partner-firm.test"}}).AssertStatus(http.StatusSeeOther)
	if res := ownerC.PostForm(base+"/domains", url.Values{"domain": {"example.test"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate domain: %d", res.StatusCode)
	}
	page = ownerC.Get(base)
	rows := page.Find("[data-testid=sso-domain-row]")
	if rows.Length() != 2 || !strings.Contains(rows.Eq(0).Text(), "example.test") || !strings.Contains(rows.Eq(0).Text(), "Verified") ||
		!strings.Contains(rows.Eq(1).Text(), "Pending") {
		t.Fatalf("domain rows: %q", page.Text("[data-testid=sso-domains]"))
	}
	assertAudit(t, app, org.ID, audit.SSODomainClaimed, "example.test (verified: "+owner.Email)

	// Another organization cannot claim a domain verified here.
	otherC, _, other := app.owner()
	res = otherC.PostForm("/o/"+other.Slug+"/settings/sso/domains", url.Values{"domain": {"example.test"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("[data-testid=error-domain]"), "already verified by another organization") {
		t.Fatalf("claim of a verified domain: %d %q", res.StatusCode, res.Text("[data-testid=error-domain]"))
	}
	// An admin (not owner) manages SSO but not domains.
	adminC, _ := app.member(org, tenant.RoleAdmin)
	adminC.Get(base).AssertStatus(http.StatusOK)
	if res := adminC.PostForm(base+"/domains", url.Values{"domain": {"admin-firm.test"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("admin claims a domain: %d", res.StatusCode)
	}
	delDomain, _ := page.Find("[data-testid=sso-domain-row] form").First().Attr("action")
	if res := adminC.PostForm(delDomain, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("admin removes a domain: %d", res.StatusCode)
	}
	ownerC.PostForm(delDomain, nil).AssertStatus(http.StatusSeeOther)
	assertAudit(t, app, org.ID, audit.SSODomainRemoved, "example.test")

	// Turning SSO off also lifts "required".
	ownerC.PostForm(base, url.Values{"source": {"url"}, "metadata_url": {idp.MetadataURL()}, "default_role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	if got := ownerC.Get(base).Text("[data-testid=sso-status]"); got != "Off" {
		t.Fatalf("status after turning off %q", got)
	}
	assertAudit(t, app, org.ID, audit.SSOSettingsUpdated, "single sign-on turned off")
}

func TestSSOAdminVerifiesDomains(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	ownerC.PostForm("/o/"+org.Slug+"/settings/sso/domains", url.Values{"domain": {"partner-firm.test"}}).AssertStatus(http.StatusSeeOther)

	// Not for anyone but platform administrators.
	ownerC.Get("/admin/sso-domains").AssertStatus(http.StatusNotFound)

	adminUser := app.F.User("")
	if _, err := app.Store.Q().SetPlatformAdmin(context.Background(), db.SetPlatformAdminParams{ID: adminUser.ID, IsPlatformAdmin: true}); err != nil {
		t.Fatal(err)
	}
	admin := app.client()
	app.login(admin, adminUser.Email)
	page := admin.Get("/admin/sso-domains?status=pending").AssertStatus(http.StatusOK)
	row := page.Find("[data-testid=admin-domain-row]")
	if row.Length() != 1 || !strings.Contains(row.Text(), "partner-firm.test") || !strings.Contains(row.Text(), org.Name) {
		t.Fatalf("pending domains: %q", page.Text("main"))
	}
	verify, _ := row.Find("form").Attr("action")
	admin.PostForm(verify, nil).AssertStatus(http.StatusSeeOther)
	if admin.Get("/admin/sso-domains?status=pending").Count("[data-testid=admin-domain-row]") != 0 {
		t.Fatal("still pending after verification")
	}
	assertAudit(t, app, org.ID, audit.SSODomainVerified, "partner-firm.test (verified by a platform administrator)")
	settings := ownerC.Get("/o/" + org.Slug + "/settings/sso")
	if !strings.Contains(settings.Text("[data-testid=sso-domain-row]"), "Verified by the Accute team") {
		t.Fatalf("owner sees %q", settings.Text("[data-testid=sso-domain-row]"))
	}

	// A second organization's claim of the same domain cannot be verified too.
	otherC, _, other := app.owner()
	otherC.PostForm("/o/"+other.Slug+"/settings/sso/domains", url.Values{"domain": {"partner-firm.test"}})
	// (claiming a domain verified elsewhere is refused outright)
	if n := admin.Get("/admin/sso-domains").Count("[data-testid=admin-domain-row]"); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}

	// Taking the verification back.
	page = admin.Get("/admin/sso-domains?status=verified")
	unverify, _ := page.Find("[data-testid=admin-domain-row] form").Attr("action")
	admin.PostForm(unverify, nil).AssertStatus(http.StatusSeeOther)
	assertAudit(t, app, org.ID, audit.SSODomainUnverified, "partner-firm.test")
	admin.PostForm("/admin/sso-domains/not-a-uuid/"+uuid.NewString()+"/verify", nil).AssertStatus(http.StatusNotFound)
	admin.PostForm("/admin/sso-domains/"+org.ID.String()+"/"+uuid.NewString()+"/verify", nil).AssertStatus(http.StatusNotFound)
	ownerC.PostForm(verify, nil).AssertStatus(http.StatusNotFound)
}
