package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/store"
)

// JWT access tokens: HS256 with JWT_SECRET, short-lived, for a user (not an
// organization: organization routes check membership on every request, as
// the web does). Refresh tokens are opaque, stored hashed and rotate on
// every use; presenting one that was already used revokes its whole family.
const (
	JWTIssuer     = "accute-platform"
	JWTAudience   = "accute-users"
	RefreshPrefix = "acc_rt_"
)

// Errors of the token flows. Handlers answer all of them 401.
var (
	ErrInvalidAccessToken  = errors.New("invalid access token")
	ErrInvalidRefreshToken = errors.New("invalid refresh token")
	ErrRefreshTokenReused  = errors.New("refresh token reused")
)

// AccessClaims are the claims of an access token. Ver is the user's session
// version at sign-in (a password reset or a suspension invalidates the
// token at once); Sid names the refresh token family it came from.
type AccessClaims struct {
	jwt.RegisteredClaims
	Ver int32  `json:"ver"`
	Sid string `json:"sid,omitempty"`
}

// TokenPair is the answer of the token and refresh endpoints.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds
}

// jwtParser validates strictly: only HS256 (no "none", no RSA/HMAC
// confusion), our issuer and audience, and exp required; nbf and iat are
// checked when present (we always set them).
func (a *APITokens) jwtParser() *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(JWTIssuer),
		jwt.WithAudience(JWTAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
}

// SignAccess signs an access token for the user.
func (a *APITokens) SignAccess(userID uuid.UUID, version int32, family uuid.UUID, now time.Time) (string, error) {
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    JWTIssuer,
			Subject:   userID.String(),
			Audience:  jwt.ClaimStrings{JWTAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(a.AccessTTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Ver: version,
		Sid: family.String(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// VerifyAccess checks an access token's signature and claims and returns
// the user id and session version it carries.
func (a *APITokens) VerifyAccess(token string) (uuid.UUID, *AccessClaims, error) {
	var claims AccessClaims
	_, err := a.jwtParser().ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return a.Secret, nil })
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("%w: %w", ErrInvalidAccessToken, err)
	}
	if claims.NotBefore == nil || claims.IssuedAt == nil {
		return uuid.Nil, nil, fmt.Errorf("%w: nbf and iat are required", ErrInvalidAccessToken)
	}
	uid, err := uuid.Parse(claims.Subject)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("%w: bad subject", ErrInvalidAccessToken)
	}
	return uid, &claims, nil
}

// LooksLikeJWT tells a JWT from other bearer tokens.
func LooksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// IssueTokens starts a new refresh token family for a user who has just
// proved who they are, and returns the first pair.
func (a *APITokens) IssueTokens(ctx context.Context, user db.User) (TokenPair, error) {
	family := uuid.New()
	var pair TokenPair
	err := a.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		pair, err = a.issue(ctx, q, user.ID, user.SessionVersion, family)
		return err
	})
	if err != nil {
		return TokenPair{}, fmt.Errorf("issue tokens: %w", err)
	}
	return pair, nil
}

func (a *APITokens) issue(ctx context.Context, q *db.Queries, userID uuid.UUID, version int32, family uuid.UUID) (TokenPair, error) {
	now := time.Now()
	refresh := RefreshPrefix + crypto.RandomToken()
	hash := crypto.HashToken(refresh)
	if err := q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{
		FamilyID: family, UserID: userID, TokenHash: hash, SessionVersion: version, ExpiresAt: now.Add(a.RefreshTTL),
	}); err != nil {
		return TokenPair{}, err
	}
	access, err := a.SignAccess(userID, version, family, now)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, ExpiresIn: int(a.AccessTTL.Seconds())}, nil
}

// Refresh exchanges a refresh token for a new pair. The token is used up;
// a token that was already used means it leaked (or the client is
// confused): its whole family is revoked, the event audited, and
// ErrRefreshTokenReused returned.
func (a *APITokens) Refresh(ctx context.Context, refresh string) (TokenPair, error) {
	if !strings.HasPrefix(refresh, RefreshPrefix) || len(refresh) > 200 {
		return TokenPair{}, ErrInvalidRefreshToken
	}
	var pair TokenPair
	var outcome error
	err := a.Store.InTx(ctx, func(q *db.Queries) error {
		// FOR UPDATE: two concurrent uses of one token are one use and one
		// reuse, never two successes.
		rt, err := q.GetRefreshTokenForUpdate(ctx, crypto.HashToken(refresh))
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			outcome = ErrInvalidRefreshToken
			return nil
		}
		if err != nil {
			return err
		}
		if rt.RevokedAt != nil {
			outcome = ErrInvalidRefreshToken
			return nil
		}
		if rt.UsedAt != nil {
			n, err := q.RevokeRefreshFamily(ctx, rt.FamilyID)
			if err != nil {
				return err
			}
			outcome = ErrRefreshTokenReused
			u, _ := q.GetUser(ctx, rt.UserID)
			return audit.Record(ctx, q, audit.Event{
				ActorID: &rt.UserID, ActorEmail: u.Email, Action: audit.APIRefreshReused, TargetType: "user", TargetID: rt.UserID.String(),
				Summary: fmt.Sprintf("a used refresh token was presented again: %d tokens of its family revoked", n),
			})
		}
		if !time.Now().Before(rt.ExpiresAt) {
			outcome = ErrInvalidRefreshToken
			return nil
		}
		u, err := q.GetUser(ctx, rt.UserID)
		if err != nil {
			return err
		}
		if u.SuspendedAt != nil || u.SessionVersion != rt.SessionVersion {
			if _, err := q.RevokeRefreshFamily(ctx, rt.FamilyID); err != nil {
				return err
			}
			outcome = ErrInvalidRefreshToken
			return nil
		}
		if err := q.MarkRefreshTokenUsed(ctx, rt.ID); err != nil {
			return err
		}
		pair, err = a.issue(ctx, q, u.ID, u.SessionVersion, rt.FamilyID)
		return err
	})
	if err != nil {
		return TokenPair{}, fmt.Errorf("refresh: %w", err)
	}
	if outcome != nil {
		return TokenPair{}, outcome
	}
	return pair, nil
}

// RevokeRefresh ends a refresh token's family (sign-out of a script). An
// unknown token is ErrInvalidRefreshToken.
func (a *APITokens) RevokeRefresh(ctx context.Context, refresh string) error {
	if !strings.HasPrefix(refresh, RefreshPrefix) || len(refresh) > 200 {
		return ErrInvalidRefreshToken
	}
	err := a.Store.InTx(ctx, func(q *db.Queries) error {
		rt, err := q.GetRefreshTokenForUpdate(ctx, crypto.HashToken(refresh))
		if err != nil {
			return err
		}
		_, err = q.RevokeRefreshFamily(ctx, rt.FamilyID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidRefreshToken
	}
	return err
}

// RunSweeper deletes long-expired refresh tokens every interval until ctx
// ends (they are useless; reuse detection only needs recent ones).
func (a *APITokens) RunSweeper(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.Store.Q().DeleteExpiredRefreshTokens(ctx); err != nil && ctx.Err() == nil && log != nil {
				log.Warn("refresh token sweep", "error", err)
			}
		}
	}
}
