package portal

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/notify"
)

// KYCDocument is an identity document of a KYC check.
type KYCDocument struct {
	ID          uuid.UUID
	LinkID      uuid.UUID
	Kind        string
	DocumentID  uuid.UUID
	Name        string
	ContentType string
	Size        int64
	ParseStatus string
	Added       time.Time
}

// KYCCheck is one link's identity check as its client user sees it.
type KYCCheck struct {
	Client    Client
	Documents []KYCDocument
	Submitted *time.Time
	Reviewed  *time.Time
}

// Editable reports whether the client user may still add or remove
// documents (before submitting, or after a rejection).
func (k KYCCheck) Editable() bool { return editable(k.Client.KYC.Status) }

func editable(status string) bool { return status == KYCPending || status == KYCRejected }

// MaxRejectReason bounds the reason of a rejection.
const MaxRejectReason = 1000

// KYC lists the actor's identity checks, one per linked client.
func (s *Service) KYC(ctx context.Context, a Actor) ([]KYCCheck, error) {
	var out []KYCCheck
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		rows, err := q.ListPortalClients(ctx, db.ListPortalClientsParams{OrganizationID: a.OrgID, UserID: a.UserID})
		if err != nil {
			return err
		}
		for _, r := range rows {
			k := KYCCheck{
				Client: Client{LinkID: r.LinkID, ID: r.ClientID, Name: r.ClientName, Kind: r.ClientKind,
					KYC: KYCState{Status: r.KycStatus, RejectReason: r.KycRejectReason}},
				Submitted: r.KycSubmittedAt, Reviewed: r.KycReviewedAt,
			}
			if k.Documents, err = linkDocuments(ctx, q, a.OrgID, r.LinkID); err != nil {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portal kyc: %w", err)
	}
	return out, nil
}

func linkDocuments(ctx context.Context, q *db.Queries, org, link uuid.UUID) ([]KYCDocument, error) {
	rows, err := q.ListLinkKYCDocuments(ctx, db.ListLinkKYCDocumentsParams{OrganizationID: org, LinkID: link})
	if err != nil {
		return nil, err
	}
	out := make([]KYCDocument, 0, len(rows))
	for _, r := range rows {
		out = append(out, KYCDocument{ID: r.ID, LinkID: r.LinkID, Kind: r.Kind, DocumentID: r.DocumentID, Name: r.Name,
			ContentType: r.ContentType, Size: r.Size, ParseStatus: r.ParseStatus, Added: r.CreatedAt})
	}
	return out, nil
}

// CheckKYCOpen refuses, before any byte of an upload is read, identity
// documents for a client the actor is not linked to (store.ErrNotFound),
// or while the check is under review or verified (*StateError).
func (s *Service) CheckKYCOpen(ctx context.Context, a Actor, client uuid.UUID) error {
	return s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		l, err := q.GetPortalLink(ctx, db.GetPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client})
		if err != nil {
			return err
		}
		return kycEditable(l.KycStatus)
	})
}

func kycEditable(status string) error {
	switch status {
	case KYCSubmitted:
		return ErrKYCUnderReview
	case KYCVerified:
		return ErrKYCVerified
	}
	return nil
}

// AddKYCDocument uploads an identity document to the actor's check for a
// client: form.Errors for an unknown kind, and what CheckKYCOpen refuses. The file becomes a document of the client (tagged "kyc"),
// recorded together with its place in the check: the check's state is
// checked again, locked, in that transaction.
func (s *Service) AddKYCDocument(ctx context.Context, a Actor, client uuid.UUID, kind, filename string, content io.Reader) (KYCDocument, error) {
	if !validKind(kind) {
		return KYCDocument{}, form.Errors{"kind": "Choose what kind of document this is."}
	}
	if err := s.CheckKYCOpen(ctx, a, client); err != nil {
		return KYCDocument{}, fmt.Errorf("add identity document: %w", err)
	}
	var out KYCDocument
	_, err := s.Docs.Upload(ctx, a.docs(), documents.UploadInput{
		Filename: filename, Content: content,
		Placement: documents.Placement{ClientID: &client, Tags: []string{"kyc"}},
		Link: func(ctx context.Context, _ pgx.Tx, q *db.Queries, doc db.Document) error {
			l, err := q.LockPortalLink(ctx, db.LockPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client})
			if err != nil {
				return err
			}
			if err := kycEditable(l.KycStatus); err != nil {
				return err
			}
			k, err := q.InsertKYCDocument(ctx, db.InsertKYCDocumentParams{OrganizationID: a.OrgID, LinkID: l.ID, DocumentID: doc.ID, Kind: kind})
			if err != nil {
				return err
			}
			out = KYCDocument{ID: k.ID, LinkID: l.ID, Kind: kind, DocumentID: doc.ID, Name: doc.Name, ContentType: doc.ContentType,
				Size: doc.Size, ParseStatus: doc.ParseStatus, Added: k.CreatedAt}
			return audit.Record(ctx, q, a.event(audit.KYCDocumentAdded, "client", client.String(),
				fmt.Sprintf("%s: %s (%s) for %s", a.Email, doc.Name, KYCKindLabel(kind), l.ClientName)))
		},
	})
	if err != nil {
		return KYCDocument{}, fmt.Errorf("add identity document: %w", err)
	}
	return out, nil
}

// RemoveKYCDocument takes an identity document out of the actor's check
// (before submitting, or after a rejection); the document itself is
// archived, so the firm keeps its record.
func (s *Service) RemoveKYCDocument(ctx context.Context, a Actor, client, id uuid.UUID) error {
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		l, err := q.LockPortalLink(ctx, db.LockPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client})
		if err != nil {
			return err
		}
		if err := kycEditable(l.KycStatus); err != nil {
			return err
		}
		k, err := q.DeleteKYCDocument(ctx, db.DeleteKYCDocumentParams{OrganizationID: a.OrgID, LinkID: l.ID, ID: id})
		if err != nil {
			return err
		}
		doc, err := q.SetDocumentArchived(ctx, db.SetDocumentArchivedParams{OrganizationID: a.OrgID, ID: k.DocumentID, Archived: true})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.KYCDocumentRemoved, "client", client.String(),
			fmt.Sprintf("%s: %s (%s) for %s; the document was archived", a.Email, doc.Name, KYCKindLabel(k.Kind), l.ClientName)))
	})
	if err != nil {
		return fmt.Errorf("remove identity document: %w", err)
	}
	return nil
}

// SubmitKYC sends the actor's identity documents for a client to the firm
// for review, and tells the firm by e-mail.
func (s *Service) SubmitKYC(ctx context.Context, a Actor, client uuid.UUID) error {
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		l, err := q.LockPortalLink(ctx, db.LockPortalLinkParams{OrganizationID: a.OrgID, UserID: a.UserID, ClientID: client})
		if err != nil {
			return err
		}
		if err := kycEditable(l.KycStatus); err != nil {
			return err
		}
		docs, err := linkDocuments(ctx, q, a.OrgID, l.ID)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			return ErrKYCNoDocuments
		}
		if _, err := q.SubmitKYC(ctx, db.SubmitKYCParams{OrganizationID: a.OrgID, ID: l.ID}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, a.event(audit.KYCSubmitted, "client", client.String(),
			fmt.Sprintf("%s submitted %d identity document(s) for %s", a.Email, len(docs), l.ClientName))); err != nil {
			return err
		}
		to, err := q.ListKYCReviewerEmails(ctx, db.ListKYCReviewerEmailsParams{OrganizationID: a.OrgID, LinkedBy: l.CreatedBy})
		if err != nil {
			return err
		}
		for _, addr := range to {
			if err := notify.Enqueue(ctx, q, s.submittedEmail(a, addr, client, l.ClientName, len(docs))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("submit identity documents: %w", err)
	}
	return nil
}

// Decision is staff's verdict on a submitted check.
type Decision struct {
	Verified bool
	// Reason says what is wrong; required to reject.
	Reason string
}

// DecideKYC verifies or rejects a client user's submitted identity
// documents for a client (linkID names the link), and tells the client
// user by e-mail.
func (s *Service) DecideKYC(ctx context.Context, a Actor, client, linkID uuid.UUID, d Decision) error {
	d.Reason = strings.TrimSpace(form.Clean(d.Reason))
	if !d.Verified {
		errs := form.Errors{}
		errs.Required("reason", d.Reason, MaxRejectReason)
		if errs.Any() {
			if d.Reason == "" {
				errs["reason"] = "Say what is wrong, so the client knows what to send instead."
			}
			return errs
		}
	} else {
		d.Reason = ""
	}
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		l, err := q.GetClientPortalLink(ctx, db.GetClientPortalLinkParams{OrganizationID: a.OrgID, ClientID: client, ID: linkID})
		if err != nil {
			return err
		}
		c, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: client})
		if err != nil {
			return err
		}
		status, action := KYCRejected, audit.KYCRejected
		if d.Verified {
			status, action = KYCVerified, audit.KYCVerified
		}
		_, err = q.DecideKYC(ctx, db.DecideKYCParams{OrganizationID: a.OrgID, ClientID: client, ID: linkID,
			Status: status, Reason: d.Reason, ReviewedBy: &a.UserID})
		if notFound(err) {
			return ErrKYCNotSubmitted
		}
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("identity of %s for %s verified", l.Email, c.Name)
		if !d.Verified {
			summary = fmt.Sprintf("identity documents of %s for %s rejected: %s", l.Email, c.Name, d.Reason)
		}
		if err := audit.Record(ctx, q, a.event(action, "client", client.String(), summary)); err != nil {
			return err
		}
		return notify.Enqueue(ctx, q, s.decisionEmail(a, l.Email, c.Name, d))
	})
	if err != nil {
		return fmt.Errorf("review identity documents: %w", err)
	}
	return nil
}
