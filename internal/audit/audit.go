// Package audit appends events to the audit trail, in the same transaction
// as the change they describe.
package audit

import (
	"context"

	"github.com/google/uuid"

	"accute/internal/db"
)

// Event is one entry of the trail.
type Event struct {
	OrgID      *uuid.UUID
	ActorID    *uuid.UUID
	ActorEmail string
	Action     string
	TargetType string
	TargetID   string
	Summary    string
}

// RequestInfo is who/where a request came from.
type RequestInfo struct {
	IP        string
	UserAgent string
	RequestID string
}

type infoKey struct{}

// WithRequestInfo records the request's origin in ctx.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Info returns the request's origin recorded in ctx.
func Info(ctx context.Context) RequestInfo {
	i, _ := ctx.Value(infoKey{}).(RequestInfo)
	return i
}

// Record appends e using q (the caller's transaction).
func Record(ctx context.Context, q *db.Queries, e Event) error {
	info := Info(ctx)
	ua := info.UserAgent
	if len(ua) > 300 {
		ua = ua[:300]
	}
	return q.InsertAuditEvent(ctx, db.InsertAuditEventParams{
		OrganizationID: e.OrgID,
		ActorUserID:    e.ActorID,
		ActorEmail:     e.ActorEmail,
		Action:         e.Action,
		TargetType:     e.TargetType,
		TargetID:       e.TargetID,
		Summary:        e.Summary,
		Ip:             info.IP,
		UserAgent:      ua,
		RequestID:      info.RequestID,
	})
}

// Actions, as recorded and filtered on.
const (
	LoginSucceeded      = "auth.login"
	LoginFailed         = "auth.login_failed"
	Logout              = "auth.logout"
	Signup              = "auth.signup"
	PasswordResetAsked  = "auth.password_reset_requested"
	PasswordReset       = "auth.password_reset"
	EmailVerified       = "auth.email_verified"
	OrgCreated          = "org.created"
	OrgRenamed          = "org.renamed"
	MemberInvited       = "member.invited"
	InvitationRevoked   = "member.invitation_revoked"
	InvitationAccepted  = "member.joined"
	MemberRoleChanged   = "member.role_changed"
	MemberRemoved       = "member.removed"
	MemberLeft          = "member.left"
	RoleCreated         = "role.created"
	RoleUpdated         = "role.updated"
	RoleDeleted         = "role.deleted"
	ClientCreated       = "client.created"
	ClientUpdated       = "client.updated"
	ClientArchived      = "client.archived"
	ClientRestored      = "client.restored"
	ContactAdded        = "client.contact_added"
	ContactRemoved      = "client.contact_removed"
	AdminGranted        = "admin.granted"
	AdminUserSuspended  = "admin.user_suspended"
	AdminUserReactivate = "admin.user_reactivated"
)

// SAML single sign-on actions (internal/sso).
const (
	SSOLogin             = "sso.login"
	SSOLoginFailed       = "sso.login_failed"
	SSOUserProvisioned   = "sso.user_provisioned"
	SSOLogout            = "sso.logout"
	SSOSettingsUpdated   = "sso.settings_updated"
	SSOMetadataRefreshed = "sso.metadata_refreshed"
	SSORequiredChanged   = "sso.required_changed"
	SSOGroupMapped       = "sso.group_mapped"
	SSOGroupUnmapped     = "sso.group_unmapped"
	SSODomainClaimed     = "sso.domain_claimed"
	SSODomainVerified    = "sso.domain_verified"
	SSODomainUnverified  = "sso.domain_unverified"
	SSODomainRemoved     = "sso.domain_removed"
)

// JSON API token actions (internal/auth/api_*.go).
const (
	APITokenCreated     = "api.token_created"
	APITokenRevoked     = "api.token_revoked"
	APITokenRevokedUsed = "api.token_revoked_used"
	APITokenExpiredUsed = "api.token_expired_used"
	APIRefreshReused    = "api.refresh_token_reused"
)

// OrgActions are the actions that appear in an organization's trail, for
// the filter menu.
var OrgActions = []string{
	OrgCreated, OrgRenamed, MemberInvited, InvitationRevoked, InvitationAccepted, MemberRoleChanged,
	MemberRemoved, MemberLeft, RoleCreated, RoleUpdated, RoleDeleted, ClientCreated, ClientUpdated,
	ClientArchived, ClientRestored, ContactAdded, ContactRemoved,
	SSOLogin, SSOLoginFailed, SSOUserProvisioned, SSOLogout, SSOSettingsUpdated, SSOMetadataRefreshed,
	SSORequiredChanged, SSOGroupMapped, SSOGroupUnmapped, SSODomainClaimed, SSODomainVerified,
	SSODomainUnverified, SSODomainRemoved,
	MFAPolicyChanged,
	APITokenCreated, APITokenRevoked, APITokenRevokedUsed, APITokenExpiredUsed,
	SCIMTokenCreated, SCIMTokenRevoked, SCIMTokenRejected, SCIMMappingCreated, SCIMMappingDeleted, // oauth_scim.go
	SCIMUserCreated, SCIMUserUpdated, SCIMUserDeactivated, SCIMUserReactivated, SCIMUserDeleted,
	SCIMGroupCreated, SCIMGroupUpdated, SCIMGroupDeleted, SCIMMemberRoleChanged,
	DocumentUploaded, DocumentVersionAdded, DocumentUpdated, DocumentArchived, DocumentRestored, // documents.go
	DocumentDownloaded, DocumentRefused, DocumentFolderCreated, DocumentFolderRenamed, DocumentFolderDeleted,
	RequestCreated, RequestSubmitted, RequestDocumentAdded, RequestAccepted, RequestRejected, RequestCancelled, // requests.go
	RequestReminderSent,
	AISettingsUpdated, AISettingsReset, AIKeySet, AIKeyRemoved, // ai.go
}

// Two-factor authentication, sessions and devices (user events: no
// organization, except the organization policy).
const (
	MFAEnrolled             = "mfa.enrolled"
	MFADisabled             = "mfa.disabled"
	MFABackupCodesRenewed   = "mfa.backup_codes_regenerated"
	MFABackupCodeUsed       = "mfa.backup_code_used"
	MFACodeFailed           = "mfa.code_failed"
	MFAPolicyChanged        = "org.mfa_policy_changed"
	SessionRevoked          = "auth.session_revoked"
	SessionsRevokedOthers   = "auth.sessions_revoked_others"
	MFARememberedDeviceUsed = "mfa.remembered_device_used"
)
