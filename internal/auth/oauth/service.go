package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/openidConnect"
	"golang.org/x/oauth2"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Service runs OAuth/OIDC sign-ins and manages linked identities.
type Service struct {
	Store   *store.Store
	BaseURL string
	// Cost is the bcrypt cost of the random password hash given to
	// accounts created by a sign-in.
	Cost int
	// HTTP talks to the providers.
	HTTP *http.Client
	// SSO, when set, says whether an address belongs to an organization
	// that requires single sign-on (SAML) for its domains: such people may
	// not sign in with a social or other OAuth account either.
	SSO SSOPolicy

	order     []string
	providers map[string]*provider
}

type provider struct {
	spec Spec
	meta oidcMeta

	mu   sync.Mutex
	goth goth.Provider
	// built is the discovery document the goth provider was built from.
	built *discovery
}

// SSOPolicy is implemented by the SAML service (internal/sso).
type SSOPolicy interface {
	Required(ctx context.Context, email string) (orgName string, required bool)
}

// New builds the service for the given providers.
func New(st *store.Store, baseURL string, cost int, specs ...Spec) *Service {
	s := &Service{
		Store: st, BaseURL: strings.TrimRight(baseURL, "/"), Cost: cost,
		HTTP:      &http.Client{Timeout: 10 * time.Second},
		providers: map[string]*provider{},
	}
	for _, sp := range specs {
		if _, dup := s.providers[sp.Key]; dup || sp.kind == 0 {
			continue
		}
		s.order = append(s.order, sp.Key)
		s.providers[sp.Key] = &provider{spec: sp}
	}
	return s
}

// ProviderInfo is a provider as the login page shows it.
type ProviderInfo struct {
	Key   string
	Label string
}

// Providers lists the enabled providers in display order.
func (s *Service) Providers() []ProviderInfo {
	if s == nil {
		return nil
	}
	out := make([]ProviderInfo, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, ProviderInfo{Key: k, Label: s.providers[k].spec.Label})
	}
	return out
}

// Label is the provider's display name ("" when not enabled).
func (s *Service) Label(key string) string {
	if s == nil || s.providers[key] == nil {
		return ""
	}
	return s.providers[key].spec.Label
}

func (s *Service) provider(key string) (*provider, error) {
	if s == nil || s.providers[key] == nil {
		return nil, ErrUnknownProvider
	}
	return s.providers[key], nil
}

// CallbackURL is the redirect URI to register with the provider.
func (s *Service) CallbackURL(key string) string {
	return s.BaseURL + "/auth/oauth/" + key + "/callback"
}

// gothProvider returns the goth provider, built once discovery succeeded
// (and rebuilt when the discovery document changes).
func (s *Service) gothProvider(ctx context.Context, p *provider) (goth.Provider, *discovery, error) {
	if p.spec.kind == kindGitHub {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.goth == nil {
			gp := github.NewCustomisedURL(p.spec.ClientID, p.spec.ClientSecret, s.CallbackURL(p.spec.Key),
				p.spec.AuthURL, p.spec.TokenURL, p.spec.ProfileURL, p.spec.EmailsURL, p.spec.Scopes...)
			gp.HTTPClient = s.HTTP
			gp.SetName(p.spec.Key)
			p.goth = gp
		}
		return p.goth, nil, nil
	}
	d, err := p.meta.discover(ctx, s.HTTP, p.spec)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.goth == nil || p.built != d {
		gp, err := openidConnect.NewCustomisedURL(p.spec.ClientID, p.spec.ClientSecret, s.CallbackURL(p.spec.Key),
			d.AuthorizationEndpoint, d.TokenEndpoint, d.Issuer, d.UserinfoEndpoint, "", p.spec.Scopes...)
		if err != nil {
			return nil, nil, err
		}
		gp.HTTPClient = s.HTTP
		gp.SetName(p.spec.Key)
		p.goth, p.built = gp, d
	}
	return p.goth, d, nil
}

// Unavailable means the provider could not be reached or answered
// nonsense; the person should try again later.
type Unavailable struct{ Err error }

func (e *Unavailable) Error() string { return e.Err.Error() }
func (e *Unavailable) Unwrap() error { return e.Err }

// Begin starts a sign-in (ModeLogin) or the linking of an identity to
// userID (ModeLink): it returns the provider's authorization URL, with
// state, PKCE challenge (S256) and nonce, and the flow to keep in the
// session.
func (s *Service) Begin(ctx context.Context, key, mode string, userID uuid.UUID, next string) (string, Flow, error) {
	p, err := s.provider(key)
	if err != nil {
		return "", Flow{}, err
	}
	gp, _, err := s.gothProvider(ctx, p)
	if err != nil {
		return "", Flow{}, &Unavailable{err}
	}
	f := Flow{Provider: key, State: crypto.RandomToken(), Mode: mode, Next: next, Created: time.Now().Unix()}
	if mode == ModeLink {
		f.UserID = userID.String()
	}
	sess, err := gp.BeginAuth(f.State)
	if err != nil {
		return "", Flow{}, &Unavailable{err}
	}
	authURL, err := sess.GetAuthURL()
	if err != nil {
		return "", Flow{}, &Unavailable{err}
	}
	// goth's providers take per-request options only through the URL, so
	// PKCE (every provider) and the nonce (OpenID Connect) are added here.
	u, err := url.Parse(authURL)
	if err != nil {
		return "", Flow{}, &Unavailable{err}
	}
	f.Verifier = oauth2.GenerateVerifier()
	q := u.Query()
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(f.Verifier))
	q.Set("code_challenge_method", "S256")
	if p.spec.kind == kindOIDC {
		f.Nonce = crypto.RandomToken()
		q.Set("nonce", f.Nonce)
	}
	u.RawQuery = q.Encode()
	authURL = u.String()
	f.Goth = sess.Marshal()
	return authURL, f, nil
}

// Identity is a person as a provider vouched for them.
type Identity struct {
	Provider      string
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Complete checks the provider's answer against the flow (state, error
// parameter), exchanges the code with the PKCE verifier, verifies the ID
// token and returns the identity. Failures are audited.
func (s *Service) Complete(ctx context.Context, key string, f Flow, params url.Values) (Identity, error) {
	id, err := s.complete(ctx, key, f, params)
	if err != nil {
		s.recordFailure(ctx, key, err, "", nil)
	}
	return id, err
}

func (s *Service) complete(ctx context.Context, key string, f Flow, params url.Values) (Identity, error) {
	p, err := s.provider(key)
	if err != nil {
		return Identity{}, err
	}
	if f.Provider != key || f.expired(time.Now()) {
		return Identity{}, ErrNoFlow
	}
	// The state is checked first: an error answer with another state is
	// not ours to show.
	if subtle.ConstantTimeCompare([]byte(params.Get("state")), []byte(f.State)) != 1 {
		return Identity{}, ErrState
	}
	if code := params.Get("error"); code != "" {
		return Identity{}, providerError(p.spec.Label, code, params.Get("error_description"))
	}
	code := params.Get("code")
	if code == "" {
		return Identity{}, ErrNoCode
	}
	gp, d, err := s.gothProvider(ctx, p)
	if err != nil {
		return Identity{}, &Unavailable{err}
	}
	sess, err := gp.UnmarshalSession(f.Goth)
	if err != nil {
		return Identity{}, ErrNoFlow
	}
	if p.spec.kind == kindGitHub {
		// goth's GitHub provider cannot send the PKCE verifier: the code
		// is exchanged here, and goth fetches the profile.
		gs, ok := sess.(*github.Session)
		if !ok {
			return Identity{}, &Unavailable{errors.New("unexpected session type")}
		}
		cfg := oauth2.Config{
			ClientID: p.spec.ClientID, ClientSecret: p.spec.ClientSecret, Scopes: p.spec.Scopes,
			Endpoint:    oauth2.Endpoint{AuthURL: p.spec.AuthURL, TokenURL: p.spec.TokenURL},
			RedirectURL: s.CallbackURL(p.spec.Key),
		}
		tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, s.HTTP), code, oauth2.VerifierOption(f.Verifier))
		if err != nil {
			return Identity{}, exchangeError(p, err)
		}
		gs.AccessToken = tok.AccessToken
		return s.githubIdentity(ctx, p, gp, sess)
	}
	exchange := url.Values{"code": {code}}
	if f.Verifier != "" {
		exchange.Set("code_verifier", f.Verifier)
	}
	if _, err := sess.Authorize(gp, exchange); err != nil {
		return Identity{}, exchangeError(p, err)
	}
	os, ok := sess.(*openidConnect.Session)
	if !ok {
		return Identity{}, &Unavailable{errors.New("unexpected session type")}
	}
	claims, err := p.meta.verifyIDToken(ctx, s.HTTP, p.spec, d, os.IDToken, f.Nonce)
	if err != nil {
		return Identity{}, &Refusal{401, "The answer from " + p.spec.Label + " could not be verified. Please try again.", err.Error()}
	}
	if err := userinfo(ctx, s.HTTP, d, os.AccessToken, claims); err != nil {
		return Identity{}, &Unavailable{err}
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	email, _ := claims["email"].(string)
	name, _ := claims["name"].(string)
	email = auth.NormalizeEmail(email)
	return Identity{
		Provider: key, Issuer: iss, Subject: sub, Email: email,
		EmailVerified: email != "" && form.ValidEmail(email) && p.spec.emailVerified(claims), Name: name,
	}, nil
}

// exchangeError words a failed code exchange: a refusal by the provider
// (the code was used or expired, or the PKCE verifier does not match the
// challenge: code injection), or the provider being unreachable.
func exchangeError(p *provider, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return &Refusal{401, "We could not complete the sign-in with " + p.spec.Label + ". Please try again.", "code exchange refused: " + re.ErrorCode}
	}
	return &Unavailable{err}
}

func providerError(label, code, desc string) *Refusal {
	msg := "Signing in with " + label + " did not complete."
	switch code {
	case "access_denied":
		msg = "Signing in with " + label + " was cancelled."
	case "temporarily_unavailable", "server_error":
		msg = label + " is not available right now. Please try again in a moment."
	}
	// The description comes from the query string: shown only in the
	// audit trail, trimmed, never rendered as HTML.
	reason := "provider error: " + truncate(code, 60)
	if desc != "" {
		reason += " (" + truncate(desc, 200) + ")"
	}
	return &Refusal{400, msg, reason}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// githubIdentity reads the GitHub profile (through goth) and the
// account's primary verified address from /user/emails: the profile's
// public address is not necessarily verified.
func (s *Service) githubIdentity(ctx context.Context, p *provider, gp goth.Provider, sess goth.Session) (Identity, error) {
	u, err := gp.FetchUser(sess)
	if err != nil && !errors.Is(err, github.ErrNoVerifiedGitHubPrimaryEmail) {
		return Identity{}, &Unavailable{err}
	}
	if u.UserID == "" || u.UserID == "0" {
		return Identity{}, &Unavailable{errors.New("GitHub profile without an id")}
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getJSON(ctx, s.HTTP, p.spec.EmailsURL, u.AccessToken, &emails); err != nil {
		return Identity{}, &Unavailable{err}
	}
	id := Identity{Provider: p.spec.Key, Issuer: p.spec.Issuer, Subject: u.UserID, Name: u.Name}
	if id.Name == "" {
		id.Name = u.NickName
	}
	for _, e := range emails {
		if e.Primary {
			id.Email = auth.NormalizeEmail(e.Email)
			id.EmailVerified = e.Verified && form.ValidEmail(id.Email)
		}
	}
	return id, nil
}

// Result is the outcome of a sign-in.
type Result struct {
	User db.User
	// Created: a new account was made.
	Created bool
	// Linked: the identity was linked to an existing account just now.
	Linked bool
}

// Refusals of the account rules.
func errUnverified(label string) *Refusal {
	return &Refusal{403, label + " did not confirm that this e-mail address is yours, so we cannot sign you in with it. " +
		"Log in with your password, then link " + label + " from your account page.", "e-mail not verified by provider"}
}

var (
	errSuspended       = &Refusal{403, "This account is suspended. Contact your administrator.", "account suspended"}
	errAccountNotProof = &Refusal{403, "An account with this e-mail exists but its address has not been confirmed. " +
		"Log in with your password and confirm your e-mail first; then you can link this sign-in method.", "existing account not verified"}
	errRace = &Refusal{409, "Another sign-in for this account was happening at the same time. Please try again.", "concurrent sign-in"}
)

func errOtherIdentity(label string) *Refusal {
	return &Refusal{409, "Your account is already linked to a different " + label + " account. Unlink it from your account page first.", "another identity of this provider is linked"}
}

func errTaken(label string) *Refusal {
	return &Refusal{409, "This " + label + " account is already linked to another Accute account.", "identity linked to another user"}
}

// SignIn finds or creates the account for an identity:
//   - an identity linked before signs its user in;
//   - otherwise the provider must vouch for the e-mail address; an account
//     with that address gets the identity linked (when the account's own
//     address is confirmed, or it has no password anyone could know);
//   - otherwise a new account is created (with a verified address and no
//     usable password), whose owner then creates their first organization.
//
// Suspended users are refused.
func (s *Service) SignIn(ctx context.Context, id Identity) (Result, error) {
	label := s.Label(id.Provider)
	var res Result
	var hash string
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		res = Result{}
		ident, err := q.GetIdentity(ctx, db.GetIdentityParams{Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject})
		switch {
		case err == nil:
			u, err := q.GetUser(ctx, ident.UserID)
			if err != nil {
				return err
			}
			if u.SuspendedAt != nil {
				return errSuspended
			}
			if err := q.TouchIdentity(ctx, db.TouchIdentityParams{ID: ident.ID, Email: id.Email}); err != nil {
				return err
			}
			res.User = u
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		case !id.EmailVerified:
			return errUnverified(label)
		default:
			u, err := q.GetUserByEmail(ctx, id.Email)
			switch {
			case err == nil:
				if u.SuspendedAt != nil {
					return errSuspended
				}
				// Someone may have signed up with this address without
				// owning it, and knows the password: never hand such an
				// account to the address's real owner's session.
				if u.EmailVerifiedAt == nil && u.PasswordSet {
					return errAccountNotProof
				}
				if _, err := q.CreateIdentity(ctx, db.CreateIdentityParams{UserID: u.ID, Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}); err != nil {
					if errors.Is(store.MapError(err), store.ErrConflict) {
						return errOtherIdentity(label)
					}
					return err
				}
				if err := q.MarkEmailVerified(ctx, u.ID); err != nil {
					return err
				}
				res.User, res.Linked = u, true
			case errors.Is(store.MapError(err), store.ErrNotFound):
				if hash == "" {
					if hash, err = auth.HashPassword(crypto.RandomToken()[:40], s.Cost); err != nil {
						return err
					}
				}
				u, err := q.CreateUserWithoutPassword(ctx, db.CreateUserWithoutPasswordParams{Email: id.Email, Name: displayName(id), PasswordHash: hash, Verified: true})
				if err != nil {
					return err
				}
				if _, err := q.CreateIdentity(ctx, db.CreateIdentityParams{UserID: u.ID, Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}); err != nil {
					return err
				}
				res.User, res.Created, res.Linked = u, true, true
				if err := audit.Record(ctx, q, audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.OAuthSignup, TargetType: "user", TargetID: u.ID.String(), Summary: "via " + label}); err != nil {
					return err
				}
			default:
				return err
			}
			if err := audit.Record(ctx, q, audit.Event{ActorID: &res.User.ID, ActorEmail: res.User.Email, Action: audit.IdentityLinked, TargetType: "user", TargetID: res.User.ID.String(), Summary: label + " (" + id.Email + ")"}); err != nil {
				return err
			}
		}
		if s.SSO != nil {
			if org, required := s.SSO.Required(ctx, res.User.Email); required {
				return &Refusal{403, org + " requires you to sign in with your company account. Use “Sign in with SSO” on the login page.", "single sign-on required by " + org}
			}
		}
		if err := q.RecordLogin(ctx, res.User.ID); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &res.User.ID, ActorEmail: res.User.Email, Action: audit.OAuthLogin, TargetType: "user", TargetID: res.User.ID.String(), Summary: "via " + label})
	})
	if errors.Is(err, store.ErrConflict) {
		err = errRace
	}
	if err != nil {
		var uid *uuid.UUID
		if res.User.ID != uuid.Nil {
			uid = &res.User.ID
		}
		s.recordFailure(ctx, id.Provider, err, id.Email, uid)
		return Result{}, err
	}
	return res, nil
}

func displayName(id Identity) string {
	name := form.Clean(id.Name)
	if name == "" {
		name, _, _ = strings.Cut(id.Email, "@")
	}
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	return name
}

// Link adds an identity to the signed-in user (from their account page).
// The e-mail addresses need not match: the person proved both.
func (s *Service) Link(ctx context.Context, userID uuid.UUID, id Identity) error {
	label := s.Label(id.Provider)
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		u, err := q.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		if u.SuspendedAt != nil {
			return errSuspended
		}
		ident, err := q.GetIdentity(ctx, db.GetIdentityParams{Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject})
		switch {
		case err == nil && ident.UserID == userID:
			return q.TouchIdentity(ctx, db.TouchIdentityParams{ID: ident.ID, Email: id.Email})
		case err == nil:
			return errTaken(label)
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		if _, err := q.CreateIdentity(ctx, db.CreateIdentityParams{UserID: userID, Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}); err != nil {
			if errors.Is(store.MapError(err), store.ErrConflict) {
				return errOtherIdentity(label)
			}
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.IdentityLinked, TargetType: "user", TargetID: u.ID.String(), Summary: label + " (" + id.Email + ")"})
	})
	if err != nil {
		s.recordFailure(ctx, id.Provider, err, id.Email, &userID)
	}
	return err
}

// ErrLastSignInMethod refuses to unlink the only way into an account.
var ErrLastSignInMethod = &Refusal{409, "This is the only way you can sign in: you have not set a password. " +
	"Set one first (use \"E-mail me a reset link\" on your account page), then unlink.", "last sign-in method"}

// Unlink removes one of the user's identities, unless it is their only
// way in (no password chosen and no other identity).
func (s *Service) Unlink(ctx context.Context, userID, identityID uuid.UUID) (db.UserIdentity, error) {
	var ident db.UserIdentity
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		u, err := q.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		if ident, err = q.GetIdentityOfUser(ctx, db.GetIdentityOfUserParams{ID: identityID, UserID: userID}); err != nil {
			return err
		}
		n, err := q.CountIdentitiesByUser(ctx, userID)
		if err != nil {
			return err
		}
		if !u.PasswordSet && n <= 1 {
			return ErrLastSignInMethod
		}
		if _, err := q.DeleteIdentity(ctx, db.DeleteIdentityParams{ID: identityID, UserID: userID}); err != nil {
			return err
		}
		label := s.Label(ident.Provider)
		if label == "" {
			label = ident.Provider
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &u.ID, ActorEmail: u.Email, Action: audit.IdentityUnlinked, TargetType: "user", TargetID: u.ID.String(), Summary: label + " (" + ident.Email + ")"})
	})
	return ident, err
}

// Identities lists the user's linked identities and whether they have
// chosen a password.
func (s *Service) Identities(ctx context.Context, userID uuid.UUID) ([]db.UserIdentity, bool, error) {
	var out []db.UserIdentity
	var passwordSet bool
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		passwordSet = u.PasswordSet
		out, err = q.ListIdentitiesByUser(ctx, userID)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list identities: %w", err)
	}
	return out, passwordSet, nil
}

// recordFailure notes a failed sign-in in the audit trail (outside the
// failed transaction).
func (s *Service) recordFailure(ctx context.Context, key string, err error, email string, userID *uuid.UUID) {
	label := s.Label(key)
	if label == "" {
		return // an unknown provider in the URL is not worth a row
	}
	reason := err.Error()
	var r *Refusal
	if errors.As(err, &r) {
		reason = r.Reason
	}
	ev := audit.Event{ActorID: userID, ActorEmail: email, Action: audit.OAuthLoginFailed, Summary: truncate(label+": "+reason, 300)}
	if userID != nil {
		ev.TargetType, ev.TargetID = "user", userID.String()
	}
	_ = audit.Record(ctx, s.Store.Q(), ev)
}
