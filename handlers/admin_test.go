package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/testutil"
)

// platformAdmin creates a platform administrator and a client signed in as
// them.
func (a *testApp) platformAdmin() (*testutil.Client, db.User) {
	a.t.Helper()
	u := a.F.User("")
	u, err := a.Store.Q().SetPlatformAdmin(context.Background(), db.SetPlatformAdminParams{ID: u.ID, IsPlatformAdmin: true})
	if err != nil {
		a.t.Fatal(err)
	}
	c := a.client()
	a.login(c, u.Email)
	return c, u
}

// adminRoutes lists every /admin route from the router itself, with :id
// filled in, so a route added later is covered automatically.
func adminRoutes(t *testing.T, app *testApp, id string) [][2]string {
	t.Helper()
	var out [][2]string
	seen := map[string]bool{}
	for _, r := range app.Echo.Routes() {
		if r.Path != "/admin" && !strings.HasPrefix(r.Path, "/admin/") {
			continue
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			continue // the group's catch-all not-found routes
		}
		path := strings.ReplaceAll(r.Path, ":id", id)
		path = strings.ReplaceAll(path, ":org", id)       // /admin/sso-domains/:org/:id/...
		path = strings.ReplaceAll(path, ":agent", "luca") // /admin/agents/:agent
		if strings.Contains(path, ":") || strings.Contains(path, "*") {
			t.Fatalf("route %s %s has a parameter this test does not know; extend it", r.Method, r.Path)
		}
		if key := r.Method + " " + path; !seen[key] {
			seen[key] = true
			out = append(out, [2]string{r.Method, path})
		}
	}
	if len(out) < 8 {
		t.Fatalf("found only %d admin routes: %v", len(out), out)
	}
	return out
}

func request(c *testutil.Client, method, path string) *testutil.Response {
	if method == http.MethodPost {
		return c.PostForm(path, url.Values{})
	}
	return c.Get(path)
}

func TestAdminRoutesAreHiddenFromEveryoneButPlatformAdmins(t *testing.T) {
	app := newTestApp(t)
	member, victim, _ := app.owner()
	adminC, _ := app.platformAdmin()
	anon := app.client()

	for _, rt := range adminRoutes(t, app, victim.ID.String()) {
		method, path := rt[0], rt[1]
		t.Run(method+" "+path, func(t *testing.T) {
			res := request(anon, method, path)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
				t.Errorf("anonymous: %d %q, want 303 to /login", res.StatusCode, res.Location())
			}
			res = request(member, method, path)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("signed-in non-admin: %d, want 404", res.StatusCode)
			}
			if strings.Contains(res.Body, "Platform console") {
				t.Error("404 page reveals the console")
			}
		})
	}
	// The victim was not suspended by any of the non-admin posts.
	u, err := app.Store.Q().GetUser(context.Background(), victim.ID)
	if err != nil || u.SuspendedAt != nil {
		t.Fatalf("non-admin request changed the user: %v %v", err, u.SuspendedAt)
	}

	// And the administrator reaches every page.
	app.client().PostForm("/forgot-password", url.Values{"email": {victim.Email}}).AssertStatus(http.StatusOK)
	mailID := app.lastEmail(victim.Email).ID.String()
	for _, rt := range adminRoutes(t, app, mailID) {
		if rt[0] != http.MethodGet {
			continue
		}
		res := adminC.Get(rt[1]).AssertStatus(http.StatusOK)
		if res.Attr(".nav a[aria-current=page]", "href") == "" {
			t.Errorf("%s: no active admin nav item", rt[1])
		}
	}
	if adminC.Get("/admin").Count(".nav a[href='/admin/mailbox']") != 1 {
		t.Fatal("admin navigation missing")
	}
}

func TestAdminMailboxShowsVerificationEmail(t *testing.T) {
	app := newTestApp(t)
	adminC, _ := app.platformAdmin()

	empty := adminC.Get("/admin/mailbox").AssertStatus(http.StatusOK)
	if empty.Count("[data-testid=empty-state]") != 1 || empty.Count("[data-testid=mailbox-note]") != 1 {
		t.Fatalf("empty mailbox: want empty state and the production note\n%s", empty.Body)
	}
	if !strings.Contains(empty.Text("[data-testid=mailbox-note]"), "In production, real providers deliver them") {
		t.Fatalf("note: %q", empty.Text("[data-testid=mailbox-note]"))
	}

	signup := app.client()
	signup.PostForm("/signup", url.Values{"name": {"Grace Hopper"}, "email": {"grace@example.test"}, "password": {"a-long-password"}, "org_name": {"Hopper CPA"}}).AssertStatus(http.StatusSeeOther)
	app.client().PostForm("/forgot-password", url.Values{"email": {"grace@example.test"}}).AssertStatus(http.StatusOK)
	other := app.F.User("")
	app.client().PostForm("/forgot-password", url.Values{"email": {other.Email}}).AssertStatus(http.StatusOK)

	res := adminC.Get("/admin/mailbox").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=mail-row]"); n != 3 {
		t.Fatalf("mail rows = %d, want 3", n)
	}
	// Newest first: the last reset request is on top.
	if got := res.Find("[data-testid=mail-to]").First().Text(); got != other.Email {
		t.Fatalf("first row to %q, want newest (%s)", got, other.Email)
	}

	res = adminC.Get("/admin/mailbox?to=GRACE@example.test").AssertStatus(http.StatusOK)
	var subjects []string
	var verifyURL string
	res.Find("[data-testid=mail-row]").Each(func(_ int, s *goquery.Selection) {
		if to := s.Find("[data-testid=mail-to]").Text(); to != "grace@example.test" {
			t.Errorf("filtered mailbox shows mail to %q", to)
		}
		a := s.Find("a[data-testid=mail-subject]")
		subjects = append(subjects, a.Text())
		if a.Text() == "Confirm your e-mail address for Accute" {
			verifyURL, _ = a.Attr("href")
		}
	})
	if len(subjects) != 2 || verifyURL == "" {
		t.Fatalf("filtered subjects = %q (verification link %q)", subjects, verifyURL)
	}
	if adminC.Get("/admin/mailbox?to=nobody@example.test").Count("[data-testid=empty-state]") != 1 {
		t.Fatal("filter for an unknown recipient should show the empty state")
	}

	show := adminC.Get(verifyURL).AssertStatus(http.StatusOK)
	if got := show.Text("dd[data-testid=mail-subject]"); got != "Confirm your e-mail address for Accute" {
		t.Fatalf("subject = %q", got)
	}
	if got := show.Text("dd[data-testid=mail-to]"); got != "grace@example.test" {
		t.Fatalf("to = %q", got)
	}
	body := show.Find("pre.mail[data-testid=mail-body]").Text()
	if !strings.Contains(body, "Hello Grace Hopper") || !strings.Contains(body, "/verify-email?token=") {
		t.Fatalf("body = %q", body)
	}

	adminC.Get("/admin/mailbox/not-a-uuid").AssertStatus(http.StatusNotFound)
	adminC.Get("/admin/mailbox/" + uuid.NewString()).AssertStatus(http.StatusNotFound)
}

func TestAdminSuspendEndsSessionsAndReactivateRestoresLogin(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()
	victimC, victim, org := app.owner()
	victimC.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// The users list offers a confirmed suspend button for the victim.
	list := adminC.Get("/admin/users?q=" + url.QueryEscape(victim.Email)).AssertStatus(http.StatusOK)
	row := list.Find(fmt.Sprintf("[data-testid=user-row][data-user-id=%q]", victim.ID))
	if row.Length() != 1 {
		t.Fatalf("victim not listed:\n%s", list.Body)
	}
	if c, _ := row.Find("[data-testid=suspend]").Attr("data-confirm"); c == "" {
		t.Fatal("suspend button without data-confirm")
	}
	if row.Find("[data-testid=badge-suspended]").Length() != 0 {
		t.Fatal("victim shown suspended before suspension")
	}
	back := list.Attr(fmt.Sprintf("[data-user-id=%q] input[name=back]", victim.ID), "value")

	res := adminC.PostForm("/admin/users/"+victim.ID.String()+"/suspend", url.Values{"back": {back}})
	res.AssertStatus(http.StatusSeeOther)
	if res.Location() != back || !strings.HasPrefix(back, "/admin/users?q=") {
		t.Fatalf("redirect %q, want back to %q", res.Location(), back)
	}
	page := adminC.Follow(res).AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=flash]"), "suspended") {
		t.Fatalf("flash = %q", page.Text("[data-testid=flash]"))
	}
	if page.Find(fmt.Sprintf("[data-user-id=%q] [data-testid=badge-suspended]", victim.ID)).Length() != 1 ||
		page.Find(fmt.Sprintf("[data-user-id=%q] [data-testid=reactivate]", victim.ID)).Length() != 1 {
		t.Fatalf("victim row after suspension:\n%s", page.Body)
	}

	// The victim's existing session is over at once.
	res = victimC.Get("/o/" + org.Slug)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
		t.Fatalf("suspended user's session still works: %d %q", res.StatusCode, res.Location())
	}
	// And they cannot log in again.
	res = app.client().PostForm("/login", url.Values{"email": {victim.Email}, "password": {testutil.Password}})
	res.AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Text("[data-testid=form-error]"), "suspended") {
		t.Fatalf("login error = %q", res.Text("[data-testid=form-error]"))
	}

	u, err := app.Store.Q().GetUser(context.Background(), victim.ID)
	if err != nil || u.SuspendedAt == nil || u.SessionVersion <= victim.SessionVersion {
		t.Fatalf("user after suspension: %+v %v", u, err)
	}
	assertPlatformEvent(t, app, audit.AdminUserSuspended, adm.Email, victim.ID, 1)

	// Suspending twice changes nothing and records nothing more.
	adminC.PostForm("/admin/users/"+victim.ID.String()+"/suspend", nil).AssertStatus(http.StatusSeeOther)
	assertPlatformEvent(t, app, audit.AdminUserSuspended, adm.Email, victim.ID, 1)

	// Reactivate: a foreign "back" is ignored.
	res = adminC.PostForm("/admin/users/"+victim.ID.String()+"/reactivate", url.Values{"back": {"https://evil.example/admin/users"}})
	res.AssertStatus(http.StatusSeeOther)
	if res.Location() != "/admin/users" {
		t.Fatalf("redirect %q", res.Location())
	}
	assertPlatformEvent(t, app, audit.AdminUserReactivate, adm.Email, victim.ID, 1)
	again := app.client()
	app.login(again, victim.Email)
	again.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// Unknown and malformed ids are 404, not 500.
	adminC.PostForm("/admin/users/"+uuid.NewString()+"/suspend", nil).AssertStatus(http.StatusNotFound)
	adminC.PostForm("/admin/users/nope/reactivate", nil).AssertStatus(http.StatusNotFound)
}

// assertPlatformEvent checks there are want events of action against
// target, by actor, with no organization.
func assertPlatformEvent(t *testing.T, app *testApp, action, actor string, target uuid.UUID, want int) {
	t.Helper()
	ctx := context.Background()
	var rows []db.ListAllAuditEventsRow
	err := app.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		rows, err = q.ListAllAuditEvents(ctx, db.ListAllAuditEventsParams{Action: action, MaxRows: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.TargetID != target.String() {
			continue
		}
		n++
		if r.OrganizationID != nil || r.ActorEmail != actor || r.TargetType != "user" {
			t.Errorf("%s event: org %v actor %q target type %q", action, r.OrganizationID, r.ActorEmail, r.TargetType)
		}
	}
	if n != want {
		t.Fatalf("%s events for %s = %d, want %d", action, target, n, want)
	}
}

func TestAdminCannotSuspendThemself(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()

	page := adminC.Get("/admin/users").AssertStatus(http.StatusOK)
	row := page.Find(fmt.Sprintf("[data-user-id=%q]", adm.ID))
	if row.Length() != 1 || row.Find("[data-testid=suspend]").Length() != 0 {
		t.Fatal("own row should have no suspend button")
	}
	if row.Find("[data-testid=badge-admin]").Length() != 1 {
		t.Fatal("own row should carry the platform admin badge")
	}

	res := adminC.PostForm("/admin/users/"+adm.ID.String()+"/suspend", nil)
	res.AssertStatus(http.StatusForbidden)
	res.AssertContains("You cannot suspend your own account.")
	res = adminC.HTMX(http.MethodPost, "/admin/users/"+adm.ID.String()+"/suspend", nil)
	res.AssertStatus(http.StatusForbidden)
	if res.Count("[data-testid=toast]") != 1 {
		t.Fatalf("HTMX refusal should be a toast: %s", res.Body)
	}
	u, err := app.Store.Q().GetUser(context.Background(), adm.ID)
	if err != nil || u.SuspendedAt != nil {
		t.Fatalf("admin suspended themself: %v %v", err, u.SuspendedAt)
	}
	adminC.Get("/admin").AssertStatus(http.StatusOK)
}

func TestAdminAuditShowsEveryOrganizationAndFilters(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()
	_, ownerA, orgA := app.owner()
	_, ownerB, orgB := app.owner()

	res := adminC.Get("/admin/audit").AssertStatus(http.StatusOK)
	orgs := map[string]bool{}
	res.Find("[data-testid=audit-org]").Each(func(_ int, s *goquery.Selection) {
		orgs[strings.TrimSpace(s.Text())] = true
	})
	if !orgs[orgA.Slug] || !orgs[orgB.Slug] || !orgs["Platform"] {
		t.Fatalf("audit orgs = %v, want %s, %s and platform events", orgs, orgA.Slug, orgB.Slug)
	}

	res = adminC.Get("/admin/audit?org=" + orgA.Slug).AssertStatus(http.StatusOK)
	rows := res.Find("[data-testid=audit-row]")
	if rows.Length() == 0 {
		t.Fatal("no events for organization A")
	}
	rows.Each(func(_ int, s *goquery.Selection) {
		if got := strings.TrimSpace(s.Find("[data-testid=audit-org]").Text()); got != orgA.Slug {
			t.Errorf("org filter shows an event of %q", got)
		}
	})
	if res.Attr("input[name=org]", "value") != orgA.Slug {
		t.Fatal("filter value not kept in the form")
	}

	// Action and actor filters.
	res = adminC.Get("/admin/audit?action=auth.login&actor=" + url.QueryEscape(ownerB.Email)).AssertStatus(http.StatusOK)
	if res.Count("[data-testid=audit-row]") != 1 || res.Text("[data-testid=audit-action]") != audit.LoginSucceeded {
		t.Fatalf("action+actor filter: %d rows, actions %q", res.Count("[data-testid=audit-row]"), res.Text("[data-testid=audit-action]"))
	}
	if res.Attr("select[name=action] option[selected]", "value") != audit.LoginSucceeded {
		t.Fatal("selected action not kept")
	}
	if res := adminC.Get("/admin/audit?org=no-such-firm"); res.Count("[data-testid=empty-state]") != 1 {
		t.Fatal("unknown slug should show the empty state")
	}
	_, _ = ownerA, adm

	// The overview counts and shows the latest events.
	home := adminC.Get("/admin").AssertStatus(http.StatusOK)
	if got := home.Text("[data-testid=stat-organizations] .stat-value"); got != "2" {
		t.Fatalf("organizations stat = %q", got)
	}
	if got := home.Text("[data-testid=stat-users] .stat-value"); got != "3" {
		t.Fatalf("users stat = %q", got)
	}
	if n := home.Count("[data-testid=recent-events] [data-testid=audit-row]"); n == 0 || n > 10 {
		t.Fatalf("recent events = %d", n)
	}
}

func TestAdminAuditPaginates(t *testing.T) {
	app := newTestApp(t)
	adminC, _ := app.platformAdmin()
	u := app.F.User("")
	// Failed logins are throttled after a few attempts, so write the events
	// directly: this test is about the console's pagination.
	err := app.Store.InTx(t.Context(), func(q *db.Queries) error {
		for i := 0; i < 55; i++ {
			if err := audit.Record(t.Context(), q, audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.LoginFailed}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := adminC.Get("/admin/audit?action=auth.login_failed").AssertStatus(http.StatusOK)
	if n := first.Count("[data-testid=audit-row]"); n != 50 {
		t.Fatalf("page 1 rows = %d", n)
	}
	next := first.Attr("a[rel=next]", "href")
	if !strings.Contains(next, "page=2") || !strings.Contains(next, "action=auth.login_failed") {
		t.Fatalf("next link %q should keep the filter", next)
	}
	second := adminC.Get(next).AssertStatus(http.StatusOK)
	if n := second.Count("[data-testid=audit-row]"); n != 5 {
		t.Fatalf("page 2 rows = %d", n)
	}
	adminC.Get("/admin/audit?page=-3").AssertStatus(http.StatusOK)
	adminC.Get("/admin/audit?page=99999999999999999999").AssertStatus(http.StatusOK)
}

func TestAdminOrganizationsSearch(t *testing.T) {
	app := newTestApp(t)
	adminC, _ := app.platformAdmin()
	owner := app.F.User("")
	alpha := app.F.Org(owner, "Alpha Ledger")
	app.F.Org(owner, "Beta Books")
	app.F.Client(alpha, "")
	app.F.Client(alpha, "")
	app.F.Member(alpha, app.F.User(""), "staff")

	all := adminC.Get("/admin/organizations").AssertStatus(http.StatusOK)
	if n := all.Count("[data-testid=org-row]"); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}

	res := adminC.Get("/admin/organizations?q=ALPHA").AssertStatus(http.StatusOK)
	rows := res.Find("[data-testid=org-row]")
	if rows.Length() != 1 || strings.TrimSpace(rows.Find("[data-testid=org-name]").Text()) != "Alpha Ledger" {
		t.Fatalf("search result:\n%s", res.Body)
	}
	cells := rows.Find("td")
	if got := strings.TrimSpace(cells.Eq(1).Text()); got != alpha.Slug {
		t.Errorf("slug = %q", got)
	}
	if got := strings.TrimSpace(cells.Eq(2).Text()); got != "2" {
		t.Errorf("members = %q, want 2", got)
	}
	if got := strings.TrimSpace(cells.Eq(3).Text()); got != "2" {
		t.Errorf("clients = %q, want 2", got)
	}
	if res.Attr("input[name=q]", "value") != "ALPHA" {
		t.Error("search term not kept")
	}
	// Search by slug too.
	if n := adminC.Get("/admin/organizations?q=beta-bo").Count("[data-testid=org-row]"); n != 1 {
		t.Fatalf("slug search rows = %d", n)
	}
	none := adminC.Get("/admin/organizations?q=zzz").AssertStatus(http.StatusOK)
	if none.Count("[data-testid=org-row]") != 0 || none.Count("[data-testid=empty-state]") != 1 {
		t.Fatal("no-match search should show the empty state")
	}
}

func TestAdminUsersSearchAndPagination(t *testing.T) {
	app := newTestApp(t)
	adminC, _ := app.platformAdmin()
	for i := 0; i < 26; i++ {
		app.F.User(fmt.Sprintf("bulk%02d@example.test", i))
	}
	res := adminC.Get("/admin/users?q=bulk").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=user-row]"); n != 25 {
		t.Fatalf("page 1 rows = %d", n)
	}
	if !strings.Contains(res.Text(".pagination"), "1–25 of 26") {
		t.Fatalf("pagination = %q", res.Text(".pagination"))
	}
	next := res.Attr("a[rel=next]", "href")
	page2 := adminC.Get(next).AssertStatus(http.StatusOK)
	if n := page2.Count("[data-testid=user-row]"); n != 1 {
		t.Fatalf("page 2 rows = %d (%s)", n, next)
	}
	// Suspend from page 2 returns to page 2.
	back := page2.Attr("input[name=back]", "value")
	if !strings.Contains(back, "page=2") || !strings.Contains(back, "q=bulk") {
		t.Fatalf("back = %q", back)
	}
	one := adminC.Get("/admin/users?q=BULK07").AssertStatus(http.StatusOK)
	if one.Count("[data-testid=user-row]") != 1 || one.Text("[data-testid=user-email]") != "bulk07@example.test" {
		t.Fatalf("search: %q", one.Text("[data-testid=user-email]"))
	}
	if one.Count("[data-testid=user-row] .badge-success") != 1 {
		t.Fatal("verified badge missing")
	}
	// Wildcards are searched for as characters.
	app.F.User("under_score@example.test")
	for q, want := range map[string]int{"_": 1, "%": 0, "bulk0_": 0, `\`: 0} {
		got := adminC.Get("/admin/users?q=" + url.QueryEscape(q)).AssertStatus(http.StatusOK).Count("[data-testid=user-row]")
		if got != want {
			t.Fatalf("search %q: %d rows, want %d", q, got, want)
		}
	}
}
