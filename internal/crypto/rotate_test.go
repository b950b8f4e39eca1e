package crypto_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/uuid"

	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/testutil"
)

// TestRotateReencryptsTOTPSecrets seals secrets under an old key, rotates
// to a new one, and checks every value opens under the new ring only.
func TestRotateReencryptsTOTPSecrets(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	ctx := context.Background()
	oldKey, newKey := newKey(t), newKey(t)
	before := ring(t, oldKey)

	const n = 7 // more than one batch of 3
	users := make([]uuid.UUID, n)
	for i := range users {
		users[i] = f.User("").ID
		sealed, err := before.SealString("SECRET"+users[i].String()[:4], string(auth.TOTPSecretAD(users[i].String())))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool.Exec(ctx, "INSERT INTO user_mfa (user_id, totp_secret, confirmed_at) VALUES ($1, $2, now())", users[i], sealed); err != nil {
			t.Fatal(err)
		}
	}
	// One row already under the new key.
	after := ring(t, newKey, oldKey)
	extra := f.User("").ID
	sealed, _ := after.SealString("CURRENT", string(auth.TOTPSecretAD(extra.String())))
	if _, err := st.Pool.Exec(ctx, "INSERT INTO user_mfa (user_id, totp_secret) VALUES ($1, $2)", extra, sealed); err != nil {
		t.Fatal(err)
	}

	res, err := crypto.Rotate(ctx, st.Pool, after, auth.EncryptedColumns, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Rotated != n || res[0].Current != 1 || res[0].Failed != 0 {
		t.Fatalf("result %+v", res)
	}
	onlyNew := ring(t, newKey)
	for _, id := range append(users, extra) {
		var v string
		if err := st.Pool.QueryRow(ctx, "SELECT totp_secret FROM user_mfa WHERE user_id = $1", id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if _, err := onlyNew.OpenString(v, string(auth.TOTPSecretAD(id.String()))); err != nil {
			t.Fatalf("user %s: %v", id, err)
		}
		raw, _ := base64.StdEncoding.DecodeString(v)
		if !onlyNew.Current(raw) {
			t.Fatal("not under the current key")
		}
	}
	// Running again changes nothing.
	res, err = crypto.Rotate(ctx, st.Pool, after, auth.EncryptedColumns, 3)
	if err != nil || res[0].Rotated != 0 || res[0].Current != n+1 {
		t.Fatalf("second run %+v %v", res, err)
	}
}

func TestRotateReportsValuesItCannotOpen(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	ctx := context.Background()
	lost := ring(t, newKey(t)) // a key nobody configured any more
	u := f.User("").ID
	sealed, _ := lost.SealString("x", string(auth.TOTPSecretAD(u.String())))
	if _, err := st.Pool.Exec(ctx, "INSERT INTO user_mfa (user_id, totp_secret) VALUES ($1, $2)", u, sealed); err != nil {
		t.Fatal(err)
	}
	// A value moved to another user's row does not open either (AD).
	current := ring(t, newKey(t))
	v := f.User("").ID
	moved, _ := current.SealString("y", string(auth.TOTPSecretAD(u.String())))
	if _, err := st.Pool.Exec(ctx, "INSERT INTO user_mfa (user_id, totp_secret) VALUES ($1, $2)", v, moved); err != nil {
		t.Fatal(err)
	}
	res, err := crypto.Rotate(ctx, st.Pool, current, auth.EncryptedColumns, 10)
	if err == nil || res[0].Failed != 1 || res[0].Current != 1 {
		t.Fatalf("want one failure: %+v %v", res, err)
	}
	var after string
	_ = st.Pool.QueryRow(ctx, "SELECT totp_secret FROM user_mfa WHERE user_id = $1", u).Scan(&after)
	if after != sealed {
		t.Fatal("an unopenable value was changed")
	}
	if _, err := current.OpenString(moved, string(auth.TOTPSecretAD(v.String()))); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("moved value: %v", err)
	}
}
