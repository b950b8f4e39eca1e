package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/testutil"
)

// A service called with store.WithTx works inside the caller's
// transaction: what it saved is undone when the caller's transaction is,
// and its own failure undoes only its part.
func TestWithTxJoinsTheCallersTransaction(t *testing.T) {
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	ctx := context.Background()
	org := f.Org(f.User(""), "")
	create := func(ctx context.Context, name string, fail bool) error {
		return s.InOrg(ctx, org.ID, func(q *db.Queries) error {
			if _, err := q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: name, Kind: "business"}); err != nil {
				return err
			}
			if fail {
				return errors.New("the service refused")
			}
			return nil
		})
	}
	count := func() int {
		t.Helper()
		var n int
		if err := s.RawAsPlatform(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM clients WHERE organization_id = $1`, org.ID).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The caller fails after the service succeeded: nothing is saved.
	boom := errors.New("caller failed")
	err := s.InOrgTx(ctx, org.ID, func(tx pgx.Tx, q *db.Queries) error {
		if err := create(store.WithTx(ctx, org.ID, tx), "Inner Ltd", false); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || count() != 0 {
		t.Fatalf("caller's failure: err %v, %d clients saved", err, count())
	}

	// The service fails: its part is undone, the caller's is saved.
	err = s.InOrgTx(ctx, org.ID, func(tx pgx.Tx, q *db.Queries) error {
		if _, err := q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: "Outer Ltd", Kind: "business"}); err != nil {
			return err
		}
		if err := create(store.WithTx(ctx, org.ID, tx), "Refused Ltd", true); err == nil {
			t.Error("the service's failure was not returned")
		}
		return nil
	})
	if err != nil || count() != 1 {
		t.Fatalf("service's failure: err %v, %d clients saved (want the caller's 1)", err, count())
	}
}
