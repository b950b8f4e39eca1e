package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"accute/internal/agents/provider"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/requests"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Limits of the read tools' answers.
const (
	searchDefault    = 6
	searchMax        = 10
	searchClientsMax = 3
	requestsDefault  = 20
	requestsMax      = 50
	notesShown       = 5
	maxPassageText   = 1200 // characters of a client passage
)

func searchTool() *tool {
	return &tool{
		name: SearchDocuments,
		description: "Full-text search of the firm's documents (the text of PDFs, Word files, spreadsheets) and of its clients' names. " +
			"Returns passages numbered by ref, each with its document and place (page, or sheet!cell) or client; cite a passage as [ref]. " +
			"Query syntax: words, \"an exact phrase\", or, -excluded.",
		params: []param{
			{name: "query", kind: "string", required: true, description: "What to look for: key words or a quoted phrase."},
			{name: "client_id", kind: "string", format: "uuid", description: "Only documents of this client (a client id)."},
			{name: "limit", kind: "integer", description: fmt.Sprintf("Most document passages to return, 1 to %d (default %d).", searchMax, searchDefault)},
		},
		perm: tenant.DocumentsRead,
		read: searchDocuments,
	}
}

// searchDocuments: document passages (full-text search of the current
// versions' text) then client passages (clients the query names), when the
// member may read clients.
func searchDocuments(ctx context.Context, c *callCtx) (Result, error) {
	query := documents.CleanQuery(c.str("query"))
	if query == "" {
		return text("Give a query: the words to look for in the firm's documents."), nil
	}
	limit := c.integer("limit", searchDefault)
	if limit < 1 || limit > searchMax {
		return text(fmt.Sprintf("limit must be between 1 and %d.", searchMax)), nil
	}
	var clientID *uuid.UUID
	if s := c.str("client_id"); s != "" {
		id, problem := c.clientArg("client_id")
		if problem != "" {
			return text(problem), nil
		}
		if _, err := c.q.GetClient(ctx, db.GetClientParams{OrganizationID: c.inv.OrgID, ID: *id}); errors.Is(store.MapError(err), store.ErrNotFound) {
			return text(fmt.Sprintf("There is no client with id %s in this organization.", s)), nil
		} else if err != nil {
			return Result{}, err
		}
		clientID = id
	}
	found, err := documents.SearchWith(ctx, c.q, c.inv.OrgID, documents.SearchFilter{Query: query, ClientID: clientID, PerPage: limit})
	if err != nil {
		return Result{}, err
	}
	out := provider.SearchResult{Query: query, Passages: []provider.Passage{}}
	for _, h := range found.Hits {
		p := provider.Passage{
			Ref: len(out.Passages) + 1, Kind: "document", DocumentID: h.DocumentID.String(), Title: h.DocumentName,
			Locator: Locator(h), ClientName: h.ClientName, Text: documents.SnippetText(h.Snippet),
		}
		if h.ClientID != nil {
			p.ClientID = h.ClientID.String()
		}
		out.Passages = append(out.Passages, p)
	}
	if c.perms.Has(tenant.ClientsRead) && clientID == nil {
		clients, err := c.q.MatchClientsForAgent(ctx, db.MatchClientsForAgentParams{OrganizationID: c.inv.OrgID, Query: query, MaxRows: searchClientsMax})
		if err != nil {
			return Result{}, err
		}
		for _, cl := range clients {
			out.Passages = append(out.Passages, provider.Passage{
				Ref: len(out.Passages) + 1, Kind: "client", Title: cl.Name, ClientID: cl.ID.String(), ClientName: cl.Name,
				Text: clientText(db.Client{Name: cl.Name, Kind: cl.Kind, Email: cl.Email, Phone: cl.Phone, TaxID: cl.TaxID, Address: cl.Address, Notes: cl.Notes}, nil),
			})
		}
	}
	return jsonResult(out, out.Passages)
}

// Locator is where a hit is, as citations show it: "page 3",
// "Sheet1!B4", "paragraphs 4-9", "lines 10-42", or "" for a whole text.
func Locator(h documents.SearchHit) string {
	switch {
	case h.Ref != "":
		return h.Ref
	case h.Sheet != "" && h.Cell != "":
		return h.Sheet + "!" + h.Cell
	case h.Cell != "":
		return h.Cell
	case h.Page > 0:
		return fmt.Sprintf("page %d", h.Page)
	case h.LineStart > 0 && h.LineEnd > h.LineStart:
		return fmt.Sprintf("lines %d-%d", h.LineStart, h.LineEnd)
	case h.LineStart > 0:
		return fmt.Sprintf("line %d", h.LineStart)
	}
	return ""
}

// clientText is a client record as quotable sentences.
func clientText(cl db.Client, contacts []db.ClientContact) string {
	var b strings.Builder
	kind := "business"
	if cl.Kind == "individual" {
		kind = "individual"
	}
	fmt.Fprintf(&b, "%s is a client of the firm (%s).", cl.Name, kind)
	if cl.ArchivedAt != nil {
		b.WriteString(" The client is archived.")
	}
	for _, f := range []struct{ label, v string }{{"E-mail", cl.Email}, {"Phone", cl.Phone}, {"Tax id", cl.TaxID}, {"Address", cl.Address}} {
		if v := strings.Join(strings.Fields(f.v), " "); v != "" {
			fmt.Fprintf(&b, " %s: %s.", f.label, v)
		}
	}
	for _, ct := range contacts {
		fmt.Fprintf(&b, " Contact: %s", ct.Name)
		if ct.Title != "" {
			fmt.Fprintf(&b, ", %s", ct.Title)
		}
		if ct.Email != "" {
			fmt.Fprintf(&b, ", %s", ct.Email)
		}
		b.WriteString(".")
	}
	if v := strings.Join(strings.Fields(cl.Notes), " "); v != "" {
		fmt.Fprintf(&b, " Notes: %s", v)
	}
	s := b.String()
	if utf8.RuneCountInString(s) > maxPassageText {
		s = string([]rune(s)[:maxPassageText]) + "…"
	}
	return s
}

func readClientTool() *tool {
	return &tool{
		name: ReadClient,
		description: "Read a client's record: details, contacts (with their ids and e-mail addresses) and the latest notes. " +
			"Give client_id, or name to find the client; without either, the client this conversation is about.",
		params: []param{
			{name: "client_id", kind: "string", format: "uuid", description: "The client's id."},
			{name: "name", kind: "string", description: "The client's name or part of it, when the id is not known."},
		},
		perm: tenant.ClientsRead,
		read: readClient,
	}
}

// ClientRecord is read_client's answer.
type ClientRecord struct {
	ID       uuid.UUID       `json:"id"`
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Email    string          `json:"email,omitempty"`
	Phone    string          `json:"phone,omitempty"`
	TaxID    string          `json:"tax_id,omitempty"`
	Address  string          `json:"address,omitempty"`
	Notes    string          `json:"notes,omitempty"`
	Archived bool            `json:"archived"`
	Contacts []ClientContact `json:"contacts"`
	// RecentNotes are the latest notes on the client, newest first.
	RecentNotes []ClientNote `json:"recent_notes"`
	// Citation is the passage to cite the record as.
	Citation provider.Passage `json:"citation"`
}

// ClientContact is a contact in read_client's answer.
type ClientContact struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Title   string    `json:"title,omitempty"`
	Email   string    `json:"email,omitempty"`
	Phone   string    `json:"phone,omitempty"`
	Primary bool      `json:"primary"`
}

// ClientNote is a note in read_client's answer.
type ClientNote struct {
	Body   string    `json:"body"`
	Author string    `json:"author,omitempty"`
	At     time.Time `json:"at"`
}

func readClient(ctx context.Context, c *callCtx) (Result, error) {
	var cl db.Client
	switch name := c.str("name"); {
	case c.str("client_id") != "" || (name == "" && c.inv.ClientID != nil):
		id, problem := c.clientArg("client_id")
		if problem != "" {
			return text(problem), nil
		}
		var err error
		cl, err = c.q.GetClient(ctx, db.GetClientParams{OrganizationID: c.inv.OrgID, ID: *id})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return text(fmt.Sprintf("There is no client with id %s in this organization.", id)), nil
		}
		if err != nil {
			return Result{}, err
		}
	case name != "":
		found, err := c.q.FindClientsByName(ctx, db.FindClientsByNameParams{OrganizationID: c.inv.OrgID, Name: name, MaxRows: 6})
		if err != nil {
			return Result{}, err
		}
		switch {
		case len(found) == 0:
			return text(fmt.Sprintf("No client's name contains %q. Try another spelling or part of the name.", name)), nil
		case len(found) > 1 && !strings.EqualFold(found[0].Name, name):
			var b strings.Builder
			fmt.Fprintf(&b, "Several clients match %q; call read_client again with one client_id:", name)
			for _, f := range found[:min(len(found), 5)] {
				fmt.Fprintf(&b, "\n- %s (client_id %s)", f.Name, f.ID)
			}
			return text(b.String()), nil
		}
		cl = found[0]
	default:
		return text("Say which client: give client_id, or name."), nil
	}
	contacts, err := c.q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: c.inv.OrgID, ClientID: cl.ID})
	if err != nil {
		return Result{}, err
	}
	notes, err := c.q.ListClientNotes(ctx, db.ListClientNotesParams{OrganizationID: c.inv.OrgID, ClientID: cl.ID, MaxRows: notesShown})
	if err != nil {
		return Result{}, err
	}
	rec := ClientRecord{ID: cl.ID, Name: cl.Name, Kind: cl.Kind, Email: cl.Email, Phone: cl.Phone, TaxID: cl.TaxID, Address: cl.Address,
		Notes: cl.Notes, Archived: cl.ArchivedAt != nil, Contacts: []ClientContact{}, RecentNotes: []ClientNote{}}
	for _, ct := range contacts {
		rec.Contacts = append(rec.Contacts, ClientContact{ID: ct.ID, Name: ct.Name, Title: ct.Title, Email: ct.Email, Phone: ct.Phone, Primary: ct.IsPrimary})
	}
	for _, n := range notes {
		rec.RecentNotes = append(rec.RecentNotes, ClientNote{Body: n.Body, Author: n.AuthorName, At: n.CreatedAt})
	}
	rec.Citation = provider.Passage{Ref: 1, Kind: "client", Title: cl.Name, ClientID: cl.ID.String(), ClientName: cl.Name, Text: clientText(cl, contacts)}
	return jsonResult(rec, []provider.Passage{rec.Citation})
}

func listRequestsTool(r *Registry) *tool {
	return &tool{
		name:        ListDocumentRequests,
		description: "List the document requests sent to clients (what was asked for, due date, status), due date first.",
		params: []param{
			{name: "client_id", kind: "string", format: "uuid", description: "Only this client's requests; by default the conversation's client, if any."},
			{name: "status", kind: "string", enum: append([]string{requests.StatusActive}, requests.Statuses...),
				description: "active (open, submitted or rejected: still in progress), or one status. Default: every status."},
			{name: "overdue", kind: "boolean", description: "true: only requests waiting for the client past their due date."},
			{name: "limit", kind: "integer", description: fmt.Sprintf("Most requests to return, 1 to %d (default %d).", requestsMax, requestsDefault)},
		},
		// As the requests pages: documents.read lists, documents.write asks.
		perm: tenant.DocumentsRead,
		read: func(ctx context.Context, c *callCtx) (Result, error) { return listRequests(ctx, c, r) },
	}
}

// RequestInfo is one request in list_document_requests' answer.
type RequestInfo struct {
	ID       uuid.UUID `json:"id"`
	ClientID uuid.UUID `json:"client_id"`
	Client   string    `json:"client"`
	Title    string    `json:"title"`
	DueOn    string    `json:"due_on"`
	Status   string    `json:"status"`
	Overdue  bool      `json:"overdue"`
	Items    int       `json:"items"`
	Uploads  int       `json:"uploads"`
}

// RequestList is list_document_requests' answer.
type RequestList struct {
	Total    int           `json:"total"`
	Requests []RequestInfo `json:"requests"`
}

func listRequests(ctx context.Context, c *callCtx, r *Registry) (Result, error) {
	limit := c.integer("limit", requestsDefault)
	if limit < 1 || limit > requestsMax {
		return text(fmt.Sprintf("limit must be between 1 and %d.", requestsMax)), nil
	}
	clientID, problem := c.clientArg("client_id")
	if problem != "" {
		return text(problem), nil
	}
	if clientID != nil {
		if _, err := c.q.GetClient(ctx, db.GetClientParams{OrganizationID: c.inv.OrgID, ID: *clientID}); errors.Is(store.MapError(err), store.ErrNotFound) {
			return text(fmt.Sprintf("There is no client with id %s in this organization.", clientID)), nil
		} else if err != nil {
			return Result{}, err
		}
	}
	statuses := []string{}
	switch s := c.str("status"); {
	case s == "":
	case s == requests.StatusActive:
		statuses = []string{requests.StatusOpen, requests.StatusSubmitted, requests.StatusRejected}
	case requests.ValidStatus(s):
		statuses = []string{s}
	default:
		return text(fmt.Sprintf("status %q is not one of: active, %s.", s, strings.Join(requests.Statuses, ", "))), nil
	}
	today := requests.DateOf(r.now())
	rows, err := c.q.ListDocumentRequests(ctx, db.ListDocumentRequestsParams{
		OrganizationID: c.inv.OrgID, Statuses: statuses, ClientID: clientID, Overdue: c.boolean("overdue"),
		Today: pgtype.Date{Time: today, Valid: true}, ClientIds: []uuid.UUID{}, MaxRows: int32(limit),
	})
	if err != nil {
		return Result{}, err
	}
	out := RequestList{Requests: []RequestInfo{}}
	for _, row := range rows {
		out.Total = int(row.Total)
		waiting := row.Status == requests.StatusOpen || row.Status == requests.StatusRejected
		out.Requests = append(out.Requests, RequestInfo{ID: row.ID, ClientID: row.ClientID, Client: row.ClientName, Title: row.Title,
			DueOn: row.DueOn.Time.Format(time.DateOnly), Status: row.Status, Overdue: waiting && row.DueOn.Time.Before(today),
			Items: int(row.Items), Uploads: int(row.Uploads)})
	}
	return jsonResult(out, nil)
}
