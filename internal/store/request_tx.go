package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RequestTx is the transaction an organization page runs in. It is opened by
// the tenant middleware in the same round trip as the membership check and
// committed just before the response is written, so a page that reads costs
// a fixed, small number of round trips and a failing handler writes nothing.
type RequestTx struct {
	conn     *pgxpool.Conn
	OrgID    uuid.UUID
	finished bool
}

// ErrTxAborted reports that a statement failed inside the request
// transaction, so nothing of it was committed.
var ErrTxAborted = errors.New("transaction aborted: nothing was saved")

type requestTxKey struct{}

func requestTxFrom(ctx context.Context) *RequestTx {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	return rt
}

// WithRequestTx attaches rt to ctx.
func WithRequestTx(ctx context.Context, rt *RequestTx) context.Context {
	return context.WithValue(ctx, requestTxKey{}, rt)
}

// ExecMulti sends several statements in one round trip with the simple
// protocol and returns every result. Callers interpolate only values they
// validated (UUIDs, slugs matching a strict pattern) into sql.
func (s *Store) ExecMulti(ctx context.Context, sql string) ([]*pgconn.Result, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire: %w", err)
	}
	defer conn.Release()
	CountRoundTrip(ctx)
	return conn.Conn().PgConn().Exec(ctx, sql).ReadAll()
}

// BeginRequestTx runs sql, which must start a transaction (BEGIN; ...), on a
// dedicated connection and keeps the transaction open for the request.
func (s *Store) BeginRequestTx(ctx context.Context, sql string) (*RequestTx, []*pgconn.Result, error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("acquire: %w", err)
	}
	CountRoundTrip(ctx)
	res, err := conn.Conn().PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		// The connection's state is unknown; drop it rather than reuse it.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		return nil, nil, err
	}
	return &RequestTx{conn: conn}, res, nil
}

// Commit commits and releases the connection.
func (rt *RequestTx) Commit(ctx context.Context) error {
	if rt == nil || rt.finished {
		return nil
	}
	rt.finished = true
	defer rt.conn.Release()
	tag, err := rt.conn.Exec(ctx, "COMMIT")
	if err != nil {
		_ = rt.conn.Conn().Close(context.WithoutCancel(ctx))
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" {
		return ErrTxAborted
	}
	return nil
}

// Rollback rolls back (when still open) and releases the connection.
func (rt *RequestTx) Rollback(ctx context.Context) {
	if rt == nil || rt.finished {
		return
	}
	rt.finished = true
	defer rt.conn.Release()
	if _, err := rt.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		_ = rt.conn.Conn().Close(context.WithoutCancel(ctx))
	}
}

// CommitRequest commits the request transaction in ctx, if there is one.
// The render helpers call it before writing the response, so the user never
// sees success for a change that was not saved.
func CommitRequest(ctx context.Context) error {
	return requestTxFrom(ctx).Commit(ctx)
}

// RollbackRequest rolls back the request transaction in ctx, if open.
func RollbackRequest(ctx context.Context) { requestTxFrom(ctx).Rollback(ctx) }
