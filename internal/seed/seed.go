// Package seed creates the demo firm on a fresh development database.
package seed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"accute/internal/auth"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Demo accounts.
const (
	OwnerEmail = "owner@demo.accute.test"
	StaffEmail = "staff@demo.accute.test"
	// ClientEmail is a client user of the portal, linked to the first
	// demo client (Acme Manufacturing).
	ClientEmail = "client@demo.accute.test"
	OrgSlug     = "demo"
	OrgName     = "Demo Accounting LLP"
)

// Result says what the seed did.
type Result struct {
	Seeded   bool
	Password string
}

// DemoPassword returns the configured password, or the one generated into
// dataDir on an earlier run, or a new one saved there.
func DemoPassword(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, "demo-password")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 8 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	pw := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	return pw, os.WriteFile(path, []byte(pw+"\n"), 0o600)
}

// IfEmpty seeds the demo firm when the database has no users.
func IfEmpty(ctx context.Context, s *store.Store, orgs *tenant.Service, password string, cost int) (Result, error) {
	n, err := s.Q().CountUsers(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("seed: count users: %w", err)
	}
	if n > 0 {
		return Result{}, nil
	}
	return Demo(ctx, s, orgs, password, cost)
}

// Demo creates the demo users, the firm and 20 clients.
func Demo(ctx context.Context, s *store.Store, orgs *tenant.Service, password string, cost int) (Result, error) {
	hash, err := auth.HashPassword(password, cost)
	if err != nil {
		return Result{}, err
	}
	var owner, staff, clientUser db.User
	err = s.InTx(ctx, func(q *db.Queries) error {
		var err error
		if owner, err = q.CreateUser(ctx, db.CreateUserParams{Email: OwnerEmail, Name: "Olivia Owner", PasswordHash: hash}); err != nil {
			return err
		}
		if staff, err = q.CreateUser(ctx, db.CreateUserParams{Email: StaffEmail, Name: "Sam Staff", PasswordHash: hash}); err != nil {
			return err
		}
		if clientUser, err = q.CreateUser(ctx, db.CreateUserParams{Email: ClientEmail, Name: "Dana Whitfield", PasswordHash: hash}); err != nil {
			return err
		}
		if err := q.MarkEmailVerified(ctx, clientUser.ID); err != nil {
			return err
		}
		if err := q.MarkEmailVerified(ctx, owner.ID); err != nil {
			return err
		}
		return q.MarkEmailVerified(ctx, staff.ID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("seed users: %w", err)
	}
	org, err := orgs.CreateOrganizationWithSlug(ctx, owner.ID, owner.Email, OrgName, OrgSlug)
	if err != nil {
		return Result{}, fmt.Errorf("seed organization: %w", err)
	}
	err = s.InOrg(ctx, org.ID, func(q *db.Queries) error {
		if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: staff.ID, Role: tenant.RoleStaff}); err != nil {
			return err
		}
		if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: clientUser.ID, Role: tenant.RoleClient}); err != nil {
			return err
		}
		// The demo firm is on Professional (Luca came with the organization).
		if _, err := q.SetOrganizationPlan(ctx, db.SetOrganizationPlanParams{OrganizationID: org.ID, Plan: billing.Professional}); err != nil {
			return err
		}
		for i, c := range demoClients {
			kind := "business"
			if c.individual {
				kind = "individual"
			}
			client, err := q.CreateClient(ctx, db.CreateClientParams{
				OrganizationID: org.ID, Name: c.name, Kind: kind, Email: c.email, Phone: fmt.Sprintf("+1 555 01%02d", i),
				TaxID: fmt.Sprintf("%02d-%07d", 10+i, 1234567+i*7919), Address: c.city, Notes: c.notes, CreatedBy: &owner.ID,
			})
			if err != nil {
				return err
			}
			if i == 0 { // the client portal's demo user sees Acme
				if _, err := q.CreateClientPortalLink(ctx, db.CreateClientPortalLinkParams{OrganizationID: org.ID, ClientID: client.ID, UserID: clientUser.ID, CreatedBy: &owner.ID}); err != nil {
					return err
				}
			}
			if c.contact != "" {
				if _, err := q.CreateClientContact(ctx, db.CreateClientContactParams{
					OrganizationID: org.ID, ClientID: client.ID, Name: c.contact, Email: c.email, Title: c.title, IsPrimary: true,
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("seed clients: %w", err)
	}
	return Result{Seeded: true, Password: password}, nil
}

type demoClient struct {
	name, email, city, notes, contact, title string
	individual                               bool
}

var demoClients = []demoClient{
	{name: "Acme Manufacturing Inc.", email: "finance@acme-mfg.example", city: "Cleveland, OH", notes: "Quarterly close; inventory-heavy.", contact: "Dana Whitfield", title: "Controller"},
	{name: "Bluebird Bakery LLC", email: "owner@bluebirdbakery.example", city: "Portland, OR", notes: "Sales tax in two states.", contact: "Marco Ruiz", title: "Owner"},
	{name: "Cedar & Pine Architects", email: "office@cedarpine.example", city: "Denver, CO", contact: "Priya Natarajan", title: "Managing partner"},
	{name: "Delgado Family Trust", email: "trustee@delgado.example", city: "San Antonio, TX", notes: "Form 1041 each April.", contact: "Luis Delgado", title: "Trustee"},
	{name: "Evergreen Dental Group", email: "admin@evergreendental.example", city: "Seattle, WA", notes: "Payroll for 14 staff.", contact: "Hannah Brooks", title: "Practice manager"},
	{name: "Foster, Grace", email: "grace.foster@mail.example", city: "Austin, TX", notes: "Individual return; rental property.", individual: true},
	{name: "Granite Peak Outfitters", email: "books@granitepeak.example", city: "Boise, ID", contact: "Tom Becker", title: "CFO"},
	{name: "Harbor Logistics Co.", email: "ap@harborlogistics.example", city: "Long Beach, CA", notes: "Multi-entity consolidation.", contact: "Aisha Khan", title: "Finance director"},
	{name: "Iris Studio Design", email: "hello@irisstudio.example", city: "Brooklyn, NY", contact: "Nina Park", title: "Founder"},
	{name: "Juniper Health Clinic", email: "billing@juniperhealth.example", city: "Tucson, AZ", contact: "Dr. Omar Haddad", title: "Director"},
	{name: "Kim, Daniel", email: "dkim@mail.example", city: "Chicago, IL", notes: "Stock options; estimated payments.", individual: true},
	{name: "Lakeside Property Management", email: "accounts@lakeside-pm.example", city: "Madison, WI", contact: "Rachel Stone", title: "Owner"},
	{name: "Maple Street Café", email: "maplecafe@mail.example", city: "Burlington, VT", contact: "Jules Martin", title: "Owner"},
	{name: "Northwind Traders", email: "finance@northwind.example", city: "Minneapolis, MN", notes: "Import duties; FX exposure.", contact: "Erik Lund", title: "Controller"},
	{name: "Orchard Valley Farms", email: "office@orchardvalley.example", city: "Yakima, WA", notes: "Farm schedule F; seasonal payroll.", contact: "Beth Olsen", title: "Co-owner"},
	{name: "Patel, Anjali", email: "anjali.patel@mail.example", city: "Edison, NJ", notes: "Self-employed consultant.", individual: true},
	{name: "Quantum Robotics Ltd.", email: "cfo@quantumrobotics.example", city: "Boston, MA", notes: "R&D credit study.", contact: "Victor Chen", title: "CFO"},
	{name: "Riverbend Veterinary", email: "manager@riverbendvet.example", city: "Nashville, TN", contact: "Sofia Alvarez", title: "Practice manager"},
	{name: "Summit Legal Partners", email: "accounting@summitlegal.example", city: "Atlanta, GA", notes: "Trust account reconciliation monthly.", contact: "James Okafor", title: "Office administrator"},
	{name: "Thompson, Ruth", email: "ruth.thompson@mail.example", city: "Savannah, GA", notes: "Retired; IRA distributions.", individual: true},
}
