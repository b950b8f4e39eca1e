package testutil

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"accute/internal/auth"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Password is every factory user's password.
const Password = "correct-horse-battery"

// BcryptCost keeps tests fast; production uses 12.
const BcryptCost = 4

var seq atomic.Int64

// Factory creates rows for tests through the application's own code paths.
type Factory struct {
	T     testing.TB
	Store *store.Store
}

// Unique returns a string unique within the test binary.
func Unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

// User creates a verified user with Password.
func (f Factory) User(email string) db.User {
	f.T.Helper()
	if email == "" {
		email = Unique("user") + "@example.test"
	}
	hash, err := auth.HashPassword(Password, BcryptCost)
	if err != nil {
		f.T.Fatal(err)
	}
	ctx := context.Background()
	var u db.User
	err = f.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		if u, err = q.CreateUser(ctx, db.CreateUserParams{Email: email, Name: "User " + email, PasswordHash: hash}); err != nil {
			return err
		}
		return q.MarkEmailVerified(ctx, u.ID)
	})
	if err != nil {
		f.T.Fatalf("factory user: %v", err)
	}
	return u
}

// Org creates an organization owned by owner.
func (f Factory) Org(owner db.User, name string) db.Organization {
	f.T.Helper()
	if name == "" {
		name = Unique("Firm ")
	}
	org, err := (&tenant.Service{Store: f.Store}).CreateOrganization(context.Background(), owner.ID, owner.Email, name)
	if err != nil {
		f.T.Fatalf("factory org: %v", err)
	}
	return f.Plan(org, billing.Enterprise) // no plan limit gets in the way of other tests
}

// Member adds user to org with a built-in role.
func (f Factory) Member(org db.Organization, user db.User, role string) db.Membership {
	f.T.Helper()
	ctx := context.Background()
	var m db.Membership
	err := f.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		m, err = q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: user.ID, Role: role})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory member: %v", err)
	}
	return m
}

// CustomRole creates a custom role with permissions and assigns it to user
// as a new member of org.
func (f Factory) CustomRole(org db.Organization, name string, perms ...string) db.Role {
	f.T.Helper()
	ctx := context.Background()
	var r db.Role
	err := f.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		r, err = q.CreateRole(ctx, db.CreateRoleParams{OrganizationID: org.ID, Name: name, Permissions: perms})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory role: %v", err)
	}
	return r
}

// Client creates a client in org.
func (f Factory) Client(org db.Organization, name string) db.Client {
	f.T.Helper()
	if name == "" {
		name = Unique("Client ")
	}
	ctx := context.Background()
	var c db.Client
	err := f.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		c, err = q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: name, Kind: "business", Email: "books@" + uuid.NewString()[:8] + ".example"})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory client: %v", err)
	}
	return c
}

// Contact adds a contact to a client.
func (f Factory) Contact(org db.Organization, client db.Client, name string) db.ClientContact {
	f.T.Helper()
	ctx := context.Background()
	var c db.ClientContact
	err := f.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		c, err = q.CreateClientContact(ctx, db.CreateClientContactParams{OrganizationID: org.ID, ClientID: client.ID, Name: name})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory contact: %v", err)
	}
	return c
}
