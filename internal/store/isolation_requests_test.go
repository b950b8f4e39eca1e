package store_test

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"accute/internal/db"
)

// populateRequests gives org one row in each document requests table: a
// request with an item, an upload linking a document to it, a reminder
// sent and an event (the document comes from populateDocuments).
func populateRequests(ctx context.Context, q *db.Queries, org db.Organization, owner db.User, client db.Client) error {
	due := pgtype.Date{Time: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 7), Valid: true}
	r, err := q.CreateDocumentRequest(ctx, db.CreateDocumentRequestParams{OrganizationID: org.ID, ClientID: client.ID,
		Title: "Fixture request", DueOn: due, Reminders: true, CreatedBy: &owner.ID})
	if err != nil {
		return err
	}
	items, err := q.CreateDocumentRequestItems(ctx, db.CreateDocumentRequestItemsParams{OrganizationID: org.ID, RequestID: r.ID, Labels: []string{"Fixture item"}})
	if err != nil {
		return err
	}
	docs, err := q.ListClientDocuments(ctx, db.ListClientDocumentsParams{OrganizationID: org.ID, ClientID: &client.ID, MaxRows: 1})
	if err != nil {
		return err
	}
	if _, err := q.CreateDocumentRequestUpload(ctx, db.CreateDocumentRequestUploadParams{OrganizationID: org.ID, RequestID: r.ID,
		ItemID: &items[0].ID, DocumentID: docs[0].ID, UploadedBy: &owner.ID}); err != nil {
		return err
	}
	if _, err := q.RecordDocumentRequestReminder(ctx, db.RecordDocumentRequestReminderParams{OrganizationID: org.ID, RequestID: r.ID,
		Step: "due_soon", Recipients: 1}); err != nil {
		return err
	}
	return q.InsertDocumentRequestEvent(ctx, db.InsertDocumentRequestEventParams{OrganizationID: org.ID, RequestID: r.ID,
		Kind: "created", ActorID: &owner.ID, ActorName: owner.Name})
}
