package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/requests"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// portalFirm is a firm with two clients, A and B, each with a client user
// linked to it, and a document of each.
type portalFirm struct {
	app            *testApp
	staff          *testutil.Client
	owner          db.User
	org            db.Organization
	a, b           db.Client
	userA, userB   db.User
	clientA        *testutil.Client
	docA, docB     db.Document
	base, clientsA string
}

func newPortalFirm(t *testing.T) *portalFirm {
	t.Helper()
	app := newTestApp(t)
	staff, owner, org := app.owner()
	p := &portalFirm{app: app, staff: staff, owner: owner, org: org, base: "/o/" + org.Slug + "/portal"}
	p.a, p.b = app.F.Client(org, "Alpha Trading Ltd"), app.F.Client(org, "Beta Holdings Ltd")
	p.clientsA = "/o/" + org.Slug + "/clients/" + p.a.ID.String()
	p.userA, p.userB = p.linkedUser(t, p.a), p.linkedUser(t, p.b)
	p.clientA = app.client()
	app.login(p.clientA, p.userA.Email)
	p.docA = p.staffUpload(t, p.a, "alpha-bank.csv", "date,amount\n2026-01-02,10.00\n")
	p.docB = p.staffUpload(t, p.b, "beta-bank.csv", "date,amount\n2026-01-03,99.00\n")
	return p
}

func (p *portalFirm) portalSvc() *portal.Service {
	return &portal.Service{Store: p.app.Store, Docs: p.app.Docs, Orgs: &tenant.Service{Store: p.app.Store, BaseURL: p.app.Config.BaseURL}, BaseURL: p.app.Config.BaseURL}
}

func (p *portalFirm) linkedUser(t *testing.T, c db.Client) db.User {
	t.Helper()
	u := p.app.F.User("")
	p.app.F.Member(p.org, u, tenant.RoleClient)
	staff := portal.Actor{OrgID: p.org.ID, OrgSlug: p.org.Slug, OrgName: p.org.Name, UserID: p.owner.ID, Email: p.owner.Email}
	if _, err := p.portalSvc().Link(context.Background(), staff, c.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func (p *portalFirm) staffUpload(t *testing.T, c db.Client, name, content string) db.Document {
	t.Helper()
	d, err := p.app.Docs.Upload(context.Background(), documents.Actor{OrgID: p.org.ID, UserID: p.owner.ID, Email: p.owner.Email},
		documents.UploadInput{Filename: name, Content: strings.NewReader(content), Placement: documents.Placement{ClientID: &c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (p *portalFirm) request(t *testing.T, c db.Client, title string, items ...string) requests.Request {
	t.Helper()
	r, err := p.app.Reqs.Create(context.Background(), requests.Staff(p.org.ID, p.owner.ID, p.owner.Email, p.owner.Name),
		requests.Input{ClientID: c.ID, Title: title, DueOn: time.Now().AddDate(0, 0, 10), Items: items})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPortalSignInLandsInPortal: a client user signing in lands in the
// portal; the firm's pages send them back to it; the firm's members are
// kept out of the portal.
func TestPortalSignInLandsInPortal(t *testing.T) {
	p := newPortalFirm(t)
	c := p.app.client()
	res := c.PostForm("/login", url.Values{"email": {p.userA.Email}, "password": {testutil.Password}})
	for i := 0; i < 5 && res.StatusCode == http.StatusSeeOther; i++ {
		res = c.Follow(res)
	}
	res.AssertStatus(http.StatusOK)
	if res.Count("[data-testid=portal-home]") != 1 || !strings.Contains(res.Text("[data-testid=portal-brand]"), p.org.Name) {
		t.Fatalf("after login the client user is not in the portal:\n%.1500s", res.Body)
	}
	if got := res.Text("[data-testid=home-clients]"); !strings.Contains(got, "Alpha Trading Ltd") || strings.Contains(got, "Beta") {
		t.Fatalf("home shows clients %q", got)
	}
	if res.Count("nav.nav") != 0 || res.Count("[data-testid=portal-nav-documents]") != 1 {
		t.Fatal("the portal shows the firm's sidebar, or lacks its own navigation")
	}

	// A firm page sends the client user to the portal, with a word why.
	res = c.Get("/o/" + p.org.Slug + "/clients")
	if res.StatusCode != http.StatusSeeOther || res.Location() != p.base {
		t.Fatalf("client user on the client list: %d %q", res.StatusCode, res.Location())
	}
	if flash := c.Follow(res).Text("[data-testid=flash]"); !strings.Contains(flash, "team") {
		t.Fatalf("flash %q", flash)
	}
	if res := c.PostForm("/o/"+p.org.Slug+"/clients", url.Values{"name": {"Sneaky"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("client user creating a client: %d", res.StatusCode)
	}

	// Staff in the portal go back to the dashboard.
	res = p.staff.Get(p.base)
	if res.StatusCode != http.StatusSeeOther || res.Location() != "/o/"+p.org.Slug {
		t.Fatalf("staff in the portal: %d %q", res.StatusCode, res.Location())
	}
	if res := p.staff.PostForm(p.base+"/kyc/"+p.a.ID.String()+"/submit", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("staff posting to the portal: %d", res.StatusCode)
	}
}

// TestPortalClientSeesNothingOfAnotherClient: a client user of client A
// gets 404 for everything of client B: documents, downloads, statuses,
// filters, uploads, requests and identity checks.
func TestPortalClientSeesNothingOfAnotherClient(t *testing.T) {
	p := newPortalFirm(t)
	c := p.clientA
	reqB := p.request(t, p.b, "Beta's bank statements", "January")
	reqA := p.request(t, p.a, "Alpha's bank statements", "January")
	// B's user has an identity document: A's user must not reach it either.
	kdB, err := p.portalSvc().AddKYCDocument(context.Background(), portal.Actor{OrgID: p.org.ID, UserID: p.userB.ID, Email: p.userB.Email},
		p.b.ID, "passport", "beta-passport.txt", strings.NewReader("passport of B"))
	if err != nil {
		t.Fatal(err)
	}

	list := c.Get(p.base + "/documents").AssertStatus(http.StatusOK)
	if !strings.Contains(list.Body, "alpha-bank.csv") || strings.Contains(list.Body, "beta-bank.csv") || strings.Contains(list.Body, "Beta") {
		t.Fatalf("document list:\n%s", list.Text("main"))
	}
	reqs := c.Get(p.base + "/requests").AssertStatus(http.StatusOK)
	if !strings.Contains(reqs.Body, "Alpha&#39;s bank statements") && !strings.Contains(reqs.Body, "Alpha's bank statements") || strings.Contains(reqs.Body, "Beta") {
		t.Fatalf("request list:\n%s", reqs.Text("main"))
	}
	for _, path := range []string{
		p.base + "/documents/" + p.docB.ID.String() + "/download",
		p.base + "/documents/" + p.docB.ID.String() + "/status",
		p.base + "/documents/" + kdB.DocumentID.String() + "/download",
		p.base + "/documents/" + uuid.NewString() + "/download",
		p.base + "/documents?client=" + p.b.ID.String(),
		p.base + "/requests/" + reqB.ID.String(),
	} {
		if res := c.Get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	for _, path := range []string{
		p.base + "/kyc/" + p.b.ID.String() + "/submit",
		p.base + "/kyc/" + p.b.ID.String() + "/documents/" + kdB.ID.String() + "/delete",
	} {
		if res := c.PostForm(path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	for _, path := range []string{p.base + "/kyc/" + p.b.ID.String() + "/documents", p.base + "/requests/" + reqB.ID.String() + "/uploads"} {
		res := postFiles(c, path, map[string]string{"kind": "passport"}, "file", true, upload{"x.txt", []byte("x")})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("upload to %s: %d, want 404", path, res.StatusCode)
		}
	}
	res := postFiles(c, p.base+"/documents", map[string]string{"client_id": p.b.ID.String()}, "", true, upload{"x.txt", []byte("x")})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("upload with client B: %d, want 404", res.StatusCode)
	}
	var n int
	if err := p.app.Store.InOrg(context.Background(), p.org.ID, func(q *db.Queries) error {
		page, err := q.ListClientDocuments(context.Background(), db.ListClientDocumentsParams{OrganizationID: p.org.ID, ClientID: &p.b.ID, MaxRows: 50})
		n = len(page)
		return err
	}); err != nil || n != 2 {
		t.Fatalf("client B has %d documents (%v), want its own 2: nothing was added by A's user", n, err)
	}

	// Their own: the download works, as an attachment, and is audited.
	res = c.Get(p.base + "/documents/" + p.docA.ID.String() + "/download").AssertStatus(http.StatusOK)
	if !strings.Contains(res.Body, "2026-01-02,10.00") || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %q %v", res.Body, res.Header)
	}
	c.Get(p.base + "/requests/" + reqA.ID.String()).AssertStatus(http.StatusOK)
	c.Get(p.base + "/documents/" + p.docA.ID.String() + "/status").AssertStatus(http.StatusOK)
}

// TestPortalUploadAndStatus: the uploader stores files for the client,
// tagged, with their processing status shown and updated; refusals say
// why; without JavaScript the form still works.
func TestPortalUploadAndStatus(t *testing.T) {
	p := newPortalFirm(t)
	c := p.clientA
	res := postFiles(c, p.base+"/documents", nil, "", true, upload{"receipts.txt", []byte("taxi 12.50\nhotel 99.00\n")})
	doc := uploadedDocument(t, res)
	if doc.Status != documents.StatusQueued || !strings.HasPrefix(doc.URL, p.base+"/documents/") {
		t.Fatalf("uploaded: %+v", doc)
	}
	list := c.Get(p.base + "/documents").AssertStatus(http.StatusOK)
	if list.Count("[data-testid=portal-document-row]") != 2 || !strings.Contains(list.Text("[data-testid=portal-document-table]"), "Uploaded by you") {
		t.Fatalf("list after upload:\n%s", list.Text("main"))
	}
	if list.Attr("[data-status-pending=true]", "hx-get") == "" || !strings.Contains(list.Text("[data-testid=parse-status]"), "Waiting to be processed") {
		t.Fatal("a queued document's badge does not poll its status")
	}
	p.app.workJobs(nil, false)
	badge := c.Get(p.base + "/documents/" + doc.ID + "/status").AssertStatus(http.StatusOK)
	if !strings.Contains(badge.Body, "Processed") || strings.Contains(badge.Body, "hx-get") {
		t.Fatalf("status after parsing: %s", badge.Body)
	}
	// The firm sees it as the client's, tagged as from the portal.
	var got db.GetDocumentRow
	if err := p.app.Store.InOrg(context.Background(), p.org.ID, func(q *db.Queries) error {
		var err error
		got, err = q.GetDocument(context.Background(), db.GetDocumentParams{OrganizationID: p.org.ID, ID: uuid.MustParse(doc.ID)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got.ClientID == nil || *got.ClientID != p.a.ID || len(got.Tags) != 1 || got.Tags[0] != portal.UploadTag {
		t.Fatalf("stored document: client %v tags %v", got.ClientID, got.Tags)
	}

	// Refusals answer why.
	res = postFiles(c, p.base+"/documents", nil, "", true, upload{"setup.pdf", exeBytes})
	var out uploadJSON
	_ = json.Unmarshal([]byte(res.Body), &out)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "not a file type we accept") {
		t.Fatalf("refused upload: %d %q", res.StatusCode, res.Body)
	}
	if res := c.PostForm(p.base+"/documents", url.Values{"x": {"y"}}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose at least one file") {
		t.Fatalf("post without files: %d", res.StatusCode)
	}
	if res := postFiles(c, p.base+"/documents", map[string]string{"client_id": "not-an-id"}, "", true, upload{"a.txt", []byte("a")}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed client id: %d, want 400", res.StatusCode)
	}
	// Without JavaScript: a redirect with a flash.
	res = postFiles(c, p.base+"/documents", nil, "", false, upload{"more.txt", []byte("more")})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(c.Follow(res).Text("[data-testid=flash]"), "more.txt was uploaded") {
		t.Fatalf("plain upload: %d", res.StatusCode)
	}

	// A user of two clients must say which.
	staff := portal.Actor{OrgID: p.org.ID, UserID: p.owner.ID, Email: p.owner.Email}
	if _, err := p.portalSvc().Link(context.Background(), staff, p.b.ID, p.userA.ID); err != nil {
		t.Fatal(err)
	}
	res = postFiles(c, p.base+"/documents", nil, "", true, upload{"which.txt", []byte("which")})
	_ = json.Unmarshal([]byte(res.Body), &out)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "Choose which client") {
		t.Fatalf("upload without a client when linked to two: %d %q", res.StatusCode, res.Body)
	}
	page := c.Get(p.base + "/documents").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=portal-upload] select[name=client_id] option") != 3 {
		t.Fatalf("the uploader offers no client choice:\n%s", page.Text("[data-testid=portal-upload]"))
	}
	uploadedDocument(t, postFiles(c, p.base+"/documents", map[string]string{"client_id": p.b.ID.String()}, "", true, upload{"for-b.txt", []byte("for b")}))
}

// TestPortalKYCReview walks an identity check through the portal and the
// client page: upload, submit, reject with a reason (required), upload
// again, submit, verify; with the state refusals (409) on the way.
func TestPortalKYCReview(t *testing.T) {
	p := newPortalFirm(t)
	c := p.clientA
	kyc := p.base + "/kyc/" + p.a.ID.String()

	res := postFiles(c, kyc+"/documents", map[string]string{"kind": "selfie"}, "file", true, upload{"me.txt", []byte("me")})
	var out uploadJSON
	_ = json.Unmarshal([]byte(res.Body), &out)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "kind of document") {
		t.Fatalf("unknown kind: %d %q", res.StatusCode, res.Body)
	}
	if res := c.PostForm(kyc+"/submit", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("submitting nothing: %d, want 409", res.StatusCode)
	}
	uploadedDocument(t, postFiles(c, kyc+"/documents", map[string]string{"kind": "passport"}, "file", true, upload{"passport.txt", []byte("PASSPORT 123456789")}))
	page := c.Get(p.base + "/kyc").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=kyc-document]") != 1 || page.Text("[data-testid=kyc-status]") != "Not submitted" {
		t.Fatalf("kyc page:\n%s", page.Text("main"))
	}
	// The identity document is not among the client's documents in the portal.
	if list := c.Get(p.base + "/documents"); strings.Contains(list.Body, "passport.txt") {
		t.Fatal("identity document listed among documents")
	}
	res = c.PostForm(kyc+"/submit", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(c.Follow(res).Text("[data-testid=flash]"), "sent to") {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	if res := c.PostForm(kyc+"/submit", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("submitting twice: %d, want 409", res.StatusCode)
	}
	if res := postFiles(c, kyc+"/documents", map[string]string{"kind": "other"}, "file", true, upload{"more.txt", []byte("more")}); res.StatusCode != http.StatusConflict {
		t.Fatalf("upload under review: %d, want 409", res.StatusCode)
	}
	if mail := p.app.lastEmail(p.owner.Email); !strings.Contains(mail.Subject, "Identity documents to review") {
		t.Fatalf("firm not told: %q", mail.Subject)
	}

	// The firm's client page shows the check with its document and the actions.
	cp := p.staff.Get(p.clientsA).AssertStatus(http.StatusOK)
	if cp.Text("[data-testid=portal-user-kyc]") != "Under review" || cp.Count("[data-testid=portal-user-document] a") != 1 {
		t.Fatalf("client page card:\n%s", cp.Text("[data-testid=portal-access]"))
	}
	rejectURL := cp.Attr("[data-testid=kyc-reject-form]", "action")
	verifyURL := cp.Find("[data-testid=kyc-verify]").Parent().AttrOr("action", "")
	if rejectURL == "" || verifyURL == "" {
		t.Fatal("no review forms on the client page")
	}
	res = p.staff.HTMX(http.MethodPost, rejectURL, url.Values{"reason": {" "}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Count("#portal-access") != 1 || !strings.Contains(res.Text("[data-testid=error-reason]"), "Say what is wrong") {
		t.Fatalf("reject without a reason: %d\n%s", res.StatusCode, res.Body)
	}
	if res := p.staff.PostForm(rejectURL, url.Values{"reason": {strings.Repeat("x", 1001)}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reject with a reason too long: %d", res.StatusCode)
	}
	res = p.staff.HTMX(http.MethodPost, rejectURL, url.Values{"reason": {"The passport has expired; send a current one."}})
	if res.StatusCode != http.StatusOK || res.Text("[data-testid=portal-user-kyc]") != "Needs attention" || res.Count("[data-testid=portal-notice]") != 1 {
		t.Fatalf("reject: %d\n%s", res.StatusCode, res.Body)
	}
	if res := p.staff.PostForm(verifyURL, nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("verifying a rejected check: %d, want 409", res.StatusCode)
	}
	if mail := p.app.lastEmail(p.userA.Email); !strings.Contains(mail.TextBody, "The passport has expired") {
		t.Fatalf("client not told why: %q", mail.TextBody)
	}

	// The client sees why, replaces the document and submits again.
	page = c.Get(p.base + "/kyc").AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=kyc-rejected]"), "The passport has expired") {
		t.Fatalf("rejection not shown:\n%s", page.Text("main"))
	}
	remove := page.Attr("[data-testid=kyc-remove]", "formaction")
	if remove == "" {
		remove = page.Find("[data-testid=kyc-remove]").Parent().AttrOr("action", "")
	}
	if res := c.PostForm(remove, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	uploadedDocument(t, postFiles(c, kyc+"/documents", map[string]string{"kind": "passport"}, "file", true, upload{"new-passport.txt", []byte("PASSPORT 987654321")}))
	c.PostForm(kyc+"/submit", nil).AssertStatus(http.StatusSeeOther)
	res = p.staff.PostForm(verifyURL, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Location(), "#portal-access") {
		t.Fatalf("verify: %d %q", res.StatusCode, res.Location())
	}
	if got := p.staff.Get(p.clientsA).Text("[data-testid=portal-user-kyc]"); got != "Verified" {
		t.Fatalf("client page after verification: %q", got)
	}
	if got := c.Get(p.base + "/kyc").Text("[data-testid=kyc-status]"); got != "Verified" {
		t.Fatalf("portal after verification: %q", got)
	}
	// A bad link id or another client's link: 404.
	if res := p.staff.PostForm(p.clientsA+"/portal/links/"+uuid.NewString()+"/kyc/verify", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link: %d", res.StatusCode)
	}
	bPage := "/o/" + p.org.Slug + "/clients/" + p.b.ID.String()
	linkA := strings.TrimSuffix(strings.TrimPrefix(verifyURL, p.clientsA+"/portal/links/"), "/kyc/verify")
	if res := p.staff.PostForm(bPage+"/portal/links/"+linkA+"/kyc/verify", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("A's link through B: %d", res.StatusCode)
	}
}

// TestPortalAccessCard covers the firm's side of access: invite (and the
// invitee's acceptance), link, unlink, withdraw, and the validation.
func TestPortalAccessCard(t *testing.T) {
	p := newPortalFirm(t)
	card := p.clientsA + "/portal"

	res := p.staff.HTMX(http.MethodPost, card+"/invitations", url.Values{"email": {"not an address"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Text("[data-testid=error-email]") == "" {
		t.Fatalf("bad address: %d\n%s", res.StatusCode, res.Body)
	}
	res = p.staff.HTMX(http.MethodPost, card+"/invitations", url.Values{"email": {p.owner.Email}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("[data-testid=error-email]"), "member of your team") {
		t.Fatalf("inviting staff: %d", res.StatusCode)
	}
	addr := testutil.Unique("finance") + "@alpha.example"
	res = p.staff.HTMX(http.MethodPost, card+"/invitations", url.Values{"email": {addr}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text("[data-testid=portal-notice]"), "invitation was sent") ||
		!strings.Contains(res.Text("[data-testid=portal-invitation]"), addr) {
		t.Fatalf("invite: %d\n%s", res.StatusCode, res.Body)
	}

	// The invitee accepts: a new account, straight into the portal with
	// client A.
	mail := p.app.lastEmail(addr)
	link := mail.TextBody[strings.Index(mail.TextBody, "http"):]
	link = strings.Fields(link)[0]
	u, _ := url.Parse(link)
	invitee := p.app.client()
	invitee.Follow(invitee.Get(u.RequestURI()))
	res = invitee.PostForm("/invitations/accept", url.Values{"name": {"Fiona Finance"}, "password": {"a-long-enough-password"}})
	for i := 0; i < 4 && res.StatusCode == http.StatusSeeOther; i++ {
		res = invitee.Follow(res)
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text("[data-testid=home-clients]"), "Alpha Trading Ltd") {
		t.Fatalf("invitee after accepting: %d\n%.1500s", res.StatusCode, res.Body)
	}
	cp := p.staff.Get(p.clientsA)
	if cp.Count("[data-testid=portal-user]") != 2 || cp.Count("[data-testid=portal-invitation]") != 0 {
		t.Fatalf("card after acceptance:\n%s", cp.Text("[data-testid=portal-access]"))
	}

	// Link an existing client user (B's) through the select; twice is refused.
	res = p.staff.HTMX(http.MethodPost, card+"/links", url.Values{"user_id": {"nonsense"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Text("[data-testid=error-user_id]") == "" {
		t.Fatalf("bad user: %d", res.StatusCode)
	}
	res = p.staff.HTMX(http.MethodPost, card+"/links", url.Values{"user_id": {p.owner.ID.String()}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("linking staff: %d", res.StatusCode)
	}
	res = p.staff.PostForm(card+"/links", url.Values{"user_id": {p.userB.ID.String()}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(p.staff.Follow(res).Text("[data-testid=flash]"), "Access given") {
		t.Fatalf("link: %d", res.StatusCode)
	}
	res = p.staff.PostForm(card+"/links", url.Values{"user_id": {p.userB.ID.String()}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("[data-testid=error-user_id]"), "already has access") {
		t.Fatalf("linking twice: %d", res.StatusCode)
	}
	clientB := p.app.client()
	p.app.login(clientB, p.userB.Email)
	clientB.Get(p.base + "/documents/" + p.docA.ID.String() + "/download").AssertStatus(http.StatusOK)

	// Unlink: B's user loses A at once.
	cp = p.staff.Get(p.clientsA)
	var unlink string
	cp.Find("[data-testid=portal-user]").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), p.userB.Email) {
			unlink = s.Find("[data-testid=portal-unlink]").Parent().AttrOr("action", "")
		}
	})
	res = p.staff.HTMX(http.MethodPost, unlink, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text("[data-testid=portal-notice]"), "no longer has access") {
		t.Fatalf("unlink: %d", res.StatusCode)
	}
	clientB.Get(p.base + "/documents/" + p.docA.ID.String() + "/download").AssertStatus(http.StatusNotFound)

	// Withdraw an invitation.
	p.staff.HTMX(http.MethodPost, card+"/invitations", url.Values{"email": {"second@alpha.example"}}).AssertStatus(http.StatusOK)
	cp = p.staff.Get(p.clientsA)
	revoke := cp.Find("[data-testid=portal-revoke]").Parent().AttrOr("action", "")
	res = p.staff.HTMX(http.MethodPost, revoke, nil)
	if res.StatusCode != http.StatusOK || res.Count("[data-testid=portal-invitation]") != 0 {
		t.Fatalf("withdraw: %d\n%s", res.StatusCode, res.Body)
	}

	// A member who may read clients but not change them sees the card
	// without its forms, and cannot post.
	reader := p.app.F.User("")
	role := p.app.F.CustomRole(p.org, "Reader", string(tenant.ClientsRead))
	if err := p.app.Store.InOrg(context.Background(), p.org.ID, func(q *db.Queries) error {
		_, err := q.CreateMembership(context.Background(), db.CreateMembershipParams{OrganizationID: p.org.ID, UserID: reader.ID, Role: tenant.RoleCustom, CustomRoleID: &role.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rc := p.app.client()
	p.app.login(rc, reader.Email)
	page := rc.Get(p.clientsA).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=portal-access]") != 1 || page.Count("[data-testid=portal-invite-form]") != 0 || page.Count("[data-testid=portal-unlink]") != 0 {
		t.Fatal("a reader sees the portal forms, or no card")
	}
	if res := rc.PostForm(card+"/invitations", url.Values{"email": {"x@example.test"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("reader inviting: %d", res.StatusCode)
	}
}

// TestPortalRequestUploadPerItem: the client uploads against a request's
// item in the portal; the request is submitted and shows the file under
// the item; staff accept it; a closed request takes no more.
func TestPortalRequestUploadPerItem(t *testing.T) {
	p := newPortalFirm(t)
	c := p.clientA
	r := p.request(t, p.a, "Year-end 2026", "Bank statement – December", "Payroll summary")
	home := c.Get(p.base).AssertStatus(http.StatusOK)
	if !strings.Contains(home.Text("[data-testid=home-requests]"), "Year-end 2026") {
		t.Fatalf("home lacks the open request:\n%s", home.Text("main"))
	}
	page := c.Get(p.base + "/requests/" + r.ID.String()).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=request-item]") != 3 { // two items and "anything else"
		t.Fatalf("request page:\n%s", page.Text("main"))
	}
	itemID := page.Find("[data-testid=request-item]").First().Find("input[name=item_id]").AttrOr("value", "")
	action := page.Find("[data-testid=request-item-upload] form").First().AttrOr("action", "")
	if itemID == "" || action != p.base+"/requests/"+r.ID.String()+"/uploads" {
		t.Fatalf("item uploader: item %q action %q", itemID, action)
	}
	if res := postFiles(c, action, map[string]string{"item_id": uuid.NewString()}, "", true, upload{"x.txt", []byte("x")}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown item: %d", res.StatusCode)
	}
	// Without JavaScript the page comes back with the error shown (on the
	// "Anything else" uploader, the item being unknown).
	if res := postFiles(c, action, map[string]string{"item_id": uuid.NewString()}, "", false, upload{"x.txt", []byte("x")}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "Choose one of the request") {
		t.Fatalf("unknown item without JavaScript: %d, error shown: %v", res.StatusCode, strings.Contains(res.Body, "Choose one of the request"))
	}
	uploadedDocument(t, postFiles(c, action, map[string]string{"item_id": itemID}, "", true, upload{"december.csv", []byte("date,amount\n2026-12-01,5\n")}))
	page = c.Get(p.base + "/requests/" + r.ID.String()).AssertStatus(http.StatusOK)
	first := page.Find("[data-testid=request-item]").First()
	if !strings.Contains(first.Text(), "december.csv") || page.Text("[data-testid=request-status]") != "With your firm" {
		t.Fatalf("after upload:\n%s", page.Text("main"))
	}
	d, err := p.app.Reqs.Get(context.Background(), p.org.ID, r.ID)
	if err != nil || d.Request.Status != requests.StatusSubmitted || len(d.ItemUploads(&d.Items[0].ID)) != 1 {
		t.Fatalf("request after the upload: %+v (%v)", d.Request, err)
	}
	if _, err := p.app.Reqs.Accept(context.Background(), requests.Staff(p.org.ID, p.owner.ID, p.owner.Email, p.owner.Name), r.ID); err != nil {
		t.Fatal(err)
	}
	page = c.Get(p.base + "/requests/" + r.ID.String()).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=request-done]") != 1 || page.Count("[data-testid=request-item-upload]") != 0 {
		t.Fatalf("accepted request:\n%s", page.Text("main"))
	}
	res := postFiles(c, action, nil, "", true, upload{"late.txt", []byte("late")})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("upload to an accepted request: %d, want 409", res.StatusCode)
	}
	if list := c.Get(p.base + "/requests"); strings.Contains(list.Body, "Year-end 2026") {
		t.Fatal("an accepted request is still among the open ones")
	}
	if list := c.Get(p.base + "/requests?status=all"); !strings.Contains(list.Body, "Year-end 2026") {
		t.Fatal("an accepted request is missing from all requests")
	}
}
