package audit

// Actions of OAuth/OIDC sign-in and SCIM provisioning.
const (
	OAuthLogin       = "auth.oauth_login"
	OAuthLoginFailed = "auth.oauth_login_failed"
	OAuthSignup      = "auth.oauth_signup"
	IdentityLinked   = "auth.identity_linked"
	IdentityUnlinked = "auth.identity_unlinked"

	SCIMTokenCreated      = "scim.token_created"
	SCIMTokenRevoked      = "scim.token_revoked"
	SCIMTokenRejected     = "scim.token_rejected"
	SCIMMappingCreated    = "scim.mapping_created"
	SCIMMappingDeleted    = "scim.mapping_deleted"
	SCIMUserCreated       = "scim.user_created"
	SCIMUserUpdated       = "scim.user_updated"
	SCIMUserDeactivated   = "scim.user_deactivated"
	SCIMUserReactivated   = "scim.user_reactivated"
	SCIMUserDeleted       = "scim.user_deleted"
	SCIMGroupCreated      = "scim.group_created"
	SCIMGroupUpdated      = "scim.group_updated"
	SCIMGroupDeleted      = "scim.group_deleted"
	SCIMMemberRoleChanged = "scim.role_changed"
)
