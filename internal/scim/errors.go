// Package scim implements SCIM 2.0 provisioning (RFC 7643, RFC 7644) for
// one organization at a time: the bearer token names the organization.
//
// A SCIM user is a person provisioned into the organization; its SCIM id is
// the id of its scim_users row (not the Accute user id, which is shared
// across organizations). While active it has a membership; deactivation
// (active=false) or DELETE removes the membership and ends the person's
// sessions at once by bumping users.session_version. Groups map to roles by
// name (scim_role_mappings): a provisioned member gets the highest built-in
// role among their mapped groups (admin > manager > staff > client), or,
// when only custom roles are mapped, the custom role of the first such
// group by name; with no mapped group a new member is Staff, and a member
// whose role came from a mapping drops back to Staff. Owners are never
// granted, changed or demoted through SCIM, and the last owner cannot be
// deprovisioned.
//
// SCIM makes members (creating accounts if need be) only of addresses on
// the organization's verified domains (SAML settings); existing members are
// linked whatever their address. Otherwise an organization could pull
// anyone in, pre-create accounts for addresses it does not own, or sign
// people out at will. Only a membership actually removed ends sessions. SCIM never changes a person's sign-in e-mail
// (accounts are shared by organizations); userName and emails are kept on
// the SCIM record.
package scim

import (
	"fmt"
	"net/http"
)

// Error is a SCIM error answer (RFC 7644 section 3.12).
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail) }

// ErrorSchema is the schema URN of error answers.
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// Body is the error as JSON.
func (e *Error) Body() map[string]any {
	b := map[string]any{"schemas": []string{ErrorSchema}, "status": fmt.Sprint(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		b["scimType"] = e.ScimType
	}
	return b
}

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Common answers.
var (
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Detail: "A valid SCIM bearer token is required."}
	ErrNotFound     = &Error{Status: http.StatusNotFound, Detail: "Resource not found."}
	ErrTooLarge     = &Error{Status: http.StatusRequestEntityTooLarge, Detail: "The request body is too large."}
	errLastOwner    = &Error{Status: http.StatusConflict, Detail: "This person is the organization's last owner and cannot be deprovisioned. Make another member an owner in Accute first."}
)

func errUniqueness(what string) *Error {
	return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: what + " is already in use."}
}
