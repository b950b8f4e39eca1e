package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"accute/internal/clients"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/tenant"
	"accute/views/components"
	clientsview "accute/views/pages/clients"
)

// clientArchivedMessage answers a change to an archived client. Archived clients
// are read-only: the edit page redirects to the client with this message as
// a flash, and a write answers 400 with it.
const clientArchivedMessage = "This client is archived. Restore it before changing its details or contacts."

const clientDateLayout = "2 Jan 2006"

// ClientsList shows a page of clients: search (q), tab (status=archived)
// and page. It costs one query (rows and total together); a search from the
// toolbar (HX-Target is the results region) gets only that region.
func (h *Handlers) ClientsList(c echo.Context) error {
	p := principal(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	f := clients.Filter{Query: form.Clean(c.QueryParam("q")), Archived: c.QueryParam("status") == "archived", Page: page}
	res, err := h.Clients.List(c.Request().Context(), p.Org.ID, f)
	if err != nil {
		return err
	}
	base := clientsBase(c)
	v := clientsview.ListView{BasePath: base, Query: f.Query, Archived: f.Archived, CanWrite: canWriteClients(c)}
	v.Rows = clientRows(base, res.Rows)
	v.Pager = components.Pager{Page: res.Page, PerPage: clients.PerPage, Total: res.Total, URL: v.PageURL}
	// The same address answers a page or a fragment: caches must keep them apart.
	c.Response().Header().Add("Vary", "HX-Request, HX-Target")
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == clientsview.ResultsID {
		return h.render(c, http.StatusOK, clientsview.ClientsResults(v))
	}
	return h.render(c, http.StatusOK, clientsview.ClientsPage(h.shell(c, "Clients", "clients"), v))
}

// clientRows maps the list's rows to the view's. The rows' addresses and
// dates are cut from one string built for the whole page, two allocations
// instead of three per row (this is the clients page's hot loop).
func clientRows(base string, rows []db.ListClientsRow) []clientsview.Row {
	out := make([]clientsview.Row, len(rows))
	text := make([]byte, 0, len(rows)*(len(base)+1+36+len(clientDateLayout)+2))
	ends := make([]int, 0, 2*len(rows))
	for _, r := range rows {
		text = append(text, base...)
		text = append(text, '/')
		text = appendUUID(text, r.ID)
		ends = append(ends, len(text))
		text = r.UpdatedAt.AppendFormat(text, clientDateLayout)
		ends = append(ends, len(text))
	}
	all, start := string(text), 0
	for i, r := range rows {
		url, updated := ends[2*i], ends[2*i+1]
		out[i] = clientsview.Row{
			URL: all[start:url], Name: r.Name, Email: r.Email, Kind: r.Kind, KindLabel: kindLabel(r.Kind),
			Phone: r.Phone, Contacts: int(r.Contacts), Updated: all[url:updated], Archived: r.ArchivedAt != nil,
		}
		start = updated
	}
	return out
}

// ClientsNew shows the empty client form.
func (h *Handlers) ClientsNew(c echo.Context) error {
	return h.render(c, http.StatusOK, clientsview.ClientFormPage(h.shell(c, "New client", "clients"), newClientForm(c, clients.ClientInput{Kind: clients.KindBusiness}, nil)))
}

// ClientsCreate creates a client and goes to its page.
func (h *Handlers) ClientsCreate(c echo.Context) error {
	in := clientInput(c)
	cl, err := h.Clients.Create(c.Request().Context(), clientActor(c), in)
	var fe form.Errors
	if errors.As(err, &fe) {
		return h.renderClientForm(c, "New client", newClientForm(c, in, fe))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", cl.Name+" was added.")
	return h.redirect(c, clientsBase(c)+"/"+cl.ID.String())
}

// ClientsShow shows a client's details and contacts.
func (h *Handlers) ClientsShow(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.Clients.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return h.renderClientPage(c, http.StatusOK, d, h.clientShowView(c, d))
}

// renderClientPage draws the whole client page, documents card included.
func (h *Handlers) renderClientPage(c echo.Context, status int, d clients.Details, v clientsview.ShowView) error {
	var err error
	if v.Documents, err = h.clientDocumentsCard(c, d.Client.ID); err != nil {
		return err
	}
	if v.Portal == nil { // a form of the card may have filled it (handlers/portal_access.go)
		if v.Portal, err = h.clientPortalCard(c, d.Client); err != nil {
			return err
		}
	}
	if v.Requests, err = h.clientRequestsCard(c, d.Client.ID, d.Client.ArchivedAt != nil); err != nil {
		return err
	}
	if v.NotesCard, err = h.clientNotesCard(c, d.Client.ID); err != nil { // handlers/approvals.go
		return err
	}
	return h.render(c, status, clientsview.ClientShowPage(h.shell(c, d.Client.Name, "clients"), v))
}

// ClientsEdit shows the form for an active client; an archived one sends
// the member back to its page with a message.
func (h *Handlers) ClientsEdit(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.Clients.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	url := clientsBase(c) + "/" + id.String()
	if d.Client.ArchivedAt != nil {
		h.flash(c, "error", clientArchivedMessage)
		return h.redirect(c, url)
	}
	cl := d.Client
	in := clients.ClientInput{Name: cl.Name, Kind: cl.Kind, Email: cl.Email, Phone: cl.Phone, TaxID: cl.TaxID, Address: cl.Address, Notes: cl.Notes}
	return h.render(c, http.StatusOK, clientsview.ClientFormPage(h.shell(c, "Edit "+cl.Name, "clients"), editClientForm(url, cl.Name, in, nil)))
}

// ClientsUpdate saves the edit form.
func (h *Handlers) ClientsUpdate(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	in := clientInput(c)
	cl, err := h.Clients.Update(c.Request().Context(), clientActor(c), id, in)
	url := clientsBase(c) + "/" + id.String()
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		return h.renderClientForm(c, "Edit "+cl.Name, editClientForm(url, cl.Name, in, fe))
	case errors.Is(err, clients.ErrArchived):
		return echo.NewHTTPError(http.StatusBadRequest, clientArchivedMessage)
	case err != nil:
		return err
	}
	h.flash(c, "success", "Changes to "+cl.Name+" were saved.")
	return h.redirect(c, url)
}

// ClientsArchive archives a client and shows it with its Restore button.
func (h *Handlers) ClientsArchive(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	cl, err := h.Clients.Archive(c.Request().Context(), clientActor(c), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", cl.Name+" was archived. It no longer appears among active clients.")
	return h.redirect(c, clientsBase(c)+"/"+id.String())
}

// ClientsRestore brings an archived client back.
func (h *Handlers) ClientsRestore(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	cl, err := h.Clients.Restore(c.Request().Context(), clientActor(c), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", cl.Name+" was restored.")
	return h.redirect(c, clientsBase(c)+"/"+id.String())
}

// ContactsCreate adds a contact. From htmx it answers the contacts card:
// 422 with inline errors, or the updated list; without JavaScript, the
// whole client page (422) or a redirect back to it.
func (h *Handlers) ContactsCreate(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	in := clients.ContactInput{Name: c.FormValue("name"), Email: c.FormValue("email"), Phone: c.FormValue("phone"), Title: c.FormValue("title")}
	d, err := h.Clients.AddContact(c.Request().Context(), clientActor(c), id, in)
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		v := h.clientShowView(c, d)
		v.Contacts.Form = clientsview.ContactValues{Name: in.Name, Email: in.Email, Phone: in.Phone, Title: in.Title}
		v.Contacts.Errors = fe
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, clientsview.ContactsSection(v.Contacts))
		}
		return h.renderClientPage(c, http.StatusUnprocessableEntity, d, v)
	case errors.Is(err, clients.ErrArchived):
		return echo.NewHTTPError(http.StatusBadRequest, clientArchivedMessage)
	case err != nil:
		return err
	}
	notice := form.Clean(in.Name) + " was added."
	if isHTMX(c) {
		v := h.clientShowView(c, d)
		v.Contacts.Notice = notice
		return h.render(c, http.StatusOK, clientsview.ContactsSection(v.Contacts))
	}
	h.flash(c, "success", notice)
	return h.redirect(c, clientsBase(c)+"/"+id.String()+"#contacts")
}

// ContactsDelete removes a contact; htmx gets the updated contacts card.
func (h *Handlers) ContactsDelete(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	contactID, err := pathUUID(c, "contact")
	if err != nil {
		return err
	}
	d, err := h.Clients.RemoveContact(c.Request().Context(), clientActor(c), id, contactID)
	switch {
	case errors.Is(err, clients.ErrArchived):
		return echo.NewHTTPError(http.StatusBadRequest, clientArchivedMessage)
	case err != nil:
		return err
	}
	notice := "The contact was removed."
	if isHTMX(c) {
		v := h.clientShowView(c, d)
		v.Contacts.Notice = notice
		return h.render(c, http.StatusOK, clientsview.ContactsSection(v.Contacts))
	}
	h.flash(c, "success", notice)
	return h.redirect(c, clientsBase(c)+"/"+id.String()+"#contacts")
}

// renderClientForm answers invalid client input: 422 with the form for
// htmx, the whole page otherwise.
func (h *Handlers) renderClientForm(c echo.Context, title string, v clientsview.FormView) error {
	if isHTMX(c) {
		return h.render(c, http.StatusUnprocessableEntity, clientsview.ClientForm(v))
	}
	return h.render(c, http.StatusUnprocessableEntity, clientsview.ClientFormPage(h.shell(c, title, "clients"), v))
}

func (h *Handlers) clientShowView(c echo.Context, d clients.Details) clientsview.ShowView {
	cl := d.Client
	url := clientsBase(c) + "/" + cl.ID.String()
	v := clientsview.ShowView{
		BasePath: clientsBase(c), URL: url, Name: cl.Name, Kind: cl.Kind, KindLabel: kindLabel(cl.Kind),
		Email: cl.Email, Phone: cl.Phone, TaxID: cl.TaxID, Address: cl.Address, Notes: cl.Notes,
		Created: cl.CreatedAt.Format(clientDateLayout), Updated: cl.UpdatedAt.Format(clientDateLayout),
		Archived: cl.ArchivedAt != nil, CanWrite: canWriteClients(c),
	}
	if cl.ArchivedAt != nil {
		v.ArchivedOn = cl.ArchivedAt.Format(clientDateLayout)
	}
	v.Contacts = clientsview.ContactsView{ClientURL: url, Editable: v.CanWrite && !v.Archived}
	for _, ct := range d.Contacts {
		v.Contacts.Contacts = append(v.Contacts.Contacts, contactRow(url, ct))
	}
	return v
}

func contactRow(clientURL string, ct db.ClientContact) clientsview.ContactRow {
	return clientsview.ContactRow{
		ID: ct.ID.String(), Name: ct.Name, Title: ct.Title, Email: ct.Email, Phone: ct.Phone,
		DeleteURL: clientURL + "/contacts/" + ct.ID.String() + "/delete",
	}
}

func newClientForm(c echo.Context, in clients.ClientInput, errs form.Errors) clientsview.FormView {
	base := clientsBase(c)
	return clientsview.FormView{
		Title: "New client", Subtitle: "Add a person or business your firm works for.",
		Action: base, CancelURL: base, SubmitLabel: "Create client", Values: clientFormValues(in), Errors: errs,
	}
}

func editClientForm(url, name string, in clients.ClientInput, errs form.Errors) clientsview.FormView {
	return clientsview.FormView{
		Title: "Edit client", Subtitle: name,
		Action: url, CancelURL: url, SubmitLabel: "Save changes", Values: clientFormValues(in), Errors: errs,
	}
}

func clientFormValues(in clients.ClientInput) clientsview.ClientValues {
	return clientsview.ClientValues{Name: in.Name, Kind: in.Kind, Email: in.Email, Phone: in.Phone, TaxID: in.TaxID, Address: in.Address, Notes: in.Notes}
}

func clientInput(c echo.Context) clients.ClientInput {
	return clients.ClientInput{
		Name: c.FormValue("name"), Kind: c.FormValue("kind"), Email: c.FormValue("email"), Phone: c.FormValue("phone"),
		TaxID: c.FormValue("tax_id"), Address: c.FormValue("address"), Notes: c.FormValue("notes"),
	}
}

// clientActor is the signed-in member acting in the request's organization.
func clientActor(c echo.Context) clients.Actor {
	p := principal(c)
	return clients.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

func canWriteClients(c echo.Context) bool {
	p := principal(c)
	return p.Membership != nil && p.Membership.Permissions.Has(tenant.ClientsWrite)
}

func clientsBase(c echo.Context) string { return orgURL(c, "/clients") }
