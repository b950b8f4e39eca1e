package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Two-factor authentication settings. TOTP as authenticator apps expect it:
// SHA-1, six digits, 30-second steps, one step of clock drift either way.
const (
	totpPeriod = 30
	totpSkew   = 1
	// BackupCodeCount codes are issued at enrolment and on regeneration.
	BackupCodeCount = 10
	// RememberDeviceFor is how long "remember this device" skips the code.
	RememberDeviceFor = 30 * 24 * time.Hour
	// RememberCookie holds the signed remembered-device token.
	RememberCookie = "accute_mfa_device"
)

// backupAlphabet has 32 symbols without look-alikes (no 0/O, 1/I).
const backupAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// MFA errors.
var (
	ErrInvalidCode       = errors.New("that code is not valid")
	ErrMFANotEnabled     = errors.New("two-factor authentication is not turned on")
	ErrMFAAlreadyEnabled = errors.New("two-factor authentication is already turned on")
	ErrNoEnrolment       = errors.New("no two-factor set-up in progress")
)

// MFARequiredError refuses to turn off the last factor while organizations
// of the user require it.
type MFARequiredError struct{ Orgs []string }

func (e *MFARequiredError) Error() string {
	return "two-factor authentication is required by " + strings.Join(e.Orgs, ", ")
}

// TOTPSecretAD is the associated data a user's TOTP secret is sealed with:
// the sealed value only opens in that user's row.
func TOTPSecretAD(userID string) []byte { return []byte("user_mfa.totp_secret:" + userID) }

// EncryptedColumns are auth's sealed columns, for `accute keys rotate`.
var EncryptedColumns = []crypto.Column{{
	Table: "user_mfa", Column: "totp_secret", Key: []string{"user_id"}, Text: true,
	AD: func(key []string) []byte { return TOTPSecretAD(key[0]) },
}}

// MFA is two-factor authentication: TOTP enrolment, verification (TOTP or
// backup code, throttled per user), backup codes, remembered devices and the
// organization policy. The JSON API verifies a login's code with Verify.
type MFA struct {
	Store     *store.Store
	Keys      *crypto.KeyRing
	Throttle  *Throttle
	CodeLimit int    // wrong codes per user per Throttle.Window
	Issuer    string // shown in authenticator apps
	// Now is the clock (tests move it); time.Now when nil.
	Now func() time.Time

	rememberKey []byte
}

// NewMFA builds the service. Remembered-device cookies are signed with a
// key derived from the session secret.
func NewMFA(st *store.Store, keys *crypto.KeyRing, sessionSecret string) *MFA {
	mac := hmac.New(sha256.New, []byte(sessionSecret))
	mac.Write([]byte("accute mfa remember-device v1"))
	return &MFA{
		Store: st, Keys: keys, Issuer: "Accute", CodeLimit: DefaultCodeLimit,
		Throttle:    &Throttle{Limiter: ratelimitFor(st), Window: DefaultLoginWindow},
		rememberKey: mac.Sum(nil),
	}
}

func (m *MFA) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// MFAStatus is what the security page shows.
type MFAStatus struct {
	Enabled         bool
	Pending         bool // a set-up was started and not confirmed
	EnabledAt       time.Time
	BackupCodesLeft int
	RequiredBy      []string // organizations of the user that require MFA
}

// Status reads the user's two-factor state.
func (m *MFA) Status(ctx context.Context, userID uuid.UUID) (MFAStatus, error) {
	var st MFAStatus
	err := m.Store.AsUser(ctx, userID, func(q *db.Queries) error {
		f, err := q.GetUserMFA(ctx, userID)
		switch {
		case errors.Is(store.MapError(err), store.ErrNotFound):
		case err != nil:
			return err
		case f.ConfirmedAt != nil:
			st.Enabled, st.EnabledAt = true, *f.ConfirmedAt
			left, err := q.CountUnusedBackupCodes(ctx, userID)
			if err != nil {
				return err
			}
			st.BackupCodesLeft = int(left)
		default:
			st.Pending = true
		}
		orgs, err := q.ListOrganizationsRequiringMFA(ctx, userID)
		for _, o := range orgs {
			st.RequiredBy = append(st.RequiredBy, o.Name)
		}
		return err
	})
	if err != nil {
		return MFAStatus{}, fmt.Errorf("mfa status: %w", err)
	}
	return st, nil
}

// Enabled reports whether the user has confirmed two-factor
// authentication (login asks for a code when true).
func (m *MFA) Enabled(ctx context.Context, userID uuid.UUID) (bool, error) {
	f, err := m.Store.Q().GetUserMFA(ctx, userID)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mfa enabled: %w", err)
	}
	return f.ConfirmedAt != nil, nil
}

// StartEnrolment creates a new secret for the user, sealed, waiting for
// its first code. Starting again replaces an unconfirmed secret.
func (m *MFA) StartEnrolment(ctx context.Context, userID uuid.UUID) error {
	secret := make([]byte, 20) // 160 bits, as RFC 4226 recommends
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	sealed, err := m.Keys.SealString(enc, string(TOTPSecretAD(userID.String())))
	if err != nil {
		return err
	}
	_, err = m.Store.Q().StartMFAEnrolment(ctx, db.StartMFAEnrolmentParams{UserID: userID, TotpSecret: sealed})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return ErrMFAAlreadyEnabled // the confirmed row was left alone
	}
	if err != nil {
		return fmt.Errorf("start mfa enrolment: %w", err)
	}
	return nil
}

// Enrolment is what the set-up page shows: the QR code and the secret for
// typing in by hand.
type Enrolment struct {
	Secret    string // base32, in groups of four
	URL       string // otpauth:// URL
	QRDataURI string // data:image/png;base64,... of the URL
}

// PendingEnrolment returns the enrolment in progress.
func (m *MFA) PendingEnrolment(ctx context.Context, userID uuid.UUID, email string) (Enrolment, error) {
	f, err := m.Store.Q().GetUserMFA(ctx, userID)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return Enrolment{}, ErrNoEnrolment
	}
	if err != nil {
		return Enrolment{}, fmt.Errorf("pending enrolment: %w", err)
	}
	if f.ConfirmedAt != nil {
		return Enrolment{}, ErrMFAAlreadyEnabled
	}
	secret, err := m.Keys.OpenString(f.TotpSecret, string(TOTPSecretAD(userID.String())))
	if err != nil {
		return Enrolment{}, fmt.Errorf("open totp secret: %w", err)
	}
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", m.Issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + m.Issuer + ":" + email, RawQuery: v.Encode()}
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return Enrolment{}, fmt.Errorf("otp key: %w", err)
	}
	img, err := key.Image(232, 232)
	if err != nil {
		return Enrolment{}, fmt.Errorf("qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("qr png: %w", err)
	}
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	return Enrolment{
		Secret:    strings.Join(groups, " "),
		URL:       key.URL(),
		QRDataURI: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// ConfirmEnrolment turns two-factor authentication on when code matches
// the pending secret, and returns the backup codes (shown once).
func (m *MFA) ConfirmEnrolment(ctx context.Context, userID uuid.UUID, email, code string) ([]string, error) {
	att, err := m.begin(ctx, userID)
	if err != nil {
		return nil, err
	}
	f, err := m.Store.Q().GetUserMFA(ctx, userID)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil, ErrNoEnrolment
	}
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	if f.ConfirmedAt != nil {
		return nil, ErrMFAAlreadyEnabled
	}
	step, ok, err := m.matchTOTP(f, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		m.recordFailure(ctx, userID, email, "wrong code during set-up")
		return nil, ErrInvalidCode
	}
	codes, hashes := newBackupCodes(userID)
	err = m.Store.InTx(ctx, func(q *db.Queries) error {
		n, err := q.ConfirmMFA(ctx, db.ConfirmMFAParams{UserID: userID, Step: step})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNoEnrolment // confirmed meanwhile, or restarted
		}
		if err := replaceBackupCodes(ctx, q, userID, hashes); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.MFAEnrolled, TargetType: "user", TargetID: userID.String(), Summary: "authenticator app"})
	})
	if err != nil {
		return nil, err
	}
	att.succeeded(ctx)
	return codes, nil
}

// VerifyResult says how a code passed.
type VerifyResult struct {
	BackupCode      bool // a backup code was used (and is now spent)
	BackupCodesLeft int
}

// Verify checks a second-factor code: a current TOTP code (each time step
// is accepted once) or an unused backup code (spent by this call). It is
// throttled per user: after CodeLimit wrong codes in the window it answers
// *ThrottledError without looking at the code. Wrong codes are audited.
// The JSON API calls it after Service.Authenticate for users with MFA.
func (m *MFA) Verify(ctx context.Context, userID uuid.UUID, email, code string) (VerifyResult, error) {
	att, err := m.begin(ctx, userID)
	if err != nil {
		return VerifyResult{}, err
	}
	res, reason, err := m.verify(ctx, userID, code)
	if err != nil {
		return VerifyResult{}, err
	}
	if reason != "" {
		m.recordFailure(ctx, userID, email, reason)
		return VerifyResult{}, ErrInvalidCode
	}
	att.succeeded(ctx)
	if res.BackupCode {
		_ = audit.Record(ctx, m.Store.Q(), audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.MFABackupCodeUsed, TargetType: "user", TargetID: userID.String(),
			Summary: fmt.Sprintf("%d backup code(s) left", res.BackupCodesLeft)})
	}
	return res, nil
}

// verify returns a non-empty reason when the code is refused.
func (m *MFA) verify(ctx context.Context, userID uuid.UUID, code string) (VerifyResult, string, error) {
	code = normalizeCode(code)
	q := m.Store.Q()
	f, err := q.GetUserMFA(ctx, userID)
	if errors.Is(store.MapError(err), store.ErrNotFound) || (err == nil && f.ConfirmedAt == nil) {
		return VerifyResult{}, "", ErrMFANotEnabled
	}
	if err != nil {
		return VerifyResult{}, "", fmt.Errorf("verify code: %w", err)
	}
	if isTOTPCode(code) {
		step, ok, err := m.matchTOTP(f, code)
		if err != nil {
			return VerifyResult{}, "", err
		}
		if !ok {
			return VerifyResult{}, "wrong code", nil
		}
		n, err := q.UseTOTPStep(ctx, db.UseTOTPStepParams{UserID: userID, Step: step})
		if err != nil {
			return VerifyResult{}, "", fmt.Errorf("use totp step: %w", err)
		}
		if n == 0 {
			return VerifyResult{}, "code already used", nil
		}
		return VerifyResult{}, "", nil
	}
	if len(code) != 12 {
		return VerifyResult{}, "wrong code", nil
	}
	n, err := q.UseBackupCode(ctx, db.UseBackupCodeParams{UserID: userID, CodeHash: hashBackupCode(userID, code)})
	if err != nil {
		return VerifyResult{}, "", fmt.Errorf("use backup code: %w", err)
	}
	if n == 0 {
		return VerifyResult{}, "wrong or used backup code", nil
	}
	left, err := q.CountUnusedBackupCodes(ctx, userID)
	if err != nil {
		return VerifyResult{}, "", err
	}
	return VerifyResult{BackupCode: true, BackupCodesLeft: int(left)}, "", nil
}

// Disable turns two-factor authentication off after a current code, unless
// an organization of the user requires it (*MFARequiredError).
func (m *MFA) Disable(ctx context.Context, userID uuid.UUID, email, code string) error {
	st, err := m.Status(ctx, userID)
	if err != nil {
		return err
	}
	if !st.Enabled {
		return ErrMFANotEnabled
	}
	if len(st.RequiredBy) > 0 {
		return &MFARequiredError{Orgs: st.RequiredBy}
	}
	if _, err := m.Verify(ctx, userID, email, code); err != nil {
		return err
	}
	return m.Store.InTx(ctx, func(q *db.Queries) error {
		// Deleting the row also revokes every remembered device: their
		// signatures cover the row's remember_id.
		if _, err := q.DeleteUserMFA(ctx, userID); err != nil {
			return err
		}
		if err := q.DeleteBackupCodes(ctx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.MFADisabled, TargetType: "user", TargetID: userID.String()})
	})
}

// RegenerateBackupCodes replaces every backup code after a current code
// and returns the new ones (shown once).
func (m *MFA) RegenerateBackupCodes(ctx context.Context, userID uuid.UUID, email, code string) ([]string, error) {
	if _, err := m.Verify(ctx, userID, email, code); err != nil {
		return nil, err
	}
	codes, hashes := newBackupCodes(userID)
	err := m.Store.InTx(ctx, func(q *db.Queries) error {
		if err := replaceBackupCodes(ctx, q, userID, hashes); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.MFABackupCodesRenewed, TargetType: "user", TargetID: userID.String()})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// SetPolicy turns the organization's "require MFA" policy on or off. An
// administrator turns it on only with MFA of their own, so that they are
// not the first one locked out.
func (m *MFA) SetPolicy(ctx context.Context, a tenant.Actor, require, actorHasMFA bool) (changed bool, err error) {
	if require && !actorHasMFA {
		return false, form.Errors{"require_mfa": "Turn on two-factor authentication for your own account first."}
	}
	err = m.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		before, err := q.GetOrganizationBySlug(ctx, a.OrgSlug)
		if err != nil {
			return err
		}
		if before.RequireMfa == require {
			return nil
		}
		if _, err := q.SetOrganizationRequireMFA(ctx, db.SetOrganizationRequireMFAParams{OrganizationID: a.OrgID, RequireMfa: require}); err != nil {
			return err
		}
		changed = true
		summary := "two-factor authentication no longer required"
		if require {
			summary = "two-factor authentication required for every member"
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.MFAPolicyChanged,
			TargetType: "organization", TargetID: a.OrgID.String(), Summary: summary})
	})
	if err != nil {
		return false, fmt.Errorf("set mfa policy: %w", err)
	}
	return changed, nil
}

// MembersWithoutMFA counts the organization's members who have not turned
// two-factor authentication on.
func (m *MFA) MembersWithoutMFA(ctx context.Context, orgID uuid.UUID) (int, error) {
	var n int32
	err := m.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		n, err = q.CountMembersWithoutMFA(ctx, orgID)
		return err
	})
	return int(n), err
}

// RememberDevice returns a signed token (for RememberCookie) that skips the
// code on this browser for RememberDeviceFor. It names the user and is
// revoked when their two-factor set-up changes (its signature covers the
// set-up's remember_id).
func (m *MFA) RememberDevice(ctx context.Context, userID uuid.UUID) (string, time.Time, error) {
	f, err := m.Store.Q().GetUserMFA(ctx, userID)
	if err != nil || f.ConfirmedAt == nil {
		return "", time.Time{}, ErrMFANotEnabled
	}
	exp := m.now().Add(RememberDeviceFor).Truncate(time.Second)
	body := make([]byte, 24)
	copy(body, userID[:])
	binary.BigEndian.PutUint64(body[16:], uint64(exp.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(body, m.rememberMAC(body, f.RememberID)...)), exp, nil
}

// RememberedDevice reports whether token is a valid remembered-device
// token of userID.
func (m *MFA) RememberedDevice(ctx context.Context, userID uuid.UUID, token string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 24+sha256.Size || !bytes.Equal(raw[:16], userID[:]) {
		return false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[16:24])), 0)
	if !m.now().Before(exp) {
		return false
	}
	f, err := m.Store.Q().GetUserMFA(ctx, userID)
	if err != nil || f.ConfirmedAt == nil {
		return false
	}
	return hmac.Equal(raw[24:], m.rememberMAC(raw[:24], f.RememberID))
}

func (m *MFA) rememberMAC(body []byte, rememberID uuid.UUID) []byte {
	mac := hmac.New(sha256.New, m.rememberKey)
	mac.Write(body)
	mac.Write(rememberID[:])
	return mac.Sum(nil)
}

// begin counts a code attempt of the user.
func (m *MFA) begin(ctx context.Context, userID uuid.UUID) (*attempt, error) {
	return m.Throttle.begin(ctx, limitKey{"mfa:user:" + userID.String(), m.CodeLimit})
}

func (m *MFA) recordFailure(ctx context.Context, userID uuid.UUID, email, reason string) {
	_ = audit.Record(ctx, m.Store.Q(), audit.Event{ActorID: &userID, ActorEmail: email, Action: audit.MFACodeFailed, TargetType: "user", TargetID: userID.String(), Summary: reason})
}

// matchTOTP returns the time step whose code equals code, within the
// allowed drift. Every candidate is compared, in constant time.
func (m *MFA) matchTOTP(f db.UserMfa, code string) (int64, bool, error) {
	code = normalizeCode(code)
	if !isTOTPCode(code) {
		return 0, false, nil
	}
	secret, err := m.Keys.OpenString(f.TotpSecret, string(TOTPSecretAD(f.UserID.String())))
	if err != nil {
		return 0, false, fmt.Errorf("open totp secret: %w", err)
	}
	now := m.now().Unix() / totpPeriod
	var found int64
	ok := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := now + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false, fmt.Errorf("totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > found {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

func normalizeCode(code string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// newBackupCodes returns BackupCodeCount codes (12 symbols, 60 bits each,
// shown as XXXX-XXXX-XXXX) and their hashes.
func newBackupCodes(userID uuid.UUID) (codes []string, hashes [][]byte) {
	for range BackupCodeCount {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		for i := range b {
			b[i] = backupAlphabet[b[i]%32] // 256 is a multiple of 32: no bias
		}
		c := string(b)
		codes = append(codes, c[:4]+"-"+c[4:8]+"-"+c[8:])
		hashes = append(hashes, hashBackupCode(userID, c))
	}
	return codes, hashes
}

// hashBackupCode is how a normalized backup code is stored: SHA-256 over
// the user id and the code (60 random bits per code make a slow hash
// unnecessary, and the user id keeps equal codes of two users apart).
func hashBackupCode(userID uuid.UUID, code string) []byte {
	h := sha256.New()
	h.Write(userID[:])
	h.Write([]byte(code))
	return h.Sum(nil)
}

func replaceBackupCodes(ctx context.Context, q *db.Queries, userID uuid.UUID, hashes [][]byte) error {
	if err := q.DeleteBackupCodes(ctx, userID); err != nil {
		return err
	}
	return q.InsertBackupCodes(ctx, db.InsertBackupCodesParams{UserID: userID, CodeHashes: hashes})
}
