// Package admin is the platform console's logic: overview counts, the
// cross-organization lists, and suspending or reactivating users. Every
// read that spans organizations runs in platform mode (store.AsPlatform),
// which is the only thing that opens row-level security to it; the /admin
// route group admits platform administrators only.
package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// ErrSelf refuses an administrator suspending their own account, which
// would lock them out of the console mid-action.
var ErrSelf = errors.New("admin: you cannot suspend your own account")

// Service implements the console.
type Service struct {
	Store *store.Store
}

// NewService builds the service.
func NewService(s *store.Store) *Service { return &Service{Store: s} }

// Actor is the administrator acting, as recorded in the audit trail.
type Actor struct {
	ID    uuid.UUID
	Email string
}

// Page selects a page of a list: 1-based number and rows per page.
type Page struct {
	Number  int
	PerPage int
}

// NewPage clamps a requested page number (from the query string) and size.
func NewPage(number, perPage int) Page {
	return Page{Number: max(number, 1), PerPage: min(max(perPage, 1), 200)}
}

func (p Page) skip() int32 {
	// Far-off page numbers are capped rather than overflowing OFFSET.
	n := min(p.Number, 100000)
	return int32((n - 1) * p.PerPage)
}

func (p Page) limit() int32 { return int32(p.PerPage) }

// Overview is the console's home page.
type Overview struct {
	Stats  db.GetPlatformStatsRow
	Recent []db.ListAllAuditEventsRow
}

// RecentEvents is how many audit events the overview shows.
const RecentEvents = 10

// Overview counts organizations, users, suspended users, outbox e-mails
// and the last day's audit events, and reads the latest audit events.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		if o.Stats, err = q.GetPlatformStats(ctx); err != nil {
			return err
		}
		o.Recent, err = q.ListAllAuditEvents(ctx, db.ListAllAuditEventsParams{MaxRows: RecentEvents})
		return err
	})
	if err != nil {
		return Overview{}, fmt.Errorf("admin overview: %w", err)
	}
	return o, nil
}

// Organizations lists every organization whose name or slug contains query.
func (s *Service) Organizations(ctx context.Context, query string, p Page) ([]db.ListOrganizationsForAdminRow, int, error) {
	query = form.LikeEscape(form.Clean(query))
	var rows []db.ListOrganizationsForAdminRow
	var total int32
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		if total, err = q.CountOrganizationsForAdmin(ctx, query); err != nil {
			return err
		}
		rows, err = q.ListOrganizationsForAdmin(ctx, db.ListOrganizationsForAdminParams{Query: query, Skip: p.skip(), MaxRows: p.limit()})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("admin organizations: %w", err)
	}
	return rows, int(total), nil
}

// Users lists every user whose name or e-mail contains query.
func (s *Service) Users(ctx context.Context, query string, p Page) ([]db.ListUsersForAdminRow, int, error) {
	query = form.LikeEscape(form.Clean(query))
	var rows []db.ListUsersForAdminRow
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		rows, err = q.ListUsersForAdmin(ctx, db.ListUsersForAdminParams{Query: query, Skip: p.skip(), MaxRows: p.limit()})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("admin users: %w", err)
	}
	total := 0
	if len(rows) > 0 {
		total = int(rows[0].Total)
	}
	return rows, total, nil
}

// Mailbox lists the outbox, newest first, optionally for one recipient
// (any part of the address).
func (s *Service) Mailbox(ctx context.Context, to string, p Page) ([]db.ListMailboxRow, int, error) {
	rows, err := s.Store.Q().ListMailbox(ctx, db.ListMailboxParams{ToEmail: form.LikeEscape(strings.ToLower(form.Clean(to))), Skip: p.skip(), MaxRows: p.limit()})
	if err != nil {
		return nil, 0, fmt.Errorf("admin mailbox: %w", err)
	}
	total := 0
	if len(rows) > 0 {
		total = int(rows[0].Total)
	}
	return rows, total, nil
}

// Mail reads one outbox e-mail; store.ErrNotFound when there is none.
func (s *Service) Mail(ctx context.Context, id uuid.UUID) (db.OutboxEmail, error) {
	m, err := s.Store.Q().GetOutboxEmail(ctx, id)
	if err != nil {
		return db.OutboxEmail{}, fmt.Errorf("admin mail: %w", store.MapError(err))
	}
	return m, nil
}

// AuditFilter narrows the platform audit trail.
type AuditFilter struct {
	Action  string
	Actor   string // part of the actor's e-mail
	OrgSlug string // exact organization slug
}

// Audit lists every organization's and the platform's audit events.
func (s *Service) Audit(ctx context.Context, f AuditFilter, p Page) ([]db.ListAllAuditEventsRow, int, error) {
	f.Action, f.Actor, f.OrgSlug = form.Clean(f.Action), form.Clean(f.Actor), strings.ToLower(form.Clean(f.OrgSlug))
	actor := form.LikeEscape(f.Actor)
	var rows []db.ListAllAuditEventsRow
	var total int32
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		if total, err = q.CountAllAuditEvents(ctx, db.CountAllAuditEventsParams{Action: f.Action, Actor: actor, OrgSlug: f.OrgSlug}); err != nil {
			return err
		}
		rows, err = q.ListAllAuditEvents(ctx, db.ListAllAuditEventsParams{Action: f.Action, Actor: actor, OrgSlug: f.OrgSlug, Skip: p.skip(), MaxRows: p.limit()})
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("admin audit: %w", err)
	}
	return rows, int(total), nil
}

// AuditActions lists every action the trail records, for the filter menu.
func AuditActions() []string {
	out := []string{
		audit.LoginSucceeded, audit.LoginFailed, audit.Logout, audit.Signup, audit.PasswordResetAsked,
		audit.PasswordReset, audit.EmailVerified,
		audit.OAuthLogin, audit.OAuthLoginFailed, audit.OAuthSignup, audit.IdentityLinked, audit.IdentityUnlinked,
	}
	out = append(out, audit.OrgActions...)
	out = append(out, audit.AdminGranted, audit.AdminUserSuspended, audit.AdminUserReactivate)
	slices.Sort(out)
	return slices.Compact(out)
}

// SuspendUser suspends a user. Bumping the session version (done by the
// query) ends every session the user has at once, on every instance; the
// login form then answers that the account is suspended. Suspending an
// already suspended user changes nothing and records nothing.
func (s *Service) SuspendUser(ctx context.Context, actor Actor, userID uuid.UUID) (db.User, error) {
	if userID == actor.ID {
		return db.User{}, ErrSelf
	}
	var u db.User
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		if u, err = q.LockUser(ctx, userID); err != nil {
			return err
		}
		if u.SuspendedAt != nil {
			return nil
		}
		if u, err = q.SuspendUser(ctx, userID); err != nil {
			return err
		}
		// organization_id stays NULL: a platform event.
		return audit.Record(ctx, q, audit.Event{ActorID: &actor.ID, ActorEmail: actor.Email, Action: audit.AdminUserSuspended,
			TargetType: "user", TargetID: u.ID.String(), Summary: u.Email})
	})
	if err != nil {
		return db.User{}, fmt.Errorf("suspend user: %w", err)
	}
	return u, nil
}

// ReactivateUser lifts a suspension; the user signs in again.
func (s *Service) ReactivateUser(ctx context.Context, actor Actor, userID uuid.UUID) (db.User, error) {
	var u db.User
	err := s.Store.InTx(ctx, func(q *db.Queries) error {
		var err error
		if u, err = q.LockUser(ctx, userID); err != nil {
			return err
		}
		if u.SuspendedAt == nil {
			return nil
		}
		if u, err = q.ReactivateUser(ctx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &actor.ID, ActorEmail: actor.Email, Action: audit.AdminUserReactivate,
			TargetType: "user", TargetID: u.ID.String(), Summary: u.Email})
	})
	if err != nil {
		return db.User{}, fmt.Errorf("reactivate user: %w", err)
	}
	return u, nil
}
