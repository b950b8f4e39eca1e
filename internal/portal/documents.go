package portal

import (
	"context"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/store"
)

// errNotLinked answers a client the actor is not linked to: not found,
// exactly like a client that does not exist.
var errNotLinked = fmt.Errorf("not linked to the client: %w", store.ErrNotFound)

// Client is a client the user is linked to, with the link's KYC.
type Client struct {
	LinkID uuid.UUID
	ID     uuid.UUID
	Name   string
	Kind   string
	KYC    KYCState
}

// KYCState is where a link's identity check stands.
type KYCState struct {
	Status       string
	RejectReason string
}

// Clients lists the active clients the actor is linked to (none for a
// member who is not a client user).
func (s *Service) Clients(ctx context.Context, a Actor) ([]Client, error) {
	var out []Client
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		out, err = clientsOf(ctx, q, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("portal clients: %w", err)
	}
	return out, nil
}

func clientsOf(ctx context.Context, q *db.Queries, a Actor) ([]Client, error) {
	rows, err := q.ListPortalClients(ctx, db.ListPortalClientsParams{OrganizationID: a.OrgID, UserID: a.UserID})
	if err != nil {
		return nil, err
	}
	out := make([]Client, 0, len(rows))
	for _, r := range rows {
		out = append(out, Client{LinkID: r.LinkID, ID: r.ClientID, Name: r.ClientName, Kind: r.ClientKind,
			KYC: KYCState{Status: r.KycStatus, RejectReason: r.KycRejectReason}})
	}
	return out, nil
}

// ClientIDs are the ids of clients.
func ClientIDs(clients []Client) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(clients))
	for _, c := range clients {
		ids = append(ids, c.ID)
	}
	return ids
}

// DocumentFilter selects a page of the portal's document list.
type DocumentFilter struct {
	// ClientID narrows the list to one of the user's clients.
	ClientID *uuid.UUID
	Page     int
}

// PerPage is the size of a page of the portal's document list.
const PerPage = 25

// DocumentPage is one page of documents.
type DocumentPage struct {
	Rows  []db.ListPortalDocumentsRow
	Total int
	Page  int
}

// Documents lists the documents of the actor's clients. A client filter
// naming a client the actor is not linked to is store.ErrNotFound.
func (s *Service) Documents(ctx context.Context, a Actor, f DocumentFilter) (DocumentPage, error) {
	page := min(max(f.Page, 1), 100000)
	var out DocumentPage
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		if f.ClientID != nil {
			if _, err := q.GetPortalLink(ctx, db.GetPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: *f.ClientID}); err != nil {
				return err
			}
		}
		var err error
		out, err = documentsPage(ctx, q, a, f.ClientID, page, PerPage)
		return err
	})
	if err != nil {
		return DocumentPage{}, fmt.Errorf("portal documents: %w", err)
	}
	return out, nil
}

func documentsPage(ctx context.Context, q *db.Queries, a Actor, client *uuid.UUID, page, per int) (DocumentPage, error) {
	params := db.ListPortalDocumentsParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client,
		MaxRows: int32(per), Skip: int32((page - 1) * per)}
	rows, err := q.ListPortalDocuments(ctx, params)
	if err != nil {
		return DocumentPage{}, err
	}
	if len(rows) == 0 && page > 1 {
		page, params.Skip = 1, 0
		if rows, err = q.ListPortalDocuments(ctx, params); err != nil {
			return DocumentPage{}, err
		}
	}
	out := DocumentPage{Rows: rows, Page: page}
	if len(rows) > 0 {
		out.Total = int(rows[0].Total)
	}
	return out, nil
}

// Home is what the portal's home page shows.
type Home struct {
	Clients []Client
	// Recent are the latest documents of the clients.
	Recent      []db.ListPortalDocumentsRow
	TotalRecent int
}

// HomeRecent is how many documents the home page lists.
const HomeRecent = 5

// Home gathers the home page: the actor's clients with their KYC, and the
// latest documents.
func (s *Service) Home(ctx context.Context, a Actor) (Home, error) {
	var h Home
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if h.Clients, err = clientsOf(ctx, q, a); err != nil {
			return err
		}
		p, err := documentsPage(ctx, q, a, nil, 1, HomeRecent)
		h.Recent, h.TotalRecent = p.Rows, p.Total
		return err
	})
	if err != nil {
		return Home{}, fmt.Errorf("portal home: %w", err)
	}
	return h, nil
}

// Document returns one document the actor may see, or store.ErrNotFound.
func (s *Service) Document(ctx context.Context, a Actor, id uuid.UUID) (db.GetPortalDocumentRow, error) {
	var d db.GetPortalDocumentRow
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		d, err = q.GetPortalDocument(ctx, db.GetPortalDocumentParams{OrganizationID: a.OrgID, UserID: a.UserID, ID: id})
		return err
	})
	if err != nil {
		return d, fmt.Errorf("portal document: %w", err)
	}
	return d, nil
}

// Open returns the current version of a document the actor may see, for
// download (documents.Service.Open after the portal's visibility check).
// The caller closes it.
func (s *Service) Open(ctx context.Context, a Actor, id uuid.UUID) (*documents.Content, error) {
	if _, err := s.Document(ctx, a, id); err != nil {
		return nil, err
	}
	return s.Docs.Open(ctx, a.OrgID, id, nil)
}

// RecordDownload appends a download to the audit trail.
func (s *Service) RecordDownload(ctx context.Context, a Actor, c *documents.Content) {
	s.Docs.RecordDownload(ctx, a.docs(), c)
}

// UploadTag marks the documents clients upload through the portal, so the
// firm can find them in the library.
const UploadTag = "portal"

// CheckUpload refuses, before any byte is read, an upload to a client the
// actor is not linked to (store.ErrNotFound), or with no client chosen
// when the actor has several (form.Errors).
func (s *Service) CheckUpload(ctx context.Context, a Actor, client *uuid.UUID) (uuid.UUID, error) {
	clients, err := s.Clients(ctx, a)
	if err != nil {
		return uuid.Nil, err
	}
	switch {
	case client != nil:
		for _, c := range clients {
			if c.ID == *client {
				return c.ID, nil
			}
		}
		return uuid.Nil, fmt.Errorf("portal upload: %w", errNotLinked)
	case len(clients) == 1:
		return clients[0].ID, nil
	case len(clients) == 0:
		return uuid.Nil, fmt.Errorf("portal upload: %w", errNotLinked)
	}
	return uuid.Nil, form.Errors{"client_id": "Choose which client these documents are for."}
}

// Upload stores a file as a document of one of the actor's clients (as
// documents.Service.Upload: checked by content, scanned, encrypted, its text
// extracted in the background). The client must be one CheckUpload
// accepted; it is checked again when the document is recorded, so access
// removed during a long upload stores nothing.
func (s *Service) Upload(ctx context.Context, a Actor, client uuid.UUID, filename string, content io.Reader) (db.Document, error) {
	doc, err := s.Docs.Upload(ctx, a.docs(), documents.UploadInput{
		Filename: filename, Content: content,
		Placement: documents.Placement{ClientID: &client, Tags: []string{UploadTag}},
		Link: func(ctx context.Context, _ pgx.Tx, q *db.Queries, _ db.Document) error {
			_, err := q.GetPortalLink(ctx, db.GetPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client})
			return err
		},
	})
	if err != nil {
		return db.Document{}, fmt.Errorf("portal upload: %w", err)
	}
	return doc, nil
}
