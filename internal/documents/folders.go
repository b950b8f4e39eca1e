package documents

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Folder is a folder in tree order, with its depth.
type Folder struct {
	ID        uuid.UUID
	ParentID  *uuid.UUID
	Name      string
	Depth     int
	Documents int // active documents directly inside
}

// maxFolderDepth bounds nesting.
const maxFolderDepth = 6

// Folders returns the organization's folders depth-first, each parent
// before its children, siblings by name.
func (s *Service) Folders(ctx context.Context, org uuid.UUID) ([]Folder, error) {
	var rows []db.ListDocumentFoldersRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		rows, err = q.ListDocumentFolders(ctx, org)
		return err
	})
	if err != nil {
		return nil, err
	}
	children := map[uuid.UUID][]db.ListDocumentFoldersRow{}
	var roots []db.ListDocumentFoldersRow
	for _, r := range rows { // already sorted by name
		if r.ParentID == nil {
			roots = append(roots, r)
		} else {
			children[*r.ParentID] = append(children[*r.ParentID], r)
		}
	}
	out := make([]Folder, 0, len(rows))
	var walk func(list []db.ListDocumentFoldersRow, depth int)
	walk = func(list []db.ListDocumentFoldersRow, depth int) {
		for _, r := range list {
			out = append(out, Folder{ID: r.ID, ParentID: r.ParentID, Name: r.Name, Depth: depth, Documents: int(r.Documents)})
			walk(children[r.ID], depth+1)
		}
	}
	walk(roots, 0)
	return out, nil
}

func cleanFolderName(name string) (string, form.Errors) {
	name = strings.Join(strings.Fields(form.Clean(name)), " ")
	errs := form.Errors{}
	errs.Required("name", name, 120)
	if strings.ContainsAny(name, "/\\") {
		errs.Add("name", "Folder names cannot contain slashes.")
	}
	return name, errs
}

func folderDepth(ctx context.Context, q *db.Queries, org uuid.UUID, id uuid.UUID) (int, error) {
	depth := 0
	for cur := &id; cur != nil && depth <= maxFolderDepth; depth++ {
		f, err := q.GetDocumentFolder(ctx, db.GetDocumentFolderParams{OrganizationID: org, ID: *cur})
		if err != nil {
			return 0, err
		}
		cur = f.ParentID
	}
	return depth, nil
}

// CreateFolder creates a folder at the top level or inside parent.
func (s *Service) CreateFolder(ctx context.Context, a Actor, name string, parent *uuid.UUID) (db.DocumentFolder, error) {
	name, errs := cleanFolderName(name)
	var f db.DocumentFolder
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		if parent != nil {
			depth, err := folderDepth(ctx, q, a.OrgID, *parent)
			switch {
			case errors.Is(store.MapError(err), store.ErrNotFound):
				errs.Add("parent_id", "Choose a folder from the list.")
			case err != nil:
				return err
			case depth >= maxFolderDepth:
				errs.Add("name", "Folders can be nested at most six deep.")
			}
		}
		if errs.Any() {
			return errs
		}
		var err error
		f, err = q.CreateDocumentFolder(ctx, db.CreateDocumentFolderParams{OrganizationID: a.OrgID, ParentID: parent, Name: name, CreatedBy: &a.UserID})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return form.Errors{"name": "There is already a folder called " + name + " here."}
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.DocumentFolderCreated, "folder", f.ID.String(), name))
	})
	return f, err
}

// RenameFolder renames a folder.
func (s *Service) RenameFolder(ctx context.Context, a Actor, id uuid.UUID, name string) (db.DocumentFolder, error) {
	name, errs := cleanFolderName(name)
	var f db.DocumentFolder
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		old, err := q.GetDocumentFolder(ctx, db.GetDocumentFolderParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if errs.Any() {
			return errs
		}
		// Checked first: a failed statement would abort the request's
		// transaction, which the page still reads from.
		taken, err := q.DocumentFolderNameTaken(ctx, db.DocumentFolderNameTakenParams{OrganizationID: a.OrgID, ParentID: old.ParentID, Name: name, ExcludeID: id})
		if err != nil {
			return err
		}
		if taken {
			return form.Errors{"name": "There is already a folder called " + name + " here."}
		}
		f, err = q.RenameDocumentFolder(ctx, db.RenameDocumentFolderParams{OrganizationID: a.OrgID, ID: id, Name: name})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return form.Errors{"name": "There is already a folder called " + name + " here."}
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.DocumentFolderRenamed, "folder", id.String(), old.Name+" → "+name))
	})
	return f, err
}

// DeleteFolder deletes an empty folder (no documents, archived ones
// included, and no subfolders).
func (s *Service) DeleteFolder(ctx context.Context, a Actor, id uuid.UUID) (db.DocumentFolder, error) {
	var f db.DocumentFolder
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if f, err = q.GetDocumentFolder(ctx, db.GetDocumentFolderParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		inUse, err := q.DocumentFolderInUse(ctx, db.DocumentFolderInUseParams{OrganizationID: a.OrgID, ID: &id})
		if err != nil {
			return err
		}
		if inUse {
			return ErrFolderNotEmpty
		}
		if _, err := q.DeleteDocumentFolder(ctx, db.DeleteDocumentFolderParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.DocumentFolderDeleted, "folder", id.String(), f.Name))
	})
	return f, err
}

// ClientChoices lists active clients for the forms' menus.
func (s *Service) ClientChoices(ctx context.Context, org uuid.UUID) ([]db.ListClientChoicesRow, error) {
	var rows []db.ListClientChoicesRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		rows, err = q.ListClientChoices(ctx, org)
		return err
	})
	return rows, err
}
