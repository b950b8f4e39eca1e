package store_test

import (
	"context"
	"time"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/testutil"
)

// populatePortal gives org one row in each client portal table: a link of
// a member to the client (the owner stands in for a client user: the
// database only requires a membership), a client invitation naming the
// client, and an identity document of the link.
func populatePortal(ctx context.Context, q *db.Queries, org db.Organization, owner db.User, client db.Client) error {
	link, err := q.CreateClientPortalLink(ctx, db.CreateClientPortalLinkParams{OrganizationID: org.ID, ClientID: client.ID, UserID: owner.ID, CreatedBy: &owner.ID})
	if err != nil {
		return err
	}
	_, hash := crypto.NewToken()
	inv, err := q.CreateInvitation(ctx, db.CreateInvitationParams{OrganizationID: org.ID, Email: testutil.Unique("portal") + "@example.test",
		Role: "client", TokenHash: hash, InvitedBy: &owner.ID, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		return err
	}
	if err := q.AddPortalInvitationClient(ctx, db.AddPortalInvitationClientParams{OrganizationID: org.ID, InvitationID: inv.ID, ClientID: client.ID}); err != nil {
		return err
	}
	doc, err := q.CreateDocument(ctx, db.CreateDocumentParams{OrganizationID: org.ID, ClientID: &client.ID, Name: "Passport.pdf", Tags: []string{"kyc"}, CreatedBy: &owner.ID})
	if err != nil {
		return err
	}
	_, err = q.InsertKYCDocument(ctx, db.InsertKYCDocumentParams{OrganizationID: org.ID, LinkID: link.ID, DocumentID: doc.ID, Kind: "passport"})
	return err
}
