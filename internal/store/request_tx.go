package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	used     bool // a statement of the request's ran in it (see InOrgRead)
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

// BeginRequestTx starts a transaction on a dedicated connection and runs
// query in it, sending BEGIN and the query as one pipelined batch (one
// round trip); the single row's columns are scanned into dest. The
// transaction stays open for the request.
func (s *Store) BeginRequestTx(ctx context.Context, query string, args []any, dest ...any) (*RequestTx, error) {
	return BeginRequestTxOn(ctx, s.Pool, query, args, dest...)
}

// BeginRequestTxOn is BeginRequestTx on a given pool.
func BeginRequestTxOn(ctx context.Context, pool *pgxpool.Pool, query string, args []any, dest ...any) (*RequestTx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire: %w", err)
	}
	CountRoundTrip(ctx)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(query, args...)
	br := conn.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(dest...)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Whatever state the connection is in, do not reuse it.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		return nil, err
	}
	return &RequestTx{conn: conn}, nil
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

// Prefetch lets the session store open an organization page's request
// transaction and load its principal in the same round trip as the session
// itself. A middleware puts an empty Prefetch naming the organization slug
// into the context before the session is loaded; the tenant middleware
// takes Tx and Principal from it.
type Prefetch struct {
	Slug      string
	Tx        *RequestTx
	Principal []byte // JSON from app_enter
}

type prefetchKey struct{}

// WithPrefetch attaches pf to ctx.
func WithPrefetch(ctx context.Context, pf *Prefetch) context.Context {
	return context.WithValue(ctx, prefetchKey{}, pf)
}

// PrefetchFrom returns the context's prefetch request, if any.
func PrefetchFrom(ctx context.Context) *Prefetch {
	pf, _ := ctx.Value(prefetchKey{}).(*Prefetch)
	return pf
}
