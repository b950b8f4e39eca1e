package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// clientAudit returns the organization's audit events with action, newest
// first.
func clientAudit(t *testing.T, app *testApp, org db.Organization, action string) []db.AuditEvent {
	t.Helper()
	ctx := context.Background()
	var evs []db.AuditEvent
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		evs, err = q.ListAuditEvents(ctx, db.ListAuditEventsParams{OrganizationID: &org.ID, Action: action, MaxRows: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// loadClient reads a client straight from the database.
func loadClient(t *testing.T, app *testApp, org db.Organization, id uuid.UUID) db.Client {
	t.Helper()
	ctx := context.Background()
	var c db.Client
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		c, err = q.GetClient(ctx, db.GetClientParams{OrganizationID: org.ID, ID: id})
		return err
	})
	if err != nil {
		t.Fatalf("load client %s: %v", id, err)
	}
	return c
}

func loadContacts(t *testing.T, app *testApp, org db.Organization, clientID uuid.UUID) []db.ClientContact {
	t.Helper()
	ctx := context.Background()
	var cs []db.ClientContact
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		cs, err = q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: org.ID, ClientID: clientID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// makeClients creates n clients named prefix-001..n in one transaction.
func makeClients(t *testing.T, app *testApp, org db.Organization, prefix string, n int, withContact bool) {
	t.Helper()
	ctx := context.Background()
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		for i := 1; i <= n; i++ {
			c, err := q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: fmt.Sprintf("%s %03d", prefix, i), Kind: "business",
				Email: fmt.Sprintf("%s%03d@example.test", strings.ToLower(prefix), i), Phone: "+1 555 0100"})
			if err != nil {
				return err
			}
			if withContact {
				if _, err := q.CreateClientContact(ctx, db.CreateClientContactParams{OrganizationID: org.ID, ClientID: c.ID, Name: "Contact " + c.Name}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var clientURLPattern = regexp.MustCompile(`^/o/[a-z0-9-]+/clients/([0-9a-f-]{36})$`)

func TestClientsLifecycle(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	base := "/o/" + org.Slug + "/clients"

	// An empty organization: the empty state invites the first client.
	res := c.Get(base).AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=empty-state] h2"); got != "No clients yet" {
		t.Fatalf("empty state = %q", got)
	}
	if res.Count("[data-testid=new-client]") != 1 {
		t.Fatal("owner should see the New client button")
	}

	c.Get(base + "/new").AssertStatus(http.StatusOK)
	res = c.PostForm(base, url.Values{"name": {"  Acme Holdings  "}, "kind": {"business"}, "email": {"Books@Acme.Example"},
		"phone": {"+44 20 7946 0000"}, "tax_id": {"GB123"}, "address": {"1 High St\nLondon"}, "notes": {"Year end March."}})
	res.AssertStatus(http.StatusSeeOther)
	m := clientURLPattern.FindStringSubmatch(res.Location())
	if m == nil {
		t.Fatalf("create redirected to %q", res.Location())
	}
	id := uuid.MustParse(m[1])
	stored := loadClient(t, app, org, id)
	if stored.Name != "Acme Holdings" || stored.Email != "books@acme.example" || stored.Address != "1 High St\nLondon" || stored.CreatedBy == nil || *stored.CreatedBy != owner.ID {
		t.Fatalf("stored client = %+v", stored)
	}
	evs := clientAudit(t, app, org, audit.ClientCreated)
	if len(evs) != 1 || evs[0].TargetID != id.String() || evs[0].ActorUserID == nil || *evs[0].ActorUserID != owner.ID || evs[0].Summary != "Acme Holdings" {
		t.Fatalf("created audit = %+v", evs)
	}

	// Show: details, flash, actions.
	show := c.Follow(res).AssertStatus(http.StatusOK)
	if show.Text("h1") != "Acme Holdings" || show.Text("[data-testid=detail-email]") != "books@acme.example" {
		t.Fatalf("show page: h1 %q email %q", show.Text("h1"), show.Text("[data-testid=detail-email]"))
	}
	if !strings.Contains(show.Text(".flash-success"), "Acme Holdings was added") {
		t.Fatalf("flash = %q", show.Text(".flash-success"))
	}
	if show.Count("[data-testid=edit]") != 1 || show.Count("[data-testid=archive][data-confirm]") != 1 || show.Count("[data-testid=restore]") != 0 {
		t.Fatal("active client should offer Edit and a confirmed Archive")
	}
	if show.Count("[data-testid=contacts-empty]") != 1 || show.Count("[data-testid=contact-form]") != 1 {
		t.Fatal("contacts card should be empty with an add form")
	}

	// Listed, with e-mail sub-line, kind badge and contacts count.
	list := c.Get(base).AssertStatus(http.StatusOK)
	if list.Count("[data-testid=client-row]") != 1 || list.Text("[data-testid=client-link]") != "Acme Holdings" {
		t.Fatalf("list rows: %s", list.Text("[data-testid=client-table]"))
	}
	if list.Attr("[data-testid=client-link]", "href") != res.Location() || list.Text("td .sub") != "books@acme.example" ||
		list.Text("td .badge") != "Business" || list.Text("[data-testid=contacts-count]") != "0" {
		t.Fatalf("row = %q", list.Text("[data-testid=client-row]"))
	}

	// Edit: prefilled, then saved.
	edit := c.Get(res.Location() + "/edit").AssertStatus(http.StatusOK)
	if edit.Attr("input[name=name]", "value") != "Acme Holdings" || edit.Attr("select[name=kind] option[selected]", "value") != "business" {
		t.Fatal("edit form is not prefilled")
	}
	upd := c.PostForm(res.Location(), url.Values{"name": {"Acme Group"}, "kind": {"business"}, "email": {"books@acme.example"},
		"phone": {"+44 20 7946 0000"}, "tax_id": {"GB123"}, "address": {"1 High St\nLondon"}, "notes": {"Year end April."}})
	upd.AssertStatus(http.StatusSeeOther)
	if upd.Location() != res.Location() {
		t.Fatalf("update redirected to %q", upd.Location())
	}
	if got := loadClient(t, app, org, id); got.Name != "Acme Group" || got.Notes != "Year end April." {
		t.Fatalf("after update: %+v", got)
	}
	evs = clientAudit(t, app, org, audit.ClientUpdated)
	if len(evs) != 1 || evs[0].Summary != "Acme Group: changed name, notes" {
		t.Fatalf("updated audit = %+v", evs)
	}

	// Archive: off the active list, on the archived one, read-only.
	c.PostForm(res.Location()+"/archive", nil).AssertStatus(http.StatusSeeOther)
	if loadClient(t, app, org, id).ArchivedAt == nil {
		t.Fatal("client not archived")
	}
	show = c.Get(res.Location()).AssertStatus(http.StatusOK)
	if show.Count("[data-testid=archived-badge]") != 1 || show.Count("[data-testid=restore]") != 1 ||
		show.Count("[data-testid=edit]") != 0 || show.Count("[data-testid=contact-form]") != 0 {
		t.Fatal("archived client should show the badge and Restore, and no edit or contact form")
	}
	if c.Get(base).Count("[data-testid=client-row]") != 0 {
		t.Fatal("archived client still on the active list")
	}
	arch := c.Get(base + "?status=archived").AssertStatus(http.StatusOK)
	if arch.Count("[data-testid=client-row]") != 1 || !strings.Contains(arch.Text("[data-testid=client-row]"), "Archived") ||
		arch.Attr("[data-testid=tab-archived]", "aria-current") != "page" {
		t.Fatal("archived tab should list the client with its badge")
	}

	// Archived clients cannot be edited: the form redirects with a flash,
	// writes answer 400 and change nothing.
	e := c.Get(res.Location() + "/edit").AssertStatus(http.StatusSeeOther)
	if e.Location() != res.Location() {
		t.Fatalf("edit of archived client redirected to %q", e.Location())
	}
	if !strings.Contains(c.Follow(e).Text(".flash-error"), "archived") {
		t.Fatal("no flash explaining the client is archived")
	}
	bad := c.PostForm(res.Location(), url.Values{"name": {"Sneaky"}, "kind": {"business"}}).AssertStatus(http.StatusBadRequest)
	bad.AssertContains("Restore it before changing")
	c.PostForm(res.Location()+"/contacts", url.Values{"name": {"Jo"}}).AssertStatus(http.StatusBadRequest)
	if got := loadClient(t, app, org, id); got.Name != "Acme Group" || len(loadContacts(t, app, org, id)) != 0 {
		t.Fatal("archived client was changed")
	}
	// Archiving twice records nothing more.
	c.PostForm(res.Location()+"/archive", nil).AssertStatus(http.StatusSeeOther)
	if n := len(clientAudit(t, app, org, audit.ClientArchived)); n != 1 {
		t.Fatalf("archived audit events = %d, want 1", n)
	}

	// Restore brings it back.
	c.PostForm(res.Location()+"/restore", nil).AssertStatus(http.StatusSeeOther)
	if loadClient(t, app, org, id).ArchivedAt != nil {
		t.Fatal("client not restored")
	}
	if n := len(clientAudit(t, app, org, audit.ClientRestored)); n != 1 {
		t.Fatalf("restored audit events = %d", n)
	}
	if c.Get(base).Count("[data-testid=client-row]") != 1 {
		t.Fatal("restored client not on the active list")
	}

	// From htmx, success is an HX-Redirect.
	hx := c.HTMX(http.MethodPost, base, url.Values{"name": {"Beta LLP"}, "kind": {"individual"}}).AssertStatus(http.StatusOK)
	if !clientURLPattern.MatchString(hx.Header.Get("HX-Redirect")) {
		t.Fatalf("HX-Redirect = %q", hx.Header.Get("HX-Redirect"))
	}
}

func TestClientsSearchAndPagination(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/clients"
	makeClients(t, app, org, "Alpha", 60, false)
	zebra := app.F.Client(org, "Zebra 100% Tax")

	page1 := c.Get(base).AssertStatus(http.StatusOK)
	if n := page1.Count("[data-testid=client-row]"); n != 50 {
		t.Fatalf("page 1 rows = %d, want 50", n)
	}
	if got := page1.Text(".pagination .muted"); got != "1–50 of 61" {
		t.Fatalf("pager = %q", got)
	}
	if next := page1.Attr(".pagination a[rel=next]", "href"); next != base+"?page=2" {
		t.Fatalf("next = %q", next)
	}
	page2 := c.Get(base + "?page=2").AssertStatus(http.StatusOK)
	if n := page2.Count("[data-testid=client-row]"); n != 11 {
		t.Fatalf("page 2 rows = %d, want 11", n)
	}
	if last := page2.Find("[data-testid=client-link]").Last().Text(); last != zebra.Name {
		t.Fatalf("last row = %q", last)
	}
	// Past the end: the last page; nonsense: the first.
	if n := c.Get(base + "?page=99").AssertStatus(http.StatusOK).Count("[data-testid=client-row]"); n != 11 {
		t.Fatalf("page 99 rows = %d, want the last page's 11", n)
	}
	for _, p := range []string{"abc", "0", "-3", "99999999999999999999"} {
		if n := c.Get(base + "?page=" + url.QueryEscape(p)).AssertStatus(http.StatusOK).Count("[data-testid=client-row]"); n != 50 && n != 11 {
			t.Fatalf("page=%s rows = %d", p, n)
		}
	}

	// Search by name and by e-mail, case-insensitive; pages keep the query.
	res := c.Get(base + "?q=alpha+00").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=client-row]"); n != 9 {
		t.Fatalf("q=alpha 00 rows = %d, want 9", n)
	}
	if res.Attr("input[name=q]", "value") != "alpha 00" {
		t.Fatal("search box does not keep the query")
	}
	if n := c.Get(base + "?q=ALPHA042%40example").AssertStatus(http.StatusOK).Count("[data-testid=client-row]"); n != 1 {
		t.Fatalf("e-mail search rows = %d, want 1", n)
	}
	res = c.Get(base + "?q=alpha")
	if next := res.Attr(".pagination a[rel=next]", "href"); next != base+"?page=2&q=alpha" {
		t.Fatalf("next keeps the query: %q", next)
	}
	// LIKE wildcards are literal.
	res = c.Get(base + "?q=" + url.QueryEscape("100%"))
	if res.Count("[data-testid=client-row]") != 1 || res.Text("[data-testid=client-link]") != zebra.Name {
		t.Fatalf("q=100%% rows: %q", res.Text("[data-testid=client-table]"))
	}
	if n := c.Get(base + "?q=" + url.QueryEscape("%")).Count("[data-testid=client-row]"); n != 1 {
		t.Fatalf("q=%% rows = %d, want only the client with a %% in its name", n)
	}

	// No match: an empty state that names the query, distinct from "no clients yet".
	res = c.Get(base + "?q=nothing-like-this").AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=empty-state] h2"); got != "No match for “nothing-like-this”" {
		t.Fatalf("empty state = %q", got)
	}
	if res.Count("[data-testid=clear-search]") != 1 {
		t.Fatal("no way to clear the search")
	}

	// The search form works without JS (GET) and with htmx (fragment).
	if res.Attr("[data-testid=client-search]", "method") != "get" || res.Attr("[data-testid=client-search]", "hx-target") != "#clients-results" ||
		res.Attr("[data-testid=client-search]", "hx-push-url") != "true" {
		t.Fatal("search form is missing its GET or htmx attributes")
	}
	req := c.NewRequest(http.MethodGet, base+"?q=zebra", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "clients-results")
	frag := c.Do(req).AssertStatus(http.StatusOK)
	if strings.Contains(frag.Body, "<html") || frag.Count("#clients-results") != 1 || frag.Count("[data-testid=client-row]") != 1 {
		t.Fatalf("htmx search should answer the results fragment:\n%s", frag.Body)
	}
	if !strings.Contains(strings.Join(frag.Header.Values("Vary"), ","), "HX-Request") {
		t.Fatal("fragment answers must Vary on HX-Request")
	}

	// Archived tab: only archived clients, and the search keeps the tab.
	c.PostForm(base+"/"+zebra.ID.String()+"/archive", nil).AssertStatus(http.StatusSeeOther)
	res = c.Get(base + "?status=archived")
	if res.Count("[data-testid=client-row]") != 1 || res.Count("[data-testid=client-search] input[name=status][value=archived]") != 1 {
		t.Fatal("archived tab should show only the archived client and keep status in the search")
	}
	if n := c.Get(base + "?status=archived&q=alpha").Count("[data-testid=client-row]"); n != 0 {
		t.Fatalf("archived search rows = %d", n)
	}
	if got := c.Get(base + "?status=archived&q=alpha").Text("[data-testid=empty-state] h2"); got != "No match for “alpha”" {
		t.Fatalf("archived no-match = %q", got)
	}
}

func TestClientsValidation(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/clients"
	bad := url.Values{"name": {"  "}, "kind": {"alien"}, "email": {"not-an-email"}, "phone": {strings.Repeat("9", 41)},
		"tax_id": {strings.Repeat("x", 41)}, "address": {strings.Repeat("a", 501)}, "notes": {strings.Repeat("n", 5001)}}
	fields := []string{"name", "kind", "email", "phone", "tax_id", "address", "notes"}

	full := c.PostForm(base, bad).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(full.Body, "<html") {
		t.Fatal("a browser without htmx should get the whole page")
	}
	for _, f := range fields {
		if full.Count("[data-testid=error-"+f+"]") != 1 {
			t.Errorf("full page: no inline error for %s", f)
		}
	}
	if full.Attr("input[name=email]", "value") != "not-an-email" {
		t.Error("the form should keep what was typed")
	}

	frag := c.HTMX(http.MethodPost, base, bad).AssertStatus(http.StatusUnprocessableEntity)
	if strings.Contains(frag.Body, "<html") || frag.Count("form[data-testid=client-form][hx-post]") != 1 {
		t.Fatalf("htmx should get the form fragment:\n%.500s", frag.Body)
	}
	for _, f := range fields {
		if frag.Count("[data-testid=error-"+f+"]") != 1 {
			t.Errorf("fragment: no inline error for %s", f)
		}
	}
	if n := c.Get(base).Count("[data-testid=client-row]"); n != 0 {
		t.Fatalf("invalid input created %d clients", n)
	}

	// Update with invalid input: 422 too, nothing saved.
	cl := app.F.Client(org, "Valid Name")
	u := c.PostForm(base+"/"+cl.ID.String(), url.Values{"name": {""}, "kind": {"business"}}).AssertStatus(http.StatusUnprocessableEntity)
	if u.Count("[data-testid=error-name]") != 1 || !strings.Contains(u.Text(".page-header"), "Valid Name") {
		t.Fatal("edit page should show the error and the client's stored name")
	}
	c.HTMX(http.MethodPost, base+"/"+cl.ID.String(), url.Values{"name": {strings.Repeat("n", 201)}, "kind": {"business"}}).
		AssertStatus(http.StatusUnprocessableEntity)
	if loadClient(t, app, org, cl.ID).Name != "Valid Name" {
		t.Fatal("invalid update was saved")
	}

	// Contacts: the htmx form gets the contacts card back with errors.
	badContact := url.Values{"name": {""}, "email": {"nope"}, "title": {strings.Repeat("t", 101)}}
	cf := c.HTMX(http.MethodPost, base+"/"+cl.ID.String()+"/contacts", badContact).AssertStatus(http.StatusUnprocessableEntity)
	if strings.Contains(cf.Body, "<html") || cf.Count("section#contacts") != 1 {
		t.Fatalf("htmx contact form should get the contacts card:\n%.500s", cf.Body)
	}
	for _, f := range []string{"name", "email", "title"} {
		if cf.Count("#contacts [data-testid=error-"+f+"]") != 1 {
			t.Errorf("contact fragment: no inline error for %s", f)
		}
	}
	cp := c.PostForm(base+"/"+cl.ID.String()+"/contacts", badContact).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(cp.Body, "<html") || cp.Count("#contacts [data-testid=error-name]") != 1 || cp.Text("h1") != "Valid Name" {
		t.Fatal("contact form without htmx should get the client page with errors")
	}
	if len(loadContacts(t, app, org, cl.ID)) != 0 || len(clientAudit(t, app, org, audit.ContactAdded)) != 0 {
		t.Fatal("invalid contact was saved")
	}
}

func TestClientsPermissions(t *testing.T) {
	app := newTestApp(t)
	_, _, org := app.owner()
	base := "/o/" + org.Slug + "/clients"
	cl := app.F.Client(org, "Permission Co")
	ct := app.F.Contact(org, cl, "Pat Contact")
	clientURL := base + "/" + cl.ID.String()

	// Staff can write.
	staff, _ := app.member(org, tenant.RoleStaff)
	if staff.Get(base).AssertStatus(http.StatusOK).Count("[data-testid=new-client]") != 1 {
		t.Fatal("staff should see New client")
	}
	staff.PostForm(base, url.Values{"name": {"Staff Client"}, "kind": {"individual"}}).AssertStatus(http.StatusSeeOther)
	if staff.Get(clientURL).Count("[data-testid=edit]") != 1 {
		t.Fatal("staff should see Edit")
	}

	// A custom role with only clients.read: reads, sees no write actions,
	// and every write is 403.
	role := app.F.CustomRole(org, "Read only", string(tenant.ClientsRead))
	reader := app.F.User("")
	ctx := context.Background()
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: reader.ID, Role: tenant.RoleCustom, CustomRoleID: &role.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rc := app.client()
	app.login(rc, reader.Email)
	list := rc.Get(base).AssertStatus(http.StatusOK)
	if list.Count("[data-testid=new-client]") != 0 || list.Count("[data-testid=client-row]") != 2 {
		t.Fatalf("reader list: new button %d, rows %d", list.Count("[data-testid=new-client]"), list.Count("[data-testid=client-row]"))
	}
	show := rc.Get(clientURL).AssertStatus(http.StatusOK)
	if show.Count("[data-testid=edit]")+show.Count("[data-testid=archive]")+show.Count("[data-testid=contact-form]")+show.Count("[data-testid=remove-contact]") != 0 {
		t.Fatal("reader should see no write actions")
	}
	if show.Count("[data-testid=contact]") != 1 {
		t.Fatal("reader should see the contacts")
	}
	rc.Get(base + "/new").AssertStatus(http.StatusForbidden)
	rc.Get(clientURL + "/edit").AssertStatus(http.StatusForbidden)
	for path, form := range map[string]url.Values{
		base:                    {"name": {"Nope"}, "kind": {"business"}},
		clientURL:               {"name": {"Nope"}, "kind": {"business"}},
		clientURL + "/archive":  nil,
		clientURL + "/restore":  nil,
		clientURL + "/contacts": {"name": {"Nope"}},
		clientURL + "/contacts/" + ct.ID.String() + "/delete": nil,
	} {
		rc.PostForm(path, form).AssertStatus(http.StatusForbidden)
	}
	if got := loadClient(t, app, org, cl.ID); got.Name != "Permission Co" || got.ArchivedAt != nil || len(loadContacts(t, app, org, cl.ID)) != 1 {
		t.Fatal("a reader changed a client")
	}
}

func TestClientsOfAnotherOrganizationAre404(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	_, _, other := app.owner()
	mine := app.F.Client(org, "Mine")
	theirs := app.F.Client(other, "Theirs")
	theirContact := app.F.Contact(other, theirs, "Their Contact")
	myContact := app.F.Contact(org, mine, "My Contact")
	base := "/o/" + org.Slug + "/clients/"

	type req struct {
		method, path string
		form         url.Values
	}
	cases := []req{
		{http.MethodGet, base + theirs.ID.String(), nil},
		{http.MethodGet, base + theirs.ID.String() + "/edit", nil},
		{http.MethodPost, base + theirs.ID.String(), url.Values{"name": {"Hijacked"}, "kind": {"business"}}},
		{http.MethodPost, base + theirs.ID.String(), url.Values{"name": {""}, "kind": {"business"}}}, // invalid input too: 404, not 422
		{http.MethodPost, base + theirs.ID.String() + "/archive", nil},
		{http.MethodPost, base + theirs.ID.String() + "/restore", nil},
		{http.MethodPost, base + theirs.ID.String() + "/contacts", url.Values{"name": {"Intruder"}}},
		{http.MethodPost, base + theirs.ID.String() + "/contacts", url.Values{"name": {""}}},
		{http.MethodPost, base + theirs.ID.String() + "/contacts/" + theirContact.ID.String() + "/delete", nil},
		// Their contact through my client, my contact through their client.
		{http.MethodPost, base + mine.ID.String() + "/contacts/" + theirContact.ID.String() + "/delete", nil},
		{http.MethodPost, base + theirs.ID.String() + "/contacts/" + myContact.ID.String() + "/delete", nil},
		// Missing ids.
		{http.MethodGet, base + uuid.NewString(), nil},
		{http.MethodPost, base + mine.ID.String() + "/contacts/" + uuid.NewString() + "/delete", nil},
		// Malformed ids.
		{http.MethodGet, base + "not-a-uuid", nil},
		{http.MethodGet, base + "123/edit", nil},
		{http.MethodGet, base + strings.ReplaceAll(mine.ID.String(), "-", ""), nil},
		{http.MethodPost, base + "zzz", url.Values{"name": {"X"}, "kind": {"business"}}},
		{http.MethodPost, base + "zzz/archive", nil},
		{http.MethodPost, base + "zzz/restore", nil},
		{http.MethodPost, base + "zzz/contacts", url.Values{"name": {"X"}}},
		{http.MethodPost, base + mine.ID.String() + "/contacts/zzz/delete", nil},
		{http.MethodPost, base + "%27%3B--/contacts/" + myContact.ID.String() + "/delete", nil},
	}
	for _, tc := range cases {
		var res *testutil.Response
		if tc.method == http.MethodGet {
			res = c.Get(tc.path)
		} else {
			res = c.PostForm(tc.path, tc.form)
		}
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tc.method, tc.path, res.StatusCode)
		}
	}
	// htmx gets 404 as a toast, never a 200.
	res := c.HTMX(http.MethodPost, base+theirs.ID.String()+"/contacts", url.Values{"name": {"Intruder"}})
	if res.StatusCode != http.StatusNotFound || res.Count("[data-testid=toast]") != 1 {
		t.Fatalf("htmx cross-tenant contact add: %d\n%s", res.StatusCode, res.Body)
	}

	// Nothing of theirs changed, and mine still has its contact.
	ctx := context.Background()
	err := app.Store.InOrg(ctx, other.ID, func(q *db.Queries) error {
		got, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: other.ID, ID: theirs.ID})
		if err != nil {
			return err
		}
		cs, err := q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: other.ID, ClientID: theirs.ID})
		if err != nil {
			return err
		}
		if got.Name != "Theirs" || got.ArchivedAt != nil || len(cs) != 1 {
			return fmt.Errorf("their client changed: %+v, %d contacts", got, len(cs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(loadContacts(t, app, org, mine.ID)) != 1 {
		t.Fatal("my contact was removed")
	}
	// And their name never shows on my list.
	if strings.Contains(c.Get("/o/"+org.Slug+"/clients").Body, "Theirs") {
		t.Fatal("another organization's client is listed")
	}
}

func TestClientsContacts(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	cl := app.F.Client(org, "Contacts Ltd")
	clientURL := "/o/" + org.Slug + "/clients/" + cl.ID.String()

	// Without htmx: redirect back to the client, flash.
	res := c.PostForm(clientURL+"/contacts", url.Values{"name": {"Ada Byron"}, "email": {"ADA@Contacts.Example"}, "title": {"CFO"}, "phone": {"+1 555 0101"}})
	res.AssertStatus(http.StatusSeeOther)
	if res.Location() != clientURL+"#contacts" {
		t.Fatalf("redirect = %q", res.Location())
	}
	cs := loadContacts(t, app, org, cl.ID)
	if len(cs) != 1 || cs[0].Name != "Ada Byron" || cs[0].Email != "ada@contacts.example" || cs[0].Title != "CFO" {
		t.Fatalf("contacts = %+v", cs)
	}
	evs := clientAudit(t, app, org, audit.ContactAdded)
	if len(evs) != 1 || evs[0].TargetID != cl.ID.String() || *evs[0].ActorUserID != owner.ID || !strings.Contains(evs[0].Summary, "Ada Byron") {
		t.Fatalf("contact audit = %+v", evs)
	}

	// With htmx: the contacts card, updated.
	frag := c.HTMX(http.MethodPost, clientURL+"/contacts", url.Values{"name": {"Charles Babbage"}}).AssertStatus(http.StatusOK)
	if strings.Contains(frag.Body, "<html") || frag.Count("section#contacts [data-testid=contact]") != 2 {
		t.Fatalf("htmx add should answer the updated card:\n%.800s", frag.Body)
	}
	if !strings.Contains(frag.Text("[data-testid=contacts-notice]"), "Charles Babbage was added") || frag.Attr("#contacts input[name=name]", "value") != "" {
		t.Fatal("card should confirm and clear the form")
	}
	if got := c.Get("/o/" + org.Slug + "/clients").Text("[data-testid=contacts-count]"); got != "2" {
		t.Fatalf("list contacts count = %q", got)
	}

	// Remove with htmx: the card without the contact, an audit row.
	cs = loadContacts(t, app, org, cl.ID)
	var babbage db.ClientContact
	for _, ct := range cs {
		if ct.Name == "Charles Babbage" {
			babbage = ct
		}
	}
	show := c.Get(clientURL)
	delURL := clientURL + "/contacts/" + babbage.ID.String() + "/delete"
	if show.Count(`form[action="`+delURL+`"] [data-confirm]`) != 1 {
		t.Fatal("remove button missing or unconfirmed")
	}
	frag = c.HTMX(http.MethodPost, delURL, nil).AssertStatus(http.StatusOK)
	if frag.Count("[data-testid=contact]") != 1 || strings.Contains(frag.Text("[data-testid=contact-name]"), "Babbage") {
		t.Fatalf("after remove: %q", frag.Text("[data-testid=contact-name]"))
	}
	evs = clientAudit(t, app, org, audit.ContactRemoved)
	if len(evs) != 1 || !strings.Contains(evs[0].Summary, "Charles Babbage") || evs[0].TargetID != cl.ID.String() {
		t.Fatalf("removed audit = %+v", evs)
	}
	// Removing it again: 404, no audit row.
	c.PostForm(delURL, nil).AssertStatus(http.StatusNotFound)
	if n := len(clientAudit(t, app, org, audit.ContactRemoved)); n != 1 {
		t.Fatalf("removed audit events = %d", n)
	}
	// Without htmx: redirect.
	c.PostForm(clientURL+"/contacts/"+cs[0].ID.String()+"/delete", nil).AssertStatus(http.StatusSeeOther)
	if n := len(loadContacts(t, app, org, cl.ID)); n != 0 {
		t.Fatalf("contacts left = %d", n)
	}
}

// The authenticated list of 50 clients costs at most 4 SQL round trips
// (issue 2's budget); it uses 2: the session load with the membership check
// and the transaction's start, then the list query with the commit.
func TestClientsListRoundTrips(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	makeClients(t, app, org, "Bench", 50, true)
	for _, path := range []string{"/o/" + org.Slug + "/clients", "/o/" + org.Slug + "/clients?q=bench&page=1"} {
		res := c.Get(path).AssertStatus(http.StatusOK)
		if n := res.Count("[data-testid=client-row]"); n != 50 {
			t.Fatalf("rows = %d, want 50", n)
		}
		if res.Text("[data-testid=contacts-count]") != strings.Repeat("1", 50) {
			t.Fatal("contacts counts wrong")
		}
		hdr := res.Header.Get("X-Debug-SQL-Roundtrips")
		n, err := strconv.Atoi(hdr)
		if err != nil {
			t.Fatalf("X-Debug-SQL-Roundtrips = %q", hdr)
		}
		t.Logf("%s: %d round trips", path, n)
		if n > 4 {
			t.Fatalf("%s: %d SQL round trips, want at most 4", path, n)
		}
	}
}
