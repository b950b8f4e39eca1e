package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/requests"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Values are an action's arguments by field name, all text (a list is one
// item per line). Proposals store them as a JSON object; the approval form
// edits them.
type Values map[string]string

// Field is one argument of an action as people read and edit it.
type Field struct {
	Name  string
	Label string
	// Kind: "client" (shown, not editable), "text", "textarea", "date"
	// (YYYY-MM-DD), "lines" (one item per line), "choice" (Options).
	Kind     string
	Required bool
	MaxLen   int
	Hint     string
}

// Editable reports whether the approval form may change the field (the
// client may not: that would be another action).
func (f Field) Editable() bool { return f.Kind != "client" }

// Option is a choice of a "choice" field.
type Option struct {
	Value string
	Label string
}

// Prepared is an action validated against the database: normalized values,
// its client, and a one-line summary for the queue.
type Prepared struct {
	Values     Values
	ClientID   uuid.UUID
	ClientName string
	Summary    string
}

// Person is who an action is executed as: the approver, or for an action
// the policy runs without approval, the member whose run proposed it.
type Person struct {
	ID    uuid.UUID
	Email string
	Name  string
}

// Outcome is what executing an action did.
type Outcome struct {
	Text string // in words, for the queue and the model
	Type string // "client_note", "email", "document_request"
	ID   *uuid.UUID
}

// Action is a tool that changes data, through a proposal.
type Action struct {
	Name        string
	Label       string // "Add a note to a client"
	Description string // for the policy page
	// Perm is what the member whose run proposes it, and the approver, need.
	Perm   tenant.Permission
	Fields []Field

	toolDescription string
	params          []param
	// fromCall reads the model's arguments into Values (problem: words
	// for the model).
	fromCall func(c *callCtx) (Values, string)
	// prepare validates v in q (form.Errors by field name).
	prepare func(ctx context.Context, q *db.Queries, orgID uuid.UUID, v Values) (Prepared, form.Errors, error)
	// options lists the choices of "choice" fields for the client.
	options func(ctx context.Context, q *db.Queries, orgID, clientID uuid.UUID) (map[string][]Option, error)
	// execute performs the prepared action as actor.
	execute func(ctx context.Context, q *db.Queries, x execution) (Outcome, error)
	// unavailable, when not "", is why the action cannot be proposed.
	unavailable func() string
}

type execution struct {
	orgID      uuid.UUID
	proposalID uuid.UUID
	p          Prepared
	actor      Person
}

func actionTool(a *Action) *tool {
	return &tool{name: a.Name, description: a.toolDescription, params: a.params, perm: a.Perm, action: a}
}

// Actions lists the action tools, for the policy page and the queue's
// filter.
func (r *Registry) Actions() []*Action {
	return []*Action{requestAction(r), emailAction(), noteAction()}
}

// ActionByName returns the action named name.
func (r *Registry) ActionByName(name string) (*Action, bool) {
	for _, a := range r.Actions() {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// clientField is every action's first field.
var clientField = Field{Name: "client_id", Label: "Client", Kind: "client", Required: true}

// loadClient validates the client_id value: a client of the organization,
// not archived.
func loadClient(ctx context.Context, q *db.Queries, orgID uuid.UUID, v Values, errs form.Errors) (db.Client, error) {
	id, err := uuid.Parse(strings.TrimSpace(v["client_id"]))
	if err != nil {
		errs.Add("client_id", "Give the client's id (a UUID); read_client or search_documents find it by name.")
		return db.Client{}, nil
	}
	cl, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: orgID, ID: id})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		errs.Add("client_id", fmt.Sprintf("There is no client with id %s in this organization.", id))
		return db.Client{}, nil
	}
	if err != nil {
		return db.Client{}, err
	}
	if cl.ArchivedAt != nil {
		errs.Add("client_id", cl.Name+" is archived; restore the client first.")
	}
	return cl, nil
}

// clientFromCall sets v's client_id from the call, or the conversation's
// client.
func clientFromCall(c *callCtx, v Values) string {
	id, problem := c.clientArg("client_id")
	if problem != "" {
		return problem
	}
	if id == nil {
		return "Say which client this is for: give client_id (read_client or search_documents find it by name)."
	}
	v["client_id"] = id.String()
	return ""
}

// oneLine is s without control characters, on one line, spaces collapsed.
func oneLine(s string) string { return strings.Join(strings.Fields(form.Clean(s)), " ") }

// multiLine is s without control characters (newlines kept), trimmed.
func multiLine(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(form.Clean(strings.ReplaceAll(s, "\r\n", "\n")), "\r", "\n"))
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// Notes --------------------------------------------------------------------

// MaxNote bounds a client note.
const MaxNote = 4000

func noteAction() *Action {
	return &Action{
		Name: CreateTaskNote, Label: "Add a note to a client",
		Description: "Adds a note to the client's record, for example what to follow up.",
		Perm:        tenant.ClientsWrite,
		Fields: []Field{clientField,
			{Name: "note", Label: "Note", Kind: "textarea", Required: true, MaxLen: MaxNote}},
		toolDescription: "Propose a note on a client's record (a task or follow-up to remember). A person approves it before it is added, " +
			"unless the organization lets notes be added without approval.",
		params: []param{
			{name: "client_id", kind: "string", format: "uuid", description: "The client; by default the conversation's client."},
			{name: "note", kind: "string", required: true, description: fmt.Sprintf("The note, at most %d characters.", MaxNote)},
		},
		fromCall: func(c *callCtx) (Values, string) {
			v := Values{"note": c.str("note")}
			return v, clientFromCall(c, v)
		},
		prepare: func(ctx context.Context, q *db.Queries, orgID uuid.UUID, v Values) (Prepared, form.Errors, error) {
			errs := form.Errors{}
			cl, err := loadClient(ctx, q, orgID, v, errs)
			if err != nil {
				return Prepared{}, nil, err
			}
			note := multiLine(v["note"])
			errs.Required("note", note, MaxNote)
			out := Values{"client_id": cl.ID.String(), "note": note}
			return Prepared{Values: out, ClientID: cl.ID, ClientName: cl.Name,
				Summary: clip("Note on "+cl.Name+": "+oneLine(note), 300)}, errs, nil
		},
		execute: func(ctx context.Context, q *db.Queries, x execution) (Outcome, error) {
			n, err := q.CreateClientNote(ctx, db.CreateClientNoteParams{OrganizationID: x.orgID, ClientID: x.p.ClientID,
				Body: x.p.Values["note"], CreatedBy: &x.actor.ID, ProposalID: &x.proposalID})
			if err != nil {
				return Outcome{}, err
			}
			if err := audit.Record(ctx, q, audit.Event{OrgID: &x.orgID, ActorID: &x.actor.ID, ActorEmail: x.actor.Email,
				Action: audit.ClientNoteAdded, TargetType: "client", TargetID: x.p.ClientID.String(),
				Summary: clip("Note added to "+x.p.ClientName+" from an agent's proposal: "+oneLine(n.Body), 300)}); err != nil {
				return Outcome{}, err
			}
			return Outcome{Text: "Note added to " + x.p.ClientName + ".", Type: "client_note", ID: &n.ID}, nil
		},
	}
}

// E-mail --------------------------------------------------------------------

// Limits of an e-mail to a client.
const (
	MaxEmailSubject = 200
	MaxEmailBody    = 10000
)

// recipients are the client's addresses: contacts with an e-mail address,
// primary first, then the client's own address.
func recipients(ctx context.Context, q *db.Queries, orgID uuid.UUID, cl db.Client) ([]Option, error) {
	contacts, err := q.ListClientContacts(ctx, db.ListClientContactsParams{OrganizationID: orgID, ClientID: cl.ID})
	if err != nil {
		return nil, err
	}
	var out []Option
	seen := map[string]bool{}
	add := func(email, label string) {
		e := strings.ToLower(strings.TrimSpace(email))
		if e == "" || seen[e] {
			return
		}
		seen[e] = true
		out = append(out, Option{Value: e, Label: label})
	}
	for _, ct := range contacts {
		label := ct.Name
		if ct.Title != "" {
			label += ", " + ct.Title
		}
		add(ct.Email, label)
	}
	add(cl.Email, cl.Name)
	return out, nil
}

func emailAction() *Action {
	return &Action{
		Name: DraftClientEmail, Label: "E-mail a client contact",
		Description: "Sends an e-mail the agent drafted to one of the client's contacts.",
		Perm:        tenant.ClientsWrite,
		Fields: []Field{clientField,
			{Name: "to", Label: "To", Kind: "choice", Required: true, Hint: "One of the client's contacts with an e-mail address."},
			{Name: "subject", Label: "Subject", Kind: "text", Required: true, MaxLen: MaxEmailSubject},
			{Name: "body", Label: "Message", Kind: "textarea", Required: true, MaxLen: MaxEmailBody, Hint: "Plain text, sent as written."}},
		toolDescription: "Draft an e-mail to one of a client's contacts. It is a draft: a person approves (and may edit) it before it is sent, " +
			"unless the organization lets e-mails go without approval. Address it by contact_id or by the contact's e-mail address " +
			"(read_client lists them); without either it goes to the primary contact.",
		params: []param{
			{name: "client_id", kind: "string", format: "uuid", description: "The client; by default the conversation's client."},
			{name: "contact_id", kind: "string", format: "uuid", description: "The contact to write to (from read_client)."},
			{name: "to", kind: "string", format: "email", description: "The contact's e-mail address, instead of contact_id."},
			{name: "subject", kind: "string", required: true, description: fmt.Sprintf("The subject, at most %d characters.", MaxEmailSubject)},
			{name: "body", kind: "string", required: true, description: "The message in plain text, signed as the firm."},
		},
		fromCall: func(c *callCtx) (Values, string) {
			v := Values{"to": strings.ToLower(c.str("to")), "subject": c.str("subject"), "body": c.str("body"), "contact_id": c.str("contact_id")}
			return v, clientFromCall(c, v)
		},
		prepare: func(ctx context.Context, q *db.Queries, orgID uuid.UUID, v Values) (Prepared, form.Errors, error) {
			errs := form.Errors{}
			cl, err := loadClient(ctx, q, orgID, v, errs)
			if err != nil || errs.Any() {
				return Prepared{}, errs, err
			}
			to := strings.ToLower(strings.TrimSpace(v["to"]))
			if cid := strings.TrimSpace(v["contact_id"]); cid != "" && to == "" {
				id, err := uuid.Parse(cid)
				if err != nil {
					errs.Add("to", fmt.Sprintf("contact_id %q is not a contact id (a UUID).", cid))
				} else {
					ct, err := q.GetClientContact(ctx, db.GetClientContactParams{OrganizationID: orgID, ClientID: cl.ID, ID: id})
					switch {
					case errors.Is(store.MapError(err), store.ErrNotFound):
						errs.Add("to", fmt.Sprintf("%s has no contact with id %s.", cl.Name, id))
					case err != nil:
						return Prepared{}, nil, err
					case ct.Email == "":
						errs.Add("to", ct.Name+" has no e-mail address.")
					default:
						to = strings.ToLower(ct.Email)
					}
				}
			}
			opts, err := recipients(ctx, q, orgID, cl)
			if err != nil {
				return Prepared{}, nil, err
			}
			var toName string
			switch {
			case errs["to"] != "":
			case len(opts) == 0:
				errs.Add("to", cl.Name+" has no contact with an e-mail address; add one to the client first.")
			case to == "":
				to, toName = opts[0].Value, opts[0].Label
			default:
				for _, o := range opts {
					if o.Value == to {
						toName = o.Label
					}
				}
				if toName == "" {
					errs.Add("to", fmt.Sprintf("%s is not an address of %s's contacts; e-mails go only to the client's own contacts.", to, cl.Name))
				}
			}
			subject := oneLine(v["subject"])
			body := multiLine(v["body"])
			errs.Required("subject", subject, MaxEmailSubject)
			errs.Required("body", body, MaxEmailBody)
			out := Values{"client_id": cl.ID.String(), "to": to, "to_name": toName, "subject": subject, "body": body}
			return Prepared{Values: out, ClientID: cl.ID, ClientName: cl.Name,
				Summary: clip(fmt.Sprintf("E-mail to %s (%s): %s", toName, cl.Name, subject), 300)}, errs, nil
		},
		options: func(ctx context.Context, q *db.Queries, orgID, clientID uuid.UUID) (map[string][]Option, error) {
			cl, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: orgID, ID: clientID})
			if err != nil {
				return nil, err
			}
			opts, err := recipients(ctx, q, orgID, cl)
			if err != nil {
				return nil, err
			}
			for i := range opts {
				opts[i].Label = opts[i].Label + " <" + opts[i].Value + ">"
			}
			return map[string][]Option{"to": opts}, nil
		},
		execute: func(ctx context.Context, q *db.Queries, x execution) (Outcome, error) {
			v := x.p.Values
			id, err := q.EnqueueEmail(ctx, db.EnqueueEmailParams{ToEmail: v["to"], Subject: v["subject"], TextBody: v["body"]})
			if err != nil {
				return Outcome{}, fmt.Errorf("enqueue e-mail: %w", err)
			}
			return Outcome{Text: fmt.Sprintf("E-mail to %s <%s> queued for delivery.", v["to_name"], v["to"]), Type: "email", ID: &id}, nil
		},
	}
}

// Document requests ----------------------------------------------------------

// defaultDueDays is a request's due date when the agent gives none.
const defaultDueDays = 14

func requestAction(r *Registry) *Action {
	return &Action{
		Name: CreateDocumentRequest, Label: "Ask a client for documents",
		Description: "Sends the client a document request (with its e-mail) to upload documents in the portal.",
		Perm:        tenant.DocumentsWrite,
		Fields: []Field{clientField,
			{Name: "title", Label: "Title", Kind: "text", Required: true, MaxLen: requests.MaxTitle},
			{Name: "instructions", Label: "Instructions", Kind: "textarea", MaxLen: requests.MaxInstructions},
			{Name: "due_on", Label: "Due date", Kind: "date", Required: true},
			{Name: "items", Label: "Documents expected", Kind: "lines", Hint: fmt.Sprintf("One per line, at most %d.", requests.MaxItems)}},
		toolDescription: "Propose a document request to a client: what to upload, by when. A person approves (and may edit) it before the " +
			"client is asked, unless the organization lets requests go without approval.",
		params: []param{
			{name: "client_id", kind: "string", format: "uuid", description: "The client; by default the conversation's client."},
			{name: "title", kind: "string", required: true, description: "What is requested, for example \"2025 year-end bank statements\"."},
			{name: "instructions", kind: "string", description: "Instructions for the client."},
			{name: "due_on", kind: "string", format: "date", description: fmt.Sprintf("Due date, YYYY-MM-DD (default: in %d days).", defaultDueDays)},
			{name: "items", kind: "array", description: fmt.Sprintf("The documents expected, one per item, at most %d.", requests.MaxItems)},
		},
		fromCall: func(c *callCtx) (Values, string) {
			due := c.str("due_on")
			if due == "" {
				due = requests.DateOf(r.now()).AddDate(0, 0, defaultDueDays).Format(time.DateOnly)
			}
			v := Values{"title": c.str("title"), "instructions": c.str("instructions"), "due_on": due, "items": c.lines("items")}
			return v, clientFromCall(c, v)
		},
		prepare: func(ctx context.Context, q *db.Queries, orgID uuid.UUID, v Values) (Prepared, form.Errors, error) {
			errs := form.Errors{}
			cl, err := loadClient(ctx, q, orgID, v, errs)
			if err != nil {
				return Prepared{}, nil, err
			}
			in := requestInput(cl.ID, v)
			due := strings.TrimSpace(v["due_on"])
			if _, ok := requests.ParseDate(due); due != "" && !ok {
				errs.Add("due_on", "Give the due date as YYYY-MM-DD.")
			}
			for k, msg := range in.Validate(r.now()) {
				if k != "client_id" {
					errs.Add(k, msg)
				}
			}
			out := Values{"client_id": cl.ID.String(), "title": oneLine(in.Title), "instructions": multiLine(in.Instructions),
				"due_on": due, "items": strings.Join(in.Items, "\n")}
			if !in.DueOn.IsZero() {
				out["due_on"] = in.DueOn.Format(time.DateOnly)
			}
			return Prepared{Values: out, ClientID: cl.ID, ClientName: cl.Name,
				Summary: clip(fmt.Sprintf("Ask %s for %s, due %s", cl.Name, oneLine(in.Title), out["due_on"]), 300)}, errs, nil
		},
		execute: func(ctx context.Context, q *db.Queries, x execution) (Outcome, error) {
			if r.Requests == nil {
				return Outcome{}, errors.New("document requests are not configured")
			}
			req, err := r.Requests.Create(ctx, requests.Staff(x.orgID, x.actor.ID, x.actor.Email, x.actor.Name), requestInput(x.p.ClientID, x.p.Values))
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{Text: fmt.Sprintf("Document request %q sent to %s, due %s.", req.Title, x.p.ClientName, req.DueOn.Format(time.DateOnly)),
				Type: "document_request", ID: &req.ID}, nil
		},
		unavailable: func() string {
			if r.Requests == nil {
				return "Document requests are not available in this installation, so this action cannot be proposed."
			}
			return ""
		},
	}
}

func requestInput(client uuid.UUID, v Values) requests.Input {
	in := requests.Input{ClientID: client, Title: v["title"], Instructions: v["instructions"], Reminders: true}
	if d, ok := requests.ParseDate(strings.TrimSpace(v["due_on"])); ok {
		in.DueOn = d
	}
	for _, it := range strings.Split(v["items"], "\n") {
		if it = strings.TrimSpace(it); it != "" {
			in.Items = append(in.Items, it)
		}
	}
	return in
}
