package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/testutil"
)

// InOrgRead sends its query and the request transaction's COMMIT in one
// round trip; the transaction is then over, anything later gets its own
// (with the tenant context), and a failed or misused read commits nothing.
func TestInOrgReadEndsTheRequestTransaction(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	owner := f.User("")
	org := f.Org(owner, "")
	f.Client(org, "Alpha")
	f.Client(org, "Beta")
	other := f.Org(f.User(""), "")
	f.Client(other, "Other's client")
	list := func(ctx context.Context, q *db.Queries) ([]db.ListClientsRow, error) {
		return q.ListClients(ctx, db.ListClientsParams{OrganizationID: org.ID, MaxRows: 50})
	}
	// begin opens a request transaction of org as the tenant middleware
	// does: one round trip.
	begin := func(t *testing.T) (context.Context, func() int64) {
		ctx, n := store.WithRoundTripCounter(context.Background())
		var set string
		rt, err := st.BeginRequestTx(ctx, "SELECT set_config('app.organization_id', $1, true)", []any{org.ID.String()}, &set)
		if err != nil {
			t.Fatal(err)
		}
		rt.OrgID = org.ID
		t.Cleanup(func() { rt.Rollback(context.Background()) })
		return store.WithRequestTx(ctx, rt), n.Load
	}
	idle := func(t *testing.T) {
		t.Helper()
		if n := st.Pool.Stat().AcquiredConns(); n != 0 {
			t.Fatalf("%d connections still held", n)
		}
	}

	t.Run("read and commit in one round trip", func(t *testing.T) {
		ctx, trips := begin(t)
		var rows []db.ListClientsRow
		err := st.InOrgRead(ctx, org.ID, func(q *db.Queries) (err error) { rows, err = list(ctx, q); return err })
		if err != nil || len(rows) != 2 || rows[0].Name != "Alpha" || rows[0].Total != 2 {
			t.Fatalf("rows %+v, %v", rows, err)
		}
		if trips() != 2 {
			t.Fatalf("%d round trips, want 2", trips())
		}
		idle(t)
		if err := store.CommitRequest(ctx); err != nil {
			t.Fatal(err)
		}
		// Later work gets a transaction of its own, in the organization.
		if err := st.InOrg(ctx, org.ID, func(q *db.Queries) (err error) { rows, err = list(ctx, q); return err }); err != nil || len(rows) != 2 {
			t.Fatalf("after: %d rows, %v", len(rows), err)
		}
		idle(t)
	})

	// deferred opens it as for a known token (DeferRequestTx): nothing is
	// sent until the read, which then takes one round trip in all.
	deferred := func(t *testing.T) (context.Context, func() int64) {
		ctx, n := store.WithRoundTripCounter(context.Background())
		rt, err := store.DeferRequestTx(ctx, st.Pool, org.ID, "SELECT set_config('app.organization_id', $1, true)", org.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rt.Rollback(context.Background()) })
		return store.WithRequestTx(ctx, rt), n.Load
	}
	t.Run("deferred: open, read and commit in one round trip", func(t *testing.T) {
		ctx, trips := deferred(t)
		var rows []db.ListClientsRow
		err := st.InOrgRead(ctx, org.ID, func(q *db.Queries) (err error) { rows, err = list(ctx, q); return err })
		if err != nil || len(rows) != 2 || trips() != 1 {
			t.Fatalf("rows %+v, %v, %d round trips", rows, err, trips())
		}
		idle(t)
	})

	for name, open := range map[string]func(*testing.T) (context.Context, func() int64){"begun": begin, "deferred": deferred} {
		t.Run(name+": a write fails and nothing is committed", func(t *testing.T) {
			ctx, _ := open(t)
			err := st.InOrgReadRaw(ctx, org.ID, func(tx db.DBTX) error {
				rows, err := tx.Query(ctx, "INSERT INTO clients (organization_id, name) VALUES ($1, 'Written') RETURNING id", org.ID)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			})
			if err == nil || !strings.Contains(err.Error(), "read-only") {
				t.Fatalf("write in a read: %v", err)
			}
			idle(t)
			var n int
			if err := st.RawInOrg(context.Background(), org.ID, func(tx pgx.Tx) error {
				return tx.QueryRow(context.Background(), "SELECT count(*) FROM clients WHERE name = 'Written'").Scan(&n)
			}); err != nil || n != 0 {
				t.Fatalf("written: %d, %v", n, err)
			}
		})
	}

	t.Run("a failing query ends the transaction", func(t *testing.T) {
		ctx, _ := begin(t)
		err := st.InOrgReadRaw(ctx, org.ID, func(tx db.DBTX) error {
			rows, err := tx.Query(ctx, "SELECT 1/0")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		})
		if err == nil || !strings.Contains(err.Error(), "division by zero") {
			t.Fatalf("error %v", err)
		}
		idle(t)
	})

	t.Run("one query only", func(t *testing.T) {
		ctx, _ := begin(t)
		err := st.InOrgRead(ctx, org.ID, func(q *db.Queries) error {
			if _, err := list(ctx, q); err != nil {
				return err
			}
			_, err := list(ctx, q)
			return err
		})
		if err == nil {
			t.Fatal("a second query ran")
		}
		idle(t)
	})

	t.Run("after other statements it is InOrg", func(t *testing.T) {
		ctx, trips := begin(t)
		if err := st.InOrg(ctx, org.ID, func(q *db.Queries) error { _, err := list(ctx, q); return err }); err != nil {
			t.Fatal(err)
		}
		var rows []db.ListClientsRow
		if err := st.InOrgRead(ctx, org.ID, func(q *db.Queries) (err error) { rows, err = list(ctx, q); return err }); err != nil || len(rows) != 2 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		if st.Pool.Stat().AcquiredConns() != 1 {
			t.Fatal("the request transaction ended early")
		}
		if err := store.CommitRequest(ctx); err != nil {
			t.Fatal(err)
		}
		if trips() != 4 {
			t.Fatalf("%d round trips, want 4 (begin, two queries, commit)", trips())
		}
		idle(t)
	})

	t.Run("outside a request it is InOrg", func(t *testing.T) {
		var rows []db.ListClientsRow
		ctx := context.Background()
		if err := st.InOrgRead(ctx, org.ID, func(q *db.Queries) (err error) { rows, err = list(ctx, q); return err }); err != nil || len(rows) != 2 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		idle(t)
	})
}
