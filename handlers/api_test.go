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
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"accute/handlers/api"
	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

type clientList struct {
	Items      []api.Client `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

func TestAPIClientsCRUDWithPAT(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug + "/clients"

	// Create: defaults, normalisation, audit in the same transaction.
	r := c.do(http.MethodPost, base, map[string]any{"name": "  Acme Ltd ", "email": "Books@Acme.Example", "notes": "VAT quarterly"}).expect(http.StatusCreated)
	var created api.ClientDetails
	r.into(&created)
	if created.Name != "Acme Ltd" || created.Kind != "business" || created.Email != "books@acme.example" || created.Status != "active" || len(created.Contacts) != 0 {
		t.Fatalf("created %+v", created)
	}
	if n := app.apiAuditCount(&org, audit.ClientCreated); n != 1 {
		t.Fatalf("client.created events: %d", n)
	}

	// Read, with contacts.
	one := "/api/v1/orgs/" + org.Slug + "/clients/" + created.ID.String()
	c.do(http.MethodPost, one+"/contacts", map[string]any{"name": "Ada Books", "email": "ada@acme.example"}).expect(http.StatusCreated)
	var got api.ClientDetails
	c.get(one).expect(http.StatusOK).into(&got)
	if got.ID != created.ID || len(got.Contacts) != 1 || got.Contacts[0].Name != "Ada Books" {
		t.Fatalf("get %+v", got)
	}
	c.do(http.MethodDelete, one+"/contacts/"+got.Contacts[0].ID.String(), nil).expect(http.StatusOK).into(&got)
	if len(got.Contacts) != 0 {
		t.Fatalf("contact not removed: %+v", got.Contacts)
	}

	// Patch changes only the fields present.
	var patched api.Client
	c.do(http.MethodPatch, one, map[string]any{"phone": "+44 20 7946 0000", "kind": "individual"}).expect(http.StatusOK).into(&patched)
	if patched.Phone != "+44 20 7946 0000" || patched.Kind != "individual" || patched.Name != "Acme Ltd" || patched.Notes != "VAT quarterly" {
		t.Fatalf("patched %+v", patched)
	}

	// Validation: 400 with per-field details; nothing written.
	bad := c.do(http.MethodPatch, one, map[string]any{"name": "", "email": "not-an-address", "kind": "robot"}).expect(http.StatusBadRequest)
	for _, f := range []string{"name", "email", "kind"} {
		if bad.Env.Details[f] == "" {
			t.Fatalf("no detail for %s: %s", f, bad.Body)
		}
	}
	c.do(http.MethodPost, base, map[string]any{"kind": "business"}).expect(http.StatusBadRequest)
	if bad := c.do(http.MethodPost, base, map[string]any{"name": strings.Repeat("x", 201)}).expect(http.StatusBadRequest); bad.Env.Details["name"] == "" {
		t.Fatalf("long name: %s", bad.Body)
	}

	// Strict JSON.
	if r := c.raw(http.MethodPost, base, "application/json", []byte(`{"name": "X", "colour": "red"}`)).expect(http.StatusBadRequest); !strings.Contains(r.Env.Message, `"colour"`) || r.Env.Details["colour"] == "" {
		t.Fatalf("unknown field: %s", r.Body)
	}
	if r := c.raw(http.MethodPost, base, "application/json", []byte(`{"name": "X",`)).expect(http.StatusBadRequest); !strings.Contains(r.Env.Message, "Malformed JSON") {
		t.Fatalf("malformed: %s", r.Body)
	}
	if r := c.raw(http.MethodPost, base, "application/json", []byte(`{"name": 42}`)).expect(http.StatusBadRequest); r.Env.Details["name"] == "" {
		t.Fatalf("wrong type: %s", r.Body)
	}
	c.raw(http.MethodPost, base, "text/plain", []byte(`{"name": "X"}`)).expect(http.StatusUnsupportedMediaType)
	c.raw(http.MethodPost, base, "application/json", []byte(`{"name": "`+strings.Repeat("x", api.MaxBodyBytes)+`"}`)).expect(http.StatusRequestEntityTooLarge)

	// DELETE archives (the client stays, read-only), restore brings it back.
	var archived api.Client
	c.do(http.MethodDelete, one, nil).expect(http.StatusOK).into(&archived)
	if archived.Status != "archived" || archived.ArchivedAt == nil {
		t.Fatalf("archived %+v", archived)
	}
	c.do(http.MethodPatch, one, map[string]any{"name": "Renamed"}).expect(http.StatusConflict)
	c.do(http.MethodDelete, one, nil).expect(http.StatusOK) // again: no change
	if n := app.apiAuditCount(&org, audit.ClientArchived); n != 1 {
		t.Fatalf("client.archived events: %d", n)
	}
	c.do(http.MethodPost, one+"/restore", nil).expect(http.StatusOK).into(&archived)
	if archived.Status != "active" {
		t.Fatalf("restored %+v", archived)
	}

	// Bad and unknown ids are 404.
	c.get(base + "/not-a-uuid").expect(http.StatusNotFound)
	c.get(base + "/" + uuid.NewString()).expect(http.StatusNotFound)
	c.do(http.MethodPatch, base+"/"+uuid.NewString(), map[string]any{"name": "X"}).expect(http.StatusNotFound)
}

func TestAPIClientsFiltersAndCursorPagination(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	for i := range 7 {
		app.F.Client(org, "Client "+strconv.Itoa(i))
	}
	app.F.Client(org, "client 7 lower") // ordering ignores case
	archived := app.F.Client(org, "Zeta Archived")
	ctx := context.Background()
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.SetClientArchived(ctx, db.SetClientArchivedParams{OrganizationID: org.ID, ID: archived.ID, Archived: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	token, _ := app.pat(owner, org, tenant.RoleStaff, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug + "/clients"

	// Walk the active list three at a time.
	var names []string
	next := base + "?limit=3"
	pages := 0
	for next != "" {
		var page clientList
		c.get(next).expect(http.StatusOK).into(&page)
		pages++
		for _, cl := range page.Items {
			names = append(names, cl.Name)
			if cl.Status != "active" {
				t.Fatalf("archived client in the active list: %+v", cl)
			}
		}
		next = ""
		if page.NextCursor != nil {
			if len(page.Items) != 3 {
				t.Fatalf("a page with a cursor has %d items", len(page.Items))
			}
			next = base + "?limit=3&cursor=" + url.QueryEscape(*page.NextCursor)
		}
	}
	want := []string{"Client 0", "Client 1", "Client 2", "Client 3", "Client 4", "Client 5", "Client 6", "client 7 lower"}
	if strings.Join(names, "|") != strings.Join(want, "|") || pages != 3 {
		t.Fatalf("walked %d pages: %v", pages, names)
	}

	// Filters.
	var page clientList
	c.get(base + "?status=archived").expect(http.StatusOK).into(&page)
	if len(page.Items) != 1 || page.Items[0].ID != archived.ID || page.NextCursor != nil {
		t.Fatalf("archived filter: %+v", page)
	}
	c.get(base + "?status=all").expect(http.StatusOK).into(&page)
	if len(page.Items) != 9 {
		t.Fatalf("all: %d", len(page.Items))
	}
	c.get(base + "?q=" + url.QueryEscape("LOWER")).expect(http.StatusOK).into(&page)
	if len(page.Items) != 1 || page.Items[0].Name != "client 7 lower" {
		t.Fatalf("q filter: %+v", page)
	}
	c.get(base + "?q=" + url.QueryEscape("%")).expect(http.StatusOK).into(&page)
	if len(page.Items) != 0 {
		t.Fatalf("q is not a LIKE pattern: %+v", page)
	}

	// Bad parameters: 400 with details, never 500.
	for param, field := range map[string]string{"limit=0": "limit", "limit=101": "limit", "limit=x": "limit", "status=deleted": "status", "cursor=%25%25": "cursor", "cursor=bm9wZQ": "cursor"} {
		if r := c.get(base + "?" + param).expect(http.StatusBadRequest); r.Env.Details[field] == "" {
			t.Fatalf("%s: %s", param, r.Body)
		}
	}
	// One round trip once the token is known (BEGIN, app_enter_known, the
	// list and COMMIT; see TestAPIKnownTokenFollowsEveryChange), two the
	// first time (token and tenant context with BEGIN, then the list with
	// COMMIT through store.InOrgRead).
	if r := c.get(base); r.Header.Get("X-Debug-SQL-Roundtrips") != "1" {
		t.Fatalf("round trips: %q", r.Header.Get("X-Debug-SQL-Roundtrips"))
	}
}

func TestAPIOtherOrganizationIsNotFound(t *testing.T) {
	app := newTestApp(t)
	ownerA, ownerB := app.F.User(""), app.F.User("")
	orgA, orgB := app.F.Org(ownerA, ""), app.F.Org(ownerB, "")
	clientB := app.F.Client(orgB, "B's client")
	app.F.Member(orgB, ownerA, tenant.RoleAdmin) // A's owner is also an admin of B
	tokenA, _ := app.pat(ownerA, orgA, tenant.RoleOwner, nil)
	c := app.api(tokenA)

	// A PAT is scoped to one organization, even one its user belongs to.
	for _, path := range []string{
		"/api/v1/orgs/" + orgB.Slug, "/api/v1/orgs/" + orgB.Slug + "/clients", "/api/v1/orgs/" + orgB.Slug + "/clients/" + clientB.ID.String(),
		"/api/v1/orgs/" + orgB.Slug + "/members", "/api/v1/orgs/no-such-firm/clients", "/api/v1/orgs/NOT_A_SLUG/clients",
	} {
		if r := c.get(path).expect(http.StatusNotFound); r.Env.Error != "Not Found" {
			t.Fatalf("%s: %s", path, r.Body)
		}
	}
	// B's client through A's organization: 404 too, read or write.
	c.get("/api/v1/orgs/" + orgA.Slug + "/clients/" + clientB.ID.String()).expect(http.StatusNotFound)
	c.do(http.MethodPatch, "/api/v1/orgs/"+orgA.Slug+"/clients/"+clientB.ID.String(), map[string]any{"name": "Hijacked"}).expect(http.StatusNotFound)
	c.do(http.MethodDelete, "/api/v1/orgs/"+orgA.Slug+"/clients/"+clientB.ID.String(), nil).expect(http.StatusNotFound)
	var orgs struct{ Items []api.Organization }
	c.get("/api/v1/orgs").expect(http.StatusOK).into(&orgs)
	if len(orgs.Items) != 1 || orgs.Items[0].Slug != orgA.Slug {
		t.Fatalf("a PAT lists only its organization: %+v", orgs)
	}

	// A JWT is a user token: every organization the user belongs to, and
	// 404 for the others.
	outsider := app.F.User("")
	app.F.Org(outsider, "")
	jwtC := app.api(signIn(t, app, outsider.Email).AccessToken)
	jwtC.get("/api/v1/orgs/" + orgB.Slug + "/clients").expect(http.StatusNotFound)
	jwtA := app.api(signIn(t, app, ownerA.Email).AccessToken)
	jwtA.get("/api/v1/orgs/" + orgB.Slug + "/clients").expect(http.StatusOK)
	c.get("/api/v1/orgs").expect(http.StatusOK)
	jwtA.get("/api/v1/orgs").expect(http.StatusOK).into(&orgs)
	if len(orgs.Items) != 2 {
		t.Fatalf("a JWT lists every organization of the user: %+v", orgs)
	}
}

func TestAPIRoleLimitedTokens(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	client := app.F.Client(org, "")
	base := "/api/v1/orgs/" + org.Slug

	// An owner's token with the staff role reads and writes clients only.
	staffToken, _ := app.pat(owner, org, tenant.RoleStaff, nil)
	s := app.api(staffToken)
	s.get(base + "/clients").expect(http.StatusOK)
	s.do(http.MethodPatch, base+"/clients/"+client.ID.String(), map[string]any{"notes": "ok"}).expect(http.StatusOK)
	r := s.get(base + "/members").expect(http.StatusForbidden)
	if !strings.Contains(r.Env.Message, "members.read") || !strings.Contains(r.Env.Message, "token") {
		t.Fatalf("403 message: %s", r.Body)
	}
	s.do(http.MethodPost, base+"/invitations", map[string]any{"email": "x@example.test", "role": "staff"}).expect(http.StatusForbidden)
	s.get(base + "/audit-events").expect(http.StatusForbidden)

	// An owner's admin-role token cannot do what only owners may.
	adminToken, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	ac := app.api(adminToken)
	if r := ac.do(http.MethodPost, base+"/invitations", map[string]any{"email": "boss@example.test", "role": "owner"}).expect(http.StatusBadRequest); r.Env.Details["role"] == "" {
		t.Fatalf("admin token invited an owner: %s", r.Body)
	}
	ac.do(http.MethodPost, base+"/invitations", map[string]any{"email": "helper@example.test", "role": "admin"}).expect(http.StatusCreated)
	ownerToken, _ := app.pat(owner, org, tenant.RoleOwner, nil)
	app.api(ownerToken).do(http.MethodPost, base+"/invitations", map[string]any{"email": "boss@example.test", "role": "owner"}).expect(http.StatusCreated)

	// A client-role token may not even read clients; a read-only custom
	// role may read but not write.
	clientRole, _ := app.pat(owner, org, tenant.RoleClient, nil)
	app.api(clientRole).get(base + "/clients").expect(http.StatusForbidden)
	reader := app.F.CustomRole(org, "Reader", string(tenant.ClientsRead))
	readToken, _ := app.pat(owner, org, tenant.RoleValue(tenant.RoleCustom, &reader.ID), nil)
	rc := app.api(readToken)
	rc.get(base + "/clients").expect(http.StatusOK)
	rc.do(http.MethodPost, base+"/clients", map[string]any{"name": "Nope"}).expect(http.StatusForbidden)
	rc.do(http.MethodDelete, base+"/clients/"+client.ID.String(), nil).expect(http.StatusForbidden)

	// Nobody mints a token above their own role.
	staff := app.F.User("")
	app.F.Member(org, staff, tenant.RoleStaff)
	svc := auth.NewAPITokens(app.Store, app.Config.JWTSecret)
	_, _, err := svc.CreatePAT(context.Background(), tenant.User{ID: staff.ID, Email: staff.Email}, auth.PATInput{OrgID: org.ID, Name: "x", Role: tenant.RoleAdmin})
	if err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("staff minted an admin token: %v", err)
	}
	// A token's rights shrink with its member's: a manager token of a
	// member demoted to staff loses members.read at once.
	mgr := app.F.User("")
	m := app.F.Member(org, mgr, tenant.RoleManager)
	mgrToken, _ := app.pat(mgr, org, tenant.RoleManager, nil)
	mc := app.api(mgrToken)
	mc.get(base + "/members").expect(http.StatusOK)
	ctx := context.Background()
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.UpdateMemberRole(ctx, db.UpdateMemberRoleParams{OrganizationID: org.ID, ID: m.ID, Role: tenant.RoleStaff})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mc.get(base + "/members").expect(http.StatusForbidden)
	// Removed from the organization: the token is dead (401).
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.DeleteMember(ctx, db.DeleteMemberParams{OrganizationID: org.ID, ID: m.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mc.get(base + "/clients").expect(http.StatusUnauthorized)
	mc.get("/api/v1/me").expect(http.StatusUnauthorized)
}

func TestAPIRevokedAndExpiredTokensAreRefusedAndAudited(t *testing.T) {
	app := newTestApp(t)
	browser, owner, org := app.owner()
	token, row := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	c.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusOK)
	var lastUsed *time.Time
	if err := app.platformQueryRow(`SELECT last_used_at FROM api_tokens WHERE id = $1`, []any{row.ID}, &lastUsed); err != nil || lastUsed == nil {
		t.Fatalf("last_used_at not recorded: %v %v", lastUsed, err)
	}

	// Revoked on the account page.
	browser.PostForm("/account/tokens/"+row.ID.String()+"/revoke", nil).AssertStatus(http.StatusSeeOther)
	if n := app.apiAuditCount(&org, audit.APITokenRevoked); n != 1 {
		t.Fatalf("api.token_revoked events: %d", n)
	}
	r := c.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusUnauthorized)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(r.Env.Message, "revoked") {
		t.Fatalf("revoked: %v %s", r.Header, r.Body)
	}
	c.get("/api/v1/me").expect(http.StatusUnauthorized)
	// One audit event a minute, however often the script retries.
	if n := app.apiAuditCount(&org, audit.APITokenRevokedUsed); n != 1 {
		t.Fatalf("api.token_revoked_used events: %d", n)
	}

	// Expired.
	soon := time.Now().Add(time.Hour)
	expToken, expRow := app.pat(owner, org, tenant.RoleAdmin, &soon)
	ec := app.api(expToken)
	ec.get("/api/v1/me").expect(http.StatusOK)
	expire(t, app, org, expRow.ID)
	r = ec.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusUnauthorized)
	if !strings.Contains(r.Env.Message, "expired") {
		t.Fatalf("expired: %s", r.Body)
	}
	if n := app.apiAuditCount(&org, audit.APITokenExpiredUsed); n != 1 {
		t.Fatalf("api.token_expired_used events: %d", n)
	}

	// Tokens that never existed, or are not tokens at all.
	fake, _, _ := auth.NewPAT(org.ID)
	for _, bad := range []string{fake, "acc_pat_short", "garbage", "a.b.c"} {
		r := app.api(bad).get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusUnauthorized)
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s: no challenge", bad)
		}
	}
	r = app.api("").get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusUnauthorized)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="accute"` {
		t.Fatalf("challenge without a token: %q", got)
	}
}

// expire moves a token's expiry into the past.
func expire(t *testing.T, app *testApp, org db.Organization, id uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	tx, err := app.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('app.organization_id', $1, true)`, org.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE organization_id = $1 AND id = $2`, org.ID, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// signIn gets a token pair through the API.
func signIn(t *testing.T, app *testApp, email string) api.TokenResponse {
	t.Helper()
	var pair api.TokenResponse
	app.api("").do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": email, "password": testutil.Password}).expect(http.StatusOK).into(&pair)
	return pair
}

func TestAPIJWTTokenRefreshRotationAndReuse(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	pair := signIn(t, app, owner.Email)
	if pair.TokenType != "Bearer" || pair.ExpiresIn != 900 || !strings.HasPrefix(pair.RefreshToken, auth.RefreshPrefix) {
		t.Fatalf("pair %+v", pair)
	}
	// The access token is a JWT with the contract's claims.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(pair.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "accute-platform" || claims["sub"] != owner.ID.String() {
		t.Fatalf("claims %v", claims)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != "accute-users" {
		t.Fatalf("aud %v", aud)
	}
	c := app.api(pair.AccessToken)
	var me api.Me
	c.get("/api/v1/me").expect(http.StatusOK).into(&me)
	if me.User.ID != owner.ID || me.Token.Type != api.KindJWT {
		t.Fatalf("me %+v", me)
	}
	c.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusOK)

	// Rotation: each refresh token works once.
	anon := app.api("")
	var second api.TokenResponse
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": pair.RefreshToken}).expect(http.StatusOK).into(&second)
	if second.RefreshToken == pair.RefreshToken || second.AccessToken == "" {
		t.Fatalf("not rotated: %+v", second)
	}
	app.api(second.AccessToken).get("/api/v1/me").expect(http.StatusOK)

	// Reuse of the first (already rotated) refresh token revokes the whole
	// family, including the second one, and is audited.
	r := anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": pair.RefreshToken}).expect(http.StatusUnauthorized)
	if !strings.Contains(r.Env.Message, "already used") {
		t.Fatalf("reuse: %s", r.Body)
	}
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": second.RefreshToken}).expect(http.StatusUnauthorized)
	if n := auditCount(t, app, audit.APIRefreshReused, owner.ID); n != 1 {
		t.Fatalf("api.refresh_token_reused events: %d", n)
	}
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": "acc_rt_nope"}).expect(http.StatusUnauthorized)
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{}).expect(http.StatusBadRequest)

	// Sign-out revokes the family.
	third := signIn(t, app, owner.Email)
	anon.do(http.MethodPost, "/api/v1/auth/revoke", map[string]any{"refresh_token": third.RefreshToken}).expect(http.StatusOK)
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": third.RefreshToken}).expect(http.StatusUnauthorized)

	// A password reset (session version bump) ends access and refresh tokens.
	fourth := signIn(t, app, owner.Email)
	if _, err := app.Store.Q().SetUserPassword(context.Background(), db.SetUserPasswordParams{ID: owner.ID, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	app.api(fourth.AccessToken).get("/api/v1/me").expect(http.StatusUnauthorized)
	anon.do(http.MethodPost, "/api/v1/auth/refresh", map[string]any{"refresh_token": fourth.RefreshToken}).expect(http.StatusUnauthorized)
}

func TestAPIRefusesBadJWTs(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	app.F.Org(owner, "")
	secret := []byte(app.Config.JWTSecret)
	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "accute-platform", "aud": "accute-users", "sub": owner.ID.String(), "ver": owner.SessionVersion,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	}
	sign := func(m jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
		cl := valid()
		if mutate != nil {
			mutate(cl)
		}
		s, err := jwt.NewWithClaims(m, cl).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The baseline is accepted, so the refusals below are about one change each.
	app.api(sign(jwt.SigningMethodHS256, secret, nil)).get("/api/v1/me").expect(http.StatusOK)
	cases := map[string]string{
		"expired":        sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }),
		"no expiry":      sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "exp") }),
		"not yet valid":  sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }),
		"no nbf":         sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { delete(c, "nbf") }),
		"wrong audience": sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"wrong issuer":   sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"forged":         sign(jwt.SigningMethodHS256, []byte("not-the-secret-0123456789abcdef0123"), nil),
		"HS512":          sign(jwt.SigningMethodHS512, secret, nil),
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
		"old version":    sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["ver"] = owner.SessionVersion - 1 }),
		"unknown user":   sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }),
		"bad subject":    sign(jwt.SigningMethodHS256, secret, func(c jwt.MapClaims) { c["sub"] = "root" }),
	}
	for name, token := range cases {
		r := app.api(token).get("/api/v1/me")
		if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}

func TestAPITokenEndpointThrottlingAndMFA(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	app.F.Org(u, "")
	anon := app.api("")
	anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": u.Email}).expect(http.StatusBadRequest)
	if r := anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": u.Email, "password": "x", "remember": true}).expect(http.StatusBadRequest); r.Env.Details["remember"] == "" {
		t.Fatalf("unknown field: %s", r.Body)
	}
	for range auth.DefaultAccountLimit {
		anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": u.Email, "password": "wrong password!"}).expect(http.StatusUnauthorized)
	}
	// Throttled like the web login: even the right password.
	r := anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": u.Email, "password": testutil.Password}).expect(http.StatusTooManyRequests)
	if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// And the web login shares the counters.
	loginPassword(app.client(), u.Email).AssertStatus(http.StatusTooManyRequests)

	// Two-factor authentication.
	clock := newTestClock(app)
	v := app.F.User("")
	app.F.Org(v, "")
	browser := app.client()
	app.login(browser, v.Email)
	secret, backup := enrolMFA(t, app, browser, clock)
	r = anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": v.Email, "password": testutil.Password}).expect(http.StatusUnauthorized)
	if r.Env.Details["otp"] == "" {
		t.Fatalf("otp not asked for: %s", r.Body)
	}
	if r := anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": v.Email, "password": testutil.Password, "otp": "000000"}).expect(http.StatusUnauthorized); r.Env.Details["otp"] == "" {
		t.Fatalf("wrong otp: %s", r.Body)
	}
	var pair api.TokenResponse
	anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": v.Email, "password": testutil.Password, "otp": totpCode(t, secret, clock.Now())}).expect(http.StatusOK).into(&pair)
	var me api.Me
	app.api(pair.AccessToken).get("/api/v1/me").expect(http.StatusOK).into(&me)
	if !me.User.MFAEnabled {
		t.Fatalf("me %+v", me)
	}
	anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": v.Email, "password": testutil.Password, "otp": backup[0]}).expect(http.StatusOK)
}

func TestAPIRateLimit(t *testing.T) {
	app := newTestAppWith(t, map[string]string{"API_RATE_LIMIT": "3"})
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	path := "/api/v1/orgs/" + org.Slug + "/clients"
	for i := range 3 {
		r := c.get(path).expect(http.StatusOK)
		if r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %v", i, r.Header)
		}
		if s, err := strconv.Atoi(r.Header.Get("RateLimit-Reset")); err != nil || s < 1 || s > 60 {
			t.Fatalf("RateLimit-Reset %q", r.Header.Get("RateLimit-Reset"))
		}
	}
	r := c.get(path).expect(http.StatusTooManyRequests)
	if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || r.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers: %v", r.Header)
	}
	// Another token has its own budget; errors carry the headers too.
	other, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	if r := app.api(other).get(path + "/" + uuid.NewString()).expect(http.StatusNotFound); r.Header.Get("RateLimit-Remaining") != "2" {
		t.Fatalf("404 headers: %v", r.Header)
	}
	// The counts reach PostgreSQL (shared by every instance).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		err := app.platformQueryRow(`SELECT coalesce(sum(count), 0)::int FROM rate_limits WHERE key LIKE 'api:pat:%'`, nil, &n)
		if err == nil && n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shared count %d (err %v), want 4", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Unauthenticated endpoints are limited per address.
	anon := app.api("")
	for range 3 {
		anon.get("/api/v1/openapi.json")
	}
	anon.get("/api/v1/me").expect(http.StatusTooManyRequests)
}

func TestAPIMembersInvitationsAndAuditEvents(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	staff := app.F.User("")
	app.F.Member(org, staff, tenant.RoleStaff)
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug

	var org1 api.Organization
	c.get(base).expect(http.StatusOK).into(&org1)
	// An owner's admin-role token acts as an admin.
	if org1.Slug != org.Slug || org1.Role != tenant.RoleAdmin || len(org1.Permissions) != len(tenant.PermissionsFor(tenant.RoleAdmin, nil)) {
		t.Fatalf("org %+v", org1)
	}
	var members struct{ Items []api.Member }
	c.get(base + "/members").expect(http.StatusOK).into(&members)
	if len(members.Items) != 2 {
		t.Fatalf("members %+v", members)
	}

	var inv api.Invitation
	c.do(http.MethodPost, base+"/invitations", map[string]any{"email": "New.Person@Example.test", "role": "manager"}).expect(http.StatusCreated).into(&inv)
	if inv.Email != "new.person@example.test" || inv.Role != "manager" || inv.Status != "pending" {
		t.Fatalf("invitation %+v", inv)
	}
	app.lastEmail("new.person@example.test")
	if r := c.do(http.MethodPost, base+"/invitations", map[string]any{"email": "new.person@example.test", "role": "manager"}).expect(http.StatusBadRequest); r.Env.Details["email"] == "" {
		t.Fatalf("duplicate: %s", r.Body)
	}
	if r := c.do(http.MethodPost, base+"/invitations", map[string]any{"email": "x@example.test", "role": "emperor"}).expect(http.StatusBadRequest); r.Env.Details["role"] == "" {
		t.Fatalf("bad role: %s", r.Body)
	}
	var list struct{ Items []api.Invitation }
	c.get(base + "/invitations").expect(http.StatusOK).into(&list)
	if len(list.Items) != 1 || list.Items[0].ID != inv.ID {
		t.Fatalf("invitations %+v", list)
	}
	c.do(http.MethodDelete, base+"/invitations/"+inv.ID.String(), nil).expect(http.StatusOK).into(&inv)
	if inv.Status != "revoked" {
		t.Fatalf("revoked %+v", inv)
	}
	c.do(http.MethodDelete, base+"/invitations/"+inv.ID.String(), nil).expect(http.StatusConflict)
	c.do(http.MethodDelete, base+"/invitations/"+uuid.NewString(), nil).expect(http.StatusNotFound)

	// The audit trail, filtered and paged.
	for i := range 3 {
		app.api(token).do(http.MethodPost, base+"/clients", map[string]any{"name": "Audit " + strconv.Itoa(i)}).expect(http.StatusCreated)
	}
	type events struct {
		Items      []api.AuditEvent
		NextCursor *string `json:"next_cursor"`
	}
	var page events
	c.get(base + "/audit-events?action=client.created&limit=2").expect(http.StatusOK).into(&page)
	if len(page.Items) != 2 || page.NextCursor == nil || page.Items[0].Summary != "Audit 2" {
		t.Fatalf("page 1 %+v", page)
	}
	var page2 events
	c.get(base + "/audit-events?action=client.created&limit=2&cursor=" + url.QueryEscape(*page.NextCursor)).expect(http.StatusOK).into(&page2)
	if len(page2.Items) != 1 || page2.Items[0].Summary != "Audit 0" || page2.NextCursor != nil {
		t.Fatalf("page 2 %+v", page2)
	}
	c.get(base + "/audit-events?since=2999-01-01").expect(http.StatusOK).into(&page)
	if len(page.Items) != 0 {
		t.Fatalf("since: %+v", page)
	}
	c.get(base + "/audit-events?actor=" + url.QueryEscape(owner.Email)).expect(http.StatusOK).into(&page)
	if len(page.Items) == 0 {
		t.Fatal("actor filter found nothing")
	}
	for _, bad := range []string{"since=yesterday", "cursor=zzz", "limit=1000"} {
		c.get(base + "/audit-events?" + bad).expect(http.StatusBadRequest)
	}
	c.get(base + "/audit-events").expect(http.StatusOK).into(&page)
	for _, e := range page.Items {
		if e.Action == audit.APITokenCreated {
			return
		}
	}
	t.Fatalf("token creation is not in the trail: %+v", page.Items)
}

func TestAPIEnvelopeForUnknownRoutesAndDocument(t *testing.T) {
	app := newTestApp(t)
	anon := app.api("")
	anon.get("/api/v1/nothing-here").expect(http.StatusNotFound)
	var doc map[string]any
	r := anon.raw(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("document: %d %.200s", r.Status, r.Body)
	}
	if r.Header.Get("RateLimit-Limit") == "" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", r.Header)
	}
}

// TestAPIDocumentListsEveryRoute keeps the OpenAPI document and the router
// in step: every /api/v1 route is documented, and every documented
// operation is routed.
func TestAPIDocumentListsEveryRoute(t *testing.T) {
	app := newTestApp(t)
	b, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	for _, r := range app.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1") || strings.HasSuffix(r.Path, "*") || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		key := r.Method + " " + strings.Join(parts, "/")
		routed[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
	for key := range documented {
		if !routed[key] {
			t.Errorf("documented operation %s has no route", key)
		}
	}
}

func TestAPITokensPage(t *testing.T) {
	app := newTestApp(t)
	browser, owner, org := app.owner()
	page := browser.Get("/account/tokens").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=empty-state]") != 1 || page.Count("[data-testid=token-form]") != 1 {
		t.Fatalf("empty page: %s", page.Body)
	}
	res := browser.PostForm("/account/tokens", url.Values{"name": {"Nightly export"}, "organization": {org.Slug}, "role": {"manager"}, "expires": {"30"}}).AssertStatus(http.StatusCreated)
	token := strings.TrimSpace(res.Text("[data-testid=new-token]"))
	if !strings.HasPrefix(token, auth.PATPrefix) || res.Count("[data-testid=token-row]") != 1 {
		t.Fatalf("created page: %s", res.Body)
	}
	// Stored hashed: the token text is nowhere in the table.
	var found int
	if err := app.platformQueryRow(`SELECT count(*) FROM api_tokens WHERE token_hash = $1 AND position($2::bytea IN token_hash) = 0`, []any{crypto.HashToken(token), []byte(token)}, &found); err != nil || found != 1 {
		t.Fatalf("stored token: %d %v", found, err)
	}
	var me api.Me
	app.api(token).get("/api/v1/me").expect(http.StatusOK).into(&me)
	if me.Token.Type != api.KindPAT || me.Token.Name != "Nightly export" || me.Token.Role != "manager" || me.Token.Organization != org.Slug || me.Token.ExpiresAt == nil {
		t.Fatalf("me %+v", me)
	}
	// Shown once: the list shows only its last characters.
	list := browser.Get("/account/tokens").AssertStatus(http.StatusOK)
	if strings.Contains(list.Body, token) || !strings.Contains(list.Body, token[len(token)-4:]) {
		t.Fatal("the list shows the token, or not its hint")
	}

	// Invalid input answers 422 with the errors.
	bad := browser.PostForm("/account/tokens", url.Values{"name": {""}, "organization": {"someone-elses"}, "role": {"owner"}, "expires": {"9999"}}).AssertStatus(http.StatusUnprocessableEntity)
	for _, f := range []string{"name", "organization", "expires"} {
		if bad.Count("[data-testid=error-"+f+"]") != 1 {
			t.Fatalf("no error for %s: %s", f, bad.Body)
		}
	}
	staffBrowser, _ := app.member(org, tenant.RoleStaff)
	if r := staffBrowser.PostForm("/account/tokens", url.Values{"name": {"x"}, "organization": {org.Slug}, "role": {"admin"}, "expires": {"30"}}).AssertStatus(http.StatusUnprocessableEntity); r.Count("[data-testid=error-role]") != 1 {
		t.Fatalf("staff minted an admin token: %s", r.Body)
	}

	// Another user cannot revoke it; its owner can.
	var id uuid.UUID
	if err := app.platformQueryRow(`SELECT id FROM api_tokens WHERE user_id = $1`, []any{owner.ID}, &id); err != nil {
		t.Fatal(err)
	}
	staffBrowser.PostForm("/account/tokens/"+id.String()+"/revoke", nil).AssertStatus(http.StatusNotFound)
	staffBrowser.PostForm("/account/tokens/nope/revoke", nil).AssertStatus(http.StatusNotFound)
	app.api(token).get("/api/v1/me").expect(http.StatusOK)
	browser.PostForm("/account/tokens/"+id.String()+"/revoke", nil).AssertStatus(http.StatusSeeOther)
	after := browser.Get("/account/tokens").AssertStatus(http.StatusOK)
	if after.Text("[data-testid=token-status]") != "Revoked" || after.Count("[data-testid=revoke-token]") != 0 {
		t.Fatalf("after revoke: %s", after.Body)
	}
	app.api(token).get("/api/v1/me").expect(http.StatusUnauthorized)
	if n := app.apiAuditCount(&org, audit.APITokenCreated); n != 1 {
		t.Fatalf("api.token_created events: %d", n)
	}
}

// TestAPIOpenAPIValidationIsNotVacuous shows that the check every API test
// runs at its end does refuse answers the document does not allow.
func TestAPIOpenAPIValidationIsNotVacuous(t *testing.T) {
	v, err := openapiValidator()
	if err != nil {
		t.Fatal(err)
	}
	check := func(status int, header http.Header, body string) bool {
		req, _ := http.NewRequest(http.MethodGet, "http://example.test/api/v1/me", nil)
		res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), Request: req}
		ok, _ := v.ValidateHttpResponse(req, res)
		return ok
	}
	h := http.Header{"Content-Type": {"application/json"}, "Ratelimit-Limit": {"600"}, "Ratelimit-Remaining": {"599"}, "Ratelimit-Reset": {"60"}}
	good := `{"success":true,"data":{"user":{"id":"7790e205-7949-4bed-8f57-c58c0973048b","email":"a@b.test","name":"A","email_verified":true,"mfa_enabled":false},"token":{"type":"access_token","expires_at":null}},"timestamp":"2026-11-28T22:04:24Z"}`
	if !check(http.StatusOK, h, good) {
		t.Fatal("a valid answer is refused")
	}
	for name, body := range map[string]string{
		"extra field":       strings.Replace(good, `"name":"A"`, `"name":"A","password":"x"`, 1),
		"no timestamp":      strings.Replace(good, `,"timestamp":"2026-11-28T22:04:24Z"`, ``, 1),
		"success false":     strings.Replace(good, `"success":true`, `"success":false`, 1),
		"wrong token type":  strings.Replace(good, `"access_token"`, `"cookie"`, 1),
		"error, no message": `{"success":false,"error":"Unauthorized","timestamp":"2026-11-28T22:04:24Z"}`,
	} {
		status := http.StatusOK
		if strings.HasPrefix(name, "error") {
			status = http.StatusUnauthorized
		}
		if check(status, h, body) {
			t.Errorf("%s: accepted", name)
		}
	}
	if check(http.StatusTeapot, h, good) {
		t.Error("an undocumented status is accepted")
	}
	noHeaders := http.Header{"Content-Type": {"application/json"}}
	if check(http.StatusOK, noHeaders, good) {
		t.Error("an answer without the RateLimit headers is accepted")
	}
}

// An address whose organization requires single sign-on gets no token with
// a password, as on the web login.
func TestAPITokenEndpointRefusesSSORequiredDomains(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	colleague := f.app.F.User("ivy@" + f.domain)
	f.acceptedLogin(t, f.crafted(colleague.Email).Build(t), colleague.Email)
	f.owner.PostForm(f.settingsURL("/required"), url.Values{"required": {"on"}}).AssertStatus(http.StatusSeeOther)
	anon := f.app.api("")
	r := anon.do(http.MethodPost, "/api/v1/auth/token", map[string]any{"email": colleague.Email, "password": testutil.Password}).expect(http.StatusForbidden)
	if !strings.Contains(r.Env.Message, "requires you to sign in with your company account") {
		t.Fatalf("message: %s", r.Body)
	}
	outsider := f.app.F.User("")
	signIn(t, f.app, outsider.Email)
}

// An organization that requires two-factor authentication refuses API
// calls of members without it, as its pages send them to set it up.
func TestAPIOrganizationMFAPolicyApplies(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	c.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusOK)
	if _, err := app.Store.Pool.Exec(context.Background(), `UPDATE organizations SET require_mfa = true WHERE id = $1`, org.ID); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/api/v1/orgs/" + org.Slug + "/clients").expect(http.StatusForbidden); !strings.Contains(r.Env.Message, "two-factor") {
		t.Fatalf("403 message: %s", r.Body)
	}
	c.get("/api/v1/me").expect(http.StatusOK) // the account itself stays reachable
}
