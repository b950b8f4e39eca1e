package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/clients"
	"accute/internal/db"
	"accute/internal/form"
)

// List sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// Client is a client of the firm.
type Client struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Email      string     `json:"email"`
	Phone      string     `json:"phone"`
	TaxID      string     `json:"tax_id"`
	Address    string     `json:"address"`
	Notes      string     `json:"notes"`
	Status     string     `json:"status"` // active or archived
	ArchivedAt *time.Time `json:"archived_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Contact is a person at a client.
type Contact struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Title     string    `json:"title"`
	IsPrimary bool      `json:"is_primary"`
	CreatedAt time.Time `json:"created_at"`
}

// ClientDetails is a client with its contacts.
type ClientDetails struct {
	Client
	Contacts []Contact `json:"contacts"`
}

func status(archived *time.Time) string {
	if archived != nil {
		return clients.StatusArchived
	}
	return clients.StatusActive
}

func clientOut(c db.Client) Client {
	return Client{ID: c.ID, Name: c.Name, Kind: c.Kind, Email: c.Email, Phone: c.Phone, TaxID: c.TaxID, Address: c.Address,
		Notes: c.Notes, Status: status(c.ArchivedAt), ArchivedAt: c.ArchivedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func detailsOut(d clients.Details) ClientDetails {
	out := ClientDetails{Client: clientOut(d.Client), Contacts: make([]Contact, 0, len(d.Contacts))}
	for _, ct := range d.Contacts {
		out.Contacts = append(out.Contacts, Contact{ID: ct.ID, Name: ct.Name, Email: ct.Email, Phone: ct.Phone, Title: ct.Title, IsPrimary: ct.IsPrimary, CreatedAt: ct.CreatedAt})
	}
	return out
}

// Cursors are opaque to clients: base64url of a version, the sort key and
// the row id. A cursor that does not decode is a 400, never a 500.
func encodeCursor(parts ...string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte("1\x00" + strings.Join(parts, "\x00")))
	return &s
}

func decodeCursor(s string, n int) ([]string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 1024 {
		return nil, false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n+1 || parts[0] != "1" {
		return nil, false
	}
	return parts[1:], true
}

// limitParam reads ?limit= (1..MaxLimit, default DefaultLimit).
func limitParam(c echo.Context, errs form.Errors) int {
	v := c.QueryParam("limit")
	if v == "" {
		return DefaultLimit
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		errs.Add("limit", "Must be a whole number from 1 to "+strconv.Itoa(MaxLimit)+".")
		return DefaultLimit
	}
	return n
}

// ClientsList lists clients in name order, filtered by q (name or e-mail)
// and status, a page at a time (cursor pagination).
func (a *API) ClientsList(c echo.Context) error {
	errs := form.Errors{}
	f := clients.PageFilter{Query: c.QueryParam("q"), Status: c.QueryParam("status"), Limit: limitParam(c, errs)}
	switch f.Status {
	case "":
		f.Status = clients.StatusActive
	case clients.StatusActive, clients.StatusArchived, clients.StatusAll:
	default:
		errs.Add("status", "Must be active, archived or all.")
	}
	if len(f.Query) > 200 {
		errs.Add("q", "Use at most 200 characters.")
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		parts, ok := decodeCursor(cur, 2)
		var id uuid.UUID
		var err error
		if ok {
			id, err = uuid.Parse(parts[1])
		}
		if !ok || err != nil {
			errs.Add("cursor", "Not a cursor from this list: pass next_cursor back unchanged.")
		} else {
			f.After = &clients.Cursor{SortName: parts[0], ID: id}
		}
	}
	if errs.Any() {
		return mapError(errs)
	}
	page, err := a.Clients.ListPage(c.Request().Context(), principal(c).Org.ID, f)
	if err != nil {
		return err
	}
	// The answer is Page[Client], written straight from the rows (the hot
	// path: see fastjson.go).
	out := clientPage{rows: page.Rows}
	if page.Next != nil {
		out.next = encodeCursor(page.Next.SortName, page.Next.ID.String())
	}
	return respond(c, http.StatusOK, out)
}

// ClientInput is the body of POST /clients.
type ClientInput struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	TaxID   string `json:"tax_id"`
	Address string `json:"address"`
	Notes   string `json:"notes"`
}

// ClientPatch is the body of PATCH /clients/{id}: only the fields present
// change (null is the same as absent).
type ClientPatch struct {
	Name    *string `json:"name"`
	Kind    *string `json:"kind"`
	Email   *string `json:"email"`
	Phone   *string `json:"phone"`
	TaxID   *string `json:"tax_id"`
	Address *string `json:"address"`
	Notes   *string `json:"notes"`
}

// ContactInput is the body of POST /clients/{id}/contacts.
type ContactInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	Title string `json:"title"`
}

func actor(c echo.Context) clients.Actor {
	p := principal(c)
	return clients.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

func idParam(c echo.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, echo.ErrNotFound
	}
	return id, nil
}

// ClientsCreate creates a client; kind defaults to business.
func (a *API) ClientsCreate(c echo.Context) error {
	var in ClientInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Kind) == "" {
		in.Kind = clients.KindBusiness
	}
	cl, err := a.Clients.Create(c.Request().Context(), actor(c), clients.ClientInput(in))
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusCreated, ClientDetails{Client: clientOut(cl), Contacts: []Contact{}})
}

// ClientsShow returns a client with its contacts.
func (a *API) ClientsShow(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := a.Clients.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusOK, detailsOut(d))
}

// ClientsUpdate changes some fields of an active client.
func (a *API) ClientsUpdate(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in ClientPatch
	if err := bind(c, &in); err != nil {
		return err
	}
	cl, err := a.Clients.Patch(c.Request().Context(), actor(c), id, clients.ClientPatch(in))
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusOK, clientOut(cl))
}

// ClientsArchive is DELETE /clients/{id}: clients are archived, never
// deleted (their history stays); archiving twice changes nothing. POST
// /clients/{id}/restore brings one back.
func (a *API) ClientsArchive(c echo.Context) error {
	return a.setArchived(c, true)
}

// ClientsRestore brings an archived client back.
func (a *API) ClientsRestore(c echo.Context) error {
	return a.setArchived(c, false)
}

func (a *API) setArchived(c echo.Context, archived bool) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	op := a.Clients.Restore
	if archived {
		op = a.Clients.Archive
	}
	cl, err := op(c.Request().Context(), actor(c), id)
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusOK, clientOut(cl))
}

// ContactsCreate adds a contact to an active client and answers the client
// with its contacts.
func (a *API) ContactsCreate(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in ContactInput
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := a.Clients.AddContact(c.Request().Context(), actor(c), id, clients.ContactInput(in))
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusCreated, detailsOut(d))
}

// ContactsDelete removes a contact and answers the client with the rest.
func (a *API) ContactsDelete(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	contact, err := idParam(c, "contact")
	if err != nil {
		return err
	}
	d, err := a.Clients.RemoveContact(c.Request().Context(), actor(c), id, contact)
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusOK, detailsOut(d))
}
