// Package tenant holds organizations' roles and permissions and the
// middleware that admits a request into an organization.
package tenant

import "slices"

// Permission is a named right inside one organization.
type Permission string

// Every permission a role can grant. Custom roles pick from this list.
const (
	ClientsRead        Permission = "clients.read"
	ClientsWrite       Permission = "clients.write"
	MembersRead        Permission = "members.read"
	MembersManage      Permission = "members.manage"
	OrganizationManage Permission = "organization.manage"
	AuditRead          Permission = "audit.read"
	DocumentsRead      Permission = "documents.read"
	DocumentsWrite     Permission = "documents.write"
	AgentsUse          Permission = "agents.use"
	AgentsManage       Permission = "agents.manage"
	AgentsApprove      Permission = "agents.approve"
)

// PermissionInfo describes a permission for the role editor.
type PermissionInfo struct {
	Key         Permission
	Label       string
	Description string
}

// AllPermissions lists every permission in display order.
var AllPermissions = []PermissionInfo{
	{ClientsRead, "View clients", "See the client list, client details and contacts."},
	{ClientsWrite, "Manage clients", "Create, edit and archive clients and their contacts."},
	{MembersRead, "View members", "See who belongs to the organization and their roles."},
	{MembersManage, "Manage members", "Invite people, change roles and remove members."},
	{OrganizationManage, "Manage organization", "Rename the organization and define custom roles."},
	{AuditRead, "View audit trail", "Read the organization's audit trail."},
	{DocumentsRead, "View documents", "See and download the firm's documents and their versions."},
	{DocumentsWrite, "Manage documents", "Upload documents and new versions; rename, move, tag, archive and restore them; manage folders."},
	{AgentsUse, "Use AI agents", "See the agent marketplace and talk to the organization's enabled agents."},
	{AgentsManage, "Manage AI agents", "Install, enable, disable and configure the organization's AI agents."},
	{AgentsApprove, "Approve agents' actions", "Approve, edit or reject what AI agents propose to do (e-mails, notes, document requests)."},
}

// ValidPermission reports whether p is a known permission.
func ValidPermission(p string) bool {
	for _, info := range AllPermissions {
		if string(info.Key) == p {
			return true
		}
	}
	return false
}

// Built-in roles.
const (
	RoleOwner   = "owner"
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleStaff   = "staff"
	RoleClient  = "client"
	RoleCustom  = "custom"
)

// BuiltinRole is a role every organization has.
type BuiltinRole struct {
	Key         string
	Label       string
	Description string
	Permissions []Permission
}

// BuiltinRoles in descending order of rights.
var BuiltinRoles = []BuiltinRole{
	{RoleOwner, "Owner", "Full control, including other owners.", allPermissions()},
	{RoleAdmin, "Admin", "Full control except promoting or demoting owners.", allPermissions()},
	{RoleManager, "Manager", "Runs client work and reads the team and audit trail.", []Permission{ClientsRead, ClientsWrite, MembersRead, AuditRead, DocumentsRead, DocumentsWrite, AgentsUse, AgentsApprove}},
	{RoleStaff, "Staff", "Works with clients.", []Permission{ClientsRead, ClientsWrite, DocumentsRead, DocumentsWrite, AgentsUse}},
	{RoleClient, "Client", "A client of the firm; sees only the client portal.", nil},
}

func allPermissions() []Permission {
	out := make([]Permission, 0, len(AllPermissions))
	for _, p := range AllPermissions {
		out = append(out, p.Key)
	}
	return out
}

// Builtin returns the built-in role with key.
func Builtin(key string) (BuiltinRole, bool) {
	for _, r := range BuiltinRoles {
		if r.Key == key {
			return r, true
		}
	}
	return BuiltinRole{}, false
}

// PermissionSet is what a membership may do.
type PermissionSet []Permission

// Has reports whether p is granted.
func (s PermissionSet) Has(p Permission) bool { return slices.Contains(s, p) }

// PermissionsFor resolves a membership's role to its permissions.
func PermissionsFor(role string, custom []string) PermissionSet {
	if role == RoleCustom {
		out := make(PermissionSet, 0, len(custom))
		for _, p := range custom {
			if ValidPermission(p) {
				out = append(out, Permission(p))
			}
		}
		return out
	}
	r, _ := Builtin(role)
	return r.Permissions
}
