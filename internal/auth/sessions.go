package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
)

// Session keys.
const (
	keyUserID  = "uid"
	keyVersion = "ver"
	keyFlash   = "flash"
	keyPending = "pending_token"
	// keySeen is when the session's device entry (last seen, address) was
	// last refreshed; see Identity.
	keySeen = "seen"
	// A password accepted, the second factor still to come (see
	// BeginSecondFactor). Deliberately not "uid": the session is not
	// signed in, and app_enter_session only ever reads "uid".
	key2FAUser    = "2fa.user"
	key2FAVersion = "2fa.ver"
	key2FAAt      = "2fa.at"
	key2FANext    = "2fa.next"
)

// Device-list timings.
const (
	// SeenInterval: a session's last-seen time and address are refreshed at
	// most this often (one extra write per session per interval, not one per
	// request).
	SeenInterval = 5 * time.Minute
	// SecondFactorTTL is how long a password stays accepted while the
	// second factor is asked for.
	SecondFactorTTL = 5 * time.Minute
)

// Sessions wraps scs with the application's session vocabulary. Sessions
// live in PostgreSQL, so any instance can serve any request.
type Sessions struct {
	*scs.SessionManager
	pool *pgxpool.Pool
}

// NewSessions builds the session manager. secure marks cookies Secure.
func NewSessions(pool *pgxpool.Pool, secure bool) *Sessions {
	sm := scs.New()
	sm.Store = ctxStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool, 10*time.Minute), pool: pool}
	sm.Codec = newJSONCodec()
	sm.Lifetime = 14 * 24 * time.Hour
	sm.Cookie.Name = "accute_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	return &Sessions{SessionManager: sm, pool: pool}
}

// Login renews the session token (defeating fixation) and records the user.
// The session row then carries the user, address and browser (see
// ctxStore.CommitCtx), which is what the sessions-and-devices page lists.
func (s *Sessions) Login(ctx context.Context, userID uuid.UUID, version int32) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	s.clearSecondFactor(ctx)
	s.Put(ctx, keyUserID, userID.String())
	s.Put(ctx, keyVersion, strconv.Itoa(int(version)))
	s.Put(ctx, keySeen, strconv.FormatInt(time.Now().Unix(), 10))
	return nil
}

// PendingLogin is a password accepted while the second factor is asked.
type PendingLogin struct {
	UserID  uuid.UUID
	Version int32
	Next    string
	At      time.Time
}

// BeginSecondFactor remembers that userID gave the right password. The
// session is NOT signed in: Identity stays false until Login, which the
// caller does once the second factor passes. The token is renewed here too.
func (s *Sessions) BeginSecondFactor(ctx context.Context, userID uuid.UUID, version int32, next string) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	s.Remove(ctx, keyUserID)
	s.Remove(ctx, keyVersion)
	s.Put(ctx, key2FAUser, userID.String())
	s.Put(ctx, key2FAVersion, strconv.Itoa(int(version)))
	s.Put(ctx, key2FAAt, strconv.FormatInt(time.Now().Unix(), 10))
	s.Put(ctx, key2FANext, next)
	return nil
}

// PendingSecondFactor returns the pending login, if there is one younger
// than SecondFactorTTL. An expired one is dropped.
func (s *Sessions) PendingSecondFactor(ctx context.Context) (PendingLogin, bool) {
	raw := s.GetString(ctx, key2FAUser)
	if raw == "" {
		return PendingLogin{}, false
	}
	id, err1 := uuid.Parse(raw)
	v, err2 := strconv.Atoi(s.GetString(ctx, key2FAVersion))
	at, err3 := strconv.ParseInt(s.GetString(ctx, key2FAAt), 10, 64)
	p := PendingLogin{UserID: id, Version: int32(v), Next: s.GetString(ctx, key2FANext), At: time.Unix(at, 0)}
	if err1 != nil || err2 != nil || err3 != nil || time.Since(p.At) > SecondFactorTTL || time.Since(p.At) < -time.Minute {
		s.clearSecondFactor(ctx)
		return PendingLogin{}, false
	}
	return p, true
}

// CancelSecondFactor forgets a pending login.
func (s *Sessions) CancelSecondFactor(ctx context.Context) { s.clearSecondFactor(ctx) }

func (s *Sessions) clearSecondFactor(ctx context.Context) {
	for _, k := range []string{key2FAUser, key2FAVersion, key2FAAt, key2FANext} {
		if s.Exists(ctx, k) {
			s.Remove(ctx, k)
		}
	}
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
	s.touch(ctx)
	return id, int32(v), true
}

// touch refreshes the device entry (last seen, address, browser) of a
// signed-in session at most every SeenInterval: modifying the session makes
// scs write it back at the end of the request, and that write carries the
// device columns (ctxStore.CommitCtx). No extra statement on the other
// requests, so organization pages keep their round-trip budget.
func (s *Sessions) touch(ctx context.Context) {
	seen, err := strconv.ParseInt(s.GetString(ctx, keySeen), 10, 64)
	if err == nil && time.Since(time.Unix(seen, 0)) < SeenInterval {
		return
	}
	s.Put(ctx, keySeen, strconv.FormatInt(time.Now().Unix(), 10))
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

// CommitCtx writes the session with its device columns in one statement:
// the user and session version (read from the data, so they can never
// disagree with it), and the address and browser of the request (from
// audit.Info, which the web layer fills from c.RealIP()).
func (s ctxStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	p := db.CommitSessionParams{Token: token, Data: b, Expiry: expiry}
	var in sessionJSON
	if json.Unmarshal(b, &in) == nil {
		if id, err := uuid.Parse(in.Values[keyUserID]); err == nil {
			p.UserID = &id
			if v, err := strconv.Atoi(in.Values[keyVersion]); err == nil {
				v32 := int32(v)
				p.SessionVersion = &v32
			}
		}
	}
	info := audit.Info(ctx)
	p.Ip, p.UserAgent = info.IP, truncate(info.UserAgent, 300)
	return db.New(s.pool).CommitSession(ctx, p) // counted by the pool's tracer
}

func (s ctxStore) DeleteCtx(ctx context.Context, token string) error {
	return db.New(s.pool).DeleteSession(ctx, token)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (s ctxStore) AllCtx(ctx context.Context) (map[string][]byte, error) { return s.All() }
