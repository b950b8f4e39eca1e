package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"accute/internal/db"
)

// InOrgTx is InOrg that also hands fn the transaction itself, for work
// that must commit or roll back together with fn's rows: above all jobs
// inserted with River's InsertTx, so a job exists exactly when the change
// that caused it was saved. Inside a request that holds the
// organization's transaction, tx is that transaction (savepoints stand in
// for nested transactions; committing or rolling it back is the request's
// business, not fn's).
func (s *Store) InOrgTx(ctx context.Context, orgID uuid.UUID, fn func(tx pgx.Tx, q *db.Queries) error) error {
	if rt := requestTxFrom(ctx); rt != nil && !rt.finished && rt.OrgID == orgID {
		rt.used = true
		if err := rt.open(ctx); err != nil {
			return err
		}
		tx := &requestPgxTx{conn: rt.conn.Conn()}
		return MapError(fn(tx, db.New(tx)))
	}
	if at, ok := ctx.Value(ambientTxKey{}).(ambientTx); ok && at.orgID == orgID {
		// Inside a transaction of the same organization (WithTx): fn's work
		// is a savepoint of it, saved or undone with it.
		sp, err := at.tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if err := fn(sp, db.New(sp)); err != nil {
			_ = sp.Rollback(context.WithoutCancel(ctx))
			return MapError(err)
		}
		return MapError(sp.Commit(ctx))
	}
	return s.inRawTx(ctx, orgID.String(), userIDString(ctx), false, func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

type ambientTxKey struct{}

type ambientTx struct {
	orgID uuid.UUID
	tx    pgx.Tx
}

// WithTx returns ctx carrying tx, a transaction of organization orgID, so
// that InOrg, InOrgTx and InOrgRead called with it for that organization
// work inside tx (each as a savepoint) instead of in a transaction of their
// own: a service called from within tx commits or rolls back with it.
func WithTx(ctx context.Context, orgID uuid.UUID, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, ambientTxKey{}, ambientTx{orgID: orgID, tx: tx})
}

// InTxRaw is InTx (no tenant context) that also hands fn the transaction.
func (s *Store) InTxRaw(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	return s.inRawTx(ctx, "", "", false, func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

// AsPlatformTx is AsPlatform that also hands fn the transaction.
func (s *Store) AsPlatformTx(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	return s.inRawTx(ctx, "", "", true, func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

// errRequestTxOwned is returned when code tries to end the request's
// transaction through the pgx.Tx view of it.
var errRequestTxOwned = errors.New("the request transaction is committed or rolled back by the request, not by its users")

// requestPgxTx presents the request's open transaction (a connection on
// which BEGIN was sent, see RequestTx) as a pgx.Tx.
type requestPgxTx struct {
	conn *pgx.Conn
	seq  atomic.Int64 // savepoint names
}

func (t *requestPgxTx) Begin(ctx context.Context) (pgx.Tx, error) {
	return beginSavepoint(ctx, t, t.conn, &t.seq)
}
func (t *requestPgxTx) Commit(context.Context) error   { return errRequestTxOwned }
func (t *requestPgxTx) Rollback(context.Context) error { return errRequestTxOwned }
func (t *requestPgxTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, cols, src)
}
func (t *requestPgxTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}
func (t *requestPgxTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *requestPgxTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}
func (t *requestPgxTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}
func (t *requestPgxTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}
func (t *requestPgxTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}
func (t *requestPgxTx) Conn() *pgx.Conn { return t.conn }

// savepointTx is a pseudo nested transaction inside the request's.
type savepointTx struct {
	*requestPgxTx
	name   string
	closed bool
}

func beginSavepoint(ctx context.Context, parent *requestPgxTx, conn *pgx.Conn, seq *atomic.Int64) (pgx.Tx, error) {
	name := fmt.Sprintf("accute_sp_%d", seq.Add(1))
	if _, err := conn.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	return &savepointTx{requestPgxTx: parent, name: name}, nil
}

func (t *savepointTx) Begin(ctx context.Context) (pgx.Tx, error) {
	return beginSavepoint(ctx, t.requestPgxTx, t.conn, &t.seq)
}

func (t *savepointTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	_, err := t.conn.Exec(ctx, "RELEASE SAVEPOINT "+t.name)
	return err
}

func (t *savepointTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	_, err := t.conn.Exec(ctx, "ROLLBACK TO SAVEPOINT "+t.name)
	return err
}
