// Package security holds the pages of two-factor authentication, sessions
// and devices: the account's security and sessions pages, the login's
// second step, and the organization's MFA policy card.
package security

import "accute/views/layouts"

// SecurityView is the account's security page.
type SecurityView struct {
	Enabled         bool
	Pending         bool
	EnabledAt       string
	BackupCodesLeft int
	RequiredBy      []string // organizations that require MFA
	Next            string   // where to continue after set-up
	Disable         CodeForm
	Regenerate      CodeForm
}

// CodeForm is a form that asks for a current code.
type CodeForm struct {
	Action string
	Next   string
	Error  string
	// Blocked explains why the action is not available (disable while an
	// organization requires MFA).
	Blocked string
}

// SetupView is the enrolment page: QR code, secret and confirmation.
type SetupView struct {
	QRDataURI string
	Secret    string
	Next      string
	Error     string
}

// BackupCodesView shows fresh backup codes, once.
type BackupCodesView struct {
	Title       string
	Intro       string
	Codes       []string
	ContinueURL string
	Continue    string
}

// SessionsView is the sessions-and-devices page.
type SessionsView struct {
	Sessions []SessionRow
	Others   int
}

// SessionRow is one signed-in session.
type SessionRow struct {
	Device        string
	IP            string
	SignedIn      string
	SignedInTitle string
	LastSeen      string
	LastSeenTitle string
	Current       bool
	RevokeURL     string
}

// LoginView is the login's second step.
type LoginView struct {
	Error    string
	Remember bool
	Flash    *layouts.Flash
}

// PolicyView is the organization's "require MFA" setting.
type PolicyView struct {
	Action            string
	Required          bool
	ActorHasMFA       bool
	MembersWithoutMFA int
	Error             string
}
