package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
	used     bool // a statement of the request's ran in it (see InOrgRead)

	// A deferred transaction (DeferRequestTx) has sent nothing yet: BEGIN
	// and its opening statement go out with the request's first statement,
	// in the same round trip.
	openSQL  string
	openArgs []any
	pending  bool // the opening is still to be sent
	opened   bool // the opening ran and succeeded
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

// ErrAccessChanged is what a deferred request transaction's first statement
// fails with when app_enter_known found that the credential's access
// changed since it was checked (SQLSTATE AV001, see migrations/00117):
// nothing of the request ran; check the credential again.
var ErrAccessChanged = errors.New("store: the credential's access changed since it was checked")

// DeferRequestTx is BeginRequestTx for a principal checked earlier: it
// takes a connection but sends nothing. BEGIN and query (which opens the
// tenant context or fails the transaction, like app_enter_known) go out
// with the request's first statement, or with its COMMIT when it has none,
// so a read request costs one round trip. Until then Opened is false.
func DeferRequestTx(ctx context.Context, pool *pgxpool.Pool, orgID uuid.UUID, query string, args ...any) (*RequestTx, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire: %w", err)
	}
	return &RequestTx{conn: conn, OrgID: orgID, openSQL: query, openArgs: args, pending: true}, nil
}

// Opened reports whether a deferred transaction's opening statement ran
// and succeeded (always true of one begun by BeginRequestTx).
func (rt *RequestTx) Opened() bool { return rt != nil && (rt.opened || rt.openSQL == "") }

// queueOpen adds BEGIN (BEGIN READ ONLY when readOnly) and the deferred
// opening to b when they are still to be sent, and says how many
// statements it added.
func (rt *RequestTx) queueOpen(b *pgx.Batch, readOnly bool) int {
	if !rt.pending {
		return 0
	}
	rt.pending = false
	if readOnly {
		b.Queue("BEGIN READ ONLY")
	} else {
		b.Queue("BEGIN")
	}
	b.Queue(rt.openSQL, rt.openArgs...)
	return 2
}

// readOpen reads the answers to what queueOpen added.
func (rt *RequestTx) readOpen(br pgx.BatchResults, n int) error {
	for range n {
		if _, err := br.Exec(); err != nil {
			return openError(err)
		}
	}
	if n > 0 {
		rt.opened = true
	}
	return nil
}

func openError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "AV001" {
		return ErrAccessChanged
	}
	return err
}

// open sends a deferred opening on its own, for statements that cannot
// carry it (the pgx.Tx view of the request transaction).
func (rt *RequestTx) open(ctx context.Context) error {
	if !rt.pending {
		return nil
	}
	return rt.sendOpening(ctx, false)
}

// sendOpening sends the deferred opening, followed by then (COMMIT, say),
// in one round trip.
func (rt *RequestTx) sendOpening(ctx context.Context, readOnly bool, then ...string) error {
	CountRoundTrip(ctx)
	b := &pgx.Batch{}
	n := rt.queueOpen(b, readOnly)
	for _, sql := range then {
		b.Queue(sql)
	}
	br := rt.conn.SendBatch(ctx, b)
	err := rt.readOpen(br, n)
	for range then {
		if err == nil {
			_, err = br.Exec()
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = openError(cerr)
	}
	return err
}

// Commit commits and releases the connection. A deferred transaction that
// sent nothing yet sends its opening with the COMMIT: the principal is
// confirmed before the answer goes out (ErrAccessChanged when it is not).
func (rt *RequestTx) Commit(ctx context.Context) error {
	if rt == nil || rt.finished {
		return nil
	}
	if rt.pending {
		// Nothing else will run in it: READ ONLY.
		if err := rt.sendOpening(ctx, true, "COMMIT"); err != nil {
			rt.Rollback(ctx)
			return err
		}
		rt.finished = true
		rt.conn.Release()
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
	if rt.pending { // nothing was sent
		return
	}
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
