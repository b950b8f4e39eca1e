package clients

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
)

// Statuses a client list can be filtered by.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
	StatusAll      = "all"
)

// Cursor is a position in the client list's (lower(name), id) order.
type Cursor struct {
	SortName string
	ID       uuid.UUID
}

// PageFilter selects a page of clients after a cursor (the JSON API's
// keyset pagination, which stays fast and stable however deep it goes).
type PageFilter struct {
	Query  string
	Status string // StatusActive, StatusArchived or StatusAll
	After  *Cursor
	Limit  int
}

// CursorPage is a page of clients and, when more follow, the cursor of the
// last one.
type CursorPage struct {
	Rows []db.ListClientsPageRow
	Next *Cursor
}

// ListPage returns up to f.Limit clients after f.After: one query, which
// asks for one row more to know whether another page follows, and which
// ends the request's transaction in the same round trip (store.InOrgRead).
func (s *Service) ListPage(ctx context.Context, orgID uuid.UUID, f PageFilter) (CursorPage, error) {
	params := db.ListClientsPageParams{OrganizationID: orgID, Status: f.Status, MaxRows: int32(f.Limit + 1)}
	if q := truncate(form.Clean(f.Query), 100); q != "" {
		params.Query = form.LikeEscape(q)
	}
	if f.After != nil {
		params.AfterName, params.AfterID = f.After.SortName, f.After.ID
	}
	var out CursorPage
	err := s.Store.InOrgRead(ctx, orgID, func(q *db.Queries) error { // the request's only statement
		var err error
		out.Rows, err = q.ListClientsPage(ctx, params)
		return err
	})
	if err != nil {
		return CursorPage{}, fmt.Errorf("list clients: %w", err)
	}
	if len(out.Rows) > f.Limit {
		out.Rows = out.Rows[:f.Limit]
		last := out.Rows[len(out.Rows)-1]
		out.Next = &Cursor{SortName: last.SortName, ID: last.ID}
	}
	return out, nil
}

// ClientPatch names the fields to change; nil fields keep their value.
type ClientPatch struct {
	Name, Kind, Email, Phone, TaxID, Address, Notes *string
}

// Patch changes some fields of a client, with the same rules as Update
// (validation, archived clients read-only, audit). The row is locked first,
// so two concurrent patches of different fields both apply.
func (s *Service) Patch(ctx context.Context, a Actor, id uuid.UUID, p ClientPatch) (db.Client, error) {
	var c db.Client
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		old, err := q.GetClientForUpdate(ctx, db.GetClientForUpdateParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		c = old
		if old.ArchivedAt != nil {
			return ErrArchived
		}
		in := ClientInput{Name: old.Name, Kind: old.Kind, Email: old.Email, Phone: old.Phone, TaxID: old.TaxID, Address: old.Address, Notes: old.Notes}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&in.Name, p.Name}, {&in.Kind, p.Kind}, {&in.Email, p.Email}, {&in.Phone, p.Phone}, {&in.TaxID, p.TaxID}, {&in.Address, p.Address}, {&in.Notes, p.Notes}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if errs := in.Validate(); errs.Any() {
			return errs
		}
		if c, err = q.UpdateClient(ctx, db.UpdateClientParams{
			OrganizationID: a.OrgID, ID: id, Name: in.Name, Kind: in.Kind, Email: in.Email, Phone: in.Phone,
			TaxID: in.TaxID, Address: in.Address, Notes: in.Notes,
		}); err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.ClientUpdated, id.String(), changeSummary(old, c)))
	})
	var fe form.Errors
	if errors.As(err, &fe) {
		return c, fe
	}
	if err != nil {
		return c, fmt.Errorf("patch client: %w", err)
	}
	return c, nil
}
