package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/requests"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// portalFx are the client portal's rows for the route matrix, around the
// matrix's client: a client user linked to it (with an identity document
// not yet submitted), a second one whose identity check is submitted, a
// pending invitation to it, a document of it, a request of it; and a
// client user of another client of the organization, who must find none
// of it.
type portalFx struct {
	user, other db.User
	link        string // the second user's link (submitted identity check)
	kycDoc      string // the first user's identity document
	invitation  string
	document    string
	request     string
}

func portalFixtures(t *testing.T, app *testApp, org db.Organization, owner db.User, client db.Client) portalFx {
	t.Helper()
	ctx := context.Background()
	svc := &portal.Service{Store: app.Store, Docs: app.Docs, Orgs: &tenant.Service{Store: app.Store, BaseURL: app.Config.BaseURL}, BaseURL: app.Config.BaseURL}
	staff := portal.Actor{OrgID: org.ID, OrgSlug: org.Slug, OrgName: org.Name, UserID: owner.ID, Email: owner.Email, Name: owner.Name}
	clientUser := func(c db.Client) db.User {
		u := app.F.User("")
		app.F.Member(org, u, tenant.RoleClient)
		if _, err := svc.Link(ctx, staff, c.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		return u
	}
	fx := portalFx{user: clientUser(client), other: clientUser(app.F.Client(org, ""))}
	actor := func(u db.User) portal.Actor {
		return portal.Actor{OrgID: org.ID, OrgSlug: org.Slug, OrgName: org.Name, UserID: u.ID, Email: u.Email, Name: u.Name}
	}
	kd, err := svc.AddKYCDocument(ctx, actor(fx.user), client.ID, "passport", "passport.txt", strings.NewReader("passport "+testutil.Unique("")))
	if err != nil {
		t.Fatal(err)
	}
	fx.kycDoc = kd.ID.String()
	second := clientUser(client)
	kd2, err := svc.AddKYCDocument(ctx, actor(second), client.ID, "national_id", "id-card.txt", strings.NewReader("id card "+testutil.Unique("")))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SubmitKYC(ctx, actor(second), client.ID); err != nil {
		t.Fatal(err)
	}
	fx.link = kd2.LinkID.String()
	d, err := app.Docs.Upload(ctx, documents.Actor{OrgID: org.ID, UserID: owner.ID, Email: owner.Email}, documents.UploadInput{
		Filename: "statement.txt", Content: strings.NewReader("statement " + testutil.Unique("")), Placement: documents.Placement{ClientID: &client.ID}})
	if err != nil {
		t.Fatal(err)
	}
	fx.document = d.ID.String()
	err = app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, hash := crypto.NewToken()
		inv, err := q.CreateInvitation(ctx, db.CreateInvitationParams{OrganizationID: org.ID, Email: testutil.Unique("portal") + "@example.test",
			Role: tenant.RoleClient, TokenHash: hash, InvitedBy: &owner.ID, ExpiresAt: time.Now().Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		fx.invitation = inv.ID.String()
		return q.AddPortalInvitationClient(ctx, db.AddPortalInvitationClientParams{OrganizationID: org.ID, InvitationID: inv.ID, ClientID: client.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.Reqs.Create(ctx, requests.Staff(org.ID, owner.ID, owner.Email, owner.Name), requests.Input{ClientID: client.ID,
		Title: testutil.Unique("Portal request "), DueOn: time.Now().AddDate(0, 0, 7), Items: []string{"Bank statement"}})
	if err != nil {
		t.Fatal(err)
	}
	fx.request = r.ID.String()
	return fx
}

// portalFill fills the portal's route parameters: the portal's :id is a
// document, the client (identity check) or a request, by section.
func portalFill(path string, fx fixtures) (id string, r *strings.Replacer) {
	switch {
	case strings.HasPrefix(path, "/o/:org/portal/documents/"):
		id = fx.portal.document
	case strings.HasPrefix(path, "/o/:org/portal/kyc/"):
		id = fx.client
	case strings.HasPrefix(path, "/o/:org/portal/requests/"):
		id = fx.portal.request
	}
	return id, strings.NewReplacer(":link", fx.portal.link, ":invitation", fx.portal.invitation, ":kycdoc", fx.portal.kycDoc)
}

// checkClientUserKeptOut: a client user opening one of the firm's pages is
// sent to the portal; any other request is refused.
func checkClientUserKeptOut(t *testing.T, c *testutil.Client, method, path, slug string, spec orgRoute) {
	t.Helper()
	res := do(c, method, path, spec.form)
	switch {
	case method == http.MethodGet && (res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+slug+"/portal"):
		t.Errorf("client user on a firm page: %d %q, want 303 to the portal", res.StatusCode, res.Location())
	case method != http.MethodGet && res.StatusCode != http.StatusForbidden:
		t.Errorf("client user posting to a firm route: %d, want 403", res.StatusCode)
	}
}

// checkPortalRoute: the firm's members are kept out of the portal (sent
// to the dashboard, or refused); a client user of another client finds
// nothing of this one (404 by id; nothing of it in lists).
func checkPortalRoute(t *testing.T, app *testApp, staff *testutil.Client, method, pattern, path, slug string, spec orgRoute, fx fixtures) {
	t.Helper()
	res := do(staff, method, path, spec.form)
	switch {
	case method == http.MethodGet && (res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+slug):
		t.Errorf("staff member in the portal: %d %q, want 303 to the dashboard", res.StatusCode, res.Location())
	case method != http.MethodGet && res.StatusCode != http.StatusForbidden:
		t.Errorf("staff member posting to the portal: %d, want 403", res.StatusCode)
	}
	other := app.client()
	app.login(other, fx.portal.other.Email)
	res = do(other, method, path, spec.form)
	if strings.Contains(pattern, ":id") {
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("client user of another client: %d, want 404", res.StatusCode)
		}
		return
	}
	if res.StatusCode >= 500 || res.StatusCode == http.StatusOK && (strings.Contains(res.Body, fx.portal.document) || strings.Contains(res.Body, fx.client)) {
		t.Errorf("client user of another client: %d, and the page shows this client's rows", res.StatusCode)
	}
}

// noPermsMember adds a member whose custom role grants nothing.
func noPermsMember(t *testing.T, app *testApp, org db.Organization) *testutil.Client {
	t.Helper()
	u := app.F.User("")
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		role, err := q.CreateRole(context.Background(), db.CreateRoleParams{OrganizationID: org.ID, Name: testutil.Unique("Nothing "), Permissions: []string{}})
		if err != nil {
			return err
		}
		_, err = q.CreateMembership(context.Background(), db.CreateMembershipParams{OrganizationID: org.ID, UserID: u.ID, Role: tenant.RoleCustom, CustomRoleID: &role.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := app.client()
	app.login(c, u.Email)
	return c
}
