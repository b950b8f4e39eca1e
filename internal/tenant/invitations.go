package tenant

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/notify"
	"accute/internal/store"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Refusals of the accept flow.
var (
	ErrInvitationInvalid = &RuleError{RuleInvalid, "This invitation link is not valid. Check that you copied the whole link, or ask for a new invitation."}
	ErrInvitationExpired = &RuleError{RuleInvalid, "This invitation has expired. Ask the person who invited you to send a new one."}
	ErrInvitationRevoked = &RuleError{RuleInvalid, "This invitation was withdrawn. Ask the organization for a new one if you still need access."}
	ErrInvitationUsed    = &RuleError{RuleInvalid, "This invitation has already been accepted. Log in to reach the organization."}
	ErrAlreadyMember     = &RuleError{RuleConflict, "You are already a member of this organization."}
	ErrAccountExists     = &RuleError{RuleConflict, "An account already exists for this e-mail address. Log in to accept the invitation."}
	ErrNotPending        = &RuleError{RuleConflict, "This invitation is no longer pending."}
)

// WrongUserError refuses an invitation opened by someone signed in with
// another address.
type WrongUserError struct{ Invited string }

func (e *WrongUserError) Error() string {
	return "This invitation was sent to " + e.Invited + ". Log out, then open the link again."
}

// Invitation tokens carry the organization's id so that the lookup runs
// inside that organization's row-level-security context: the token is
// base64url(16-byte organization UUID || 32 random bytes). Only its SHA-256
// is stored.
const tokenRandomBytes = 32

func newInvitationToken(orgID uuid.UUID) (token string, hash []byte) {
	b := make([]byte, 16+tokenRandomBytes)
	copy(b, orgID[:])
	_, _ = rand.Read(b[16:])
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, crypto.HashToken(token)
}

// invitationOrg extracts the organization id from a token.
func invitationOrg(token string) (uuid.UUID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 16+tokenRandomBytes {
		return uuid.Nil, false
	}
	id, err := uuid.FromBytes(b[:16])
	return id, err == nil && id != uuid.Nil
}

// InviteInput is the invite form.
type InviteInput struct {
	Email string
	Role  string // a role value: "staff" or "custom:<uuid>"
	// ClientIDs are the clients a client user (role client) is linked to
	// when they accept, for the client portal (internal/portal).
	ClientIDs []uuid.UUID
}

// Invite invites an e-mail address with a role and queues the e-mail, in
// one transaction.
func (s *Service) Invite(ctx context.Context, a Actor, in InviteInput) (db.Invitation, error) {
	in.Email = strings.ToLower(form.Clean(in.Email))
	errs := form.Errors{}
	errs.Email("email", in.Email, true)
	if _, _, ok := ParseRoleValue(in.Role); !ok {
		errs.Add("role", "Choose a role.")
	}
	if errs.Any() {
		return db.Invitation{}, errs
	}
	var inv db.Invitation
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		role, err := resolveRole(ctx, q, a.OrgID, in.Role)
		if errors.Is(err, errUnknownRole) {
			return form.Errors{"role": "Choose one of the organization's roles."}
		}
		if err != nil {
			return err
		}
		if err := a.CheckGrant(role.Role, role.Permissions); err != nil {
			return form.Errors{"role": err.Error()}
		}
		member, err := q.MemberExistsByEmail(ctx, db.MemberExistsByEmailParams{OrganizationID: a.OrgID, Email: in.Email})
		if err != nil {
			return err
		}
		if member {
			return form.Errors{"email": in.Email + " is already a member of " + a.OrgName + "."}
		}
		if err := q.RevokeExpiredInvitation(ctx, db.RevokeExpiredInvitationParams{OrganizationID: a.OrgID, Email: in.Email}); err != nil {
			return err
		}
		// The plan's seat limit (clients use no seat); a *billing.LimitError
		// rolls the whole invitation back.
		if role.Role != RoleClient {
			if _, err := billing.Check(ctx, q, a.OrgID, billing.Seats); err != nil {
				return err
			}
		}
		token, hash := newInvitationToken(a.OrgID)
		inv, err = q.CreateInvitation(ctx, db.CreateInvitationParams{
			OrganizationID: a.OrgID, Email: in.Email, Role: role.Role, CustomRoleID: role.CustomID,
			TokenHash: hash, InvitedBy: &a.UserID, ExpiresAt: time.Now().Add(InvitationTTL),
		})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return form.Errors{"email": in.Email + " already has a pending invitation. Revoke it first to send a new one."}
		}
		if err != nil {
			return err
		}
		if err := addInvitationClients(ctx, q, a.OrgID, inv.ID, role.Role, in.ClientIDs); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.MemberInvited,
			TargetType: "invitation", TargetID: inv.ID.String(), Summary: fmt.Sprintf("%s invited as %s", in.Email, role.Label),
		}); err != nil {
			return err
		}
		if role.Role == RoleClient {
			return notify.Enqueue(ctx, q, s.clientInvitationEmail(a, in.Email, token))
		}
		return notify.Enqueue(ctx, q, s.invitationEmail(a, in.Email, role.Label, token))
	})
	if err != nil {
		return db.Invitation{}, fmt.Errorf("invite: %w", err)
	}
	return inv, nil
}

// addInvitationClients records the active clients a client user's
// invitation links on acceptance.
func addInvitationClients(ctx context.Context, q *db.Queries, org, invitation uuid.UUID, role string, clients []uuid.UUID) error {
	if len(clients) > 0 && role != RoleClient {
		return form.Errors{"role": "Only client users are linked to clients."}
	}
	for _, id := range clients {
		c, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: org, ID: id})
		if errors.Is(store.MapError(err), store.ErrNotFound) || (err == nil && c.ArchivedAt != nil) {
			return form.Errors{"client_id": "Choose an active client."}
		}
		if err != nil {
			return err
		}
		if err := q.AddPortalInvitationClient(ctx, db.AddPortalInvitationClientParams{OrganizationID: org, InvitationID: invitation, ClientID: id}); err != nil {
			return err
		}
	}
	return nil
}

// clientInvitationEmail invites a client of the firm to its client portal.
func (s *Service) clientInvitationEmail(a Actor, to, token string) notify.Email {
	link := strings.TrimRight(s.BaseURL, "/") + "/invitations/accept?token=" + token
	return notify.Email{
		To:      to,
		Subject: fmt.Sprintf("%s invited you to their client portal", a.OrgName),
		Text: fmt.Sprintf("Hello,\n\n%s invited you to the secure client portal of %s, where you can share documents with them, "+
			"answer their document requests and complete your identity check.\n\n"+
			"To accept and set your password, open this link:\n\n%s\n\n"+
			"The invitation expires in 7 days and works once. If you were not expecting it, you can ignore this message.\n",
			inviterName(a), a.OrgName, link),
	}
}

func inviterName(a Actor) string {
	if a.Name != "" {
		return a.Name + " (" + a.Email + ")"
	}
	return a.Email
}

func (s *Service) invitationEmail(a Actor, to, roleLabel, token string) notify.Email {
	link := strings.TrimRight(s.BaseURL, "/") + "/invitations/accept?token=" + token
	inviter := a.Name
	if inviter == "" {
		inviter = a.Email
	}
	return notify.Email{
		To:      to,
		Subject: fmt.Sprintf("%s invited you to join %s on Accute", inviter, a.OrgName),
		Text: fmt.Sprintf("Hello,\n\n%s (%s) invited you to join %s on Accute as %s.\n\n"+
			"To accept, open this link:\n\n%s\n\n"+
			"The invitation expires in 7 days and works once. If you were not expecting it, you can ignore this message.\n",
			inviter, a.Email, a.OrgName, roleLabel, link),
	}
}

// RevokeInvitation withdraws a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, a Actor, id uuid.UUID) (db.Invitation, error) {
	var inv db.Invitation
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if inv, err = q.GetInvitation(ctx, db.GetInvitationParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		n, err := q.RevokeInvitation(ctx, db.RevokeInvitationParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotPending
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.InvitationRevoked,
			TargetType: "invitation", TargetID: inv.ID.String(), Summary: "invitation of " + inv.Email + " revoked",
		})
	})
	if err != nil {
		return db.Invitation{}, fmt.Errorf("revoke invitation: %w", err)
	}
	return inv, nil
}

// InvitationInfo is what the accept page shows about an invitation.
type InvitationInfo struct {
	OrgID     uuid.UUID
	OrgName   string
	OrgSlug   string
	Email     string
	RoleLabel string
	ExpiresAt time.Time
	// AccountExists reports whether the invited address has an account.
	AccountExists bool
}

// pendingInvitation loads the invitation a token names and checks it can
// still be accepted. It runs inside the organization's transaction.
func pendingInvitation(ctx context.Context, q *db.Queries, orgID uuid.UUID, token string) (db.GetInvitationByTokenRow, RoleChoice, error) {
	inv, err := q.GetInvitationByToken(ctx, db.GetInvitationByTokenParams{OrganizationID: orgID, TokenHash: crypto.HashToken(token)})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return inv, RoleChoice{}, ErrInvitationInvalid
	}
	if err != nil {
		return inv, RoleChoice{}, err
	}
	switch {
	case inv.AcceptedAt != nil:
		return inv, RoleChoice{}, ErrInvitationUsed
	case inv.RevokedAt != nil:
		return inv, RoleChoice{}, ErrInvitationRevoked
	case !time.Now().Before(inv.ExpiresAt):
		return inv, RoleChoice{}, ErrInvitationExpired
	}
	role, err := currentRole(ctx, q, orgID, inv.Role, inv.CustomRoleID)
	return inv, role, err
}

// LookupInvitation checks a token and describes its invitation.
func (s *Service) LookupInvitation(ctx context.Context, token string) (InvitationInfo, error) {
	orgID, ok := invitationOrg(token)
	if !ok {
		return InvitationInfo{}, ErrInvitationInvalid
	}
	var info InvitationInfo
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		inv, role, err := pendingInvitation(ctx, q, orgID, token)
		if err != nil {
			return err
		}
		info = InvitationInfo{OrgID: orgID, OrgName: inv.OrganizationName, OrgSlug: inv.OrganizationSlug, Email: inv.Email, RoleLabel: role.Label, ExpiresAt: inv.ExpiresAt}
		_, err = q.GetUserByEmail(ctx, inv.Email)
		switch {
		case err == nil:
			info.AccountExists = true
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		return nil
	})
	if err != nil {
		return InvitationInfo{}, fmt.Errorf("look up invitation: %w", err)
	}
	return info, nil
}

// join accepts inv for user inside the organization's transaction: marks
// the invitation used (single use, even under concurrency), creates the
// membership with the invited role and records it.
func join(ctx context.Context, q *db.Queries, inv db.GetInvitationByTokenRow, role RoleChoice, user db.User) error {
	if _, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: inv.OrganizationID, UserID: user.ID}); err == nil {
		return ErrAlreadyMember
	} else if !errors.Is(store.MapError(err), store.ErrNotFound) {
		return err
	}
	n, err := q.AcceptInvitation(ctx, db.AcceptInvitationParams{OrganizationID: inv.OrganizationID, ID: inv.ID})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrInvitationUsed
	}
	if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: inv.OrganizationID, UserID: user.ID, Role: role.Role, CustomRoleID: role.CustomID}); err != nil {
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return ErrAlreadyMember
		}
		return err
	}
	// Opening the link sent to the address proves it.
	if err := q.MarkEmailVerified(ctx, user.ID); err != nil {
		return err
	}
	orgID := inv.OrganizationID
	summary := fmt.Sprintf("%s joined as %s", user.Email, role.Label)
	if role.Role == RoleClient {
		// The client portal: link the client user to the clients the
		// invitation named.
		linked, err := q.LinkInvitedClients(ctx, db.LinkInvitedClientsParams{OrganizationID: orgID, InvitationID: inv.ID, UserID: user.ID})
		if err != nil {
			return err
		}
		if len(linked) > 0 {
			summary += fmt.Sprintf(", with portal access to %d client(s)", len(linked))
		}
	}
	return audit.Record(ctx, q, audit.Event{
		OrgID: &orgID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.InvitationAccepted,
		TargetType: "member", TargetID: user.ID.String(), Summary: summary,
	})
}

// AcceptInvitation makes the signed-in user userID a member. The user's
// address must be the invited one.
func (s *Service) AcceptInvitation(ctx context.Context, token string, userID uuid.UUID) (InvitationInfo, error) {
	orgID, ok := invitationOrg(token)
	if !ok {
		return InvitationInfo{}, ErrInvitationInvalid
	}
	var info InvitationInfo
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		inv, role, err := pendingInvitation(ctx, q, orgID, token)
		if err != nil {
			return err
		}
		user, err := q.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if user.Email != inv.Email {
			return &WrongUserError{Invited: inv.Email}
		}
		info = InvitationInfo{OrgID: orgID, OrgName: inv.OrganizationName, OrgSlug: inv.OrganizationSlug, Email: inv.Email, RoleLabel: role.Label, AccountExists: true}
		return join(ctx, q, inv, role, user)
	})
	if err != nil {
		return InvitationInfo{}, fmt.Errorf("accept invitation: %w", err)
	}
	return info, nil
}

// NewMemberInput is the sign-up form of the accept page. The password is
// validated and hashed by the caller (package auth owns password rules).
type NewMemberInput struct {
	Name         string
	PasswordHash string
}

// AcceptInvitationAsNewUser creates an account for the invited address
// (verified: the link proves it), accepts the invitation with it and
// returns the user, all in one transaction.
func (s *Service) AcceptInvitationAsNewUser(ctx context.Context, token string, in NewMemberInput) (db.User, InvitationInfo, error) {
	orgID, ok := invitationOrg(token)
	if !ok {
		return db.User{}, InvitationInfo{}, ErrInvitationInvalid
	}
	var user db.User
	var info InvitationInfo
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		inv, role, err := pendingInvitation(ctx, q, orgID, token)
		if err != nil {
			return err
		}
		user, err = q.CreateUser(ctx, db.CreateUserParams{Email: inv.Email, Name: in.Name, PasswordHash: in.PasswordHash})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return ErrAccountExists
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{ActorID: &user.ID, ActorEmail: user.Email, Action: audit.Signup, TargetType: "user", TargetID: user.ID.String(), Summary: "through an invitation to " + inv.OrganizationName}); err != nil {
			return err
		}
		info = InvitationInfo{OrgID: orgID, OrgName: inv.OrganizationName, OrgSlug: inv.OrganizationSlug, Email: inv.Email, RoleLabel: role.Label, AccountExists: true}
		return join(ctx, q, inv, role, user)
	})
	if err != nil {
		return db.User{}, InvitationInfo{}, fmt.Errorf("accept invitation: %w", err)
	}
	return user, info, nil
}
