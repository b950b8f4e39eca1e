package portal_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/portal"
	"accute/internal/queue"
	"accute/internal/storage"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// env is a firm with two clients, A and B, and one client user linked to
// each, over a real database and real (local, encrypted) storage.
type env struct {
	t       *testing.T
	s       *store.Store
	f       testutil.Factory
	svc     *portal.Service
	docs    *documents.Service
	orgs    *tenant.Service
	org     db.Organization
	owner   db.User
	a, b    db.Client
	userA   db.User
	userB   db.User
	ownerPA portal.Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	ring, err := crypto.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	backend, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	docs := &documents.Service{Store: s, Backend: backend, Keys: &documents.Keys{Store: s, Ring: ring}, MaxBytes: 1 << 20}
	workers := river.NewWorkers()
	river.AddWorker(workers, &documents.ParseWorker{Docs: docs})
	jobs, err := queue.New(s.Pool, queue.Config{Workers: workers}) // insert-only
	if err != nil {
		t.Fatal(err)
	}
	docs.Jobs = jobs
	orgs := &tenant.Service{Store: s, BaseURL: "https://accute.example"}
	e := &env{t: t, s: s, f: f, docs: docs, orgs: orgs,
		svc: &portal.Service{Store: s, Docs: docs, Orgs: orgs, BaseURL: "https://accute.example"}}
	e.owner = f.User("")
	e.org = f.Org(e.owner, "Ledger & Co")
	e.a, e.b = f.Client(e.org, "Alpha Ltd"), f.Client(e.org, "Beta Ltd")
	e.userA, e.userB = e.clientUser(), e.clientUser()
	e.ownerPA = e.actor(e.owner)
	e.mustLink(e.a, e.userA)
	e.mustLink(e.b, e.userB)
	return e
}

func (e *env) clientUser() db.User {
	u := e.f.User("")
	e.f.Member(e.org, u, tenant.RoleClient)
	return u
}

func (e *env) actor(u db.User) portal.Actor {
	return portal.Actor{OrgID: e.org.ID, OrgSlug: e.org.Slug, OrgName: e.org.Name, UserID: u.ID, Email: u.Email, Name: u.Name}
}

func (e *env) tenantActor(u db.User) tenant.Actor {
	return tenant.Actor{OrgID: e.org.ID, OrgName: e.org.Name, OrgSlug: e.org.Slug, UserID: u.ID, Email: u.Email, Name: u.Name,
		Role: tenant.RoleOwner, Permissions: tenant.PermissionsFor(tenant.RoleOwner, nil)}
}

func (e *env) mustLink(c db.Client, u db.User) db.ClientPortalLink {
	e.t.Helper()
	l, err := e.svc.Link(context.Background(), e.ownerPA, c.ID, u.ID)
	if err != nil {
		e.t.Fatalf("link %s to %s: %v", u.Email, c.Name, err)
	}
	return l
}

// staffUpload stores a document of client c as the owner.
func (e *env) staffUpload(c db.Client, name, content string) db.Document {
	e.t.Helper()
	d, err := e.docs.Upload(context.Background(), documents.Actor{OrgID: e.org.ID, UserID: e.owner.ID, Email: e.owner.Email},
		documents.UploadInput{Filename: name, Content: strings.NewReader(content), Placement: documents.Placement{ClientID: &c.ID}})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) emailsTo(addr string) []db.OutboxEmail {
	e.t.Helper()
	mails, err := e.s.Q().ListOutboxEmails(context.Background(), db.ListOutboxEmailsParams{ToEmail: addr, MaxRows: 50})
	if err != nil {
		e.t.Fatal(err)
	}
	return mails
}

func (e *env) auditActions() []string {
	e.t.Helper()
	var out []string
	err := e.s.InOrg(context.Background(), e.org.ID, func(q *db.Queries) error {
		rows, err := q.ListAuditEvents(context.Background(), db.ListAuditEventsParams{OrganizationID: &e.org.ID, MaxRows: 500})
		for _, r := range rows {
			out = append(out, r.Action)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func docIDs(rows []db.ListPortalDocumentsRow) []uuid.UUID {
	var ids []uuid.UUID
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestClientUserSeesOnlyLinkedClients: a client user of client A sees A's
// documents and nothing of client B's, by list, by id, by download and by
// upload.
func TestClientUserSeesOnlyLinkedClients(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	docA := e.staffUpload(e.a, "alpha-ledger.csv", "date,amount\n2026-01-02,10\n")
	docB := e.staffUpload(e.b, "beta-ledger.csv", "date,amount\n2026-01-03,99\n")
	pa := e.actor(e.userA)

	clients, err := e.svc.Clients(ctx, pa)
	if err != nil || len(clients) != 1 || clients[0].ID != e.a.ID || clients[0].KYC.Status != portal.KYCPending {
		t.Fatalf("clients of A's user: %+v (%v)", clients, err)
	}
	page, err := e.svc.Documents(ctx, pa, portal.DocumentFilter{})
	if err != nil || !slices.Equal(docIDs(page.Rows), []uuid.UUID{docA.ID}) || page.Total != 1 {
		t.Fatalf("documents of A's user: %v total %d (%v)", docIDs(page.Rows), page.Total, err)
	}
	if _, err := e.svc.Documents(ctx, pa, portal.DocumentFilter{ClientID: &e.b.ID}); !isNotFound(err) {
		t.Fatalf("filtering by client B: %v, want not found", err)
	}
	if _, err := e.svc.Document(ctx, pa, docB.ID); !isNotFound(err) {
		t.Fatalf("B's document by id: %v, want not found", err)
	}
	if _, err := e.svc.Open(ctx, pa, docB.ID); !isNotFound(err) {
		t.Fatalf("opening B's document: %v, want not found", err)
	}
	content, err := e.svc.Open(ctx, pa, docA.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(content.Reader)
	content.Close()
	if !strings.Contains(string(b), "2026-01-02,10") {
		t.Fatalf("A's document decrypted to %q", b)
	}
	if _, err := e.svc.CheckUpload(ctx, pa, &e.b.ID); !isNotFound(err) {
		t.Fatalf("upload to B: %v, want not found", err)
	}
	if id, err := e.svc.CheckUpload(ctx, pa, nil); err != nil || id != e.a.ID {
		t.Fatalf("upload with one client and none chosen: %v %v, want A", id, err)
	}

	// The user's own upload lands with client A, tagged, and is theirs.
	up, err := e.svc.Upload(ctx, pa, e.a.ID, "receipts.txt", strings.NewReader("taxi 12.50"))
	if err != nil {
		t.Fatal(err)
	}
	if up.ClientID == nil || *up.ClientID != e.a.ID || !slices.Contains(up.Tags, portal.UploadTag) {
		t.Fatalf("uploaded document: client %v tags %v", up.ClientID, up.Tags)
	}
	page, _ = e.svc.Documents(ctx, pa, portal.DocumentFilter{ClientID: &e.a.ID})
	if page.Total != 2 || page.Rows[0].ID != up.ID || !page.Rows[0].UploadedByMe || page.Rows[1].UploadedByMe {
		t.Fatalf("after upload: %+v", page.Rows)
	}
	// B's user sees none of it.
	pb := e.actor(e.userB)
	page, _ = e.svc.Documents(ctx, pb, portal.DocumentFilter{})
	if !slices.Equal(docIDs(page.Rows), []uuid.UUID{docB.ID}) {
		t.Fatalf("documents of B's user: %v", docIDs(page.Rows))
	}
	if _, err := e.svc.Document(ctx, pb, up.ID); !isNotFound(err) {
		t.Fatalf("B's user reading A's upload: %v", err)
	}

	// A second user linked to A sees A too; with two clients, an upload
	// must say which.
	e.mustLink(e.b, e.userA)
	if _, err := e.svc.CheckUpload(ctx, pa, nil); !errors.As(err, new(form.Errors)) {
		t.Fatalf("upload without a client when linked to two: %v", err)
	}
	// Archived clients leave the portal.
	if err := e.s.InOrg(ctx, e.org.ID, func(q *db.Queries) error {
		_, err := q.SetClientArchived(ctx, db.SetClientArchivedParams{OrganizationID: e.org.ID, ID: e.b.ID, Archived: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clients, _ = e.svc.Clients(ctx, pa)
	if len(clients) != 1 || clients[0].ID != e.a.ID {
		t.Fatalf("clients after B was archived: %+v", clients)
	}
	if _, err := e.svc.Document(ctx, pa, docB.ID); !isNotFound(err) {
		t.Fatalf("archived client's document: %v", err)
	}
}

// TestKYCFlow walks a KYC check: upload, submit, reject with a reason,
// change, resubmit, verify; with the refusals on the way, the privacy of
// identity documents, e-mails and the audit trail.
func TestKYCFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pa := e.actor(e.userA)
	passport := []byte("PASSPORT\nSurname: A\nNumber: 123456789\n")

	var fe form.Errors
	if _, err := e.svc.AddKYCDocument(ctx, pa, e.a.ID, "selfie", "me.txt", strings.NewReader("x")); !errors.As(err, &fe) || fe["kind"] == "" {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := e.svc.AddKYCDocument(ctx, pa, e.b.ID, "passport", "p.txt", strings.NewReader("x")); !isNotFound(err) {
		t.Fatalf("identity document for another client: %v", err)
	}
	if err := e.svc.SubmitKYC(ctx, pa, e.a.ID); !errors.Is(err, portal.ErrKYCNoDocuments) {
		t.Fatalf("submitting nothing: %v", err)
	}
	kd, err := e.svc.AddKYCDocument(ctx, pa, e.a.ID, "passport", "passport.txt", bytes.NewReader(passport))
	if err != nil {
		t.Fatal(err)
	}
	checks, err := e.svc.KYC(ctx, pa)
	if err != nil || len(checks) != 1 || len(checks[0].Documents) != 1 || checks[0].Documents[0].Kind != "passport" || !checks[0].Editable() {
		t.Fatalf("checks: %+v (%v)", checks, err)
	}
	// Identity documents are not in the document list, and another user
	// of the same client cannot see them at all.
	page, _ := e.svc.Documents(ctx, pa, portal.DocumentFilter{})
	if page.Total != 0 {
		t.Fatalf("identity document listed among documents: %+v", page.Rows)
	}
	if _, err := e.svc.Document(ctx, pa, kd.DocumentID); err != nil {
		t.Fatalf("own identity document: %v", err)
	}
	other := e.clientUser()
	e.mustLink(e.a, other)
	if _, err := e.svc.Document(ctx, e.actor(other), kd.DocumentID); !isNotFound(err) {
		t.Fatalf("another user's identity document: %v", err)
	}

	if err := e.svc.SubmitKYC(ctx, pa, e.a.ID); err != nil {
		t.Fatal(err)
	}
	if mails := e.emailsTo(e.owner.Email); len(mails) == 0 || !strings.Contains(mails[0].Subject, "Identity documents to review") ||
		!strings.Contains(mails[0].TextBody, "/clients/"+e.a.ID.String()) {
		t.Fatalf("no review e-mail to the owner: %+v", mails)
	}
	if err := e.svc.SubmitKYC(ctx, pa, e.a.ID); !errors.Is(err, portal.ErrKYCUnderReview) {
		t.Fatalf("submitting twice: %v", err)
	}
	if _, err := e.svc.AddKYCDocument(ctx, pa, e.a.ID, "passport", "again.txt", strings.NewReader("again")); !errors.Is(err, portal.ErrKYCUnderReview) {
		t.Fatalf("adding under review: %v", err)
	}
	if err := e.svc.RemoveKYCDocument(ctx, pa, e.a.ID, kd.ID); !errors.Is(err, portal.ErrKYCUnderReview) {
		t.Fatalf("removing under review: %v", err)
	}

	access, err := e.svc.Access(ctx, e.org.ID, e.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var link portal.LinkedUser
	for _, u := range access.Users {
		if u.UserID == e.userA.ID {
			link = u
		}
	}
	if link.KYC.Status != portal.KYCSubmitted || len(link.KYCDocuments) != 1 {
		t.Fatalf("firm's view of the check: %+v", link)
	}
	// The link must be this client's.
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.b.ID, link.LinkID, portal.Decision{Verified: true}); !isNotFound(err) {
		t.Fatalf("deciding through another client: %v", err)
	}
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.a.ID, link.LinkID, portal.Decision{Reason: "  "}); !errors.As(err, &fe) || fe["reason"] == "" {
		t.Fatalf("rejecting without a reason: %v", err)
	}
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.a.ID, link.LinkID, portal.Decision{Reason: strings.Repeat("x", 1001)}); !errors.As(err, &fe) {
		t.Fatalf("rejecting with a reason too long: %v", err)
	}
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.a.ID, link.LinkID, portal.Decision{Reason: "The passport has expired."}); err != nil {
		t.Fatal(err)
	}
	if mails := e.emailsTo(e.userA.Email); len(mails) == 0 || !strings.Contains(mails[0].TextBody, "The passport has expired.") {
		t.Fatalf("no rejection e-mail: %+v", mails)
	}
	checks, _ = e.svc.KYC(ctx, pa)
	if checks[0].Client.KYC.Status != portal.KYCRejected || checks[0].Client.KYC.RejectReason != "The passport has expired." || !checks[0].Editable() {
		t.Fatalf("after rejection: %+v", checks[0])
	}
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.a.ID, link.LinkID, portal.Decision{Verified: true}); !errors.Is(err, portal.ErrKYCNotSubmitted) {
		t.Fatalf("verifying a rejected check: %v", err)
	}

	// Replace the document and resubmit.
	if err := e.svc.RemoveKYCDocument(ctx, pa, e.a.ID, kd.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveKYCDocument(ctx, pa, e.a.ID, kd.ID); !isNotFound(err) {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := e.svc.AddKYCDocument(ctx, pa, e.a.ID, "driving_licence", "licence.txt", strings.NewReader("licence")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SubmitKYC(ctx, pa, e.a.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DecideKYC(ctx, e.ownerPA, e.a.ID, link.LinkID, portal.Decision{Verified: true, Reason: "ignored"}); err != nil {
		t.Fatal(err)
	}
	checks, _ = e.svc.KYC(ctx, pa)
	if checks[0].Client.KYC.Status != portal.KYCVerified || checks[0].Client.KYC.RejectReason != "" || checks[0].Editable() {
		t.Fatalf("after verification: %+v", checks[0])
	}
	if _, err := e.svc.AddKYCDocument(ctx, pa, e.a.ID, "other", "more.txt", strings.NewReader("more")); !errors.Is(err, portal.ErrKYCVerified) {
		t.Fatalf("adding once verified: %v", err)
	}
	if mails := e.emailsTo(e.userA.Email); !strings.Contains(mails[0].Subject, "verified your identity") {
		t.Fatalf("no verification e-mail: %+v", mails[0])
	}
	actions := e.auditActions()
	for _, want := range []string{"kyc.document_added", "kyc.document_removed", "kyc.submitted", "kyc.rejected", "kyc.verified"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit trail lacks %s: %v", want, actions)
		}
	}
	// The removed identity document was archived, not lost.
	if err := e.s.InOrg(ctx, e.org.ID, func(q *db.Queries) error {
		d, err := q.GetDocument(ctx, db.GetDocumentParams{OrganizationID: e.org.ID, ID: kd.DocumentID})
		if err == nil && d.ArchivedAt == nil {
			t.Errorf("removed identity document is not archived")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestInviteAndLink covers the ways a client user gets (and loses) access.
func TestInviteAndLink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ta := e.tenantActor(e.owner)
	var fe form.Errors

	if _, err := e.svc.Invite(ctx, ta, e.a.ID, "not an address"); !errors.As(err, &fe) || fe["email"] == "" {
		t.Fatalf("bad address: %v", err)
	}
	if _, err := e.svc.Invite(ctx, ta, e.a.ID, e.owner.Email); !errors.As(err, &fe) || !strings.Contains(fe["email"], "member of your team") {
		t.Fatalf("inviting staff: %v", err)
	}
	if _, err := e.svc.Invite(ctx, ta, uuid.New(), "new@example.test"); !isNotFound(err) {
		t.Fatalf("unknown client: %v", err)
	}

	// A new address: invited for A, then for B while pending; accepting
	// links both.
	addr := testutil.Unique("newclient") + "@example.test"
	if out, err := e.svc.Invite(ctx, ta, e.a.ID, strings.ToUpper(addr)); err != nil || out != portal.Invited {
		t.Fatalf("invite: %v %v", out, err)
	}
	if out, err := e.svc.Invite(ctx, ta, e.b.ID, addr); err != nil || out != portal.AddedToInvitation {
		t.Fatalf("invite again for B: %v %v", out, err)
	}
	access, _ := e.svc.Access(ctx, e.org.ID, e.b.ID)
	if len(access.Invitations) != 1 || access.Invitations[0].Email != addr {
		t.Fatalf("B's pending invitations: %+v", access.Invitations)
	}
	mail := e.emailsTo(addr)
	if len(mail) != 1 {
		t.Fatalf("invitation e-mails: %d", len(mail))
	}
	token := mail[0].TextBody[strings.Index(mail[0].TextBody, "token=")+len("token="):]
	token = strings.Fields(token)[0]
	hash, _ := auth.HashPassword("a-long-enough-password", testutil.BcryptCost)
	newUser, _, err := e.orgs.AcceptInvitationAsNewUser(ctx, token, tenant.NewMemberInput{Name: "New Client", PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	clients, _ := e.svc.Clients(ctx, e.actor(newUser))
	if len(clients) != 2 {
		t.Fatalf("after accepting: %+v", clients)
	}
	access, _ = e.svc.Access(ctx, e.org.ID, e.a.ID)
	if len(access.Invitations) != 0 || len(access.Users) != 2 {
		t.Fatalf("A's access after acceptance: %+v", access)
	}

	// An existing client user is linked at once (and told), once.
	if out, err := e.svc.Invite(ctx, ta, e.a.ID, e.userB.Email); err != nil || out != portal.LinkedExisting {
		t.Fatalf("inviting B's user to A: %v %v", out, err)
	}
	if mails := e.emailsTo(e.userB.Email); len(mails) == 0 || !strings.Contains(mails[0].Subject, "gave you access to Alpha Ltd") {
		t.Fatalf("no access e-mail: %+v", mails)
	}
	if _, err := e.svc.Invite(ctx, ta, e.a.ID, e.userB.Email); !errors.As(err, &fe) || !strings.Contains(fe["email"], "already has access") {
		t.Fatalf("linking twice: %v", err)
	}

	// Link refuses staff and strangers; candidates are unlinked client users.
	if _, err := e.svc.Link(ctx, e.ownerPA, e.a.ID, e.owner.ID); !errors.As(err, &fe) {
		t.Fatalf("linking staff: %v", err)
	}
	if _, err := e.svc.Link(ctx, e.ownerPA, e.a.ID, uuid.New()); !errors.As(err, &fe) {
		t.Fatalf("linking a stranger: %v", err)
	}
	spare := e.clientUser()
	access, _ = e.svc.Access(ctx, e.org.ID, e.a.ID)
	if len(access.Candidates) != 1 || access.Candidates[0].UserID != spare.ID {
		t.Fatalf("candidates: %+v", access.Candidates)
	}

	// Unlink through the wrong client is not found; through the right one
	// it ends access.
	var linkB uuid.UUID
	for _, u := range access.Users {
		if u.UserID == e.userB.ID {
			linkB = u.LinkID
		}
	}
	if _, err := e.svc.Unlink(ctx, e.ownerPA, e.b.ID, linkB); !isNotFound(err) {
		t.Fatalf("unlink through B: %v", err)
	}
	if email, err := e.svc.Unlink(ctx, e.ownerPA, e.a.ID, linkB); err != nil || email != e.userB.Email {
		t.Fatalf("unlink: %q %v", email, err)
	}
	clients, _ = e.svc.Clients(ctx, e.actor(e.userB))
	if len(clients) != 1 || clients[0].ID != e.b.ID {
		t.Fatalf("B's user after unlink: %+v", clients)
	}

	// Revoking an invitation goes through the client it names.
	addr2 := testutil.Unique("second") + "@example.test"
	if _, err := e.svc.Invite(ctx, ta, e.a.ID, addr2); err != nil {
		t.Fatal(err)
	}
	access, _ = e.svc.Access(ctx, e.org.ID, e.a.ID)
	inv := access.Invitations[0].ID
	if _, err := e.svc.RevokeInvitation(ctx, ta, e.b.ID, inv); !isNotFound(err) {
		t.Fatalf("revoke through B: %v", err)
	}
	if email, err := e.svc.RevokeInvitation(ctx, ta, e.a.ID, inv); err != nil || email != addr2 {
		t.Fatalf("revoke: %q %v", email, err)
	}
	access, _ = e.svc.Access(ctx, e.org.ID, e.a.ID)
	if len(access.Invitations) != 0 {
		t.Fatalf("invitations after revoke: %+v", access.Invitations)
	}

	// Removing the member removes their links.
	if err := e.s.InOrg(ctx, e.org.ID, func(q *db.Queries) error {
		m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: e.org.ID, UserID: e.userA.ID})
		if err != nil {
			return err
		}
		_, err = q.DeleteMember(ctx, db.DeleteMemberParams{OrganizationID: e.org.ID, ID: m.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if clients, _ := e.svc.Clients(ctx, e.actor(e.userA)); len(clients) != 0 {
		t.Fatalf("removed member still linked: %+v", clients)
	}
	actions := e.auditActions()
	for _, want := range []string{"portal.linked", "portal.unlinked", "portal.invited", "member.invited", "member.joined", "member.invitation_revoked"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
}

// An identity document stays its uploader's after the uploader's link to
// the client ends: the client's other portal users neither list nor open
// it (it used to become an ordinary document of the client).
func TestIdentityDocumentsStayPrivateAfterUnlink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kd, err := e.svc.AddKYCDocument(ctx, e.actor(e.userA), e.a.ID, "passport", "passport.txt", strings.NewReader("PASSPORT 123456789"))
	if err != nil {
		t.Fatal(err)
	}
	other := e.clientUser()
	e.mustLink(e.a, other)
	access, err := e.svc.Access(ctx, e.org.ID, e.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range access.Users {
		if u.UserID == e.userA.ID {
			if _, err := e.svc.Unlink(ctx, e.ownerPA, e.a.ID, u.LinkID); err != nil {
				t.Fatal(err)
			}
		}
	}
	po := e.actor(other)
	if _, err := e.svc.Document(ctx, po, kd.DocumentID); !isNotFound(err) {
		t.Fatalf("the unlinked user's identity document opened by another user: %v", err)
	}
	page, err := e.svc.Documents(ctx, po, portal.DocumentFilter{})
	if err != nil || slices.Contains(docIDs(page.Rows), kd.DocumentID) {
		t.Fatalf("listed to another user: %v %v", docIDs(page.Rows), err)
	}
}
