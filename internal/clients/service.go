// Package clients manages the firm's clients and their contacts.
//
// Every method takes the organization from the Actor (which the handler
// builds from the request's principal, never from a form field), runs in the
// organization's transaction (the request's own on /o/ pages) and records an
// audit event in that same transaction for each change.
package clients

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// PerPage is the size of a page of the client list.
const PerPage = 50

// maxPage keeps the OFFSET inside int32 whatever the URL says.
const maxPage = 1_000_000

// Kinds of client.
const (
	KindBusiness   = "business"
	KindIndividual = "individual"
)

// ErrArchived is returned for changes to an archived client: archived
// clients are read-only until restored.
var ErrArchived = errors.New("client is archived")

// Service implements client operations.
type Service struct {
	Store *store.Store
}

// Actor is who acts, and in which organization.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
}

func (a Actor) event(action, targetID, summary string) audit.Event {
	return audit.Event{
		OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email,
		Action: action, TargetType: "client", TargetID: targetID, Summary: summary,
	}
}

// ClientInput is what the client form submits.
type ClientInput struct {
	Name    string
	Kind    string
	Email   string
	Phone   string
	TaxID   string
	Address string
	Notes   string
}

// Normalize trims the input and lower-cases the e-mail address.
func (in *ClientInput) Normalize() {
	in.Name = form.Clean(in.Name)
	in.Kind = form.Clean(in.Kind)
	in.Email = strings.ToLower(form.Clean(in.Email))
	in.Phone = form.Clean(in.Phone)
	in.TaxID = form.Clean(in.TaxID)
	in.Address = form.Clean(in.Address)
	in.Notes = form.Clean(in.Notes)
}

// Validate normalizes the input and reports every problem at once.
func (in *ClientInput) Validate() form.Errors {
	in.Normalize()
	errs := form.Errors{}
	errs.Required("name", in.Name, 200)
	errs.OneOf("kind", in.Kind, KindBusiness, KindIndividual)
	errs.Email("email", in.Email, false)
	errs.MaxLen("phone", in.Phone, 40)
	errs.MaxLen("tax_id", in.TaxID, 40)
	errs.MaxLen("address", in.Address, 500)
	errs.MaxLen("notes", in.Notes, 5000)
	return errs
}

// ContactInput is what the add-contact form submits.
type ContactInput struct {
	Name  string
	Email string
	Phone string
	Title string
}

// Validate normalizes the input and reports every problem at once.
func (in *ContactInput) Validate() form.Errors {
	in.Name = form.Clean(in.Name)
	in.Email = strings.ToLower(form.Clean(in.Email))
	in.Phone = form.Clean(in.Phone)
	in.Title = form.Clean(in.Title)
	errs := form.Errors{}
	errs.Required("name", in.Name, 200)
	errs.Email("email", in.Email, false)
	errs.MaxLen("phone", in.Phone, 40)
	errs.MaxLen("title", in.Title, 100)
	return errs
}

// Filter selects a page of the client list.
type Filter struct {
	Query    string // matched against name and e-mail
	Archived bool   // the Archived tab instead of Active
	Page     int    // 1-based
}

// Page is one page of the client list.
type Page struct {
	Rows  []db.ListClientsRow
	Total int
	Page  int // the page actually shown (clamped to the last one)
}

// List returns a page of the organization's clients. It costs one query
// (rows and total together, through count(*) OVER ()), which keeps the list
// page within its round-trip budget; only a page past the end costs more.
func (s *Service) List(ctx context.Context, orgID uuid.UUID, f Filter) (Page, error) {
	page := min(max(f.Page, 1), maxPage)
	q := form.LikeEscape(truncate(form.Clean(f.Query), 100))
	var out Page
	params := db.ListClientsParams{OrganizationID: orgID, Archived: f.Archived, Query: q, Skip: int32((page - 1) * PerPage), MaxRows: PerPage}
	// The page's one query also ends the request's transaction (a round
	// trip less, see store.InOrgRead).
	err := s.Store.InOrgRead(ctx, orgID, func(qs *db.Queries) error {
		var err error
		out.Rows, err = qs.ListClients(ctx, params)
		return err
	})
	if err == nil && len(out.Rows) == 0 && page > 1 {
		// Past the end (a stale link, or rows archived meanwhile): the
		// window count is only known with a row, so ask for one and show
		// the last page instead of an empty one.
		err = s.Store.InOrg(ctx, orgID, func(qs *db.Queries) error {
			params.Skip, params.MaxRows = 0, 1
			rows, err := qs.ListClients(ctx, params)
			if err != nil || len(rows) == 0 {
				page = 1
				return err
			}
			page = (int(rows[0].Total) + PerPage - 1) / PerPage
			params.Skip, params.MaxRows = int32((page-1)*PerPage), PerPage
			out.Rows, err = qs.ListClients(ctx, params)
			return err
		})
	}
	if err != nil {
		return Page{}, fmt.Errorf("list clients: %w", err)
	}
	if len(out.Rows) > 0 {
		out.Total = int(out.Rows[0].Total)
	}
	out.Page = page
	return out, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// Details is a client with its contacts.
type Details struct {
	Client   db.Client
	Contacts []db.ClientContact
}

// Get returns a client of the organization with its contacts; another
// organization's client is store.ErrNotFound, like a missing one.
func (s *Service) Get(ctx context.Context, orgID, id uuid.UUID) (Details, error) {
	var d Details
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if d.Client, err = q.GetClient(ctx, db.GetClientParams{OrganizationID: orgID, ID: id}); err != nil {
			return err
		}
		d.Contacts, err = q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: orgID, ClientID: id})
		return err
	})
	if err != nil {
		return Details{}, fmt.Errorf("get client: %w", err)
	}
	return d, nil
}

// Create validates in and creates a client. Invalid input is form.Errors.
func (s *Service) Create(ctx context.Context, a Actor, in ClientInput) (db.Client, error) {
	if errs := in.Validate(); errs.Any() {
		return db.Client{}, errs
	}
	var c db.Client
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		c, err = q.CreateClient(ctx, db.CreateClientParams{
			OrganizationID: a.OrgID, Name: in.Name, Kind: in.Kind, Email: in.Email, Phone: in.Phone,
			TaxID: in.TaxID, Address: in.Address, Notes: in.Notes, CreatedBy: &a.UserID,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.ClientCreated, c.ID.String(), c.Name))
	})
	if err != nil {
		return db.Client{}, fmt.Errorf("create client: %w", err)
	}
	return c, nil
}

// Update changes a client. The stored client is looked up first, so an id
// of another organization is store.ErrNotFound whatever the input, and an
// archived one is ErrArchived. Invalid input returns the stored client with
// form.Errors (the form's page shows its name).
func (s *Service) Update(ctx context.Context, a Actor, id uuid.UUID, in ClientInput) (db.Client, error) {
	var c db.Client
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		old, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		c = old
		if old.ArchivedAt != nil {
			return ErrArchived
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
		return c, fmt.Errorf("update client: %w", err)
	}
	return c, nil
}

// changeSummary names the fields an update changed, for the audit trail.
// Values are left out: notes and tax ids do not belong in the trail.
func changeSummary(old, c db.Client) string {
	var changed []string
	for _, f := range []struct {
		label    string
		was, now string
	}{
		{"name", old.Name, c.Name}, {"kind", old.Kind, c.Kind}, {"email", old.Email, c.Email},
		{"phone", old.Phone, c.Phone}, {"tax id", old.TaxID, c.TaxID}, {"address", old.Address, c.Address},
		{"notes", old.Notes, c.Notes},
	} {
		if f.was != f.now {
			changed = append(changed, f.label)
		}
	}
	if len(changed) == 0 {
		return c.Name + ": no changes"
	}
	return c.Name + ": changed " + strings.Join(changed, ", ")
}

// Archive hides a client from the active list. Archiving an archived client
// changes nothing and records nothing.
func (s *Service) Archive(ctx context.Context, a Actor, id uuid.UUID) (db.Client, error) {
	return s.setArchived(ctx, a, id, true)
}

// Restore brings an archived client back to the active list.
func (s *Service) Restore(ctx context.Context, a Actor, id uuid.UUID) (db.Client, error) {
	return s.setArchived(ctx, a, id, false)
}

func (s *Service) setArchived(ctx context.Context, a Actor, id uuid.UUID, archived bool) (db.Client, error) {
	op, action := "restore client", audit.ClientRestored
	if archived {
		op, action = "archive client", audit.ClientArchived
	}
	var c db.Client
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if c, err = q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		if (c.ArchivedAt != nil) == archived {
			return nil
		}
		if c, err = q.SetClientArchived(ctx, db.SetClientArchivedParams{OrganizationID: a.OrgID, ID: id, Archived: archived}); err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(action, id.String(), c.Name))
	})
	if err != nil {
		return db.Client{}, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// AddContact adds a contact to an active client. The client is looked up
// first (so another organization's id is ErrNotFound, not a foreign-key
// failure); invalid input returns the client's details with form.Errors, so
// the page can show the contacts beside the errors.
func (s *Service) AddContact(ctx context.Context, a Actor, clientID uuid.UUID, in ContactInput) (Details, error) {
	var d Details
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if d.Client, err = q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: clientID}); err != nil {
			return err
		}
		if d.Client.ArchivedAt != nil {
			return ErrArchived
		}
		if errs := in.Validate(); errs.Any() {
			if d.Contacts, err = q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: a.OrgID, ClientID: clientID}); err != nil {
				return err
			}
			return errs
		}
		ct, err := q.CreateClientContact(ctx, db.CreateClientContactParams{
			OrganizationID: a.OrgID, ClientID: clientID, Name: in.Name, Email: in.Email, Phone: in.Phone, Title: in.Title,
		})
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, q, a.event(audit.ContactAdded, clientID.String(), d.Client.Name+": added contact "+ct.Name)); err != nil {
			return err
		}
		d.Contacts, err = q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: a.OrgID, ClientID: clientID})
		return err
	})
	var fe form.Errors
	if errors.As(err, &fe) {
		return d, fe
	}
	if err != nil {
		return Details{}, fmt.Errorf("add contact: %w", err)
	}
	return d, nil
}

// RemoveContact deletes a contact of an active client and returns the
// client with its remaining contacts.
func (s *Service) RemoveContact(ctx context.Context, a Actor, clientID, contactID uuid.UUID) (Details, error) {
	var d Details
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if d.Client, err = q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: clientID}); err != nil {
			return err
		}
		if d.Client.ArchivedAt != nil {
			return ErrArchived
		}
		ct, err := q.DeleteClientContact(ctx, db.DeleteClientContactParams{OrganizationID: a.OrgID, ClientID: clientID, ID: contactID})
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, q, a.event(audit.ContactRemoved, clientID.String(), d.Client.Name+": removed contact "+ct.Name)); err != nil {
			return err
		}
		d.Contacts, err = q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: a.OrgID, ClientID: clientID})
		return err
	})
	if err != nil {
		return Details{}, fmt.Errorf("remove contact: %w", err)
	}
	return d, nil
}
