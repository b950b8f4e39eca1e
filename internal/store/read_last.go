package store

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"accute/internal/db"
)

// InOrgRead runs fn, which reads with exactly one query, as the request
// transaction's last statement: the query is sent pipelined between SET
// TRANSACTION READ ONLY and COMMIT, so the transaction ends in the same
// round trip instead of another one when the response is written. A list
// page costs two round trips this way instead of three.
//
// It applies only when the request transaction of orgID has run nothing
// yet: then there is nothing of the request's to commit early, and READ
// ONLY makes a write by mistake fail instead. Otherwise (and outside a
// request) fn runs through InOrg. After it the request has no open
// transaction: anything it runs later gets a transaction of its own.
func (s *Store) InOrgRead(ctx context.Context, orgID uuid.UUID, fn func(q *db.Queries) error) error {
	return s.inOrgRead(ctx, orgID, func(tx db.DBTX) error { return fn(db.New(tx)) })
}

func (s *Store) inOrgRead(ctx context.Context, orgID uuid.UUID, fn func(tx db.DBTX) error) error {
	rt := requestTxFrom(ctx)
	if rt == nil || rt.finished || rt.OrgID != orgID || rt.used {
		return s.InOrgTx(ctx, orgID, func(tx pgx.Tx, _ *db.Queries) error { return fn(tx) })
	}
	t := &lastReadTx{rt: rt}
	err := fn(t)
	if t.sent {
		t.end(ctx) // (a no-op when the query's rows were closed)
		if err == nil {
			err = t.err
		}
	}
	return MapError(err)
}

// errOneQuery is what InOrgRead's fn gets for a second statement.
var errOneQuery = errors.New("store: InOrgRead runs exactly one query")

// lastReadTx is the db.DBTX of InOrgRead: one Query, pipelined with the
// end of the request transaction.
type lastReadTx struct {
	rt   *RequestTx
	br   pgx.BatchResults
	rows pgx.Rows
	sent bool
	done bool
	err  error
}

func (t *lastReadTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.sent {
		return nil, errOneQuery
	}
	t.sent, t.rt.used = true, true
	CountRoundTrip(ctx)
	fail := func(err error) (pgx.Rows, error) {
		t.err = err
		t.end(ctx)
		return nil, err
	}
	b := &pgx.Batch{}
	// A deferred transaction's BEGIN READ ONLY and opening, or, in an
	// open one, SET TRANSACTION READ ONLY: either way the query cannot write.
	opening := t.rt.queueOpen(b, true)
	if opening == 0 {
		b.Queue("SET TRANSACTION READ ONLY")
	}
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	t.br = t.rt.conn.SendBatch(ctx, b)
	if err := t.rt.readOpen(t.br, opening); err != nil {
		return fail(err)
	}
	if opening == 0 {
		if _, err := t.br.Exec(); err != nil {
			return fail(err)
		}
	}
	rows, err := t.br.Query()
	if err != nil {
		return fail(err)
	}
	t.rows = rows
	return &lastReadRows{Rows: rows, t: t, ctx: ctx}, nil
}

// end reads the COMMIT's answer and gives the connection back; when
// anything failed the transaction is rolled back instead (after an error
// PostgreSQL skips the rest of the pipeline, COMMIT included).
func (t *lastReadTx) end(ctx context.Context) {
	if t.done {
		return
	}
	t.done = true
	if t.rows != nil {
		t.rows.Close()
		if err := t.rows.Err(); err != nil && t.err == nil {
			t.err = err
		}
	}
	var tag pgconn.CommandTag
	if t.err == nil {
		tag, t.err = t.br.Exec()
	}
	if err := t.br.Close(); err != nil && t.err == nil {
		t.err = err
	}
	if t.err == nil && tag.String() != "COMMIT" {
		t.err = ErrTxAborted
	}
	if t.err != nil {
		t.rt.Rollback(ctx) // (closes the connection if that fails too)
		return
	}
	t.rt.finished = true
	t.rt.conn.Release()
}

func (t *lastReadTx) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errOneQuery
}

func (t *lastReadTx) QueryRow(context.Context, string, ...any) pgx.Row { return errRow{errOneQuery} }

func (t *lastReadTx) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{errOneQuery}
}

// lastReadRows ends the transaction when the rows are closed.
type lastReadRows struct {
	pgx.Rows
	t   *lastReadTx
	ctx context.Context
}

func (r *lastReadRows) Close() { r.t.end(r.ctx) }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
