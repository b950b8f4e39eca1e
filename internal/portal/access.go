package portal

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
	"accute/internal/notify"
	"accute/internal/tenant"
)

// Access is a client's portal access as the firm manages it: the linked
// client users with their identity checks, the invitations on their way,
// and the organization's other client users who could be linked.
type Access struct {
	Users       []LinkedUser
	Invitations []PendingInvitation
	Candidates  []Candidate
}

// LinkedUser is a client user linked to the client.
type LinkedUser struct {
	LinkID       uuid.UUID
	UserID       uuid.UUID
	Email        string
	Name         string
	Linked       time.Time
	KYC          KYCState
	Submitted    *time.Time
	Reviewed     *time.Time
	ReviewedBy   string
	KYCDocuments []KYCDocument
}

// PendingInvitation is an invitation that will link its invitee to the
// client.
type PendingInvitation struct {
	ID      uuid.UUID
	Email   string
	Sent    time.Time
	Expires time.Time
}

// Expired reports whether the invitation can no longer be accepted.
func (p PendingInvitation) Expired(now time.Time) bool { return !now.Before(p.Expires) }

// Candidate is a client user of the organization not linked to the client.
type Candidate struct {
	UserID uuid.UUID
	Email  string
	Name   string
}

// Access loads a client's portal access (store.ErrNotFound for a client
// that is not the organization's).
func (s *Service) Access(ctx context.Context, org, client uuid.UUID) (Access, error) {
	var out Access
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		if _, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: org, ID: client}); err != nil {
			return err
		}
		links, err := q.ListClientPortalLinks(ctx, db.ListClientPortalLinksParams{OrganizationID: org, ClientID: client})
		if err != nil {
			return err
		}
		docs, err := q.ListClientKYCDocuments(ctx, db.ListClientKYCDocumentsParams{OrganizationID: org, ClientID: client})
		if err != nil {
			return err
		}
		byLink := map[uuid.UUID][]KYCDocument{}
		for _, r := range docs {
			byLink[r.LinkID] = append(byLink[r.LinkID], KYCDocument{ID: r.ID, LinkID: r.LinkID, Kind: r.Kind, DocumentID: r.DocumentID,
				Name: r.Name, ContentType: r.ContentType, Size: r.Size, ParseStatus: r.ParseStatus, Added: r.CreatedAt})
		}
		for _, l := range links {
			out.Users = append(out.Users, LinkedUser{
				LinkID: l.ID, UserID: l.UserID, Email: l.Email, Name: l.Name, Linked: l.CreatedAt,
				KYC:       KYCState{Status: l.KycStatus, RejectReason: l.KycRejectReason},
				Submitted: l.KycSubmittedAt, Reviewed: l.KycReviewedAt, ReviewedBy: l.ReviewedByName,
				KYCDocuments: byLink[l.ID],
			})
		}
		invs, err := q.ListClientPortalInvitations(ctx, db.ListClientPortalInvitationsParams{OrganizationID: org, ClientID: client})
		if err != nil {
			return err
		}
		for _, i := range invs {
			out.Invitations = append(out.Invitations, PendingInvitation{ID: i.ID, Email: i.Email, Sent: i.CreatedAt, Expires: i.ExpiresAt})
		}
		cands, err := q.ListPortalUserCandidates(ctx, db.ListPortalUserCandidatesParams{OrganizationID: org, ClientID: client})
		if err != nil {
			return err
		}
		for _, c := range cands {
			out.Candidates = append(out.Candidates, Candidate{UserID: c.UserID, Email: c.Email, Name: c.Name})
		}
		return nil
	})
	if err != nil {
		return Access{}, fmt.Errorf("portal access: %w", err)
	}
	return out, nil
}

// activeClient loads a client that can be given portal access.
func activeClient(ctx context.Context, q *db.Queries, org, id uuid.UUID) (db.Client, error) {
	c, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: org, ID: id})
	if err != nil {
		return c, err
	}
	if c.ArchivedAt != nil {
		return c, ErrClientArchived
	}
	return c, nil
}

// ErrClientArchived refuses portal access to an archived client.
var ErrClientArchived = &StateError{"This client is archived. Restore it before giving anyone portal access."}

// InviteOutcome says what inviting an address to a client's portal did.
type InviteOutcome int

// Outcomes of Invite.
const (
	// Invited: an invitation was sent.
	Invited InviteOutcome = iota + 1
	// AddedToInvitation: the address had a pending client invitation,
	// which now links this client too.
	AddedToInvitation
	// LinkedExisting: the address belongs to a client user of the
	// organization, now linked to this client (and told by e-mail).
	LinkedExisting
)

// Invite gives an e-mail address access to a client's portal: a client
// user of the organization is linked at once; an address with a pending
// client invitation has this client added to it; anyone else is invited as
// a client user (tenant's invitation flow, no seat), to be linked when they
// accept. A member of the firm's staff is refused: staff see every client
// already.
func (s *Service) Invite(ctx context.Context, a tenant.Actor, client uuid.UUID, email string) (InviteOutcome, error) {
	email = strings.ToLower(form.Clean(email))
	errs := form.Errors{}
	errs.Email("email", email, true)
	if errs.Any() {
		return 0, errs
	}
	pa := Actor{OrgID: a.OrgID, OrgSlug: a.OrgSlug, OrgName: a.OrgName, UserID: a.UserID, Email: a.Email, Name: a.Name}
	var outcome InviteOutcome
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		c, err := activeClient(ctx, q, a.OrgID, client)
		if err != nil {
			return err
		}
		m, err := q.GetMemberByEmail(ctx, db.GetMemberByEmailParams{OrganizationID: a.OrgID, Email: email})
		switch {
		case err == nil && m.Role != tenant.RoleClient:
			return form.Errors{"email": m.Email + " is a member of your team; the team sees every client already."}
		case err == nil:
			outcome = LinkedExisting
			_, err := s.link(ctx, q, pa, c, m.UserID, m.Email)
			return err
		case !notFound(err):
			return err
		}
		inv, err := q.GetPendingInvitationByEmail(ctx, db.GetPendingInvitationByEmailParams{OrganizationID: a.OrgID, Email: email})
		switch {
		case err == nil && inv.Role != tenant.RoleClient:
			return form.Errors{"email": email + " is already invited to join your team."}
		case err == nil:
			outcome = AddedToInvitation
			if err := q.AddPortalInvitationClient(ctx, db.AddPortalInvitationClientParams{OrganizationID: a.OrgID, InvitationID: inv.ID, ClientID: client}); err != nil {
				return err
			}
			return audit.Record(ctx, q, pa.event(audit.PortalInvited, "client", client.String(),
				fmt.Sprintf("%s's pending invitation now also gives access to %s", email, c.Name)))
		case !notFound(err):
			return err
		}
		outcome = Invited
		return nil
	})
	if err == nil && outcome == Invited {
		// The invitation flow records the clients to link and audits the
		// invitation (member.invited) in its own transaction (the request's,
		// on a page).
		_, err = s.Orgs.Invite(ctx, a, tenant.InviteInput{Email: email, Role: tenant.RoleClient, ClientIDs: []uuid.UUID{client}})
	}
	if err != nil {
		var fe form.Errors
		if errors.As(err, &fe) {
			return 0, fe
		}
		return 0, fmt.Errorf("portal invite: %w", err)
	}
	return outcome, nil
}

// Link gives a client user of the organization access to a client.
func (s *Service) Link(ctx context.Context, a Actor, client, user uuid.UUID) (db.ClientPortalLink, error) {
	var l db.ClientPortalLink
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		c, err := activeClient(ctx, q, a.OrgID, client)
		if err != nil {
			return err
		}
		m, err := q.GetMemberByUserID(ctx, db.GetMemberByUserIDParams{OrganizationID: a.OrgID, UserID: user})
		if notFound(err) || (err == nil && m.Role != tenant.RoleClient) {
			return form.Errors{"user_id": "Choose one of your client users."}
		}
		if err != nil {
			return err
		}
		l, err = s.link(ctx, q, a, c, m.UserID, m.Email)
		return err
	})
	if err != nil {
		var fe form.Errors
		if errors.As(err, &fe) {
			return l, fe
		}
		return l, fmt.Errorf("portal link: %w", err)
	}
	return l, nil
}

// link links a client user to an active client, audits it and tells them.
func (s *Service) link(ctx context.Context, q *db.Queries, a Actor, c db.Client, user uuid.UUID, email string) (db.ClientPortalLink, error) {
	l, err := q.CreateClientPortalLink(ctx, db.CreateClientPortalLinkParams{OrganizationID: a.OrgID, ClientID: c.ID, UserID: user, CreatedBy: &a.UserID})
	if notFound(err) {
		return l, form.Errors{"email": email + " already has access to " + c.Name + "."}
	}
	if err != nil {
		return l, err
	}
	if err := audit.Record(ctx, q, a.event(audit.PortalLinked, "client", c.ID.String(),
		fmt.Sprintf("%s given portal access to %s", email, c.Name))); err != nil {
		return l, err
	}
	return l, notify.Enqueue(ctx, q, s.linkedEmail(a, email, c.Name))
}

// Unlink ends a client user's access to a client. Their identity
// documents stay among the client's documents.
func (s *Service) Unlink(ctx context.Context, a Actor, client, linkID uuid.UUID) (string, error) {
	var email string
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		l, err := q.GetClientPortalLink(ctx, db.GetClientPortalLinkParams{OrganizationID: a.OrgID, ClientID: client, ID: linkID})
		if err != nil {
			return err
		}
		c, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: client})
		if err != nil {
			return err
		}
		if _, err := q.DeleteClientPortalLink(ctx, db.DeleteClientPortalLinkParams{OrganizationID: a.OrgID, ClientID: client, ID: linkID}); err != nil {
			return err
		}
		email = l.Email
		return audit.Record(ctx, q, a.event(audit.PortalUnlinked, "client", client.String(),
			fmt.Sprintf("%s no longer has portal access to %s", l.Email, c.Name)))
	})
	if err != nil {
		return "", fmt.Errorf("portal unlink: %w", err)
	}
	return email, nil
}

// RevokeInvitation withdraws a pending invitation that links to the
// client (the whole invitation: if it named other clients too, it is
// withdrawn for those as well).
func (s *Service) RevokeInvitation(ctx context.Context, a tenant.Actor, client, invitation uuid.UUID) (string, error) {
	var email string
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		inv, err := q.GetClientPortalInvitation(ctx, db.GetClientPortalInvitationParams{OrganizationID: a.OrgID, ClientID: client, InvitationID: invitation})
		email = inv.Email
		return err
	})
	if err == nil {
		_, err = s.Orgs.RevokeInvitation(ctx, a, invitation)
	}
	if err != nil {
		return "", fmt.Errorf("portal revoke invitation: %w", err)
	}
	return email, nil
}
