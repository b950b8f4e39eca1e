package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/notify"
	"accute/internal/ratelimit"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Token lifetimes.
const (
	VerifyTTL = 48 * time.Hour
	ResetTTL  = time.Hour
)

// Service implements sign-up, sign-in, verification and password reset.
type Service struct {
	Store   *store.Store
	Orgs    *tenant.Service
	BaseURL string
	Cost    int

	// Login throttling (see Authenticate): failed attempts allowed per
	// account and per client address in Throttle.Window.
	Throttle     *Throttle
	AccountLimit int
	IPLimit      int

	dummyHash string
}

// NewService builds the service; cost is the bcrypt cost.
func NewService(s *store.Store, orgs *tenant.Service, baseURL string, cost int) (*Service, error) {
	// Unknown addresses are checked against this hash so that they take as
	// long as a wrong password.
	h, err := HashPassword("not-a-real-password-for-timing", cost)
	if err != nil {
		return nil, err
	}
	return &Service{
		Store: s, Orgs: orgs, BaseURL: strings.TrimRight(baseURL, "/"), Cost: cost, dummyHash: h,
		Throttle:     &Throttle{Limiter: ratelimit.New(s.Pool), Window: DefaultLoginWindow},
		AccountLimit: DefaultAccountLimit,
		IPLimit:      DefaultIPLimit,
	}, nil
}

// NormalizeEmail lower-cases and trims an address.
func NormalizeEmail(s string) string { return strings.ToLower(form.Clean(s)) }

// SignupInput is the sign-up form.
type SignupInput struct {
	Name     string
	Email    string
	Password string
	OrgName  string
}

// Validate checks the input.
func (in *SignupInput) Validate() form.Errors {
	in.Name, in.Email, in.OrgName = form.Clean(in.Name), NormalizeEmail(in.Email), form.Clean(in.OrgName)
	errs := form.Errors{}
	errs.Required("name", in.Name, 100)
	errs.Email("email", in.Email, true)
	if msg := ValidatePassword(in.Password); msg != "" {
		errs.Add("password", msg)
	}
	errs.Required("org_name", in.OrgName, 120)
	return errs
}

// Signup creates the user and their first organization (as owner) and
// queues the verification e-mail, all in one transaction.
func (s *Service) Signup(ctx context.Context, in SignupInput) (db.User, db.Organization, error) {
	if errs := in.Validate(); errs.Any() {
		return db.User{}, db.Organization{}, errs
	}
	hash, err := HashPassword(in.Password, s.Cost)
	if err != nil {
		return db.User{}, db.Organization{}, err
	}
	var user db.User
	var org db.Organization
	err = s.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		user, err = q.CreateUser(ctx, db.CreateUserParams{Email: in.Email, Name: in.Name, PasswordHash: hash})
		if err != nil {
			if errors.Is(store.MapError(err), store.ErrConflict) {
				return form.Errors{"email": "An account with this e-mail already exists. Log in instead."}
			}
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{ActorID: &user.ID, ActorEmail: user.Email, Action: audit.Signup, TargetType: "user", TargetID: user.ID.String()}); err != nil {
			return err
		}
		return s.queueVerification(ctx, q, user)
	})
	if err != nil {
		return db.User{}, db.Organization{}, err
	}
	org, err = s.Orgs.CreateOrganization(ctx, user.ID, user.Email, in.OrgName)
	if err != nil {
		return user, db.Organization{}, fmt.Errorf("create first organization: %w", err)
	}
	return user, org, nil
}

// Authenticate checks an e-mail and password. Every failure answers
// ErrInvalidCredentials after the same bcrypt work, so the answer and its
// timing do not reveal whether the address has an account.
//
// It is throttled, for the web and the API alike: after AccountLimit
// failures for the address (known or not) or IPLimit failures from the
// client address (audit.Info(ctx).IP, which the web layer takes from the
// TCP peer unless TRUSTED_PROXIES) within the window, it answers a
// *ThrottledError (errors.Is(err, ErrThrottled)) without looking at the
// password, even the right one. It does not check a second factor: see
// MFA.Verify.
func (s *Service) Authenticate(ctx context.Context, email, password string) (db.User, error) {
	email = NormalizeEmail(email)
	var att *attempt
	if s.Throttle != nil {
		var err error
		att, err = s.Throttle.begin(ctx,
			limitKey{AccountThrottleKey(email), s.AccountLimit},
			limitKey{IPThrottleKey(audit.Info(ctx).IP), s.IPLimit})
		if err != nil {
			return db.User{}, err
		}
	}
	user, err := s.authenticate(ctx, email, password)
	if att != nil && !errors.Is(err, ErrInvalidCredentials) {
		att.succeeded(ctx) // only wrong passwords count
	}
	return user, err
}

func (s *Service) authenticate(ctx context.Context, email, password string) (db.User, error) {
	user, err := s.Store.Q().GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(store.MapError(err), store.ErrNotFound) {
		return db.User{}, err
	}
	hash := s.dummyHash
	if err == nil {
		hash = user.PasswordHash
	}
	ok := CheckPassword(hash, password)
	if err != nil || !ok {
		ev := audit.Event{ActorEmail: email, Action: audit.LoginFailed, Summary: "wrong e-mail or password"}
		if err == nil {
			ev.ActorID, ev.TargetType, ev.TargetID = &user.ID, "user", user.ID.String()
		}
		_ = audit.Record(ctx, s.Store.Q(), ev)
		return db.User{}, ErrInvalidCredentials
	}
	if user.SuspendedAt != nil {
		_ = audit.Record(ctx, s.Store.Q(), audit.Event{ActorID: &user.ID, ActorEmail: email, Action: audit.LoginFailed, Summary: "account suspended", TargetType: "user", TargetID: user.ID.String()})
		return db.User{}, ErrSuspended
	}
	err = s.Store.InTx(ctx, func(q *db.Queries) error {
		if err := q.RecordLogin(ctx, user.ID); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &user.ID, ActorEmail: user.Email, Action: audit.LoginSucceeded, TargetType: "user", TargetID: user.ID.String()})
	})
	return user, err
}

// RecordLogout notes a logout in the audit trail.
func (s *Service) RecordLogout(ctx context.Context, userID uuid.UUID) {
	u, err := s.Store.Q().GetUser(ctx, userID)
	if err != nil {
		return
	}
	_ = audit.Record(ctx, s.Store.Q(), audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.Logout, TargetType: "user", TargetID: u.ID.String()})
}

func (s *Service) queueVerification(ctx context.Context, q *db.Queries, user db.User) error {
	token, hash := crypto.NewToken()
	if err := q.InvalidateEmailTokens(ctx, db.InvalidateEmailTokensParams{UserID: user.ID, Purpose: "verify_email"}); err != nil {
		return err
	}
	if err := q.CreateEmailToken(ctx, db.CreateEmailTokenParams{UserID: user.ID, Purpose: "verify_email", TokenHash: hash, ExpiresAt: time.Now().Add(VerifyTTL)}); err != nil {
		return err
	}
	link := s.BaseURL + "/verify-email?token=" + token
	return notify.Enqueue(ctx, q, notify.Email{
		To:      user.Email,
		Subject: "Confirm your e-mail address for Accute",
		Text: fmt.Sprintf("Hello %s,\n\nPlease confirm your e-mail address by opening this link:\n\n%s\n\n"+
			"The link expires in 48 hours. If you did not sign up for Accute, ignore this message.\n", user.Name, link),
	})
}

// ResendVerification queues a new verification e-mail.
func (s *Service) ResendVerification(ctx context.Context, userID uuid.UUID) error {
	return s.Store.InTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if u.EmailVerifiedAt != nil {
			return nil
		}
		return s.queueVerification(ctx, q, u)
	})
}

// VerifyEmail consumes a verification token.
func (s *Service) VerifyEmail(ctx context.Context, token string) (uuid.UUID, error) {
	var uid uuid.UUID
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		uid, err = q.ConsumeEmailToken(ctx, db.ConsumeEmailTokenParams{TokenHash: crypto.HashToken(token), Purpose: "verify_email"})
		if err != nil {
			return err
		}
		if err := q.MarkEmailVerified(ctx, uid); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &uid, Action: audit.EmailVerified, TargetType: "user", TargetID: uid.String()})
	})
	if errors.Is(err, store.ErrNotFound) {
		return uuid.Nil, ErrInvalidToken
	}
	return uid, err
}

// RequestPasswordReset queues a reset link when the address has an
// account. It answers the same either way.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = NormalizeEmail(email)
	return s.Store.InTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, email)
		if errors.Is(store.MapError(err), store.ErrNotFound) || (err == nil && u.SuspendedAt != nil) {
			return nil
		}
		if err != nil {
			return err
		}
		token, hash := crypto.NewToken()
		if err := q.InvalidateEmailTokens(ctx, db.InvalidateEmailTokensParams{UserID: u.ID, Purpose: "reset_password"}); err != nil {
			return err
		}
		if err := q.CreateEmailToken(ctx, db.CreateEmailTokenParams{UserID: u.ID, Purpose: "reset_password", TokenHash: hash, ExpiresAt: time.Now().Add(ResetTTL)}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.PasswordResetAsked, TargetType: "user", TargetID: u.ID.String()}); err != nil {
			return err
		}
		return notify.Enqueue(ctx, q, notify.Email{
			To:      u.Email,
			Subject: "Reset your Accute password",
			Text: fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of your Accute account. To choose a new password, open:\n\n%s\n\n"+
				"The link works once and expires in one hour. If it was not you, ignore this message: your password stays the same.\n",
				u.Name, s.BaseURL+"/reset-password?token="+token),
		})
	})
}

// CheckResetToken reports whether a reset token is still usable.
func (s *Service) CheckResetToken(ctx context.Context, token string) bool {
	_, err := s.Store.Q().PeekEmailToken(ctx, db.PeekEmailTokenParams{TokenHash: crypto.HashToken(token), Purpose: "reset_password"})
	return err == nil
}

// ResetPassword consumes the token and sets the password. Bumping the
// session version ends every session of the user; the caller logs the
// browser in again with the returned version.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (db.User, error) {
	if msg := ValidatePassword(password); msg != "" {
		return db.User{}, form.Errors{"password": msg}
	}
	hash, err := HashPassword(password, s.Cost)
	if err != nil {
		return db.User{}, err
	}
	var user db.User
	err = s.Store.InTx(ctx, func(q *db.Queries) error {
		uid, err := q.ConsumeEmailToken(ctx, db.ConsumeEmailTokenParams{TokenHash: crypto.HashToken(token), Purpose: "reset_password"})
		if err != nil {
			return err
		}
		version, err := q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: uid, PasswordHash: hash})
		if err != nil {
			return err
		}
		// Following the link proves the address.
		if err := q.MarkEmailVerified(ctx, uid); err != nil {
			return err
		}
		user, err = q.GetUser(ctx, uid)
		if err != nil {
			return err
		}
		user.SessionVersion = version
		return audit.Record(ctx, q, audit.Event{ActorID: &uid, ActorEmail: user.Email, Action: audit.PasswordReset, TargetType: "user", TargetID: uid.String()})
	})
	if errors.Is(err, store.ErrNotFound) {
		return db.User{}, ErrInvalidToken
	}
	return user, err
}
