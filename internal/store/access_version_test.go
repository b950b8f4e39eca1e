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

// Every change to what a token's principal is made of moves the
// organization's or the user's access version (migrations/00117), and
// app_enter_known refuses versions that moved; the last-used time that
// every API request may write does not move them.
func TestAccessVersionsFollowPrincipalChanges(t *testing.T) {
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	ctx := context.Background()
	owner, staff := f.User(""), f.User("")
	org := f.Org(owner, "")
	f.Member(org, staff, "staff")
	role := f.CustomRole(org, "Bookkeeper", "clients.read")

	versions := func() (o, u int64) {
		t.Helper()
		if err := s.RawAsPlatform(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT (SELECT access_version FROM organizations WHERE id = $1), (SELECT access_version FROM users WHERE id = $2)`,
				org.ID, staff.ID).Scan(&o, &u)
		}); err != nil {
			t.Fatal(err)
		}
		return o, u
	}
	run := func(sql string, args ...any) {
		t.Helper()
		if err := s.RawAsPlatform(ctx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql, args...); return err }); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var tokenID string
	if err := s.RawAsPlatform(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO api_tokens (organization_id, user_id, name, token_hash, token_hint, role)
			VALUES ($1, $2, 'script', '\x01', 'hint', 'staff') RETURNING id::text`, org.ID, staff.ID).Scan(&tokenID)
	}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name      string
		sql       string
		args      []any
		org, user bool // which version must move
	}{
		{"token used", `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, []any{tokenID}, false, false},
		{"token revoked", `UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, []any{tokenID}, true, false},
		{"token deleted", `DELETE FROM api_tokens WHERE id = $1`, []any{tokenID}, true, false},
		{"member's role", `UPDATE memberships SET role = 'manager' WHERE organization_id = $1 AND user_id = $2`, []any{org.ID, staff.ID}, true, false},
		{"role's permissions", `UPDATE roles SET permissions = '{}' WHERE id = $1`, []any{role.ID}, true, false},
		{"role deleted", `DELETE FROM roles WHERE id = $1`, []any{role.ID}, true, false},
		{"organization MFA policy", `UPDATE organizations SET require_mfa = true WHERE id = $1`, []any{org.ID}, true, false},
		{"organization renamed", `UPDATE organizations SET name = 'Renamed LLP' WHERE id = $1`, []any{org.ID}, true, false},
		{"user suspended", `UPDATE users SET suspended_at = now() WHERE id = $1`, []any{staff.ID}, false, true},
		{"user signed in", `UPDATE users SET last_login_at = now() WHERE id = $1`, []any{staff.ID}, false, false},
		{"two-factor enrolled", `INSERT INTO user_mfa (user_id, totp_secret, confirmed_at) VALUES ($1, 'secret', now())`, []any{staff.ID}, false, true},
		{"two-factor code used", `UPDATE user_mfa SET last_used_step = 7 WHERE user_id = $1`, []any{staff.ID}, false, false},
		{"two-factor removed", `DELETE FROM user_mfa WHERE user_id = $1`, []any{staff.ID}, false, true},
		{"member removed", `DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, []any{org.ID, staff.ID}, true, false},
	} {
		o0, u0 := versions()
		run(c.sql, c.args...)
		o1, u1 := versions()
		if (o1 != o0) != c.org || (u1 != u0) != c.user {
			t.Errorf("%s: organization %d -> %d, user %d -> %d", c.name, o0, o1, u0, u1)
		}
	}

	// app_enter_known: current versions open the context, old ones fail
	// with AV001, which the request transaction reports as ErrAccessChanged.
	o, u := versions()
	for _, c := range []struct {
		o, u int64
		ok   bool
	}{{o, u, true}, {o - 1, u, false}, {o, u - 1, false}} {
		rt, err := store.DeferRequestTx(ctx, s.Pool, org.ID, "SELECT app_enter_known($1, $2, $3, $4)", org.ID, staff.ID, c.o, c.u)
		if err != nil {
			t.Fatal(err)
		}
		err = rt.Commit(ctx)
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, store.ErrAccessChanged)) {
			t.Fatalf("versions %d/%d: %v", c.o, c.u, err)
		}
	}

	// Any other transaction of such a request confirms the principal first.
	rt, err := store.DeferRequestTx(ctx, s.Pool, org.ID, "SELECT app_enter_known($1, $2, $3, $4)", org.ID, staff.ID, o-1, u)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Rollback(ctx)
	ran := false
	err = s.AsUser(store.WithRequestTx(ctx, rt), staff.ID, func(*db.Queries) error { ran = true; return nil })
	if !errors.Is(err, store.ErrAccessChanged) || ran || rt.Opened() {
		t.Fatalf("another transaction with stale versions: err %v, ran %v", err, ran)
	}
}
