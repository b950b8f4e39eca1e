package sso

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Domain verification, as designed here (DNS TXT records cannot be checked
// offline, and this keeps the rule simple to explain):
//
//   - An owner claims a domain for the organization. The claim is verified
//     at once when the owner's own e-mail address is on that domain and is
//     itself verified: receiving mail there proves a hold on the domain.
//   - Otherwise the claim waits for a platform administrator, who verifies
//     it (or takes a verification back) in the console at /admin/sso-domains.
//   - A domain is verified for one organization at most (a unique index);
//     unverified claims may coexist, so nobody can squat a domain by
//     claiming it first.
//   - Public mail providers (gmail.com, outlook.com, ...) cannot be claimed.
//
// Verified domains decide two things: which addresses an organization's
// IdP may sign in (or provision), and for which addresses password login is
// refused while "SSO required" is on.

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// publicMailDomains cannot be claimed: nobody owns all of gmail.com.
var publicMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true, "live.com": true,
	"msn.com": true, "yahoo.com": true, "ymail.com": true, "aol.com": true, "icloud.com": true, "me.com": true,
	"mac.com": true, "proton.me": true, "protonmail.com": true, "pm.me": true, "gmx.com": true, "gmx.de": true,
	"gmx.net": true, "web.de": true, "mail.com": true, "yandex.com": true, "yandex.ru": true, "zoho.com": true,
	"fastmail.com": true, "hey.com": true, "qq.com": true, "163.com": true, "126.com": true, "mail.ru": true,
	"rediffmail.com": true, "tutanota.com": true, "hotmail.co.uk": true, "yahoo.co.uk": true, "yahoo.co.in": true,
	"outlook.in": true,
}

// NormalizeDomain cleans what an owner typed ("@Example.COM " -> "example.com")
// and returns a message when it is not a domain that can be claimed.
func NormalizeDomain(raw string) (string, string) {
	d := strings.ToLower(form.Clean(raw))
	d = strings.TrimPrefix(d, "@")
	d = strings.TrimSuffix(d, ".")
	switch {
	case d == "":
		return "", "Enter a domain, such as example.com."
	case len(d) > 253 || !domainPattern.MatchString(d):
		return d, "Enter a domain name such as example.com (internationalised names in their xn-- form)."
	case publicMailDomains[d]:
		return d, d + " is a public e-mail service; it cannot belong to one organization."
	}
	return d, ""
}

// DomainRoute is the organization that verified an e-mail domain.
type DomainRoute struct {
	OrgID       uuid.UUID
	Slug        string
	OrgName     string
	Enabled     bool // SAML single sign-on is on
	SSORequired bool // ... and required for the domain
}

// routeDomain finds the organization that verified domain.
//
// Domain routing is cross-organization by nature: it runs before anyone is
// signed in (on the login page and for the "SSO required" check), so it
// reads in platform mode — one read-only query that returns only the
// organization's id, slug, name and SSO switches for a verified domain.
func (s *Service) routeDomain(ctx context.Context, domain string) (DomainRoute, bool, error) {
	if domain == "" {
		return DomainRoute{}, false, nil
	}
	var row db.GetSSODomainRouteRow
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		row, err = q.GetSSODomainRoute(ctx, domain)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return DomainRoute{}, false, nil
	}
	if err != nil {
		return DomainRoute{}, false, fmt.Errorf("route domain: %w", err)
	}
	return DomainRoute{OrgID: row.OrganizationID, Slug: row.Slug, OrgName: row.Name, Enabled: row.Enabled, SSORequired: row.SsoRequired}, true, nil
}

// Required reports whether password sign-in is refused for email because
// the organization that verified its domain requires single sign-on, and
// that organization's name. The web login and the API token endpoint call
// it before checking a password. A database failure answers not required
// (the password check that follows fails on the same database anyway).
func (s *Service) Required(ctx context.Context, email string) (orgName string, required bool) {
	r, ok, err := s.routeDomain(ctx, DomainOf(email))
	if err != nil {
		s.Logger.ErrorContext(ctx, "sso required check", "error", err)
		return "", false
	}
	if !ok || !r.SSORequired {
		return "", false
	}
	return r.OrgName, true
}

// RequiredMessage is what a refused password sign-in tells the user.
func RequiredMessage(orgName string) string {
	return orgName + " requires you to sign in with your company account. Use “Sign in with SSO” and enter your work e-mail."
}

// RefusePassword checks Required and, when password sign-in is refused,
// records the attempt and returns the message for the user.
func (s *Service) RefusePassword(ctx context.Context, email string) (string, bool) {
	org, required := s.Required(ctx, email)
	if !required {
		return "", false
	}
	email = strings.ToLower(strings.TrimSpace(email))
	_ = audit.Record(ctx, s.Store.Q(), audit.Event{ActorEmail: email, Action: audit.LoginFailed, Summary: "password sign-in refused: " + org + " requires single sign-on"})
	return RequiredMessage(org), true
}

// ClaimDomain adds an e-mail domain to the organization (owners only). It
// is verified at once when the owner's own verified address is on it.
func (s *Service) ClaimDomain(ctx context.Context, a tenant.Actor, raw string) (db.SsoDomain, error) {
	if !a.IsOwner() {
		return db.SsoDomain{}, ErrOwnersOnlyDomains
	}
	domain, msg := NormalizeDomain(raw)
	if msg != "" {
		return db.SsoDomain{}, form.Errors{"domain": msg}
	}
	if r, ok, err := s.routeDomain(ctx, domain); err != nil {
		return db.SsoDomain{}, err
	} else if ok && r.OrgID != a.OrgID {
		return db.SsoDomain{}, form.Errors{"domain": domain + " is already verified by another organization."}
	}
	var out db.SsoDomain
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		user, err := q.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		out, err = q.CreateSSODomain(ctx, db.CreateSSODomainParams{OrganizationID: a.OrgID, Domain: domain, ClaimedBy: &a.UserID})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return form.Errors{"domain": domain + " is already on the list."}
		}
		if err != nil {
			return err
		}
		summary := domain + " (waiting for verification by a platform administrator)"
		if DomainOf(user.Email) == domain && user.EmailVerifiedAt != nil {
			if out, err = q.VerifySSODomain(ctx, db.VerifySSODomainParams{OrganizationID: a.OrgID, ID: out.ID, Verification: "admin_email", VerifiedBy: &a.UserID}); err != nil {
				if errors.Is(store.MapError(err), store.ErrConflict) {
					return form.Errors{"domain": domain + " is already verified by another organization."}
				}
				return err
			}
			summary = domain + " (verified: " + user.Email + " is a verified address on it)"
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSODomainClaimed,
			TargetType: "sso_domain", TargetID: out.ID.String(), Summary: summary,
		})
	})
	if err != nil {
		return db.SsoDomain{}, fmt.Errorf("claim domain: %w", err)
	}
	return out, nil
}

// RemoveDomain removes a domain from the organization (owners only).
func (s *Service) RemoveDomain(ctx context.Context, a tenant.Actor, id uuid.UUID) (db.SsoDomain, error) {
	var out db.SsoDomain
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		// Another organization's id is not found, whoever asks.
		if _, err := q.GetSSODomain(ctx, db.GetSSODomainParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		if !a.IsOwner() {
			return ErrOwnersOnlyDomains
		}
		var err error
		if out, err = q.DeleteSSODomain(ctx, db.DeleteSSODomainParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SSODomainRemoved,
			TargetType: "sso_domain", TargetID: out.ID.String(), Summary: out.Domain,
		})
	})
	if err != nil {
		return db.SsoDomain{}, fmt.Errorf("remove domain: %w", err)
	}
	return out, nil
}

// AdminDomains is a page of domain claims for the platform console.
type AdminDomains struct {
	Rows  []db.ListSSODomainsForAdminRow
	Total int
}

// ListDomainsForAdmin lists every organization's domain claims (platform
// administrators only; the console's group checks that).
func (s *Service) ListDomainsForAdmin(ctx context.Context, status string, limit, offset int) (AdminDomains, error) {
	if status != "pending" && status != "verified" {
		status = ""
	}
	var out AdminDomains
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		if out.Rows, err = q.ListSSODomainsForAdmin(ctx, db.ListSSODomainsForAdminParams{Status: status, MaxRows: int32(limit), Skip: int32(offset)}); err != nil {
			return err
		}
		n, err := q.CountSSODomainsForAdmin(ctx, status)
		out.Total = int(n)
		return err
	})
	if err != nil {
		return AdminDomains{}, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// AdminVerifyDomain marks an organization's claim verified (platform
// administrators). A domain another organization verified stays refused.
func (s *Service) AdminVerifyDomain(ctx context.Context, adminID uuid.UUID, adminEmail string, orgID, id uuid.UUID) (db.SsoDomain, error) {
	var out db.SsoDomain
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		d, err := q.GetSSODomain(ctx, db.GetSSODomainParams{OrganizationID: orgID, ID: id})
		if err != nil {
			return err
		}
		if d.VerifiedAt != nil {
			out = d
			return nil
		}
		if r, ok, err := s.routeDomain(ctx, d.Domain); err != nil {
			return err
		} else if ok && r.OrgID != orgID {
			return &tenant.RuleError{Kind: tenant.RuleConflict, Message: d.Domain + " is already verified by " + r.OrgName + ". Take that verification back first."}
		}
		if out, err = q.VerifySSODomain(ctx, db.VerifySSODomainParams{OrganizationID: orgID, ID: id, Verification: "platform_admin", VerifiedBy: &adminID}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &orgID, ActorID: &adminID, ActorEmail: adminEmail, Action: audit.SSODomainVerified,
			TargetType: "sso_domain", TargetID: id.String(), Summary: d.Domain + " (verified by a platform administrator)",
		})
	})
	if errors.Is(err, store.ErrConflict) {
		return db.SsoDomain{}, &tenant.RuleError{Kind: tenant.RuleConflict, Message: "That domain is already verified by another organization."}
	}
	if err != nil {
		return db.SsoDomain{}, fmt.Errorf("verify domain: %w", err)
	}
	return out, nil
}

// AdminUnverifyDomain takes a verification back: the domain no longer
// routes to the organization, SSO stops being required for it, and its
// addresses can no longer sign in through the organization's IdP. It is
// also the way out when an organization locked itself out.
func (s *Service) AdminUnverifyDomain(ctx context.Context, adminID uuid.UUID, adminEmail string, orgID, id uuid.UUID) (db.SsoDomain, error) {
	var out db.SsoDomain
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		d, err := q.GetSSODomain(ctx, db.GetSSODomainParams{OrganizationID: orgID, ID: id})
		if err != nil {
			return err
		}
		if d.VerifiedAt == nil {
			out = d
			return nil
		}
		if out, err = q.UnverifySSODomain(ctx, db.UnverifySSODomainParams{OrganizationID: orgID, ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &orgID, ActorID: &adminID, ActorEmail: adminEmail, Action: audit.SSODomainUnverified,
			TargetType: "sso_domain", TargetID: id.String(), Summary: d.Domain + " (verification taken back by a platform administrator)",
		})
	})
	if err != nil {
		return db.SsoDomain{}, fmt.Errorf("unverify domain: %w", err)
	}
	return out, nil
}
