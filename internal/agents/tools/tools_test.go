package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/agents/tools"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/requests"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// world is two organizations with members, clients and documents.
type world struct {
	t      *testing.T
	s      *store.Store
	f      testutil.Factory
	reg    *tools.Registry
	svc    *tools.Service
	org    db.Organization
	owner  db.User
	staff  db.User
	client db.Client
	other  db.Organization // another firm, with look-alike data
	otherC db.Client
}

func newWorld(t *testing.T) *world {
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	w := &world{t: t, s: s, f: f}
	w.reg = &tools.Registry{Requests: &requests.Service{Store: s}}
	w.svc = &tools.Service{Store: s, Registry: w.reg}
	w.owner = f.User("")
	w.org = f.Org(w.owner, "Home Firm")
	w.staff = f.User("")
	f.Member(w.org, w.staff, tenant.RoleStaff)
	w.client = f.Client(w.org, "Acme Widgets Ltd")
	w.contact("Pat Jones", "pat@acme.example")
	otherOwner := f.User("")
	w.other = f.Org(otherOwner, "Other Firm")
	w.otherC = f.Client(w.other, "Acme Widgets Ltd")
	page := int32(3)
	sheet, cell := "Rates", "B4"
	w.document(w.org, &w.client.ID, "VAT guide.pdf", db.InsertDocumentChunksParams{Page: &page, Ref: "page 3",
		Content: "The VAT registration threshold is 90,000 pounds of taxable turnover in a rolling twelve months."})
	w.document(w.org, nil, "Rates.xlsx", db.InsertDocumentChunksParams{Sheet: &sheet, Cell: &cell,
		Content: "Standard VAT rate 20 percent for most goods and services."})
	w.document(w.other, nil, "Secret.pdf", db.InsertDocumentChunksParams{Page: &page, Ref: "page 3",
		Content: "The other firm's VAT registration threshold memo: confidential."})
	return w
}

// contact adds a primary contact with an e-mail address to the client.
func (w *world) contact(name, email string) {
	w.t.Helper()
	err := w.s.InOrg(context.Background(), w.org.ID, func(q *db.Queries) error {
		_, err := q.CreateClientContact(context.Background(), db.CreateClientContactParams{OrganizationID: w.org.ID, ClientID: w.client.ID,
			Name: name, Email: email, Title: "Finance director", IsPrimary: true})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// document stores a parsed document with one text chunk.
func (w *world) document(org db.Organization, client *uuid.UUID, name string, chunk db.InsertDocumentChunksParams) db.Document {
	w.t.Helper()
	ctx := context.Background()
	var doc db.Document
	err := w.s.InOrg(ctx, org.ID, func(q *db.Queries) error {
		key, err := q.GetActiveDataKey(ctx, org.ID)
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			key, err = q.CreateDataKey(ctx, db.CreateDataKeyParams{OrganizationID: org.ID, ID: uuid.New(), WrappedKey: []byte("sealed")})
		}
		if err != nil {
			return err
		}
		sum := uuid.New()
		blob, err := q.InsertBlob(ctx, db.InsertBlobParams{OrganizationID: org.ID, ID: uuid.New(), Sha256: append(sum[:], sum[:]...), Size: 5,
			ContentType: "application/pdf", StorageKey: "k/" + sum.String(), DataKeyID: key.ID})
		if err != nil {
			return err
		}
		if doc, err = q.CreateDocument(ctx, db.CreateDocumentParams{OrganizationID: org.ID, ClientID: client, Name: name, Tags: []string{}}); err != nil {
			return err
		}
		v, err := q.InsertDocumentVersion(ctx, db.InsertDocumentVersionParams{OrganizationID: org.ID, DocumentID: doc.ID, Version: 1,
			BlobID: blob.ID, Filename: name, Size: 5, ContentType: blob.ContentType})
		if err != nil {
			return err
		}
		if _, err := q.SetDocumentCurrentVersion(ctx, db.SetDocumentCurrentVersionParams{OrganizationID: org.ID, ID: doc.ID,
			VersionID: &v.ID, Version: 1, ContentType: v.ContentType, Size: 5}); err != nil {
			return err
		}
		chunk.OrganizationID, chunk.DocumentID, chunk.VersionID, chunk.Locator = org.ID, doc.ID, v.ID, []byte("{}")
		q.InsertDocumentChunks(ctx, []db.InsertDocumentChunksParams{chunk}).Exec(func(_ int, e error) {
			if e != nil {
				err = e
			}
		})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return doc
}

// call runs one tool call as user, for agent, in org.
func (w *world) call(org db.Organization, user db.User, agent, name string, args any) tools.Result {
	w.t.Helper()
	raw, ok := args.(string)
	if !ok {
		b, err := json.Marshal(args)
		if err != nil {
			w.t.Fatal(err)
		}
		raw = string(b)
	}
	inv := tools.Invocation{OrgID: org.ID, UserID: user.ID, RunID: uuid.New(), AgentSlug: agent}
	var res tools.Result
	err := w.s.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		res, err = w.reg.Call(context.Background(), q, inv, provider.ToolCall{ID: "call_1", Name: name, Arguments: raw})
		return err
	})
	if err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	return res
}

// memberWith adds a member of a custom role with perms.
func (w *world) memberWith(perms ...string) db.User {
	w.t.Helper()
	u := w.f.User("")
	role := w.f.CustomRole(w.org, testutil.Unique("Role "), perms...)
	ctx := context.Background()
	err := w.s.InOrg(ctx, w.org.ID, func(q *db.Queries) error {
		_, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: w.org.ID, UserID: u.ID, Role: tenant.RoleCustom, CustomRoleID: &role.ID})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func contains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, x := range want {
		if !strings.Contains(s, x) {
			t.Errorf("%q does not contain %q", s, x)
		}
	}
}

func TestCatalogueToolsAreImplemented(t *testing.T) {
	reg := &tools.Registry{}
	names := reg.Names()
	for _, d := range agents.Catalogue {
		for _, name := range d.Tools {
			if !slices.Contains(names, name) {
				t.Errorf("agent %s lists tool %s, which the registry does not implement", d.Slug, name)
			}
		}
		specs := reg.Specs(d.Tools)
		if len(specs) != len(d.Tools) {
			t.Errorf("agent %s: %d specs for %d tools", d.Slug, len(specs), len(d.Tools))
		}
		for _, s := range specs {
			if s.Description == "" || s.Parameters["type"] != "object" || s.Parameters["properties"] == nil {
				t.Errorf("%s: incomplete schema %v", s.Name, s.Parameters)
			}
			if _, err := json.Marshal(s.Parameters); err != nil {
				t.Errorf("%s: schema does not marshal: %v", s.Name, err)
			}
		}
	}
	if got := reg.Specs([]string{"nope", tools.ReadClient}); len(got) != 1 || got[0].Name != tools.ReadClient {
		t.Errorf("Specs with an unknown name: %v", got)
	}
}

func TestSearchDocumentsCitesPlacesAndClients(t *testing.T) {
	w := newWorld(t)
	res := w.call(w.org, w.staff, "luca", tools.SearchDocuments, map[string]any{"query": "VAT registration threshold"})
	var out provider.SearchResult
	if err := json.Unmarshal([]byte(res.Content), &out); err != nil {
		t.Fatalf("content is not a SearchResult: %v\n%s", err, res.Content)
	}
	if len(out.Passages) == 0 || !slices.Equal(out.Passages, res.Citations) {
		t.Fatalf("passages %+v, citations %+v", out.Passages, res.Citations)
	}
	first := out.Passages[0]
	if first.Ref != 1 || first.Kind != "document" || first.Title != "VAT guide.pdf" || first.Locator != "page 3" ||
		first.ClientName != "Acme Widgets Ltd" || first.ClientID != w.client.ID.String() || !strings.Contains(first.Text, "90,000 pounds") {
		t.Errorf("first passage %+v", first)
	}
	for i, p := range out.Passages {
		if p.Ref != i+1 {
			t.Errorf("passage %d has ref %d", i, p.Ref)
		}
		if strings.Contains(p.Text, "confidential") || strings.Contains(p.Title, "Secret") {
			t.Errorf("another organization's document in the results: %+v", p)
		}
		if strings.ContainsAny(p.Text, "\uE000\uE001") {
			t.Errorf("snippet markers left in %q", p.Text)
		}
	}

	// A spreadsheet's place is sheet!cell.
	res = w.call(w.org, w.staff, "luca", tools.SearchDocuments, map[string]any{"query": "standard rate", "limit": 3})
	_ = json.Unmarshal([]byte(res.Content), &out)
	if len(out.Passages) != 1 || out.Passages[0].Locator != "Rates!B4" {
		t.Errorf("spreadsheet passage %+v", out.Passages)
	}

	// A client named in the query comes back as a client passage, after the documents.
	res = w.call(w.org, w.staff, "luca", tools.SearchDocuments, map[string]any{"query": "acme or vat"})
	_ = json.Unmarshal([]byte(res.Content), &out)
	last := out.Passages[len(out.Passages)-1]
	if last.Kind != "client" || last.ClientID != w.client.ID.String() || last.Ref != len(out.Passages) || !strings.Contains(last.Text, "Acme Widgets Ltd is a client") {
		t.Errorf("client passage %+v", last)
	}
	for _, p := range out.Passages {
		if p.Kind == "client" && p.ClientID == w.otherC.ID.String() {
			t.Error("another organization's client in the results")
		}
	}

	// Limited to one client's documents.
	res = w.call(w.org, w.staff, "luca", tools.SearchDocuments, map[string]any{"query": "VAT", "client_id": w.client.ID.String()})
	_ = json.Unmarshal([]byte(res.Content), &out)
	if len(out.Passages) != 1 || out.Passages[0].Title != "VAT guide.pdf" {
		t.Errorf("client filter: %+v", out.Passages)
	}

	// Nothing found is an empty list, not an error.
	res = w.call(w.org, w.staff, "luca", tools.SearchDocuments, map[string]any{"query": "zanzibar"})
	if err := json.Unmarshal([]byte(res.Content), &out); err != nil || len(out.Passages) != 0 || len(res.Citations) != 0 {
		t.Errorf("no hits: %s", res.Content)
	}
}

func TestSearchDocumentsPermissions(t *testing.T) {
	w := newWorld(t)
	// documents.read without clients.read: documents, no client passages.
	docsOnly := w.memberWith(string(tenant.DocumentsRead))
	res := w.call(w.org, docsOnly, "luca", tools.SearchDocuments, map[string]any{"query": "acme or vat"})
	var out provider.SearchResult
	if err := json.Unmarshal([]byte(res.Content), &out); err != nil || len(out.Passages) == 0 {
		t.Fatalf("documents-only member: %s", res.Content)
	}
	for _, p := range out.Passages {
		if p.Kind == "client" {
			t.Errorf("client passage for a member without clients.read: %+v", p)
		}
	}
	// Without documents.read: not permitted, said to the model.
	clientsOnly := w.memberWith(string(tenant.ClientsRead))
	res = w.call(w.org, clientsOnly, "luca", tools.SearchDocuments, map[string]any{"query": "vat"})
	contains(t, res.Content, "Not permitted", "documents.read")
	if len(res.Citations) != 0 {
		t.Error("citations on a refusal")
	}
	// A client user of the firm has no staff permissions.
	portal := w.f.User("")
	w.f.Member(w.org, portal, tenant.RoleClient)
	contains(t, w.call(w.org, portal, "luca", tools.SearchDocuments, map[string]any{"query": "vat"}).Content, "Not permitted")
	// Someone who is not a member at all.
	contains(t, w.call(w.org, w.f.User(""), "luca", tools.SearchDocuments, map[string]any{"query": "vat"}).Content, "Not permitted")
}

func TestToolArgumentsProblemsGoToTheModel(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		tool string
		args any
		want string
	}{
		{tools.SearchDocuments, `{"query":`, "not a JSON object"},
		{tools.SearchDocuments, `[1,2]`, "not a JSON object"},
		{tools.SearchDocuments, map[string]any{}, "query is required"},
		{tools.SearchDocuments, map[string]any{"query": "   "}, "Give a query"},
		{tools.SearchDocuments, map[string]any{"query": 5}, "query must be a string"},
		{tools.SearchDocuments, map[string]any{"query": "vat", "limit": 0}, "limit must be between 1 and 10"},
		{tools.SearchDocuments, map[string]any{"query": "vat", "limit": "many"}, "limit must be a whole number"},
		{tools.SearchDocuments, map[string]any{"query": "vat", "folder": "x"}, `"folder" is not an argument`},
		{tools.SearchDocuments, map[string]any{"query": "vat", "client_id": "acme"}, "is not a client id"},
		{tools.SearchDocuments, map[string]any{"query": "vat", "client_id": uuid.NewString()}, "no client with id"},
		{tools.ReadClient, map[string]any{}, "Say which client"},
		{tools.ReadClient, map[string]any{"name": "Nobody Plc"}, "No client's name contains"},
		{"delete_everything", map[string]any{}, "There is no tool named"},
		{tools.CreateTaskNote, map[string]any{"note": "x"}, "not available to Luca"},
	}
	for _, c := range cases {
		res := w.call(w.org, w.staff, "luca", c.tool, c.args)
		if !strings.Contains(res.Content, c.want) || res.ProposalID != nil {
			t.Errorf("%s %v: %q, want %q", c.tool, c.args, res.Content, c.want)
		}
	}
}

func TestReadClientIsolatedToTheOrganization(t *testing.T) {
	w := newWorld(t)
	res := w.call(w.org, w.staff, "luca", tools.ReadClient, map[string]any{"client_id": w.client.ID.String()})
	var rec tools.ClientRecord
	if err := json.Unmarshal([]byte(res.Content), &rec); err != nil {
		t.Fatal(err, res.Content)
	}
	if rec.ID != w.client.ID || rec.Name != "Acme Widgets Ltd" || len(rec.Contacts) != 1 || rec.Contacts[0].Email != "pat@acme.example" || !rec.Contacts[0].Primary {
		t.Errorf("record %+v", rec)
	}
	if len(res.Citations) != 1 || res.Citations[0].Kind != "client" || res.Citations[0].ClientID != w.client.ID.String() || !strings.Contains(res.Citations[0].Text, "pat@acme.example") {
		t.Errorf("citation %+v", res.Citations)
	}
	// By name.
	res = w.call(w.org, w.staff, "luca", tools.ReadClient, map[string]any{"name": "acme"})
	if err := json.Unmarshal([]byte(res.Content), &rec); err != nil || rec.ID != w.client.ID {
		t.Errorf("by name: %s", res.Content)
	}
	// Several matches: the model is asked to choose.
	w.f.Client(w.org, "Acme Holdings")
	contains(t, w.call(w.org, w.staff, "luca", tools.ReadClient, map[string]any{"name": "acme"}).Content, "Several clients match", "Acme Holdings")
	// Another organization's client, by id: not found, and nothing of it shown.
	res = w.call(w.org, w.staff, "luca", tools.ReadClient, map[string]any{"client_id": w.otherC.ID.String()})
	contains(t, res.Content, "no client with id")
	if len(res.Citations) != 0 {
		t.Error("citation for another organization's client")
	}
	// clients.read is required.
	contains(t, w.call(w.org, w.memberWith(string(tenant.DocumentsRead)), "luca", tools.ReadClient, map[string]any{"name": "acme"}).Content, "Not permitted")
}

// decide returns an approver's Actor.
func (w *world) actor(u db.User, role string) tools.Actor {
	return tools.Actor{OrgID: w.org.ID, UserID: u.ID, Email: u.Email, Name: u.Name, Perms: tenant.PermissionsFor(role, nil)}
}

func (w *world) notes() []db.ListClientNotesRow {
	w.t.Helper()
	var out []db.ListClientNotesRow
	err := w.s.InOrg(context.Background(), w.org.ID, func(q *db.Queries) error {
		var err error
		out, err = q.ListClientNotes(context.Background(), db.ListClientNotesParams{OrganizationID: w.org.ID, ClientID: w.client.ID, MaxRows: 50})
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) auditActions() []string {
	w.t.Helper()
	var out []string
	err := w.s.InOrg(context.Background(), w.org.ID, func(q *db.Queries) error {
		rows, err := q.ListAuditEvents(context.Background(), db.ListAuditEventsParams{OrganizationID: &w.org.ID, MaxRows: 500})
		for _, r := range rows {
			out = append(out, r.Action)
		}
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func TestProposalLifecycle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	args := map[string]any{"client_id": w.client.ID.String(), "note": "Chase the VAT return  \r\nbefore Friday."}
	res := w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, args)
	if res.ProposalID == nil {
		t.Fatalf("no proposal: %s", res.Content)
	}
	contains(t, res.Content, "waiting for approval", res.ProposalID.String())
	if n := len(w.notes()); n != 0 {
		t.Fatalf("%d notes before approval", n)
	}
	p, err := w.svc.Get(ctx, w.org.ID, *res.ProposalID)
	if err != nil || p.Status != tools.StatusPending || p.ClientName != "Acme Widgets Ltd" || p.AgentName != "Cadence" ||
		p.Arguments["note"] != "Chase the VAT return  \nbefore Friday." || p.RequestedBy != w.staff.Email || len(p.Fields) != 2 {
		t.Fatalf("pending proposal %+v %v", p, err)
	}
	// Another organization sees nothing of it.
	if _, err := w.svc.Get(ctx, w.other.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other organization's Get: %v", err)
	}
	if _, err := w.svc.Approve(ctx, tools.Actor{OrgID: w.other.ID, UserID: w.owner.ID, Perms: tenant.PermissionsFor(tenant.RoleOwner, nil)}, p.ID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other organization's Approve: %v", err)
	}
	// An approver whose role cannot write clients cannot run a note.
	approveOnly := tools.Actor{OrgID: w.org.ID, UserID: w.owner.ID, Perms: tenant.PermissionSet{tenant.AgentsApprove}}
	var na *tools.NotAllowedError
	if _, err := w.svc.Approve(ctx, approveOnly, p.ID, nil); !errors.As(err, &na) {
		t.Errorf("approval without clients.write: %v", err)
	}
	// Staff have no agents.approve.
	if _, err := w.svc.Approve(ctx, w.actor(w.staff, tenant.RoleStaff), p.ID, nil); !errors.As(err, &na) {
		t.Errorf("approval by staff: %v", err)
	}
	manager := w.f.User("")
	w.f.Member(w.org, manager, tenant.RoleManager)
	got, err := w.svc.Approve(ctx, w.actor(manager, tenant.RoleManager), p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tools.StatusExecuted || got.Edited || got.AutoRun || got.DecidedBy != manager.Email || got.ResultType != "client_note" ||
		got.ResultID == nil || got.Result != "Note added to Acme Widgets Ltd." {
		t.Errorf("approved %+v", got)
	}
	notes := w.notes()
	if len(notes) != 1 || notes[0].Body != "Chase the VAT return  \nbefore Friday." || *notes[0].CreatedBy != manager.ID || *notes[0].ProposalID != p.ID {
		t.Errorf("notes %+v", notes)
	}
	if _, err := w.svc.Approve(ctx, w.actor(manager, tenant.RoleManager), p.ID, nil); !errors.Is(err, tools.ErrDecided) {
		t.Errorf("second approval: %v", err)
	}
	if _, err := w.svc.Reject(ctx, w.actor(manager, tenant.RoleManager), p.ID, "late"); !errors.Is(err, tools.ErrDecided) {
		t.Errorf("rejecting an approved proposal: %v", err)
	}

	// Edit, then approve: the edited text is what runs.
	res = w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, args)
	var fe form.Errors
	if _, err := w.svc.Approve(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, tools.Values{"note": ""}); !errors.As(err, &fe) || fe["note"] == "" {
		t.Errorf("approving with an empty note: %v", err)
	}
	got, err = w.svc.Approve(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, tools.Values{"note": "Chase the VAT return by Thursday.", "client_id": w.otherC.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Edited || got.Final["note"] != "Chase the VAT return by Thursday." || got.Arguments["note"] != "Chase the VAT return  \nbefore Friday." ||
		got.Final["client_id"] != w.client.ID.String() {
		t.Errorf("edited approval %+v", got)
	}
	if notes := w.notes(); len(notes) != 2 || notes[0].Body != "Chase the VAT return by Thursday." {
		t.Errorf("notes after edit %+v", notes)
	}

	// Reject: a reason is required.
	res = w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, args)
	if _, err := w.svc.Reject(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, "  "); !errors.As(err, &fe) || fe["reason"] == "" {
		t.Errorf("reject without reason: %v", err)
	}
	got, err = w.svc.Reject(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, "We spoke to the client already.")
	if err != nil || got.Status != tools.StatusRejected || got.RejectReason != "We spoke to the client already." || got.DecidedAt == nil {
		t.Errorf("rejected %+v %v", got, err)
	}
	if n := len(w.notes()); n != 2 {
		t.Errorf("%d notes after a rejection, want 2", n)
	}

	page, err := w.svc.List(ctx, w.org.ID, tools.Filter{})
	if err != nil || page.Total != 3 || page.Pending != 0 || len(page.Rows) != 3 {
		t.Errorf("list %+v %v", page, err)
	}
	page, _ = w.svc.List(ctx, w.org.ID, tools.Filter{Status: tools.StatusRejected})
	if page.Total != 1 || page.Rows[0].RejectReason == "" {
		t.Errorf("rejected filter %+v", page)
	}
	if page, _ := w.svc.List(ctx, w.other.ID, tools.Filter{}); page.Total != 0 {
		t.Errorf("other organization lists %d proposals", page.Total)
	}
	acts := w.auditActions()
	for _, want := range []string{"agent.action_proposed", "agent.action_approved", "agent.action_rejected", "client.note_added"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit trail lacks %s: %v", want, acts)
		}
	}
}

func TestActionPermissionsAndBadArguments(t *testing.T) {
	w := newWorld(t)
	// A member who may use agents but not write clients cannot even propose.
	reader := w.memberWith(string(tenant.ClientsRead), string(tenant.DocumentsRead), string(tenant.AgentsUse))
	res := w.call(w.org, reader, "cadence", tools.CreateTaskNote, map[string]any{"client_id": w.client.ID.String(), "note": "x"})
	contains(t, res.Content, "Not permitted", "clients.write")
	if res.ProposalID != nil {
		t.Error("proposal recorded for a member without the permission")
	}
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"note": "x"}, "Say which client"},
		{map[string]any{"client_id": w.otherC.ID.String(), "note": "x"}, "no client with id"},
		{map[string]any{"client_id": w.client.ID.String()}, "note is required"},
		{map[string]any{"client_id": w.client.ID.String(), "note": strings.Repeat("a", tools.MaxNote+1)}, "note: Use at most 4000 characters"},
	}
	for _, c := range cases {
		res := w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, c.args)
		if !strings.Contains(res.Content, c.want) || res.ProposalID != nil {
			t.Errorf("%v: %q, want %q", c.args, res.Content, c.want)
		}
	}
	// The conversation's client is the default.
	inv := tools.Invocation{OrgID: w.org.ID, UserID: w.staff.ID, RunID: uuid.New(), AgentSlug: "cadence", ClientID: &w.client.ID}
	err := w.s.InOrg(context.Background(), w.org.ID, func(q *db.Queries) error {
		r, err := w.reg.Call(context.Background(), q, inv, provider.ToolCall{Name: tools.CreateTaskNote, Arguments: `{"note":"Call back"}`})
		if err == nil && r.ProposalID == nil {
			t.Errorf("default client: %s", r.Content)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// An archived client takes no actions.
	err = w.s.InOrg(context.Background(), w.org.ID, func(q *db.Queries) error {
		_, err := q.SetClientArchived(context.Background(), db.SetClientArchivedParams{OrganizationID: w.org.ID, ID: w.client.ID, Archived: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	contains(t, w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": w.client.ID.String(), "note": "x"}).Content, "is archived")
}

func TestPolicyAutoRunStillRecordsTheProposal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.actor(w.owner, tenant.RoleOwner)
	if err := w.svc.SetPolicies(ctx, admin, map[string]bool{tools.CreateTaskNote: true}); err != nil {
		t.Fatal(err)
	}
	pols, err := w.svc.Policies(ctx, w.org.ID)
	if err != nil || len(pols) != 3 {
		t.Fatal(pols, err)
	}
	for _, p := range pols {
		if p.AutoRun != (p.Action == tools.CreateTaskNote) {
			t.Errorf("policy %+v", p)
		}
	}
	if err := w.svc.SetPolicies(ctx, admin, map[string]bool{"format_disk": true}); err == nil {
		t.Error("unknown action accepted in the policy")
	}
	res := w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": w.client.ID.String(), "note": "Auto note"})
	contains(t, res.Content, "Done", "Note added to Acme Widgets Ltd")
	if res.ProposalID == nil {
		t.Fatal("auto-run without a proposal record")
	}
	p, err := w.svc.Get(ctx, w.org.ID, *res.ProposalID)
	if err != nil || p.Status != tools.StatusExecuted || !p.AutoRun || p.DecidedBy != "" || p.Final["note"] != "Auto note" {
		t.Errorf("auto-run proposal %+v %v", p, err)
	}
	if notes := w.notes(); len(notes) != 1 || *notes[0].CreatedBy != w.staff.ID {
		t.Errorf("notes %+v", notes)
	}
	if !slices.Contains(w.auditActions(), "agent.action_auto_run") {
		t.Error("auto-run not audited")
	}
	// The policy is per organization: the other firm still needs approval.
	otherStaff := w.f.User("")
	w.f.Member(w.other, otherStaff, tenant.RoleStaff)
	res = w.call(w.other, otherStaff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": w.otherC.ID.String(), "note": "x"})
	contains(t, res.Content, "waiting for approval")
	// Back to approval.
	if err := w.svc.SetPolicies(ctx, admin, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	contains(t, w.call(w.org, w.staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": w.client.ID.String(), "note": "y"}).Content, "waiting for approval")
}

func TestDraftEmailGoesOutOnlyWhenApproved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mails := func() int {
		m, err := w.s.Q().ListOutboxEmails(ctx, db.ListOutboxEmailsParams{ToEmail: "pat@acme.example", MaxRows: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}
	// Not a contact's address: refused to the model.
	res := w.call(w.org, w.staff, "echo", tools.DraftClientEmail, map[string]any{"client_id": w.client.ID.String(), "to": "someone@else.example", "subject": "Hi", "body": "x"})
	contains(t, res.Content, "not an address of Acme Widgets Ltd's contacts")
	// By default, the primary contact.
	res = w.call(w.org, w.staff, "echo", tools.DraftClientEmail, map[string]any{"client_id": w.client.ID.String(), "subject": "Your VAT return", "body": "Dear Pat,\nplease send the invoices.\n\nThe firm"})
	if res.ProposalID == nil {
		t.Fatal(res.Content)
	}
	if mails() != 0 {
		t.Fatal("e-mail sent before approval")
	}
	p, err := w.svc.Get(ctx, w.org.ID, *res.ProposalID)
	if err != nil || p.Arguments["to"] != "pat@acme.example" || p.Arguments["to_name"] != "Pat Jones, Finance director" || len(p.Options["to"]) != 2 {
		t.Fatalf("proposal %+v %v", p, err)
	}
	got, err := w.svc.Approve(ctx, w.actor(w.owner, tenant.RoleOwner), p.ID, tools.Values{"to": "pat@acme.example", "subject": "Your VAT return (reminder)", "body": p.Arguments["body"]})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Edited || got.ResultType != "email" || mails() != 1 {
		t.Errorf("approved e-mail %+v, %d mails", got, mails())
	}
	m, _ := w.s.Q().ListOutboxEmails(ctx, db.ListOutboxEmailsParams{ToEmail: "pat@acme.example", MaxRows: 1})
	if m[0].Subject != "Your VAT return (reminder)" || m[0].TextBody != "Dear Pat,\nplease send the invoices.\n\nThe firm" {
		t.Errorf("sent %q %q", m[0].Subject, m[0].TextBody)
	}
	// An edit cannot redirect it outside the client's contacts.
	res = w.call(w.org, w.staff, "echo", tools.DraftClientEmail, map[string]any{"client_id": w.client.ID.String(), "subject": "s", "body": "b"})
	var fe form.Errors
	if _, err := w.svc.Approve(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, tools.Values{"to": "attacker@evil.example", "subject": "s", "body": "b"}); !errors.As(err, &fe) || fe["to"] == "" {
		t.Errorf("redirected e-mail: %v", err)
	}
}

func TestDocumentRequestsProposeApproveAndList(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	due := time.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly)
	res := w.call(w.org, w.staff, "forma", tools.CreateDocumentRequest, map[string]any{"client_id": w.client.ID.String(), "title": "2025 bank statements",
		"instructions": "All accounts, please.", "due_on": due, "items": []string{"Current account", "Savings account"}})
	if res.ProposalID == nil {
		t.Fatal(res.Content)
	}
	contains(t, w.call(w.org, w.staff, "forma", tools.CreateDocumentRequest, map[string]any{"client_id": w.client.ID.String(), "title": "x", "due_on": "next week"}).Content, "due_on")
	contains(t, w.call(w.org, w.staff, "forma", tools.CreateDocumentRequest, map[string]any{"client_id": w.client.ID.String(), "title": "x", "due_on": "2001-01-01"}).Content, "past")
	listed := func() tools.RequestList {
		var out tools.RequestList
		if err := json.Unmarshal([]byte(w.call(w.org, w.staff, "forma", tools.ListDocumentRequests, map[string]any{"status": "active"}).Content), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if l := listed(); l.Total != 0 {
		t.Fatalf("a request exists before approval: %+v", l)
	}
	got, err := w.svc.Approve(ctx, w.actor(w.owner, tenant.RoleOwner), *res.ProposalID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResultType != "document_request" || got.ResultID == nil {
		t.Fatalf("approved %+v", got)
	}
	l := listed()
	if l.Total != 1 || l.Requests[0].ID != *got.ResultID || l.Requests[0].Title != "2025 bank statements" || l.Requests[0].Items != 2 || l.Requests[0].DueOn != due {
		t.Errorf("listed %+v", l)
	}
	contains(t, w.call(w.org, w.staff, "forma", tools.ListDocumentRequests, map[string]any{"status": "lost"}).Content, "not one of")
	contains(t, w.call(w.org, w.staff, "forma", tools.ListDocumentRequests, map[string]any{"client_id": w.otherC.ID.String()}).Content, "no client with id")
	// Without a requests service the action says it is unavailable.
	bare := &tools.Registry{}
	err = w.s.InOrg(ctx, w.org.ID, func(q *db.Queries) error {
		r, err := bare.Call(ctx, q, tools.Invocation{OrgID: w.org.ID, UserID: w.staff.ID, RunID: uuid.New(), AgentSlug: "forma"},
			provider.ToolCall{Name: tools.CreateDocumentRequest, Arguments: `{"title":"x"}`})
		if err == nil && !strings.Contains(r.Content, "not available") {
			t.Errorf("without requests: %s", r.Content)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEveryToolRefusesWithoutItsPermission(t *testing.T) {
	w := newWorld(t)
	// A member who may talk to agents and nothing else.
	bare := w.memberWith(string(tenant.AgentsUse))
	calls := []struct {
		agent, tool string
		args        map[string]any
		perm        tenant.Permission
	}{
		{"luca", tools.SearchDocuments, map[string]any{"query": "vat"}, tenant.DocumentsRead},
		{"luca", tools.ReadClient, map[string]any{"client_id": w.client.ID.String()}, tenant.ClientsRead},
		{"forma", tools.ListDocumentRequests, map[string]any{}, tenant.DocumentsRead},
		{"forma", tools.CreateDocumentRequest, map[string]any{"client_id": w.client.ID.String(), "title": "x"}, tenant.DocumentsWrite},
		{"echo", tools.DraftClientEmail, map[string]any{"client_id": w.client.ID.String(), "subject": "s", "body": "b"}, tenant.ClientsWrite},
		{"cadence", tools.CreateTaskNote, map[string]any{"client_id": w.client.ID.String(), "note": "n"}, tenant.ClientsWrite},
	}
	for _, c := range calls {
		res := w.call(w.org, bare, c.agent, c.tool, c.args)
		if !strings.Contains(res.Content, "Not permitted") || !strings.Contains(res.Content, string(c.perm)) || res.ProposalID != nil || len(res.Citations) != 0 {
			t.Errorf("%s without %s: %q", c.tool, c.perm, res.Content)
		}
		// The same call for a member of another organization, in this one: refused too.
		otherStaff := w.f.User("")
		w.f.Member(w.other, otherStaff, tenant.RoleOwner)
		if res := w.call(w.org, otherStaff, c.agent, c.tool, c.args); !strings.Contains(res.Content, "Not permitted") {
			t.Errorf("%s by a member of another organization: %q", c.tool, res.Content)
		}
	}
	page, err := w.svc.List(context.Background(), w.org.ID, tools.Filter{Status: ""})
	if err != nil || page.Total != 0 {
		t.Errorf("refused calls left %d proposals (%v)", page.Total, err)
	}
}
