package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

var inviteLinkRe = regexp.MustCompile(`(https?://[^\s]+)/invitations/accept\?token=([A-Za-z0-9_-]+)`)

// teamInvite invites email to org as role through the page and returns the
// token from the e-mail it sent.
func teamInvite(t *testing.T, app *testApp, c *testutil.Client, org db.Organization, email, role string) string {
	t.Helper()
	res := c.PostForm("/o/"+org.Slug+"/invitations", url.Values{"email": {email}, "role": {role}})
	res.AssertStatus(http.StatusSeeOther)
	mail := app.lastEmail(strings.ToLower(email))
	m := inviteLinkRe.FindStringSubmatch(mail.TextBody)
	if m == nil {
		t.Fatalf("no invitation link in %q", mail.TextBody)
	}
	if m[1] != app.Config.BaseURL {
		t.Fatalf("link uses %q, want BASE_URL %q", m[1], app.Config.BaseURL)
	}
	return m[2]
}

// teamOpenInvitation follows the e-mailed link as c and returns the page it
// lands on, checking the token left the address.
func teamOpenInvitation(t *testing.T, c *testutil.Client, token string) *testutil.Response {
	t.Helper()
	res := c.Get("/invitations/accept?token=" + token).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/invitations/accept" {
		t.Fatalf("token should leave the URL, redirected to %q", res.Location())
	}
	page := c.Follow(res)
	if strings.Contains(page.Body, token) {
		t.Fatal("token appears in the page")
	}
	return page
}

// teamSQL runs statement inside org's tenant context (for setting up states
// the UI cannot reach, such as an expired invitation).
func teamSQL(t *testing.T, app *testApp, org db.Organization, statement string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := app.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('app.organization_id', $1, true)", org.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, statement, args...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestInvitationFlowForNewUser(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	token := teamInvite(t, app, ownerC, org, "New.Person@Example.TEST", "manager")

	// The token encodes the organization; only its hash is stored.
	ctx := context.Background()
	var inv db.GetInvitationByTokenRow
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		inv, err = q.GetInvitationByToken(ctx, db.GetInvitationByTokenParams{OrganizationID: org.ID, TokenHash: crypto.HashToken(token)})
		return err
	}); err != nil {
		t.Fatalf("invitation not found by the token's hash: %v", err)
	}
	if inv.Email != "new.person@example.test" || inv.Role != "manager" || bytes.Contains(inv.TokenHash, []byte(token)) {
		t.Fatalf("invitation %+v", inv)
	}
	if d := inv.ExpiresAt.Sub(inv.CreatedAt).Hours(); d < 167 || d > 169 {
		t.Fatalf("expires after %.1f hours, want 7 days", d)
	}
	mail := app.lastEmail("new.person@example.test")
	if !strings.Contains(mail.Subject, org.Name) || !strings.Contains(mail.TextBody, "Manager") {
		t.Fatalf("mail %q / %q", mail.Subject, mail.TextBody)
	}
	if ev := teamAudit(t, app, org, "member.invited"); len(ev) != 1 || ev[0].ActorEmail != owner.Email {
		t.Fatalf("audit %+v", ev)
	}
	members := ownerC.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusOK)
	if !strings.Contains(members.Text("[data-testid=invitation-row]"), "new.person@example.test") || strings.Contains(members.Body, token) {
		t.Fatal("pending invitation not listed, or token leaked into the members page")
	}

	// The invited person opens the link: a sign-up form with the address fixed.
	c := app.client()
	page := teamOpenInvitation(t, c, token).AssertStatus(http.StatusOK)
	if page.Attr("[data-testid=invitation]", "data-state") != "signup" {
		t.Fatalf("state %q", page.Attr("[data-testid=invitation]", "data-state"))
	}
	if page.Attr("#f-invited-email", "value") != "new.person@example.test" || page.Count("[data-testid=invite-signup-form] input[name=email]") != 0 {
		t.Fatal("the e-mail must be the invited one and not editable")
	}
	if page.Text("[data-testid=invited-role]") != "Manager" {
		t.Fatalf("role shown %q", page.Text("[data-testid=invited-role]"))
	}

	// Validation stays inline.
	res := c.HTMX(http.MethodPost, "/invitations/accept", url.Values{"name": {""}, "password": {"short"}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-name]") != 1 || res.Count("[data-testid=error-password]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatal("want the sign-up form fragment with errors")
	}

	res = c.PostForm("/invitations/accept", url.Values{"name": {"New Person"}, "password": {"a-long-password"}}).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/o/"+org.Slug {
		t.Fatalf("location %q", res.Location())
	}
	dash := c.Follow(res).AssertStatus(http.StatusOK)
	if dash.Text("[data-testid=current-user]") != "New Person" || !strings.Contains(dash.Text("[data-testid=flash]"), "Manager") {
		t.Fatal("not signed in as the new member")
	}
	c.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusOK)         // manager: may read
	c.Get("/o/" + org.Slug + "/settings").AssertStatus(http.StatusForbidden) // but not manage

	user, err := app.Store.Q().GetUserByEmail(ctx, "new.person@example.test")
	if err != nil || user.EmailVerifiedAt == nil {
		t.Fatalf("user %+v err %v: must exist and be verified", user, err)
	}
	if teamRole(t, app, org, user.ID) != "manager" {
		t.Fatal("membership missing")
	}
	if ev := teamAudit(t, app, org, "member.joined"); len(ev) != 1 || ev[0].ActorEmail != user.Email {
		t.Fatalf("audit %+v", ev)
	}
	if d, _ := teamSvc(app).LoadMembers(ctx, org.ID); len(d.Invitations) != 0 {
		t.Fatal("invitation still pending")
	}

	// Single use: the same link again is refused, for anyone.
	again := teamOpenInvitation(t, app.client(), token).AssertStatus(http.StatusBadRequest)
	if !strings.Contains(again.Text("[data-testid=invitation-invalid]"), "already been accepted") {
		t.Fatalf("page %q", again.Text("[data-testid=invitation-invalid]"))
	}
}

func TestInvitationFlowForExistingUser(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	existing := app.F.User("")
	_, _, otherOrg := app.owner()
	app.F.Member(otherOrg, existing, tenant.RoleStaff) // they work elsewhere already
	custom := app.F.CustomRole(org, "Reviewer", "clients.read")
	token := teamInvite(t, app, ownerC, org, existing.Email, "custom:"+custom.ID.String())

	c := app.client()
	page := teamOpenInvitation(t, c, token).AssertStatus(http.StatusOK)
	if page.Attr("[data-testid=invitation]", "data-state") != "login" {
		t.Fatalf("state %q", page.Attr("[data-testid=invitation]", "data-state"))
	}
	login := page.Attr("[data-testid=login-to-accept]", "href")
	if login != "/login?next=/invitations/accept" {
		t.Fatalf("login link %q", login)
	}
	// Without an account to create, posting the sign-up form is refused.
	c.PostForm("/invitations/accept", url.Values{"name": {"Impostor"}, "password": {"a-long-password"}}).AssertStatus(http.StatusConflict)

	res := c.PostForm("/login", url.Values{"email": {existing.Email}, "password": {testutil.Password}, "next": {"/invitations/accept"}}).AssertStatus(http.StatusSeeOther)
	page = c.Follow(res).AssertStatus(http.StatusOK)
	if page.Attr("[data-testid=invitation]", "data-state") != "join" || !strings.Contains(page.Text("[data-testid=join-button]"), "Join "+org.Name+" as Reviewer") {
		t.Fatalf("join page: %q", page.Text("[data-testid=invitation]"))
	}
	res = c.PostForm("/invitations/accept", nil).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/o/"+org.Slug {
		t.Fatalf("location %q", res.Location())
	}
	if teamRole(t, app, org, existing.ID) != "custom:"+custom.ID.String() {
		t.Fatal("not a member with the custom role")
	}
	if teamRole(t, app, otherOrg, existing.ID) != "staff" {
		t.Fatal("the other membership changed")
	}
	c.Get("/o/" + org.Slug + "/clients").AssertStatus(http.StatusOK)
	c.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusForbidden)
	// Used: the held token is gone and the link is dead.
	c.Get("/invitations/accept").AssertStatus(http.StatusBadRequest)
}

func TestInvitationRefusedForAnotherSignedInUser(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	invited := app.F.User("")
	token := teamInvite(t, app, ownerC, org, invited.Email, "staff")

	intruder := app.F.User("")
	c := app.client()
	app.login(c, intruder.Email)
	page := teamOpenInvitation(t, c, token).AssertStatus(http.StatusForbidden)
	if page.Count("[data-testid=wrong-user]") != 1 || page.Count("[data-testid=join-button]") != 0 {
		t.Fatal("should explain the invitation is for someone else")
	}
	c.PostForm("/invitations/accept", nil).AssertStatus(http.StatusForbidden)
	c.HTMX(http.MethodPost, "/invitations/accept", nil).AssertStatus(http.StatusForbidden)
	if teamRole(t, app, org, intruder.ID) != "" {
		t.Fatal("intruder joined")
	}
	// The invitation still works for the invited person.
	ic := app.client()
	app.login(ic, invited.Email)
	teamOpenInvitation(t, ic, token).AssertStatus(http.StatusOK)
	ic.PostForm("/invitations/accept", nil).AssertStatus(http.StatusSeeOther)
	if teamRole(t, app, org, invited.ID) != "staff" {
		t.Fatal("invited user did not join")
	}
}

func TestInvitationExpiredRevokedAndBogusTokensRefused(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()

	// Expired.
	expired := teamInvite(t, app, ownerC, org, "late@example.test", "staff")
	teamSQL(t, app, org, "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = 'late@example.test'")
	c := app.client()
	page := teamOpenInvitation(t, c, expired).AssertStatus(http.StatusBadRequest)
	if !strings.Contains(page.Text("[data-testid=invitation-invalid]"), "expired") {
		t.Fatalf("page %q", page.Text("[data-testid=invitation-invalid]"))
	}
	c.PostForm("/invitations/accept", url.Values{"name": {"Late"}, "password": {"a-long-password"}}).AssertStatus(http.StatusBadRequest)
	if _, err := app.Store.Q().GetUserByEmail(context.Background(), "late@example.test"); err == nil {
		t.Fatal("account created from an expired invitation")
	}
	// The members page marks it, and the address can be invited again.
	if ownerC.Get("/o/"+org.Slug+"/members").Count(`[data-testid=invitation-row][data-email="late@example.test"] .badge-warn`) != 1 {
		t.Fatal("expired invitation not marked")
	}
	fresh := teamInvite(t, app, ownerC, org, "late@example.test", "staff")
	teamOpenInvitation(t, app.client(), fresh).AssertStatus(http.StatusOK)

	// Revoked.
	revoked := teamInvite(t, app, ownerC, org, "gone@example.test", "staff")
	d, _ := teamSvc(app).LoadMembers(context.Background(), org.ID)
	var id string
	for _, inv := range d.Invitations {
		if inv.Email == "gone@example.test" {
			id = inv.ID.String()
		}
	}
	staffC, _ := app.member(org, tenant.RoleStaff)
	staffC.PostForm("/o/"+org.Slug+"/invitations/"+id+"/revoke", nil).AssertStatus(http.StatusForbidden)
	c = app.client()
	c.Get("/invitations/accept?token=" + revoked) // held before the revocation
	ownerC.PostForm("/o/"+org.Slug+"/invitations/"+id+"/revoke", nil).AssertStatus(http.StatusSeeOther)
	if ev := teamAudit(t, app, org, "member.invitation_revoked"); len(ev) != 1 {
		t.Fatalf("audit %+v", ev)
	}
	ownerC.PostForm("/o/"+org.Slug+"/invitations/"+id+"/revoke", nil).AssertStatus(http.StatusConflict)
	page = c.Get("/invitations/accept").AssertStatus(http.StatusBadRequest)
	if !strings.Contains(page.Text("[data-testid=invitation-invalid]"), "withdrawn") {
		t.Fatalf("page %q", page.Text("[data-testid=invitation-invalid]"))
	}
	c.Get("/invitations/accept?token=" + revoked)
	c.PostForm("/invitations/accept", url.Values{"name": {"Gone"}, "password": {"a-long-password"}}).AssertStatus(http.StatusBadRequest)
	if _, err := app.Store.Q().GetUserByEmail(context.Background(), "gone@example.test"); err == nil {
		t.Fatal("account created from a revoked invitation")
	}

	// Bogus tokens: garbage, a valid shape with a random secret, none at all.
	for _, tok := range []string{"garbage", strings.Repeat("A", 64), expired[:22] + strings.Repeat("x", 42)} {
		teamOpenInvitation(t, app.client(), tok).AssertStatus(http.StatusBadRequest)
	}
	app.client().Get("/invitations/accept").AssertStatus(http.StatusBadRequest)
	app.client().PostForm("/invitations/accept", nil).AssertStatus(http.StatusBadRequest)
}

func TestInviteFormRefusesDuplicatesAndMembers(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	managerC, _ := app.member(org, tenant.RoleManager)
	base := "/o/" + org.Slug

	managerC.PostForm(base+"/invitations", url.Values{"email": {"x@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusForbidden)
	teamInvite(t, app, ownerC, org, "twice@example.test", "staff")

	res := ownerC.HTMX(http.MethodPost, base+"/invitations", url.Values{"email": {"TWICE@example.test"}, "role": {"client"}}).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Text("[data-testid=error-email]"), "pending invitation") || strings.Contains(res.Body, "<html") {
		t.Fatalf("want an inline error in the form fragment, got %s", res.Body)
	}
	// Values are kept.
	if res.Attr("[data-testid=invite-form] select[name=role] option[selected]", "value") != "client" {
		t.Fatal("chosen role lost")
	}
	res = ownerC.PostForm(base+"/invitations", url.Values{"email": {owner.Email}, "role": {"staff"}}).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Text("[data-testid=error-email]"), "already a member") || res.Count("[data-testid=members]") != 1 {
		t.Fatal("want the members page with an inline error")
	}
	ownerC.PostForm(base+"/invitations", url.Values{"email": {"not an email"}, "role": {"staff"}}).AssertStatus(http.StatusUnprocessableEntity)
	ownerC.PostForm(base+"/invitations", url.Values{"email": {"ok@example.test"}, "role": {"king"}}).AssertStatus(http.StatusUnprocessableEntity)

	// Admins may not invite owners.
	adminC, _ := app.member(org, tenant.RoleAdmin)
	res = adminC.PostForm(base+"/invitations", url.Values{"email": {"boss@example.test"}, "role": {"owner"}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-role]") != 1 {
		t.Fatal("no role error")
	}
	d, _ := teamSvc(app).LoadMembers(context.Background(), org.ID)
	if len(d.Invitations) != 1 || len(teamAudit(t, app, org, "member.invited")) != 1 {
		t.Fatalf("refused invitations were saved: %d", len(d.Invitations))
	}
}
