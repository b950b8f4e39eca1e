// Package clients holds the pages of the client list, client details and
// the client form. Handlers fill the view models below; the templates never
// see database rows.
package clients

import (
	"net/url"
	"strconv"

	"accute/views/components"
	approvalsview "accute/views/pages/approvals"
	documentsview "accute/views/pages/documents"
	portalview "accute/views/pages/portal"
	requestsview "accute/views/pages/requests"
)

// ResultsID is the id of the list's results region: the search form targets
// it, and a request whose HX-Target names it gets only that fragment.
const ResultsID = "clients-results"

// ListView is the client list page.
type ListView struct {
	BasePath string // /o/{org}/clients
	Query    string
	Archived bool // the Archived tab is showing
	CanWrite bool
	Rows     []Row
	Pager    components.Pager
}

// ActiveURL is the Active tab's address, keeping the search.
func (v ListView) ActiveURL() string { return v.BasePath + querySuffix(v.Query, false) }

// ArchivedURL is the Archived tab's address, keeping the search.
func (v ListView) ArchivedURL() string { return v.BasePath + querySuffix(v.Query, true) }

// PageURL is the address of page n of the current tab and search.
func (v ListView) PageURL(n int) string {
	vals := url.Values{}
	if v.Query != "" {
		vals.Set("q", v.Query)
	}
	if v.Archived {
		vals.Set("status", "archived")
	}
	if n > 1 {
		vals.Set("page", strconv.Itoa(n))
	}
	if len(vals) == 0 {
		return v.BasePath
	}
	return v.BasePath + "?" + vals.Encode()
}

// Row is one client of the list.
type Row struct {
	URL       string
	Name      string
	Email     string
	Kind      string // business, individual
	KindLabel string
	Phone     string
	Contacts  int
	Updated   string
	Archived  bool
}

// FormView is the new-client and edit-client form.
type FormView struct {
	Title       string
	Subtitle    string
	Action      string // where the form posts
	CancelURL   string
	SubmitLabel string
	Values      ClientValues
	Errors      map[string]string
}

// ClientValues are the form's fields as typed.
type ClientValues struct {
	Name    string
	Kind    string
	Email   string
	Phone   string
	TaxID   string
	Address string
	Notes   string
}

// ShowView is a client's page.
type ShowView struct {
	BasePath  string // the list's address
	URL       string // this client's address
	Name      string
	Kind      string
	KindLabel string
	Email     string
	Phone     string
	TaxID     string
	Address   string
	Notes     string
	Created   string
	Updated   string
	Archived  bool
	// ArchivedOn is the date it was archived, when Archived.
	ArchivedOn string
	CanWrite   bool
	Contacts   ContactsView
	// Documents is the client's documents card (nil without documents.read).
	Documents *documentsview.ClientCard
	// Portal is the client's Portal access card (client users, their
	// identity checks, invitations).
	Portal *portalview.AccessCard
	// Requests is the client's document requests card (nil without
	// documents.read).
	Requests *requestsview.ClientCard
	// NotesCard lists the client's notes (nil when there are none), which
	// agents' approved actions add.
	NotesCard *approvalsview.NotesCard
}

// ContactsView is the contacts card: the list and the add form. It is also
// the fragment the contact forms swap in.
type ContactsView struct {
	ClientURL string
	Contacts  []ContactRow
	// Editable is true when the member may write and the client is active.
	Editable bool
	Form     ContactValues
	Errors   map[string]string
	// Notice confirms the last change made from the card.
	Notice string
}

// ContactRow is one contact.
type ContactRow struct {
	ID        string
	Name      string
	Title     string
	Email     string
	Phone     string
	DeleteURL string
}

// ContactValues are the add-contact form's fields as typed.
type ContactValues struct {
	Name  string
	Email string
	Phone string
	Title string
}

func kindOptions(selected string) []components.Option {
	return []components.Option{
		{Value: "business", Label: "Business", Selected: selected != "individual"},
		{Value: "individual", Label: "Individual", Selected: selected == "individual"},
	}
}

func kindBadge(kind string) string {
	if kind == "individual" {
		return "neutral"
	}
	return "info"
}

func querySuffix(q string, archived bool) string {
	vals := url.Values{}
	if q != "" {
		vals.Set("q", q)
	}
	if archived {
		vals.Set("status", "archived")
	}
	if len(vals) == 0 {
		return ""
	}
	return "?" + vals.Encode()
}
