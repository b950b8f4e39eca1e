package sso

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/testutil"
)

// TestSPKeyRotation: the SP private key is sealed with the key ring, bound
// to its row, and `accute keys rotate` (crypto.Rotate over
// EncryptedColumns) re-seals it with a new key.
func TestSPKeyRotation(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	owner := f.User("")
	org := f.Org(owner, "")
	ctx := context.Background()
	oldKey, newKey := make([]byte, crypto.KeySize), make([]byte, crypto.KeySize)
	_, _ = rand.Read(oldKey)
	_, _ = rand.Read(newKey)
	oldRing, _ := crypto.NewKeyRing(oldKey)
	connID := uuid.New()
	kp, err := newKeyPair(oldRing, org.ID, connID, org.Slug, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(kp.SealedKey, []byte("PRIVATE")) || len(kp.SealedKey) < 1000 {
		t.Fatalf("sealed key looks wrong (%d bytes)", len(kp.SealedKey))
	}
	// Bound to its row: another connection id does not open it.
	if _, _, err := openKeyPair(oldRing, org.ID, uuid.New(), kp.CertPEM, kp.SealedKey); err == nil {
		t.Fatal("the sealed key opened for another row")
	}
	err = st.InOrg(ctx, org.ID, func(q *db.Queries) error {
		return q.CreateSAMLConnection(ctx, db.CreateSAMLConnectionParams{OrganizationID: org.ID, ID: connID, SpCertificate: kp.CertPEM, SpPrivateKey: kp.SealedKey})
	})
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := crypto.NewKeyRing(newKey, oldKey)
	res, err := crypto.Rotate(ctx, st.Pool, ring, EncryptedColumns, 10)
	if err != nil || len(res) != 1 || res[0].Rotated != 1 {
		t.Fatalf("rotate: %+v %v", res, err)
	}
	var conn db.SamlConnection
	if err := st.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		conn, err = q.GetSAMLConnection(ctx, org.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	newOnly, _ := crypto.NewKeyRing(newKey)
	if _, _, err := openKeyPair(newOnly, org.ID, connID, conn.SpCertificate, conn.SpPrivateKey); err != nil {
		t.Fatalf("after rotation the new key alone does not open the SP key: %v", err)
	}
}
