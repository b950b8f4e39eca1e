package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// teamMembership reads user's membership in org; ok is false when there is
// none.
func teamMembership(t *testing.T, app *testApp, org db.Organization, userID uuid.UUID) (db.Membership, bool) {
	t.Helper()
	ctx := context.Background()
	var m db.Membership
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		m, err = q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: org.ID, UserID: userID})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return db.Membership{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, true
}

// teamSvc is the tenant service on the test database.
func teamSvc(app *testApp) *tenant.Service {
	return &tenant.Service{Store: app.Store, BaseURL: app.Config.BaseURL}
}

// teamRole returns user's role in org ("" when not a member).
func teamRole(t *testing.T, app *testApp, org db.Organization, userID uuid.UUID) string {
	t.Helper()
	m, ok := teamMembership(t, app, org, userID)
	if !ok {
		return ""
	}
	return tenant.RoleValue(m.Role, m.CustomRoleID)
}

// teamAudit lists org's audit events with action, newest first.
func teamAudit(t *testing.T, app *testApp, org db.Organization, action string) []db.AuditEvent {
	t.Helper()
	ctx := context.Background()
	var rows []db.AuditEvent
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		rows, err = q.ListAuditEvents(ctx, db.ListAuditEventsParams{OrganizationID: &org.ID, Action: action, MaxRows: 1000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// teamMemberURL is the path of a member action.
func teamMemberURL(org db.Organization, m db.Membership, action string) string {
	return "/o/" + org.Slug + "/members/" + m.ID.String() + "/" + action
}

func TestMembersPageShowsTeamAndControlsByPermission(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	managerC, _ := app.member(org, tenant.RoleManager)
	staffC, staff := app.member(org, tenant.RoleStaff)
	custom := app.F.CustomRole(org, "Bookkeeper", "clients.read")

	res := ownerC.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=member-row]"); n != 3 {
		t.Fatalf("member rows = %d, want 3", n)
	}
	staffRow := res.Find(`[data-testid=member-row][data-email="` + staff.Email + `"]`)
	if staffRow.Find("[data-testid=role-form] select[name=role]").Length() != 1 || staffRow.Find("[data-testid=remove-member][data-confirm]").Length() != 1 {
		t.Fatal("owner should see a role select and a confirmed Remove button for staff")
	}
	// The select offers built-in and custom roles, with the current one selected.
	if v, _ := staffRow.Find("option[selected]").Attr("value"); v != "staff" {
		t.Fatalf("selected role = %q", v)
	}
	if staffRow.Find(`option[value="custom:`+custom.ID.String()+`"]`).Length() != 1 {
		t.Fatal("custom role missing from the role select")
	}
	if res.Count("[data-testid=invite-form] select[name=role] option") < 6 {
		t.Fatal("invite form should offer every role")
	}
	// The owner sees no Remove button on their own row.
	ownRow := res.Find(`[data-testid=member-row][data-email="` + owner.Email + `"]`)
	if ownRow.Find("[data-testid=remove-member]").Length() != 0 {
		t.Fatal("remove button on own row")
	}
	if res.Count("[data-testid=no-invitations]") != 1 || res.Count("[data-testid=leave]") != 1 {
		t.Fatal("empty invitations state or leave panel missing")
	}

	// A manager reads the team but gets no management controls.
	res = managerC.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusOK)
	if res.Count("[data-testid=member-row]") != 3 {
		t.Fatal("manager should see the members")
	}
	if res.Count("[data-testid=invite-form]")+res.Count("[data-testid=role-form]")+res.Count("[data-testid=remove-member]") != 0 {
		t.Fatal("manager sees management controls")
	}
	// Staff may not even read it.
	staffC.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusForbidden)
}

func TestMemberRoleChangeAndRemovalEnforcePermissions(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	managerC, _ := app.member(org, tenant.RoleManager)
	staffC, staff := app.member(org, tenant.RoleStaff)
	target := app.F.User("")
	tm := app.F.Member(org, target, tenant.RoleStaff)

	role := url.Values{"role": {"manager"}}
	staffC.PostForm(teamMemberURL(org, tm, "role"), role).AssertStatus(http.StatusForbidden)
	managerC.PostForm(teamMemberURL(org, tm, "role"), role).AssertStatus(http.StatusForbidden)
	managerC.PostForm(teamMemberURL(org, tm, "remove"), nil).AssertStatus(http.StatusForbidden)
	if got := teamRole(t, app, org, target.ID); got != "staff" {
		t.Fatalf("role changed by unauthorised members: %q", got)
	}

	// The owner changes the role, through HTMX.
	res := ownerC.HTMX(http.MethodPost, teamMemberURL(org, tm, "role"), role).AssertStatus(http.StatusOK)
	if res.Header.Get("HX-Redirect") != "/o/"+org.Slug+"/members" {
		t.Fatalf("HX-Redirect = %q", res.Header.Get("HX-Redirect"))
	}
	if got := teamRole(t, app, org, target.ID); got != "manager" {
		t.Fatalf("role = %q, want manager", got)
	}
	ev := teamAudit(t, app, org, "member.role_changed")
	if len(ev) != 1 || !strings.Contains(ev[0].Summary, "Staff → Manager") || ev[0].TargetID != target.ID.String() {
		t.Fatalf("audit: %+v", ev)
	}
	// An unknown role value is refused and changes nothing.
	ownerC.PostForm(teamMemberURL(org, tm, "role"), url.Values{"role": {"emperor"}}).AssertStatus(http.StatusBadRequest)
	ownerC.PostForm(teamMemberURL(org, tm, "role"), url.Values{"role": {"custom:" + uuid.NewString()}}).AssertStatus(http.StatusBadRequest)
	if got := teamRole(t, app, org, target.ID); got != "manager" {
		t.Fatalf("role = %q after invalid change", got)
	}
	// A bad id is 404, not 500.
	ownerC.PostForm("/o/"+org.Slug+"/members/not-a-uuid/role", role).AssertStatus(http.StatusNotFound)
	ownerC.PostForm("/o/"+org.Slug+"/members/"+uuid.NewString()+"/remove", nil).AssertStatus(http.StatusNotFound)

	// Removal: the member loses access at once.
	targetC := app.client()
	app.login(targetC, target.Email)
	targetC.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)
	res = ownerC.PostForm(teamMemberURL(org, tm, "remove"), nil).AssertStatus(http.StatusSeeOther)
	if !strings.Contains(ownerC.Follow(res).Text("[data-testid=flash]"), "was removed") {
		t.Fatal("no flash after removal")
	}
	if _, ok := teamMembership(t, app, org, target.ID); ok {
		t.Fatal("membership still exists")
	}
	targetC.Get("/o/" + org.Slug).AssertStatus(http.StatusNotFound)
	if ev := teamAudit(t, app, org, "member.removed"); len(ev) != 1 || ev[0].TargetID != target.ID.String() {
		t.Fatalf("audit: %+v", ev)
	}
	_ = staff
}

func TestAdminLimits(t *testing.T) {
	app := newTestApp(t)
	_, owner, org := app.owner()
	adminC, admin := app.member(org, tenant.RoleAdmin)
	staff := app.F.User("")
	sm := app.F.Member(org, staff, tenant.RoleStaff)
	ownerM, _ := teamMembership(t, app, org, owner.ID)
	adminM, _ := teamMembership(t, app, org, admin.ID)

	// Only owners grant the owner role, change an owner or remove one.
	adminC.PostForm(teamMemberURL(org, sm, "role"), url.Values{"role": {"owner"}}).AssertStatus(http.StatusForbidden)
	adminC.PostForm(teamMemberURL(org, ownerM, "role"), url.Values{"role": {"staff"}}).AssertStatus(http.StatusForbidden)
	res := adminC.PostForm(teamMemberURL(org, ownerM, "remove"), nil).AssertStatus(http.StatusForbidden)
	if !strings.Contains(res.Text("[data-testid=refused]"), "Only owners") {
		t.Fatalf("refusal not explained: %q", res.Text("[data-testid=refused]"))
	}
	// An admin cannot change their own role.
	res = adminC.HTMX(http.MethodPost, teamMemberURL(org, adminM, "role"), url.Values{"role": {"manager"}}).AssertStatus(http.StatusForbidden)
	if !strings.Contains(res.Text("[data-testid=toast]"), "your own role") {
		t.Fatalf("toast = %q", res.Text("[data-testid=toast]"))
	}
	// Nobody removes themself; they leave.
	adminC.PostForm(teamMemberURL(org, adminM, "remove"), nil).AssertStatus(http.StatusConflict)
	if teamRole(t, app, org, owner.ID) != "owner" || teamRole(t, app, org, admin.ID) != "admin" || teamRole(t, app, org, staff.ID) != "staff" {
		t.Fatal("a refused change was saved")
	}
	// The admin sees no controls on the owner's row, and no owner option.
	page := adminC.Get("/o/" + org.Slug + "/members").AssertStatus(http.StatusOK)
	ownerRow := page.Find(`[data-testid=member-row][data-email="` + owner.Email + `"]`)
	if ownerRow.Find("[data-testid=role-form]").Length()+ownerRow.Find("[data-testid=remove-member]").Length() != 0 {
		t.Fatal("admin sees controls on the owner")
	}
	if page.Count(`[data-testid=invite-form] option[value=owner]`) != 0 {
		t.Fatal("admin is offered the owner role")
	}
	// A custom role with members.manage cannot hand out more than it has.
	hr := app.F.CustomRole(org, "HR", "members.read", "members.manage")
	hrUser := app.F.User("")
	hrM := app.F.Member(org, hrUser, tenant.RoleStaff)
	hrClient := app.client()
	app.login(hrClient, hrUser.Email)
	if err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		_, err := q.UpdateMemberRole(context.Background(), db.UpdateMemberRoleParams{OrganizationID: org.ID, ID: hrM.ID, Role: tenant.RoleCustom, CustomRoleID: &hr.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hrClient.PostForm(teamMemberURL(org, sm, "role"), url.Values{"role": {"admin"}}).AssertStatus(http.StatusForbidden)
	if teamRole(t, app, org, staff.ID) != "staff" {
		t.Fatal("custom role escalated someone to admin")
	}
}

func TestLastOwnerCannotLeaveBeDemotedOrRemoved(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	ownerM, _ := teamMembership(t, app, org, owner.ID)

	// Leave.
	res := ownerC.PostForm("/o/"+org.Slug+"/leave", nil).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=refused]"), "last owner") {
		t.Fatalf("refusal: %q", res.Text("[data-testid=refused]"))
	}
	// Demote.
	res = ownerC.HTMX(http.MethodPost, teamMemberURL(org, ownerM, "role"), url.Values{"role": {"admin"}}).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=toast]"), "at least one owner") {
		t.Fatalf("toast: %q", res.Text("[data-testid=toast]"))
	}
	ownerC.PostForm(teamMemberURL(org, ownerM, "role"), url.Values{"role": {"staff"}}).AssertStatus(http.StatusConflict)
	// Remove (themself, the only way to reach the last owner).
	ownerC.PostForm(teamMemberURL(org, ownerM, "remove"), nil).AssertStatus(http.StatusConflict)
	if teamRole(t, app, org, owner.ID) != "owner" {
		t.Fatal("the last owner changed")
	}
	for _, a := range []string{"member.left", "member.role_changed", "member.removed"} {
		if n := len(teamAudit(t, app, org, a)); n != 0 {
			t.Fatalf("%d %s events for refused changes", n, a)
		}
	}
	// The Leave button says why it is disabled.
	page := ownerC.Get("/o/" + org.Slug + "/members")
	if _, disabled := page.Find("[data-testid=leave-button]").Attr("disabled"); !disabled {
		t.Fatal("leave button enabled for the last owner")
	}

	// With a second owner, the first may step down and then leave.
	second := app.F.User("")
	app.F.Member(org, second, tenant.RoleOwner)
	ownerC.PostForm(teamMemberURL(org, ownerM, "role"), url.Values{"role": {"admin"}}).AssertStatus(http.StatusSeeOther)
	if teamRole(t, app, org, owner.ID) != "admin" {
		t.Fatal("owner could not step down with another owner present")
	}
	// Now the second owner is the last one: the former owner, an admin,
	// cannot remove them.
	secondM, _ := teamMembership(t, app, org, second.ID)
	ownerC.PostForm(teamMemberURL(org, secondM, "remove"), nil).AssertStatus(http.StatusForbidden)
	ownerC.PostForm("/o/"+org.Slug+"/leave", nil).AssertStatus(http.StatusSeeOther)
	if _, ok := teamMembership(t, app, org, owner.ID); ok {
		t.Fatal("still a member after leaving")
	}
	if ev := teamAudit(t, app, org, "member.left"); len(ev) != 1 || ev[0].ActorEmail != owner.Email {
		t.Fatalf("audit: %+v", ev)
	}
	ownerC.Get("/o/" + org.Slug).AssertStatus(http.StatusNotFound)
}

func TestAnyMemberCanLeave(t *testing.T) {
	app := newTestApp(t)
	_, _, org := app.owner()
	clientC, client := app.member(org, tenant.RoleClient)
	res := clientC.HTMX(http.MethodPost, "/o/"+org.Slug+"/leave", nil).AssertStatus(http.StatusOK)
	if res.Header.Get("HX-Redirect") == "" {
		t.Fatal("no HX-Redirect after leaving")
	}
	if _, ok := teamMembership(t, app, org, client.ID); ok {
		t.Fatal("client still a member")
	}
}

func TestCustomRoleGrantsExactlyItsPermissions(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	base := "/o/" + org.Slug

	ownerC.Get(base + "/roles/new").AssertStatus(http.StatusOK)
	res := ownerC.PostForm(base+"/roles", url.Values{"name": {"Reviewer"}, "description": {"Reads client files"}, "permissions": {"clients.read"}}).AssertStatus(http.StatusSeeOther)
	if res.Location() != base+"/settings" {
		t.Fatalf("location %q", res.Location())
	}
	settings := ownerC.Follow(res).AssertStatus(http.StatusOK)
	if !strings.Contains(settings.Text("[data-testid=custom-role-row]"), "Reviewer") {
		t.Fatal("new role not listed in settings")
	}
	roles, err := teamSvc(app).ListRoles(context.Background(), org.ID)
	if err != nil || len(roles) != 1 {
		t.Fatalf("roles %v %v", roles, err)
	}
	role := roles[0]
	if strings.Join(role.Permissions, ",") != "clients.read" {
		t.Fatalf("permissions %v", role.Permissions)
	}
	if ev := teamAudit(t, app, org, "role.created"); len(ev) != 1 {
		t.Fatalf("audit %+v", ev)
	}

	// Assign it through the role select.
	memberC, member := app.member(org, tenant.RoleStaff)
	mm, _ := teamMembership(t, app, org, member.ID)
	value := "custom:" + role.ID.String()
	ownerC.PostForm(teamMemberURL(org, mm, "role"), url.Values{"role": {value}}).AssertStatus(http.StatusSeeOther)
	if teamRole(t, app, org, member.ID) != value {
		t.Fatal("custom role not assigned")
	}
	// Exactly those permissions, from the next request on.
	memberC.Get(base + "/clients").AssertStatus(http.StatusOK)
	memberC.Get(base + "/clients/new").AssertStatus(http.StatusForbidden)
	memberC.Get(base + "/members").AssertStatus(http.StatusForbidden)
	memberC.Get(base + "/settings").AssertStatus(http.StatusForbidden)
	memberC.Get(base + "/audit").AssertStatus(http.StatusForbidden)
	page := ownerC.Get(base + "/members")
	if got := page.Find(`[data-testid=member-row][data-email="` + member.Email + `"] option[selected]`).Text(); !strings.Contains(got, "Reviewer") {
		t.Fatalf("member row shows role %q", got)
	}

	// Editing the role changes the member's permissions too.
	edit := ownerC.Get(base + "/roles/" + role.ID.String() + "/edit").AssertStatus(http.StatusOK)
	if _, ok := edit.Find("[data-testid=perm-clients\\.read]").Attr("checked"); !ok {
		t.Fatal("edit form does not show the role's permissions")
	}
	ownerC.PostForm(base+"/roles/"+role.ID.String(), url.Values{"name": {"Reviewer"}, "permissions": {"clients.read", "members.read"}}).AssertStatus(http.StatusSeeOther)
	memberC.Get(base + "/members").AssertStatus(http.StatusOK)
	if ev := teamAudit(t, app, org, "role.updated"); len(ev) != 1 {
		t.Fatalf("audit %+v", ev)
	}

	// Deleting a role in use is refused and changes nothing.
	res = ownerC.PostForm(base+"/roles/"+role.ID.String()+"/delete", nil).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=refused]"), "Reviewer") {
		t.Fatalf("refusal %q", res.Text("[data-testid=refused]"))
	}
	ownerC.HTMX(http.MethodPost, base+"/roles/"+role.ID.String()+"/delete", nil).AssertStatus(http.StatusConflict)
	if _, _, err := teamSvc(app).RoleDetails(context.Background(), org.ID, role.ID); err != nil {
		t.Fatal("role deleted while in use")
	}
	// Once nobody holds it (and after an invitation with it was settled), it goes.
	ownerC.PostForm(base+"/invitations", url.Values{"email": {"someone@example.test"}, "role": {value}}).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm(teamMemberURL(org, mm, "role"), url.Values{"role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	res = ownerC.PostForm(base+"/roles/"+role.ID.String()+"/delete", nil).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=refused]"), "pending invitation") {
		t.Fatalf("refusal %q", res.Text("[data-testid=refused]"))
	}
	d, _ := teamSvc(app).LoadMembers(context.Background(), org.ID)
	ownerC.PostForm(base+"/invitations/"+d.Invitations[0].ID.String()+"/revoke", nil).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm(base+"/roles/"+role.ID.String()+"/delete", nil).AssertStatus(http.StatusSeeOther)
	if _, _, err := teamSvc(app).RoleDetails(context.Background(), org.ID, role.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role still there: %v", err)
	}
	if ev := teamAudit(t, app, org, "role.deleted"); len(ev) != 1 {
		t.Fatalf("audit %+v", ev)
	}
	ownerC.Get(base + "/roles/" + role.ID.String() + "/edit").AssertStatus(http.StatusNotFound)
}

func TestRoleFormValidation(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	base := "/o/" + org.Slug
	app.F.CustomRole(org, "Taken", "clients.read")

	for name, vals := range map[string]url.Values{
		"empty":    {"name": {""}},
		"builtin":  {"name": {"admin"}},
		"taken":    {"name": {"taken"}},
		"too long": {"name": {strings.Repeat("x", 61)}},
	} {
		res := ownerC.PostForm(base+"/roles", vals).AssertStatus(http.StatusUnprocessableEntity)
		if res.Count("[data-testid=error-name]") != 1 {
			t.Errorf("%s: no inline name error", name)
		}
	}
	res := ownerC.HTMX(http.MethodPost, base+"/roles", url.Values{"name": {"Ok"}, "permissions": {"clients.read", "root.everything"}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-permissions]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatalf("HTMX answer should be the form with a permissions error:\n%s", res.Body)
	}
	// The form keeps what was checked.
	if _, ok := res.Find("[data-testid=perm-clients\\.read]").Attr("checked"); !ok {
		t.Fatal("checked permission lost")
	}
	roles, _ := teamSvc(app).ListRoles(context.Background(), org.ID)
	if len(roles) != 1 {
		t.Fatalf("%d roles after refused creations", len(roles))
	}
	ownerC.Get(base + "/roles/not-a-uuid/edit").AssertStatus(http.StatusNotFound)
}

func TestSettingsRenameOrganization(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	managerC, _ := app.member(org, tenant.RoleManager)
	base := "/o/" + org.Slug

	page := ownerC.Get(base + "/settings").AssertStatus(http.StatusOK)
	if page.Attr("[data-testid=slug]", "value") != org.Slug {
		t.Fatal("slug not shown")
	}
	if _, ok := page.Find("[data-testid=slug]").Attr("readonly"); !ok {
		t.Fatal("slug should be read-only")
	}
	if page.Count("[data-testid=builtin-roles] tbody tr") != len(tenant.BuiltinRoles) || page.Count("[data-testid=leave]") != 1 {
		t.Fatal("built-in roles or leave panel missing")
	}
	managerC.Get(base + "/settings").AssertStatus(http.StatusForbidden)
	managerC.PostForm(base+"/settings", url.Values{"name": {"Hijacked"}}).AssertStatus(http.StatusForbidden)

	res := ownerC.HTMX(http.MethodPost, base+"/settings", url.Values{"name": {"  "}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-name]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatal("want the rename form fragment with an error")
	}
	ownerC.PostForm(base+"/settings", url.Values{"name": {strings.Repeat("n", 121)}}).AssertStatus(http.StatusUnprocessableEntity)

	res = ownerC.PostForm(base+"/settings", url.Values{"name": {"Renamed & Partners"}}).AssertStatus(http.StatusSeeOther)
	page = ownerC.Follow(res).AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=flash]"), "Renamed & Partners") || !strings.Contains(page.Text("[data-testid=org-switcher]"), "Renamed & Partners") {
		t.Fatal("new name not shown")
	}
	org2, err := app.Store.Q().GetOrganizationBySlug(context.Background(), org.Slug)
	if err != nil || org2.Name != "Renamed & Partners" {
		t.Fatalf("name in DB %q (%v)", org2.Name, err)
	}
	ev := teamAudit(t, app, org, "org.renamed")
	if len(ev) != 1 || !strings.Contains(ev[0].Summary, "→ Renamed & Partners") {
		t.Fatalf("audit %+v", ev)
	}
}

// TestAdministrationIDsOfAnotherOrganizationAre404 uses ids from organization
// B on organization A's routes, as A's owner: every one answers 404 and
// changes nothing.
func TestAdministrationIDsOfAnotherOrganizationAre404(t *testing.T) {
	app := newTestApp(t)
	aC, _, orgA := app.owner()
	bC, _, orgB := app.owner()
	bStaff := app.F.User("")
	bm := app.F.Member(orgB, bStaff, tenant.RoleStaff)
	bRole := app.F.CustomRole(orgB, "B role", "clients.read")
	bC.PostForm("/o/"+orgB.Slug+"/invitations", url.Values{"email": {"b-invitee@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	d, err := teamSvc(app).LoadMembers(context.Background(), orgB.ID)
	if err != nil || len(d.Invitations) != 1 {
		t.Fatal("no invitation in B")
	}
	inv := d.Invitations[0]

	a := "/o/" + orgA.Slug
	for _, r := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodPost, a + "/members/" + bm.ID.String() + "/role", url.Values{"role": {"manager"}}},
		{http.MethodPost, a + "/members/" + bm.ID.String() + "/remove", nil},
		{http.MethodPost, a + "/invitations/" + inv.ID.String() + "/revoke", nil},
		{http.MethodGet, a + "/roles/" + bRole.ID.String() + "/edit", nil},
		{http.MethodPost, a + "/roles/" + bRole.ID.String(), url.Values{"name": {"Stolen"}, "permissions": {"clients.read"}}},
		{http.MethodPost, a + "/roles/" + bRole.ID.String() + "/delete", nil},
		// A custom role of B cannot be assigned in A either.
		{http.MethodPost, a + "/invitations", url.Values{"email": {"x@example.test"}, "role": {"custom:" + bRole.ID.String()}}},
	} {
		var res *testutil.Response
		if r.method == http.MethodGet {
			res = aC.Get(r.path)
		} else {
			res = aC.PostForm(r.path, r.form)
		}
		want := http.StatusNotFound
		if strings.HasSuffix(r.path, "/invitations") {
			want = http.StatusUnprocessableEntity
		}
		if res.StatusCode != want {
			t.Errorf("%s %s: %d, want %d", r.method, r.path, res.StatusCode, want)
		}
	}
	if teamRole(t, app, orgB, bStaff.ID) != "staff" {
		t.Fatal("B's member changed")
	}
	if _, _, err := teamSvc(app).RoleDetails(context.Background(), orgB.ID, bRole.ID); err != nil {
		t.Fatal("B's role gone")
	}
	if d, _ := teamSvc(app).LoadMembers(context.Background(), orgB.ID); len(d.Invitations) != 1 || d.Roles[0].Name != "B role" {
		t.Fatal("B's invitation or role changed")
	}
}

func TestAuditPageFiltersAndPaginates(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	adminC, admin := app.member(org, tenant.RoleAdmin)
	staffC, _ := app.member(org, tenant.RoleStaff)
	managerC, _ := app.member(org, tenant.RoleManager)
	base := "/o/" + org.Slug

	ownerC.PostForm(base+"/invitations", url.Values{"email": {"one@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	adminC.PostForm(base+"/invitations", url.Values{"email": {"two@example.test"}, "role": {"client"}}).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm(base+"/settings", url.Values{"name": {"Audited Firm"}}).AssertStatus(http.StatusSeeOther)

	staffC.Get(base + "/audit").AssertStatus(http.StatusForbidden)
	managerC.Get(base + "/audit").AssertStatus(http.StatusOK)

	all := ownerC.Get(base + "/audit").AssertStatus(http.StatusOK)
	if all.Count("[data-testid=audit-row]") != 4 { // org.created, 2 invitations, rename
		t.Fatalf("rows = %d\n%s", all.Count("[data-testid=audit-row]"), all.Text("[data-testid=audit-events]"))
	}
	if all.Count("select[name=action] option") != len(audit.OrgActions)+1 {
		t.Fatal("action filter should list every organization action")
	}
	res := ownerC.Get(base + "/audit?action=member.invited").AssertStatus(http.StatusOK)
	if res.Count("[data-testid=audit-row]") != 2 || res.Count(`[data-testid=audit-row]:not([data-action="member.invited"])`) != 0 {
		t.Fatal("action filter")
	}
	if res.Attr("select[name=action] option[selected]", "value") != "member.invited" {
		t.Fatal("filter not kept in the form")
	}
	res = ownerC.Get(base + "/audit?action=member.invited&actor=" + url.QueryEscape(admin.Email)).AssertStatus(http.StatusOK)
	if res.Count("[data-testid=audit-row]") != 1 || !strings.Contains(res.Text("[data-testid=audit-row]"), "two@example.test") {
		t.Fatal("actor filter")
	}
	res = ownerC.Get(base + "/audit?since=2999-01-01").AssertStatus(http.StatusOK)
	if res.Count("[data-testid=audit-row]") != 0 || res.Count("[data-testid=empty-state]") != 1 {
		t.Fatal("since filter")
	}
	if ownerC.Get(base+"/audit?since=2000-01-01").Count("[data-testid=audit-row]") != 4 {
		t.Fatal("since in the past should keep everything")
	}
	res = ownerC.Get(base + "/audit?since=yesterday").AssertStatus(http.StatusBadRequest)
	if res.Count("[data-testid=error-since]") != 1 {
		t.Fatal("bad date not explained")
	}

	// Another organization's events never show.
	otherC, _, other := app.owner()
	otherC.PostForm("/o/"+other.Slug+"/invitations", url.Values{"email": {"elsewhere@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusSeeOther)
	if strings.Contains(ownerC.Get(base+"/audit").Body, "elsewhere@example.test") {
		t.Fatal("another organization's event leaked")
	}

	// Pagination keeps the filters.
	for i := 0; i < 55; i++ {
		ownerC.PostForm(base+"/settings", url.Values{"name": {"Audited Firm " + string(rune('A'+i%26)) + string(rune('a'+i/26))}}).AssertStatus(http.StatusSeeOther)
	}
	p1 := ownerC.Get(base + "/audit?action=org.renamed").AssertStatus(http.StatusOK)
	if p1.Count("[data-testid=audit-row]") != 50 {
		t.Fatalf("page 1 rows = %d", p1.Count("[data-testid=audit-row]"))
	}
	next := p1.Attr("[data-testid=audit-pagination] a[rel=next]", "href")
	if !strings.Contains(next, "action=org.renamed") || !strings.Contains(next, "page=2") {
		t.Fatalf("next link %q", next)
	}
	p2 := ownerC.Get(next).AssertStatus(http.StatusOK)
	if p2.Count("[data-testid=audit-row]") != 6 || p2.Count("[data-testid=audit-pagination] a[rel=next]") != 0 || p2.Count("[data-testid=audit-pagination] a[rel=prev]") != 1 {
		t.Fatalf("page 2 rows = %d", p2.Count("[data-testid=audit-row]"))
	}
	_ = owner
}
