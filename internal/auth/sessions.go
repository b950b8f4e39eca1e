package auth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"accute/internal/store"
)

// Session keys.
const (
	keyUserID  = "uid"
	keyVersion = "ver"
	keyFlash   = "flash"
	keyPending = "pending_token"
)

// Sessions wraps scs with the application's session vocabulary. Sessions
// live in PostgreSQL, so any instance can serve any request.
type Sessions struct {
	*scs.SessionManager
}

// NewSessions builds the session manager. secure marks cookies Secure.
func NewSessions(pool *pgxpool.Pool, secure bool) *Sessions {
	sm := scs.New()
	sm.Store = ctxStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool, 10*time.Minute), pool: pool}
	sm.Codec = jsonCodec{}
	sm.Lifetime = 14 * 24 * time.Hour
	sm.Cookie.Name = "accute_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	return &Sessions{sm}
}

// Login renews the session token (defeating fixation) and records the user.
func (s *Sessions) Login(ctx context.Context, userID uuid.UUID, version int32) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	s.Put(ctx, keyUserID, userID.String())
	s.Put(ctx, keyVersion, strconv.Itoa(int(version)))
	return nil
}

// Identity implements tenant.Sessions.
func (s *Sessions) Identity(ctx context.Context) (uuid.UUID, int32, bool) {
	raw := s.GetString(ctx, keyUserID)
	if raw == "" {
		return uuid.Nil, 0, false
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, 0, false
	}
	v, err := strconv.Atoi(s.GetString(ctx, keyVersion))
	if err != nil {
		return uuid.Nil, 0, false
	}
	return id, int32(v), true
}

// End destroys the session server-side.
func (s *Sessions) End(ctx context.Context) error { return s.Destroy(ctx) }

// SetVersion updates the version after a privilege change made by the
// user themself (such as a password reset), keeping this session alive.
func (s *Sessions) SetVersion(ctx context.Context, version int32) error {
	s.Put(ctx, keyVersion, strconv.Itoa(int(version)))
	return s.RenewToken(ctx)
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // success, error, info
	Message string
}

// AddFlash queues a message for the next page.
func (s *Sessions) AddFlash(ctx context.Context, kind, msg string) {
	s.Put(ctx, keyFlash, kind+"|"+msg)
}

// PopFlash returns and clears the queued message.
func (s *Sessions) PopFlash(ctx context.Context) *Flash {
	if !s.Exists(ctx, keyFlash) {
		return nil
	}
	raw := s.PopString(ctx, keyFlash)
	if kind, msg, ok := strings.Cut(raw, "|"); ok {
		return &Flash{Kind: kind, Message: msg}
	}
	return &Flash{Kind: "info", Message: raw}
}

// HoldToken keeps a token from a link in the session so that the page the
// link leads to can drop it from its address (tokens never stay in a URL
// that could be logged, bookmarked or sent as a Referer).
func (s *Sessions) HoldToken(ctx context.Context, purpose, token string) {
	s.Put(ctx, keyPending+":"+purpose, token)
}

// HeldToken returns the token held for purpose.
func (s *Sessions) HeldToken(ctx context.Context, purpose string) string {
	return s.GetString(ctx, keyPending+":"+purpose)
}

// DropToken forgets the token held for purpose.
func (s *Sessions) DropToken(ctx context.Context, purpose string) {
	s.Remove(ctx, keyPending+":"+purpose)
}

// ctxStore gives scs the request context (pgxstore itself ignores it), so
// that session reads and writes are counted with the request's round
// trips, and on organization pages loads the session together with the
// tenant context (see store.Prefetch).
type ctxStore struct {
	*pgxstore.PostgresStore
	pool *pgxpool.Pool
}

func (s ctxStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if pf := store.PrefetchFrom(ctx); pf != nil {
		var data []byte
		var principal *string
		rt, err := store.BeginRequestTxOn(ctx, s.pool, "SELECT data, principal FROM app_enter_session($1, $2)", []any{token, pf.Slug}, &data, &principal)
		if err != nil {
			return nil, false, err
		}
		if data == nil || principal == nil {
			rt.Rollback(ctx)
		} else {
			pf.Tx, pf.Principal = rt, []byte(*principal)
		}
		return data, data != nil, nil
	}
	store.CountRoundTrip(ctx)
	return s.Find(token)
}

func (s ctxStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	store.CountRoundTrip(ctx)
	return s.Commit(token, b, expiry)
}

func (s ctxStore) DeleteCtx(ctx context.Context, token string) error {
	store.CountRoundTrip(ctx)
	return s.Delete(token)
}

func (s ctxStore) AllCtx(ctx context.Context) (map[string][]byte, error) { return s.All() }
