package tenant

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"accute/internal/agents"
	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Service manages organizations, memberships, invitations and roles.
type Service struct {
	Store   *store.Store
	BaseURL string
}

// Slugify turns a name into a slug candidate.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// drop accents
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "firm"
	}
	return s
}

// CreateOrganization creates an organization with userID as its owner; its
// slug is derived from the name.
func (s *Service) CreateOrganization(ctx context.Context, userID uuid.UUID, actorEmail, name string) (db.Organization, error) {
	return s.CreateOrganizationWithSlug(ctx, userID, actorEmail, name, "")
}

// CreateOrganizationWithSlug is CreateOrganization with a chosen slug
// (tried first; a suffix is added when taken).
func (s *Service) CreateOrganizationWithSlug(ctx context.Context, userID uuid.UUID, actorEmail, name, slug string) (db.Organization, error) {
	name = form.Clean(name)
	errs := form.Errors{}
	errs.Required("name", name, 120)
	if errs.Any() {
		return db.Organization{}, errs
	}
	base := slug
	if !ValidSlug(base) {
		base = Slugify(name)
	}
	for attempt := 0; attempt < 8; attempt++ {
		slug := base
		if attempt > 0 {
			slug = fmt.Sprintf("%s-%s", base, randomSuffix())
		}
		var org db.Organization
		err := s.Store.InTx(ctx, func(q *db.Queries) error {
			var err error
			if org, err = q.CreateOrganization(ctx, db.CreateOrganizationParams{Slug: slug, Name: name}); err != nil {
				return err
			}
			if err := q.EnterOrganization(ctx, org.ID); err != nil {
				return err
			}
			if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: userID, Role: RoleOwner}); err != nil {
				return err
			}
			// Every new organization starts with Luca installed.
			if err := agents.InstallDefault(ctx, q, org.ID, &userID); err != nil {
				return err
			}
			return audit.Record(ctx, q, audit.Event{OrgID: &org.ID, ActorID: &userID, ActorEmail: actorEmail, Action: audit.OrgCreated, TargetType: "organization", TargetID: org.ID.String(), Summary: name})
		})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return db.Organization{}, err
		}
		return org, nil
	}
	return db.Organization{}, errors.New("create organization: could not find a free slug")
}

func randomSuffix() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
