package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RawInOrg, RawAsPlatform and RawNoTenant run raw SQL in the same tenant
// contexts the application uses, for the isolation tests.
func (s *Store) RawInOrg(ctx context.Context, org uuid.UUID, fn func(tx pgx.Tx) error) error {
	return s.inRawTx(ctx, org.String(), "", false, fn)
}

func (s *Store) RawAsPlatform(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inRawTx(ctx, "", "", true, fn)
}

func (s *Store) RawNoTenant(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inRawTx(ctx, "", "", false, fn)
}
