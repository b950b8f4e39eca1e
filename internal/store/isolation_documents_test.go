package store_test

import (
	"context"

	"github.com/google/uuid"

	"accute/internal/db"
)

// populateDocuments gives org one row in each documents table: a data key,
// a blob, a folder, a document with a version, and a text chunk.
func populateDocuments(ctx context.Context, q *db.Queries, org db.Organization, owner db.User, client db.Client) error {
	key, err := q.CreateDataKey(ctx, db.CreateDataKeyParams{OrganizationID: org.ID, ID: uuid.New(), WrappedKey: []byte("sealed")})
	if err != nil {
		return err
	}
	blob, err := q.InsertBlob(ctx, db.InsertBlobParams{OrganizationID: org.ID, ID: uuid.New(), Sha256: make([]byte, 32), Size: 5,
		ContentType: "text/plain; charset=utf-8", StorageKey: "orgs/x/blobs/y", DataKeyID: key.ID})
	if err != nil {
		return err
	}
	folder, err := q.CreateDocumentFolder(ctx, db.CreateDocumentFolderParams{OrganizationID: org.ID, Name: "Fixture folder", CreatedBy: &owner.ID})
	if err != nil {
		return err
	}
	doc, err := q.CreateDocument(ctx, db.CreateDocumentParams{OrganizationID: org.ID, ClientID: &client.ID, FolderID: &folder.ID,
		Name: "Fixture.txt", Tags: []string{"fixture"}, CreatedBy: &owner.ID})
	if err != nil {
		return err
	}
	v, err := q.InsertDocumentVersion(ctx, db.InsertDocumentVersionParams{OrganizationID: org.ID, DocumentID: doc.ID, Version: 1,
		BlobID: blob.ID, Filename: "Fixture.txt", Size: 5, ContentType: blob.ContentType, UploadedBy: &owner.ID})
	if err != nil {
		return err
	}
	if _, err := q.SetDocumentCurrentVersion(ctx, db.SetDocumentCurrentVersionParams{OrganizationID: org.ID, ID: doc.ID,
		VersionID: &v.ID, Version: 1, ContentType: v.ContentType, Size: 5}); err != nil {
		return err
	}
	line := int32(1)
	br := q.InsertDocumentChunks(ctx, []db.InsertDocumentChunksParams{{OrganizationID: org.ID, DocumentID: doc.ID, VersionID: v.ID,
		Seq: 0, LineStart: &line, LineEnd: &line, Content: "hello"}})
	br.Exec(func(_ int, e error) {
		if e != nil {
			err = e
		}
	})
	return err
}
