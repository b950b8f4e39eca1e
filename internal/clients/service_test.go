package clients_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"accute/internal/clients"
	"accute/internal/db"
	"accute/internal/testutil"
)

// The list's contact counts are kept by a trigger (migrations/00116): they
// follow contacts added, moved between clients and removed, including
// through the service, and never count another client's contacts.
func TestListCountsContacts(t *testing.T) {
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	ctx := context.Background()
	owner := f.User("")
	org := f.Org(owner, "")
	acme, beta := f.Client(org, "Acme Ltd"), f.Client(org, "Beta LLP")
	svc := &clients.Service{Store: s}
	actor := clients.Actor{OrgID: org.ID, UserID: owner.ID, Email: owner.Email}

	counts := func() map[string]int32 {
		t.Helper()
		page, err := svc.List(ctx, org.ID, clients.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int32{}
		for _, r := range page.Rows {
			out[r.Name] = r.Contacts
		}
		return out
	}
	want := func(a, b int32) {
		t.Helper()
		if got := counts(); got["Acme Ltd"] != a || got["Beta LLP"] != b {
			t.Fatalf("contacts = %v, want Acme %d, Beta %d", got, a, b)
		}
	}

	want(0, 0)
	first := f.Contact(org, acme, "Ada")
	f.Contact(org, acme, "Bob")
	d, err := svc.AddContact(ctx, actor, beta.ID, clients.ContactInput{Name: "Cy", Email: "cy@beta.example"})
	if err != nil {
		t.Fatal(err)
	}
	want(2, 1)

	// Moved to the other client.
	if err := s.InOrgTx(ctx, org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := tx.Exec(ctx, `UPDATE client_contacts SET client_id = $1 WHERE organization_id = $2 AND id = $3`, beta.ID, org.ID, first.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want(1, 2)

	if _, err := svc.RemoveContact(ctx, actor, beta.ID, d.Contacts[0].ID); err != nil {
		t.Fatal(err)
	}
	want(1, 1)
}
