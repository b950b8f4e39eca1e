package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/handlers/api"
	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/requests"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// requestFixture makes a submitted request in org (the route matrix
// accepts, rejects and cancels it): its id.
func requestFixture(t *testing.T, app *testApp, org db.Organization, owner db.User) string {
	t.Helper()
	ctx := context.Background()
	staff := requests.Staff(org.ID, owner.ID, owner.Email, owner.Name)
	client := app.F.Client(org, "")
	r, err := app.Reqs.Create(ctx, staff, requests.Input{ClientID: client.ID, Title: testutil.Unique("Fixture request "),
		DueOn: time.Now().AddDate(0, 0, 7), Items: []string{"Fixture item"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Reqs.Upload(ctx, staff, r.ID, nil, "fixture.txt", strings.NewReader("fixture "+testutil.Unique(""))); err != nil {
		t.Fatal(err)
	}
	return r.ID.String()
}

// portalUser links a new client user to client, as the portal does, and
// returns the actor the portal would build for them.
func portalUser(t *testing.T, app *testApp, org db.Organization, client db.Client) (requests.Actor, db.User) {
	t.Helper()
	u := app.F.User("")
	app.F.Member(org, u, tenant.RoleClient)
	err := rawInOrg(app, org.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO client_portal_links (organization_id, client_id, user_id) VALUES ($1, $2, $3)`, org.ID, client.ID, u.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return requests.ClientUser(org.ID, u.ID, u.Email, u.Name, []uuid.UUID{client.ID}), u
}

func flashText(c *testutil.Client, res *testutil.Response) string {
	return c.Follow(res).Text("[data-testid=flash]")
}

// TestRequestsFlow walks the firm's pages through a request's life: the
// form with a template, create, the client's upload (through the service,
// as the portal calls it), reject with a reason (required), upload again,
// accept; the list's filters and the client page's card.
func TestRequestsFlow(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	client := app.F.Client(org, "Acme Holdings")
	customer, customerUser := portalUser(t, app, org, client)
	base := "/o/" + org.Slug + "/requests"
	ctx := context.Background()

	// The client page has the card and the button.
	page := c.Get("/o/" + org.Slug + "/clients/" + client.ID.String()).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=client-requests]") != 1 || page.Count("[data-testid=client-requests-empty]") != 1 {
		t.Fatalf("client page has no empty requests card:\n%.2000s", page.Body)
	}
	newURL := page.Attr("[data-testid=client-request-documents]", "href")
	form := c.Get(newURL).AssertStatus(http.StatusOK)
	if form.Attr("#f-client_id option[selected]", "value") != client.ID.String() {
		t.Fatalf("the form does not preselect the client: %q", form.Attr("#f-client_id option[selected]", "value"))
	}
	// A template reloads the form with its items, keeping the client.
	tmpl := c.Get(base + "/new?" + url.Values{"template": {"bank-statements"}, "client_id": {client.ID.String()}, "due_on": {"2099-01-01"}}.Encode()).AssertStatus(http.StatusOK)
	if !strings.HasPrefix(tmpl.Attr("#f-title", "value"), "Bank statements for Q") || tmpl.Find("[data-testid=item-input]").First().AttrOr("value", "") == "" {
		t.Fatalf("template not applied:\n%.3000s", tmpl.Body)
	}
	if tmpl.Attr("#f-client_id option[selected]", "value") != client.ID.String() || tmpl.Attr("#f-due_on", "value") != "2099-01-01" {
		t.Fatal("the template reload lost what was typed")
	}

	due := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	res := c.PostForm(base, url.Values{"client_id": {client.ID.String()}, "title": {"Bank statements for Q1"}, "instructions": {"PDF please."},
		"due_on": {due}, "items": {"January", "", "February"}, "reminders": {"1"}})
	res.AssertStatus(http.StatusSeeOther)
	if got := flashText(c, res); got != "The request was sent to Acme Holdings." {
		t.Fatalf("flash %q", got)
	}
	reqURL := res.Location()
	id := uuid.MustParse(strings.TrimPrefix(reqURL, base+"/"))
	show := c.Get(reqURL).AssertStatus(http.StatusOK)
	if show.Text("[data-testid=request-status]") != "Waiting for client" || show.Count("[data-testid=request-item]") != 2 ||
		show.Count("[data-testid=review]") != 0 || show.Count("[data-testid=cancel-form]") != 1 {
		t.Fatalf("open request page:\n%.3000s", show.Body)
	}
	if m := app.lastEmail(client.Email); !strings.Contains(m.Subject, "asks you for documents") {
		t.Fatalf("client e-mail %q", m.Subject)
	}

	// The client uploads (the portal's call).
	d, err := app.Reqs.Get(ctx, org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := app.Reqs.Upload(ctx, customer, id, &d.Items[0].ID, "january.pdf", bytes.NewReader(pdfBytes))
	if err != nil || !sub.Submitted {
		t.Fatalf("client upload %+v %v", sub, err)
	}
	if m := app.lastEmail(owner.Email); !strings.Contains(m.Subject, "Acme Holdings submitted documents") {
		t.Fatalf("staff e-mail %q", m.Subject)
	}
	show = c.Get(reqURL).AssertStatus(http.StatusOK)
	if show.Text("[data-testid=request-status]") != "Submitted for review" || show.Count("[data-testid=review]") != 1 {
		t.Fatalf("submitted request page:\n%.3000s", show.Body)
	}
	link := show.Attr("[data-testid=request-item] [data-testid=upload-link]", "href")
	if link != "/o/"+org.Slug+"/documents/"+sub.Document.ID.String() {
		t.Fatalf("document link %q", link)
	}
	c.Get(link).AssertStatus(http.StatusOK)
	if !strings.Contains(show.Text("[data-testid=request-history]"), "by "+customerUser.Name) {
		t.Fatalf("history does not name the uploader: %q", show.Text("[data-testid=request-history]"))
	}

	// Reject: the reason is required.
	bad := c.PostForm(reqURL+"/reject", url.Values{"reason": {"  "}}).AssertStatus(http.StatusUnprocessableEntity)
	if bad.Text("[data-testid=error-reason]") == "" {
		t.Fatalf("no reason error:\n%.3000s", bad.Body)
	}
	res = c.PostForm(reqURL+"/reject", url.Values{"reason": {"February is missing."}}).AssertStatus(http.StatusSeeOther)
	show = c.Follow(res)
	if !strings.Contains(show.Text("[data-testid=flash]"), "sent back") || show.Text("[data-testid=request-status]") != "Changes requested" ||
		!strings.Contains(show.Text("[data-testid=rejection-notice]"), "February is missing.") {
		t.Fatalf("rejected request page:\n%.3000s", show.Body)
	}
	// Accepting now is refused with a message, not an error page.
	res = c.PostForm(reqURL+"/accept", nil).AssertStatus(http.StatusSeeOther)
	if got := flashText(c, res); !strings.Contains(got, "Only a submitted request can be accepted") {
		t.Fatalf("flash %q", got)
	}

	// The client uploads again; staff accept.
	if _, err := app.Reqs.Upload(ctx, customer, id, &d.Items[1].ID, "february.pdf", bytes.NewReader(append(bytes.Clone(pdfBytes), '\n'))); err != nil {
		t.Fatal(err)
	}
	res = c.PostForm(reqURL+"/accept", nil).AssertStatus(http.StatusSeeOther)
	show = c.Follow(res)
	if show.Text("[data-testid=request-status]") != "Accepted" || show.Count("[data-testid=request-upload]") != 2 ||
		show.Count("[data-testid=review]") != 0 || show.Count("[data-testid=cancel-form]") != 0 || show.Count("[data-testid=request-upload-card]") != 0 {
		t.Fatalf("accepted request page:\n%.3000s", show.Body)
	}
	if m := app.lastEmail(client.Email); !strings.Contains(m.Subject, "Received, thank you") {
		t.Fatalf("client e-mail %q", m.Subject)
	}
	for action, n := range map[string]int{audit.RequestCreated: 1, audit.RequestSubmitted: 2, audit.RequestRejected: 1, audit.RequestAccepted: 1} {
		if got := app.apiAuditCount(&org, action); got != n {
			t.Errorf("audit %s: %d, want %d", action, got, n)
		}
	}

	// The list: active by default (empty now), accepted on request, and
	// the HTMX filter gets only the results.
	list := c.Get(base).AssertStatus(http.StatusOK)
	if list.Count("[data-testid=request-row]") != 0 || list.Count("[data-testid=empty-state]") != 1 {
		t.Fatalf("active list:\n%.2000s", list.Body)
	}
	list = c.Get(base + "?status=accepted").AssertStatus(http.StatusOK)
	if list.Count("[data-testid=request-row]") != 1 || list.Text("[data-testid=request-link]") != "Bank statements for Q1" {
		t.Fatalf("accepted list:\n%.2000s", list.Body)
	}
	req := c.NewRequest(http.MethodGet, base+"?status=all&client="+client.ID.String(), nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "requests-results")
	frag := c.Do(req).AssertStatus(http.StatusOK)
	if frag.Count("[data-testid=request-row]") != 1 || strings.Contains(frag.Body, "<html") {
		t.Fatalf("fragment:\n%.2000s", frag.Body)
	}
	// The client page's card counts active requests only, and links to all.
	page = c.Get("/o/" + org.Slug + "/clients/" + client.ID.String()).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=client-request]") != 0 || !strings.Contains(page.Attr("[data-testid=client-requests-all]", "href"), "status=all") {
		t.Fatalf("client card after acceptance:\n%.2000s", page.Body)
	}
}

// TestRequestsOverdueAndCancel: the overdue filter and badge (moved clock),
// cancelling with a reason.
func TestRequestsOverdueAndCancel(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	client := app.F.Client(org, "Late Ltd")
	staff := requests.Staff(org.ID, owner.ID, owner.Email, owner.Name)
	ctx := context.Background()
	late, err := app.Reqs.Create(ctx, staff, requests.Input{ClientID: client.ID, Title: "Late one", DueOn: time.Now().AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Reqs.Create(ctx, staff, requests.Input{ClientID: client.ID, Title: "On time", DueOn: time.Now().AddDate(0, 0, 30)}); err != nil {
		t.Fatal(err)
	}
	app.Reqs.Clock = func() time.Time { return time.Now().AddDate(0, 0, 5) }
	base := "/o/" + org.Slug + "/requests"
	list := c.Get(base + "?overdue=1").AssertStatus(http.StatusOK)
	if list.Count("[data-testid=request-row]") != 1 || list.Text("[data-testid=request-link]") != "Late one" || list.Count("[data-testid=request-overdue]") != 1 {
		t.Fatalf("overdue list:\n%.2000s", list.Body)
	}
	res := c.PostForm(base+"/"+late.ID.String()+"/cancel", url.Values{"reason": {"Found them."}}).AssertStatus(http.StatusSeeOther)
	show := c.Follow(res)
	if show.Text("[data-testid=request-status]") != "Cancelled" || !strings.Contains(show.Text("[data-testid=cancel-notice]"), "Found them.") {
		t.Fatalf("cancelled page:\n%.2000s", show.Body)
	}
	if c.Get(base+"?overdue=1").Count("[data-testid=request-row]") != 0 {
		t.Fatal("a cancelled request is still overdue")
	}
	// Cancelling twice: a message.
	res = c.PostForm(base+"/"+late.ID.String()+"/cancel", nil).AssertStatus(http.StatusSeeOther)
	if got := flashText(c, res); !strings.Contains(got, "already cancelled") {
		t.Fatalf("flash %q", got)
	}
}

// TestRequestsFormValidation: the form comes back (422) with each field's
// error; nothing is created.
func TestRequestsFormValidation(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	_, _, otherOrg := app.owner()
	foreign := app.F.Client(otherOrg, "")
	base := "/o/" + org.Slug + "/requests"
	cases := []struct {
		name  string
		vals  url.Values
		field string
	}{
		{"no client", url.Values{"title": {"T"}, "due_on": {"2099-01-01"}}, "client_id"},
		{"another firm's client", url.Values{"client_id": {foreign.ID.String()}, "title": {"T"}, "due_on": {time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}}, "client_id"},
		{"no title", url.Values{"client_id": {foreign.ID.String()}, "due_on": {"2099-01-01"}}, "title"},
		{"past due date", url.Values{"title": {"T"}, "due_on": {"2020-01-01"}}, "due_on"},
		{"not a date", url.Values{"title": {"T"}, "due_on": {"next week"}}, "due_on"},
		{"no due date", url.Values{"title": {"T"}}, "due_on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.PostForm(base, tc.vals).AssertStatus(http.StatusUnprocessableEntity)
			if res.Text("[data-testid=error-"+tc.field+"]") == "" {
				t.Fatalf("no error on %s:\n%.3000s", tc.field, res.Body)
			}
			if res.Attr("#f-title", "value") != tc.vals.Get("title") {
				t.Fatal("the form lost the typed title")
			}
		})
	}
	if n := app.apiAuditCount(&org, audit.RequestCreated); n != 0 {
		t.Fatalf("%d requests created from bad input", n)
	}
	// Another organization's request: 404 on every page.
	ownerB := app.F.User("")
	orgB := app.F.Org(ownerB, "")
	idB := requestFixture(t, app, orgB, ownerB)
	for _, p := range []string{base + "/" + idB, base + "/not-an-id"} {
		if res := c.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	if res := c.PostForm(base+"/"+idB+"/accept", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("accept another organization's request: %d", res.StatusCode)
	}
}

// TestRequestsStaffUpload: staff upload on the client's behalf, with the
// page's uploader (JSON, one file) and without JavaScript (several files);
// a refused file; a closed request refuses before reading.
func TestRequestsStaffUpload(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	client := app.F.Client(org, "Paper Ltd")
	staff := requests.Staff(org.ID, owner.ID, owner.Email, owner.Name)
	ctx := context.Background()
	r, err := app.Reqs.Create(ctx, staff, requests.Input{ClientID: client.ID, Title: "Receipts", DueOn: time.Now().AddDate(0, 0, 3), Items: []string{"Receipts"}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := app.Reqs.Get(ctx, org.ID, r.ID)
	path := "/o/" + org.Slug + "/requests/" + r.ID.String() + "/uploads"

	doc := uploadedDocument(t, postFiles(c, path, map[string]string{"item_id": d.Items[0].ID.String()}, "", true, upload{"scan.pdf", pdfBytes}))
	if !strings.HasPrefix(doc.URL, "/o/"+org.Slug+"/documents/") {
		t.Fatalf("uploaded %+v", doc)
	}
	if got := uploadError(t, postFiles(c, path, nil, "", true, upload{"tool.exe", exeBytes}), http.StatusUnprocessableEntity); got == "" {
		t.Fatal("no refusal message")
	}
	res := postFiles(c, path, nil, "", false, upload{"a.txt", []byte("first note")}, upload{"b.txt", []byte("second note")}).AssertStatus(http.StatusSeeOther)
	if got := flashText(c, res); got != "2 documents were uploaded to the request." {
		t.Fatalf("flash %q", got)
	}
	d, _ = app.Reqs.Get(ctx, org.ID, r.ID)
	if d.Request.Status != requests.StatusSubmitted || len(d.Uploads) != 3 || len(d.ItemUploads(&d.Items[0].ID)) != 1 {
		t.Fatalf("after staff uploads: %s, %d uploads", d.Request.Status, len(d.Uploads))
	}
	// A bad item id is refused.
	if got := uploadError(t, postFiles(c, path, map[string]string{"item_id": uuid.NewString()}, "", true, upload{"c.txt", []byte("third")}), http.StatusUnprocessableEntity); !strings.Contains(got, "item") {
		t.Fatalf("foreign item: %q", got)
	}
	if _, err := app.Reqs.Accept(ctx, staff, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := uploadError(t, postFiles(c, path, nil, "", true, upload{"late.txt", []byte("late")}), http.StatusConflict); !strings.Contains(got, "no more documents") {
		t.Fatalf("closed request: %q", got)
	}
}

// TestAPIRequests: create (201), validation (400 with details), list with
// filters and cursor pages, get, reject without a reason (400), a state
// conflict (409), the lifecycle, another organization (404) and a role
// without the permission (403). Every answer is checked against the
// OpenAPI document.
func TestAPIRequests(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	client := app.F.Client(org, "Acme Holdings")
	customer, _ := portalUser(t, app, org, client)
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug + "/requests"
	ctx := context.Background()
	due := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)

	var created api.DocumentRequestDetails
	c.do(http.MethodPost, base, map[string]any{"client_id": client.ID, "title": "Bank statements", "due_date": due,
		"items": []string{"January", "February"}}).expect(http.StatusCreated).into(&created)
	if created.Status != "open" || created.DueDate != due || len(created.Items) != 2 || !created.Reminders || created.ClientName != "Acme Holdings" ||
		len(created.Events) != 1 || created.Events[0].Kind != "created" {
		t.Fatalf("created %+v", created)
	}

	_, _, otherOrg := app.owner()
	foreign := app.F.Client(otherOrg, "")
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"no title":        {map[string]any{"client_id": client.ID, "due_date": due}, "title"},
		"past due date":   {map[string]any{"client_id": client.ID, "title": "T", "due_date": "2020-01-01"}, "due_date"},
		"bad date":        {map[string]any{"client_id": client.ID, "title": "T", "due_date": "31/01/2030"}, "due_date"},
		"bad client id":   {map[string]any{"client_id": "nope", "title": "T", "due_date": due}, "client_id"},
		"foreign client":  {map[string]any{"client_id": foreign.ID, "title": "T", "due_date": due}, "client_id"},
		"too many items":  {map[string]any{"client_id": client.ID, "title": "T", "due_date": due, "items": strings.Split(strings.Repeat("x,", 20)+"x", ",")}, "items"},
		"unknown field":   {map[string]any{"client_id": client.ID, "title": "T", "due_date": due, "owner": "x"}, "owner"},
		"wrong type":      {map[string]any{"client_id": client.ID, "title": 5, "due_date": due}, "title"},
		"no client given": {map[string]any{"title": "T", "due_date": due}, "client_id"},
	} {
		t.Run(name, func(t *testing.T) {
			res := c.do(http.MethodPost, base, tc.body).expect(http.StatusBadRequest)
			if tc.field != "" && res.Env.Details[tc.field] == "" {
				t.Fatalf("no detail for %s: %s", tc.field, res.Body)
			}
		})
	}

	// More requests for the list: five more, due later.
	for i := range 5 {
		c.do(http.MethodPost, base, map[string]any{"client_id": client.ID, "title": "Extra", "due_date": time.Now().AddDate(0, 0, 20+i).Format(time.DateOnly),
			"reminders": false}).expect(http.StatusCreated)
	}
	var all []api.DocumentRequest
	next := base + "?limit=2"
	for range 10 {
		var page api.Page[api.DocumentRequest]
		c.get(next).expect(http.StatusOK).into(&page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			break
		}
		next = base + "?limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(all) != 6 || all[0].ID != created.ID || all[0].ItemCount != 2 {
		t.Fatalf("listed %d requests, first %+v", len(all), all[0])
	}
	c.get(base + "?cursor=garbage").expect(http.StatusBadRequest)
	c.get(base + "?status=lost").expect(http.StatusBadRequest)
	c.get(base + "?overdue=maybe").expect(http.StatusBadRequest)
	var overdue api.Page[api.DocumentRequest]
	c.get(base + "?overdue=true&client_id=" + client.ID.String()).expect(http.StatusOK).into(&overdue)
	if len(overdue.Items) != 0 {
		t.Fatalf("overdue %+v", overdue.Items)
	}

	one := base + "/" + created.ID.String()
	c.do(http.MethodPost, one+"/accept", nil).expect(http.StatusConflict) // open, not submitted
	if _, err := app.Reqs.Upload(ctx, customer, created.ID, &created.Items[0].ID, "jan.pdf", bytes.NewReader(pdfBytes)); err != nil {
		t.Fatal(err)
	}
	var got api.DocumentRequestDetails
	c.get(one).expect(http.StatusOK).into(&got)
	if got.Status != "submitted" || len(got.Documents) != 1 || got.Documents[0].ItemID == nil || *got.Documents[0].ItemID != created.Items[0].ID {
		t.Fatalf("after the client's upload %+v", got)
	}
	// The document is reachable through the documents API.
	c.get("/api/v1/orgs/" + org.Slug + "/documents/" + got.Documents[0].DocumentID.String()).expect(http.StatusOK)

	res := c.do(http.MethodPost, one+"/reject", map[string]any{}).expect(http.StatusBadRequest)
	if res.Env.Details["reason"] == "" {
		t.Fatalf("no reason detail: %s", res.Body)
	}
	c.do(http.MethodPost, one+"/reject", nil).expect(http.StatusBadRequest)
	c.do(http.MethodPost, one+"/reject", map[string]any{"reason": "February too, please."}).expect(http.StatusOK).into(&got)
	if got.Status != "rejected" || got.RejectionReason != "February too, please." {
		t.Fatalf("rejected %+v", got)
	}
	if _, err := app.Reqs.Upload(ctx, customer, created.ID, &created.Items[1].ID, "feb.pdf", bytes.NewReader(append(bytes.Clone(pdfBytes), ' '))); err != nil {
		t.Fatal(err)
	}
	c.do(http.MethodPost, one+"/accept", nil).expect(http.StatusOK).into(&got)
	if got.Status != "accepted" || got.ClosedAt == nil || got.DocumentCount != 2 {
		t.Fatalf("accepted %+v", got)
	}
	c.do(http.MethodPost, one+"/cancel", nil).expect(http.StatusConflict)
	// Cancel another, with and without a body.
	c.do(http.MethodPost, base+"/"+all[1].ID.String()+"/cancel", map[string]any{"reason": "Not needed."}).expect(http.StatusOK).into(&got)
	if got.Status != "cancelled" || got.CancelReason != "Not needed." {
		t.Fatalf("cancelled %+v", got)
	}
	c.do(http.MethodPost, base+"/"+all[2].ID.String()+"/cancel", nil).expect(http.StatusOK)

	// Another organization's token: 404 for this organization's request
	// under its own slug; a role without documents.* : 403.
	ownerB := app.F.User("")
	orgB := app.F.Org(ownerB, "")
	tokB, _ := app.pat(ownerB, orgB, tenant.RoleOwner, nil)
	cb := c.with(tokB)
	cb.get("/api/v1/orgs/" + orgB.Slug + "/requests/" + created.ID.String()).expect(http.StatusNotFound)
	cb.do(http.MethodPost, "/api/v1/orgs/"+orgB.Slug+"/requests/"+created.ID.String()+"/accept", nil).expect(http.StatusNotFound)
	cb.get(base).expect(http.StatusNotFound)
	cb.get("/api/v1/orgs/" + orgB.Slug + "/requests/not-an-id").expect(http.StatusNotFound)
	reader := app.F.User("")
	app.F.Member(org, reader, tenant.RoleClient)
	tokR, _ := app.pat(reader, org, tenant.RoleClient, nil)
	c.with(tokR).get(base).expect(http.StatusForbidden)
	c.with(tokR).do(http.MethodPost, base, map[string]any{"client_id": client.ID, "title": "T", "due_date": due}).expect(http.StatusForbidden)
}
