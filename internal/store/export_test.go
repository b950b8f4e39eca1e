package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/db"
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

// InOrgReadRaw is InOrgRead with the transaction's raw interface, so tests
// can send any statement.
func (s *Store) InOrgReadRaw(ctx context.Context, org uuid.UUID, fn func(tx db.DBTX) error) error {
	return s.inOrgRead(ctx, org, fn)
}
