package documents

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/storage"
	"accute/internal/store"
)

// Sealer wraps and unwraps data keys: the key ring (*crypto.KeyRing).
type Sealer interface {
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(sealed, ad []byte) ([]byte, error)
}

// Keys holds each organization's data key: created on first use, stored
// only sealed by the key ring (bound to its organization and id, so a
// wrapped key copied to another organization fails to open), and kept
// unwrapped in memory once used.
type Keys struct {
	Store *store.Store
	Ring  Sealer

	mu    sync.Mutex
	cache map[uuid.UUID]storage.Key // by data key id
}

// maxCachedKeys bounds the cache; past it, an arbitrary entry goes.
const maxCachedKeys = 4096

// keyAD is the associated data a data key is sealed with.
func keyAD(org, id uuid.UUID) []byte {
	return []byte("org_data_keys.wrapped_key:" + org.String() + ":" + id.String())
}

func (k *Keys) remember(key storage.Key) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cache == nil {
		k.cache = map[uuid.UUID]storage.Key{}
	}
	if len(k.cache) >= maxCachedKeys {
		for id := range k.cache {
			delete(k.cache, id)
			break
		}
	}
	k.cache[uuid.UUID(key.ID)] = key
}

func (k *Keys) cached(id uuid.UUID) (storage.Key, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.cache[id]
	return key, ok
}

func (k *Keys) unwrap(org uuid.UUID, row db.OrgDataKey) (storage.Key, error) {
	secret, err := k.Ring.Open(row.WrappedKey, keyAD(org, row.ID))
	if err != nil {
		return storage.Key{}, fmt.Errorf("unwrap data key %s: %w", row.ID, err)
	}
	key := storage.Key{ID: row.ID, Secret: secret, Context: []byte(org.String())}
	k.remember(key)
	return key, nil
}

// Active returns the organization's current data key, creating it on first
// use.
func (k *Keys) Active(ctx context.Context, org uuid.UUID) (storage.Key, error) {
	var row db.OrgDataKey
	err := k.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		row, err = q.GetActiveDataKey(ctx, org)
		if !errors.Is(store.MapError(err), store.ErrNotFound) {
			return err
		}
		id := uuid.New()
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		wrapped, err := k.Ring.Seal(secret, keyAD(org, id))
		if err != nil {
			return fmt.Errorf("seal data key: %w", err)
		}
		row, err = q.CreateDataKey(ctx, db.CreateDataKeyParams{OrganizationID: org, ID: id, WrappedKey: wrapped})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			// Another upload created it first.
			row, err = q.GetActiveDataKey(ctx, org)
		}
		return err
	})
	if err != nil {
		return storage.Key{}, fmt.Errorf("data key: %w", err)
	}
	if key, ok := k.cached(row.ID); ok {
		return key, nil
	}
	return k.unwrap(org, row)
}

// Get returns the data key id of the organization.
func (k *Keys) Get(ctx context.Context, org, id uuid.UUID) (storage.Key, error) {
	if key, ok := k.cached(id); ok && string(key.Context) == org.String() {
		return key, nil
	}
	var row db.OrgDataKey
	err := k.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		row, err = q.GetDataKey(ctx, db.GetDataKeyParams{OrganizationID: org, ID: id})
		return err
	})
	if err != nil {
		return storage.Key{}, fmt.Errorf("data key %s: %w", id, err)
	}
	return k.unwrap(org, row)
}

// keyFunc adapts Get for storage.Open.
func (k *Keys) keyFunc(ctx context.Context, org uuid.UUID) storage.KeyFunc {
	return func(id [16]byte) (storage.Key, error) { return k.Get(ctx, org, uuid.UUID(id)) }
}

// EncryptedColumns are the documents' sealed columns, for `accute keys
// rotate` (the data keys; the files themselves are encrypted with the data
// keys, which rotation leaves unchanged).
var EncryptedColumns = []crypto.Column{{
	Table: "org_data_keys", Column: "wrapped_key", Key: []string{"organization_id", "id"},
	AD: func(key []string) []byte { return []byte("org_data_keys.wrapped_key:" + key[0] + ":" + key[1]) },
}}
