// Package store owns the connection pool and the transaction helpers that
// set the tenant context row-level security relies on.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"accute/internal/db"
)

// AppRole is the role the application runs as: it owns no table and has no
// BYPASSRLS, so row-level security always applies (see migrations).
const AppRole = "accute_app"

// Errors the rest of the application maps to user-facing answers.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// MapError turns driver errors into the store's sentinel errors.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
	}
	return err
}

// Store wraps the pool.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects to DATABASE_URL and switches every connection to the
// application role.
func Open(ctx context.Context, url string, maxConns int) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	cfg.ConnConfig.Tracer = roundTripTracer{}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		// A connecting role that is already the app role (or a member of it)
		// ends up with the same rights; SET ROLE fails loudly otherwise.
		// (Setting up a new connection is not one of the request's round
		// trips, which the counter is for.)
		uncounted := context.WithValue(ctx, counterKey{}, (*atomic.Int64)(nil))
		if _, err := c.Exec(uncounted, "SET ROLE "+AppRole+"; SET plan_cache_mode = force_generic_plan"); err != nil {
			return fmt.Errorf("set role %s (the database user must be a member of it; run `accute migrate` first): %w", AppRole, err)
		}
		registerUUID(c)
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// Q returns queries that run outside any tenant context: only for global
// tables (users, organizations, sessions, tokens, outbox).
func (s *Store) Q() *db.Queries { return db.New(s.Pool) }

// InTx runs fn in a transaction without tenant context.
func (s *Store) InTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return s.inTx(ctx, "", "", false, fn)
}

// InOrg runs fn in a transaction scoped to one organization. Inside a
// request that already holds a transaction for that organization, fn joins
// it (so a page costs no extra round trips).
func (s *Store) InOrg(ctx context.Context, orgID uuid.UUID, fn func(q *db.Queries) error) error {
	return s.InOrgTx(ctx, orgID, func(_ pgx.Tx, q *db.Queries) error { return fn(q) })
}

// AsUser runs fn with a user's context but no organization: it sees the
// user's own memberships in every organization and nothing else.
func (s *Store) AsUser(ctx context.Context, userID uuid.UUID, fn func(q *db.Queries) error) error {
	return s.inTx(ctx, "", userID.String(), false, fn)
}

// AsPlatform runs fn with row-level security opened to every organization.
// Only the admin console (platform administrators) and maintenance use it.
func (s *Store) AsPlatform(ctx context.Context, fn func(q *db.Queries) error) error {
	return s.inTx(ctx, "", "", true, fn)
}

func (s *Store) inTx(ctx context.Context, org, user string, platform bool, fn func(q *db.Queries) error) error {
	return s.inRawTx(ctx, org, user, platform, func(tx pgx.Tx) error { return fn(db.New(tx)) })
}

func (s *Store) inRawTx(ctx context.Context, org, user string, platform bool, fn func(tx pgx.Tx) error) error {
	// A request served with a principal still to be confirmed (a deferred
	// request transaction) confirms it before any other transaction runs.
	if rt := requestTxFrom(ctx); rt != nil && !rt.finished {
		if err := rt.open(ctx); err != nil {
			return err
		}
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if org != "" || user != "" || platform {
		p := ""
		if platform {
			p = "on"
		}
		if _, err := tx.Exec(ctx, `SELECT set_config('app.organization_id', $1, true), set_config('app.user_id', $2, true), set_config('app.platform', $3, true)`, org, user, p); err != nil {
			return fmt.Errorf("set tenant context: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return MapError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", MapError(err))
	}
	return nil
}

type userKey struct{}

// WithUserID records the signed-in user for transactions started later.
func WithUserID(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, userKey{}, id)
}

func userIDString(ctx context.Context) string {
	if id, ok := ctx.Value(userKey{}).(uuid.UUID); ok {
		return id.String()
	}
	return ""
}

// Round-trip counting: every statement sent through pgx is one round trip;
// the benchmark and tests read the count per request.
type counterKey struct{}

// WithRoundTripCounter returns a context that counts SQL round trips.
func WithRoundTripCounter(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, counterKey{}, n), n
}

// CountRoundTrip adds one to the context's counter, if any.
func CountRoundTrip(ctx context.Context) {
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok && n != nil {
		n.Add(1)
	}
}

type roundTripTracer struct{}

func (roundTripTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	CountRoundTrip(ctx)
	return ctx
}
func (roundTripTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
