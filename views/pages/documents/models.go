// Package documents holds the pages of the document library: the list with
// its folder tree, filters and uploader, and a document's page with its
// versions. Handlers fill the view models below; templates never see
// database rows.
package documents

import (
	"net/url"
	"strconv"

	"accute/views/components"
)

// ResultsID is the id of the list's results region.
const ResultsID = "documents-results"

// ListView is the document list page.
type ListView struct {
	BasePath string // /o/{org}/documents
	CanWrite bool

	// Filters as chosen.
	FolderID string // "" all, "unfiled", or a folder id
	ClientID string
	Tag      string
	Status   string
	Query    string
	Archived bool

	Folder  *FolderRef // the folder shown, if one is
	Folders []FolderNode
	Clients []components.Option
	Tags    []components.Option
	States  []components.Option

	Rows  []Row
	Pager components.Pager

	Upload UploadView
	// Results lists what an upload without JavaScript did.
	Results []UploadResult
	// FolderForm is the new-folder form as typed, with its error.
	FolderForm FolderForm
}

// FolderRef names a folder.
type FolderRef struct {
	ID        string
	Name      string
	RenameURL string
	DeleteURL string
	Documents int
}

// FolderNode is a folder in the tree, already indented.
type FolderNode struct {
	ID        string
	Name      string
	Depth     int
	Documents int
	URL       string
	Current   bool
}

// DepthClass is the CSS class that indents the node.
func (n FolderNode) DepthClass() string { return "depth-" + strconv.Itoa(min(n.Depth, 5)) }

// FolderForm is the new-folder form.
type FolderForm struct {
	Name     string
	ParentID string
	Error    string
	Parents  []components.Option
}

// Row is one document in the list.
type Row struct {
	URL         string
	DownloadURL string
	Name        string
	TypeLabel   string
	Tags        []string
	Client      string
	ClientURL   string
	Folder      string
	Status      StatusView
	Version     int
	Size        string
	Updated     string
	Archived    bool
}

// StatusView is a document's text-extraction status badge.
type StatusView struct {
	URL     string // polled while Pending
	Label   string
	Kind    string // badge kind
	Reason  string // why it failed
	Pending bool   // queued or parsing: the badge refreshes itself
}

// UploadView is the upload card.
type UploadView struct {
	Action   string
	MaxBytes int64
	MaxLabel string
	Accept   string // the file input's accept list
	FolderID string
	Clients  []components.Option
	Folders  []components.Option
	Error    string
}

// UploadResult is the outcome of one uploaded file.
type UploadResult struct {
	Name  string
	URL   string // the new document, when it worked
	Error string
}

// pageURL builds the list's address with the current filters and changes.
func (v ListView) pageURL(change map[string]string) string {
	vals := url.Values{}
	set := func(k, val string) {
		if val != "" {
			vals.Set(k, val)
		}
	}
	set("folder", v.FolderID)
	set("client", v.ClientID)
	set("tag", v.Tag)
	set("status", v.Status)
	set("q", v.Query)
	if v.Archived {
		vals.Set("archived", "1")
	}
	for k, val := range change {
		if val == "" {
			vals.Del(k)
		} else {
			vals.Set(k, val)
		}
	}
	if len(vals) == 0 {
		return v.BasePath
	}
	return v.BasePath + "?" + vals.Encode()
}

// PageURL is the address of page n with the current filters.
func (v ListView) PageURL(n int) string {
	p := ""
	if n > 1 {
		p = strconv.Itoa(n)
	}
	return v.pageURL(map[string]string{"page": p})
}

// ActiveURL and ArchivedURL are the tabs.
func (v ListView) ActiveURL() string { return v.pageURL(map[string]string{"archived": ""}) }

// ArchivedURL is the Archived tab's address.
func (v ListView) ArchivedURL() string { return v.pageURL(map[string]string{"archived": "1"}) }

// AllURL shows every folder.
func (v ListView) AllURL() string { return v.pageURL(map[string]string{"folder": ""}) }

// UnfiledURL shows documents in no folder.
func (v ListView) UnfiledURL() string { return v.pageURL(map[string]string{"folder": "unfiled"}) }

// Filtered reports whether any filter narrows the list.
func (v ListView) Filtered() bool {
	return v.FolderID != "" || v.ClientID != "" || v.Tag != "" || v.Status != "" || v.Query != ""
}

// ShowView is a document's page.
type ShowView struct {
	BasePath    string
	URL         string
	Name        string
	TypeLabel   string
	Size        string
	Version     int
	Created     string
	CreatedBy   string
	Updated     string
	Client      string
	ClientURL   string
	Folder      string
	FolderURL   string
	Tags        []string
	DownloadURL string
	Archived    bool
	ArchivedOn  string
	CanWrite    bool
	Status      StatusView
	Versions    []VersionRow
	Edit        EditForm
	NewVersion  VersionUpload
	// Passage is the place an agent's citation opened (?passage=), shown
	// highlighted at the top.
	Passage *PassageView
}

// PassageView is a cited place of the document: its text in the current
// version, or none when the document changed since it was cited.
type PassageView struct {
	Ref   string
	Texts []string
}

// VersionRow is one version of a document.
type VersionRow struct {
	Version     int
	Filename    string
	Size        string
	TypeLabel   string
	UploadedBy  string
	Uploaded    string
	SHA256      string // shortened
	SHA256Full  string
	DownloadURL string
	Current     bool
}

// EditForm is the document's details form.
type EditForm struct {
	Action  string
	Name    string
	Tags    string
	Folders []components.Option
	Clients []components.Option
	Errors  map[string]string
	Notice  string
}

// VersionUpload is the new-version form.
type VersionUpload struct {
	Action   string
	MaxBytes int64
	MaxLabel string
	Accept   string
	Error    string
}

// ClientCard is the Documents card on a client's page.
type ClientCard struct {
	Total     int
	Rows      []Row
	ListURL   string
	UploadURL string
	CanWrite  bool
}
