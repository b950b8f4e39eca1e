package sso

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Settings is everything the organization's SSO settings page shows.
type Settings struct {
	// Connection is nil until the organization first saves its settings
	// (which generates the SP key pair).
	Connection  *db.SamlConnection
	IdP         IdPInfo
	Groups      []db.ListSAMLGroupRolesRow
	Domains     []db.ListSSODomainsRow
	Roles       []tenant.RoleChoice // every role but owner
	Endpoints   Endpoints
	Fingerprint string
	Verified    int // verified domains
}

// ErrOwnersOnlyDomains refuses domain changes to non-owners: a verified
// domain decides who may sign in as whom.
var ErrOwnersOnlyDomains = &tenant.RuleError{Kind: tenant.RuleForbidden, Message: "Only owners can add or remove the organization's e-mail domains."}

// LoadSettings reads the organization's SSO configuration.
func (s *Service) LoadSettings(ctx context.Context, a tenant.Actor) (Settings, error) {
	st := Settings{Endpoints: s.EndpointsFor(a.OrgSlug)}
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		conn, err := q.GetSAMLConnection(ctx, a.OrgID)
		switch {
		case err == nil:
			st.Connection = &conn
			st.Fingerprint = Fingerprint(conn.SpCertificate)
			if conn.MetadataXml != "" {
				if _, info, perr := ParseIdPMetadata([]byte(conn.MetadataXml)); perr == nil {
					st.IdP = info
				}
			}
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		if st.Groups, err = q.ListSAMLGroupRoles(ctx, a.OrgID); err != nil {
			return err
		}
		if st.Domains, err = q.ListSSODomains(ctx, a.OrgID); err != nil {
			return err
		}
		for _, d := range st.Domains {
			if d.VerifiedAt != nil {
				st.Verified++
			}
		}
		roles, err := q.ListRoles(ctx, a.OrgID)
		if err != nil {
			return err
		}
		for _, rc := range tenant.RoleChoices(roles) {
			if rc.Role != tenant.RoleOwner {
				st.Roles = append(st.Roles, rc)
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, fmt.Errorf("load sso settings: %w", err)
	}
	return st, nil
}

// SettingsInput is the identity provider form.
type SettingsInput struct {
	Enabled           bool
	Source            string // "url" or "xml"
	MetadataURL       string
	MetadataXML       string
	AttrEmail         string
	AttrFirstName     string
	AttrLastName      string
	AttrDisplayName   string
	AttrGroups        string
	DefaultRole       string // a role value: "staff", or "custom:<uuid>"
	AllowIdPInitiated bool
}

func (in *SettingsInput) clean() form.Errors {
	in.MetadataURL = form.Clean(in.MetadataURL)
	in.MetadataXML = strings.TrimSpace(in.MetadataXML)
	for _, f := range []*string{&in.AttrEmail, &in.AttrFirstName, &in.AttrLastName, &in.AttrDisplayName, &in.AttrGroups} {
		*f = form.Clean(*f)
	}
	errs := form.Errors{}
	if in.Source != "url" && in.Source != "xml" {
		in.Source = "url"
		if in.MetadataURL == "" && in.MetadataXML != "" {
			in.Source = "xml"
		}
	}
	if in.Source == "url" && in.MetadataURL != "" {
		if _, msg := ValidateMetadataURL(in.MetadataURL); msg != "" {
			errs.Add("metadata_url", msg)
		}
	}
	if len(in.MetadataXML) > MaxMetadataBytes {
		errs.Add("metadata_xml", fmt.Sprintf("The metadata is larger than %d KiB.", MaxMetadataBytes>>10))
	}
	errs.MaxLen("attr_email", in.AttrEmail, 256)
	errs.MaxLen("attr_first_name", in.AttrFirstName, 256)
	errs.MaxLen("attr_last_name", in.AttrLastName, 256)
	errs.MaxLen("attr_display_name", in.AttrDisplayName, 256)
	errs.MaxLen("attr_groups", in.AttrGroups, 256)
	role, _, ok := tenant.ParseRoleValue(in.DefaultRole)
	switch {
	case !ok:
		errs.Add("default_role", "Choose a role.")
	case role == tenant.RoleOwner:
		errs.Add("default_role", "New users cannot become owners automatically. Choose another role.")
	}
	return errs
}

// metadataUpdate is IdP metadata fetched or pasted, parsed and ready to store.
type metadataUpdate struct {
	xml       string
	fetchedAt *time.Time
	info      IdPInfo
}

// resolveMetadata decides what metadata a save stores: fetched from a new
// URL, parsed from pasted XML, or the stored one kept (nil, nil). The
// fetch happens before any write.
func (s *Service) resolveMetadata(ctx context.Context, in SettingsInput, cur *db.SamlConnection) (*metadataUpdate, form.Errors) {
	errs := form.Errors{}
	switch {
	case in.Source == "url" && in.MetadataURL != "":
		if cur != nil && cur.MetadataUrl == in.MetadataURL && cur.MetadataXml != "" {
			return nil, nil // unchanged: "Refresh metadata" fetches again
		}
		u, _ := ValidateMetadataURL(in.MetadataURL)
		body, err := s.fetchMetadata(ctx, u)
		if err != nil {
			errs.Add("metadata_url", "The metadata could not be fetched: "+err.Error()+".")
			return nil, errs
		}
		_, info, err := ParseIdPMetadata(body)
		if err != nil {
			errs.Add("metadata_url", "The address does not serve usable metadata: "+err.Error()+".")
			return nil, errs
		}
		now := time.Now()
		return &metadataUpdate{xml: string(body), fetchedAt: &now, info: info}, nil
	case in.Source == "xml" && in.MetadataXML != "":
		_, info, err := ParseIdPMetadata([]byte(in.MetadataXML))
		if err != nil {
			errs.Add("metadata_xml", "This metadata cannot be used: "+err.Error()+".")
			return nil, errs
		}
		return &metadataUpdate{xml: in.MetadataXML, info: info}, nil
	case in.Source == "xml" && cur != nil && cur.MetadataUrl == "" && cur.MetadataXml != "":
		return nil, nil // keep the pasted metadata
	case in.Source == "url" && in.Enabled:
		errs.Add("metadata_url", "Enter the address of the identity provider's metadata.")
	case in.Source == "xml" && in.Enabled:
		errs.Add("metadata_xml", "Paste the identity provider's metadata.")
	}
	if errs.Any() {
		return nil, errs
	}
	// Saving without metadata (SSO off): clear it.
	return &metadataUpdate{}, nil
}

// SaveSettings saves the identity provider form. The first save creates
// the organization's SP key pair.
func (s *Service) SaveSettings(ctx context.Context, a tenant.Actor, in SettingsInput) (db.SamlConnection, error) {
	errs := in.clean()
	if errs.Any() {
		return db.SamlConnection{}, errs
	}
	var cur *db.SamlConnection
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		c, err := q.GetSAMLConnection(ctx, a.OrgID)
		if err == nil {
			cur = &c
			return nil
		}
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return db.SamlConnection{}, fmt.Errorf("save sso settings: %w", err)
	}
	md, ferrs := s.resolveMetadata(ctx, in, cur)
	if ferrs.Any() {
		return db.SamlConnection{}, ferrs
	}
	var kp keyPair
	connID := uuid.New()
	if cur == nil {
		if kp, err = newKeyPair(s.Keys, a.OrgID, connID, a.OrgSlug, time.Now()); err != nil {
			return db.SamlConnection{}, err
		}
	}
	var out db.SamlConnection
	err = s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		role, customID, _ := tenant.ParseRoleValue(in.DefaultRole)
		perms := tenant.PermissionsFor(role, nil)
		if customID != nil {
			r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: a.OrgID, ID: *customID})
			if errors.Is(store.MapError(err), store.ErrNotFound) {
				return form.Errors{"default_role": "Choose one of the organization's roles."}
			}
			if err != nil {
				return err
			}
			perms = tenant.PermissionsFor(tenant.RoleCustom, r.Permissions)
		}
		if err := a.CheckGrant(role, perms); err != nil {
			return form.Errors{"default_role": err.Error()}
		}
		if cur == nil {
			if err := q.CreateSAMLConnection(ctx, db.CreateSAMLConnectionParams{OrganizationID: a.OrgID, ID: connID, SpCertificate: kp.CertPEM, SpPrivateKey: kp.SealedKey}); err != nil {
				return err
			}
		}
		old, err := q.GetSAMLConnection(ctx, a.OrgID)
		if err != nil {
			return err
		}
		p := db.UpdateSAMLConnectionParams{
			OrganizationID: a.OrgID, Enabled: in.Enabled,
			MetadataUrl: old.MetadataUrl, MetadataXml: old.MetadataXml, MetadataFetchedAt: old.MetadataFetchedAt,
			IdpEntityID: old.IdpEntityID, IdpSsoUrl: old.IdpSsoUrl,
			AttrEmail: in.AttrEmail, AttrFirstName: in.AttrFirstName, AttrLastName: in.AttrLastName,
			AttrDisplayName: in.AttrDisplayName, AttrGroups: in.AttrGroups,
			DefaultRole: role, DefaultCustomRoleID: customID, AllowIdpInitiated: in.AllowIdPInitiated,
		}
		if md != nil {
			p.MetadataXml, p.MetadataFetchedAt, p.IdpEntityID, p.IdpSsoUrl = md.xml, md.fetchedAt, md.info.EntityID, md.info.SSOURL
			p.MetadataUrl = ""
			if in.Source == "url" {
				p.MetadataUrl = in.MetadataURL
			}
		}
		if p.Enabled && p.MetadataXml == "" {
			return form.Errors{"metadata_url": "Give the identity provider's metadata before turning single sign-on on."}
		}
		if out, err = q.UpdateSAMLConnection(ctx, p); err != nil {
			return err
		}
		changes := settingsChanges(old, out, cur == nil)
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSOSettingsUpdated,
			TargetType: "saml_connection", TargetID: out.ID.String(), Summary: strings.Join(changes, "; "),
		})
	})
	if err != nil {
		return db.SamlConnection{}, fmt.Errorf("save sso settings: %w", err)
	}
	return out, nil
}

// settingsChanges describes what a save changed, for the audit trail.
func settingsChanges(old, cur db.SamlConnection, created bool) []string {
	var out []string
	if created {
		out = append(out, "service provider key pair created")
	}
	if old.Enabled != cur.Enabled {
		out = append(out, map[bool]string{true: "single sign-on turned on", false: "single sign-on turned off"}[cur.Enabled])
	}
	if old.SsoRequired && !cur.SsoRequired {
		out = append(out, "SSO no longer required")
	}
	if old.MetadataXml != cur.MetadataXml || old.MetadataUrl != cur.MetadataUrl {
		switch {
		case cur.MetadataXml == "":
			out = append(out, "identity provider metadata removed")
		case cur.MetadataUrl != "":
			out = append(out, "identity provider "+cur.IdpEntityID+" (metadata from "+cur.MetadataUrl+")")
		default:
			out = append(out, "identity provider "+cur.IdpEntityID+" (pasted metadata)")
		}
	}
	if old.AttrEmail != cur.AttrEmail || old.AttrFirstName != cur.AttrFirstName || old.AttrLastName != cur.AttrLastName ||
		old.AttrDisplayName != cur.AttrDisplayName || old.AttrGroups != cur.AttrGroups {
		out = append(out, "attribute mapping changed")
	}
	if old.DefaultRole != cur.DefaultRole || !sameID(old.DefaultCustomRoleID, cur.DefaultCustomRoleID) {
		out = append(out, "default role "+cur.DefaultRole)
	}
	if old.AllowIdpInitiated != cur.AllowIdpInitiated {
		out = append(out, map[bool]string{true: "IdP-initiated sign-in allowed", false: "IdP-initiated sign-in refused"}[cur.AllowIdpInitiated])
	}
	return out
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ErrNothingToRefresh: the connection has no metadata URL.
var ErrNothingToRefresh = form.Errors{"_": "There is no metadata address to fetch from: the metadata was pasted. Paste the new metadata instead."}

// RefreshMetadata fetches the metadata again from the saved URL (after
// the IdP rotated its certificate, for example).
func (s *Service) RefreshMetadata(ctx context.Context, a tenant.Actor) (IdPInfo, error) {
	var conn db.SamlConnection
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		conn, err = q.GetSAMLConnection(ctx, a.OrgID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.MetadataUrl == "") {
		return IdPInfo{}, form.Errors{"_": "There is no metadata address to fetch from. Save the identity provider's metadata URL first."}
	}
	if err != nil {
		return IdPInfo{}, fmt.Errorf("refresh metadata: %w", err)
	}
	u, msg := ValidateMetadataURL(conn.MetadataUrl)
	if msg != "" {
		return IdPInfo{}, form.Errors{"_": msg}
	}
	body, err := s.fetchMetadata(ctx, u)
	if err != nil {
		return IdPInfo{}, form.Errors{"_": "The metadata could not be fetched: " + err.Error() + "."}
	}
	_, info, err := ParseIdPMetadata(body)
	if err != nil {
		return IdPInfo{}, form.Errors{"_": "The address no longer serves usable metadata: " + err.Error() + "."}
	}
	now := time.Now()
	err = s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		c, err := q.UpdateSAMLMetadata(ctx, db.UpdateSAMLMetadataParams{
			OrganizationID: a.OrgID, MetadataXml: string(body), MetadataFetchedAt: &now, IdpEntityID: info.EntityID, IdpSsoUrl: info.SSOURL,
		})
		if err != nil {
			return err
		}
		summary := "metadata fetched again from " + conn.MetadataUrl
		if c.MetadataXml == conn.MetadataXml {
			summary += " (unchanged)"
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSOMetadataRefreshed,
			TargetType: "saml_connection", TargetID: c.ID.String(), Summary: summary,
		})
	})
	if err != nil {
		return IdPInfo{}, fmt.Errorf("refresh metadata: %w", err)
	}
	return info, nil
}

// SetRequired turns "SSO required" on or off. Turning it on needs single
// sign-on on, a verified domain, and one successful SSO sign-in, so an
// organization does not lock its people out with a broken connection.
func (s *Service) SetRequired(ctx context.Context, a tenant.Actor, required bool) (db.SamlConnection, error) {
	var out db.SamlConnection
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		conn, err := q.GetSAMLConnection(ctx, a.OrgID)
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			if !required {
				return nil
			}
			return &tenant.RuleError{Kind: tenant.RuleConflict, Message: "Set up single sign-on before requiring it."}
		}
		if err != nil {
			return err
		}
		if conn.SsoRequired == required {
			out = conn
			return nil
		}
		if required {
			n, err := q.CountVerifiedSSODomains(ctx, a.OrgID)
			if err != nil {
				return err
			}
			switch {
			case !conn.Enabled:
				return &tenant.RuleError{Kind: tenant.RuleConflict, Message: "Turn single sign-on on before requiring it."}
			case n == 0:
				return &tenant.RuleError{Kind: tenant.RuleConflict, Message: "Verify at least one e-mail domain: SSO is required for the addresses on the organization's verified domains."}
			case conn.LastLoginAt == nil:
				return &tenant.RuleError{Kind: tenant.RuleConflict, Message: "Sign in once with single sign-on (“Test sign-in”) to check the connection before requiring it."}
			}
		}
		if out, err = q.SetSAMLRequired(ctx, db.SetSAMLRequiredParams{OrganizationID: a.OrgID, SsoRequired: required}); err != nil {
			return err
		}
		summary := "password sign-in refused for the organization's verified domains"
		if !required {
			summary = "password sign-in allowed again"
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSORequiredChanged,
			TargetType: "saml_connection", TargetID: conn.ID.String(), Summary: summary,
		})
	})
	if err != nil {
		return db.SamlConnection{}, fmt.Errorf("set sso required: %w", err)
	}
	return out, nil
}

// AddGroupRole maps an IdP group to a role (never owner).
func (s *Service) AddGroupRole(ctx context.Context, a tenant.Actor, group, roleValue string) (db.SamlGroupRole, error) {
	group = form.Clean(group)
	errs := form.Errors{}
	errs.Required("group", group, 256)
	role, customID, ok := tenant.ParseRoleValue(roleValue)
	switch {
	case !ok:
		errs.Add("role", "Choose a role.")
	case role == tenant.RoleOwner:
		errs.Add("role", "Groups cannot make people owners. Choose another role.")
	}
	if errs.Any() {
		return db.SamlGroupRole{}, errs
	}
	var out db.SamlGroupRole
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		perms := tenant.PermissionsFor(role, nil)
		label := role
		if customID != nil {
			r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: a.OrgID, ID: *customID})
			if errors.Is(store.MapError(err), store.ErrNotFound) {
				return form.Errors{"role": "Choose one of the organization's roles."}
			}
			if err != nil {
				return err
			}
			perms, label = tenant.PermissionsFor(tenant.RoleCustom, r.Permissions), r.Name
		}
		if err := a.CheckGrant(role, perms); err != nil {
			return form.Errors{"role": err.Error()}
		}
		var err error
		out, err = q.CreateSAMLGroupRole(ctx, db.CreateSAMLGroupRoleParams{OrganizationID: a.OrgID, GroupName: group, Role: role, CustomRoleID: customID})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return form.Errors{"group": "This group already has a role. Remove that mapping first."}
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSOGroupMapped,
			TargetType: "saml_group_role", TargetID: out.ID.String(), Summary: group + " → " + label,
		})
	})
	if err != nil {
		return db.SamlGroupRole{}, fmt.Errorf("add group mapping: %w", err)
	}
	return out, nil
}

// RemoveGroupRole deletes a group mapping.
func (s *Service) RemoveGroupRole(ctx context.Context, a tenant.Actor, id uuid.UUID) (db.SamlGroupRole, error) {
	var out db.SamlGroupRole
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if out, err = q.DeleteSAMLGroupRole(ctx, db.DeleteSAMLGroupRoleParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSOGroupUnmapped,
			TargetType: "saml_group_role", TargetID: out.ID.String(), Summary: out.GroupName,
		})
	})
	if err != nil {
		return db.SamlGroupRole{}, fmt.Errorf("remove group mapping: %w", err)
	}
	return out, nil
}
