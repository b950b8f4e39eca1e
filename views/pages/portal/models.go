// Package portal holds the client portal's pages (home, documents, the
// identity check) and the Portal access card of the firm's client page.
// Handlers fill the view models below; templates never see database rows.
package portal

import (
	"strconv"

	"accute/views/components"
	docsview "accute/views/pages/documents"
)

// Badge is a status as a coloured label.
type Badge struct {
	Kind  string // success, warn, error, info, neutral
	Label string
}

// HomeView is the portal's home page.
type HomeView struct {
	FirstName string
	OrgName   string
	Clients   []ClientCard
	// Requests are the open document requests, soonest due first (shown
	// when ShowRequests).
	ShowRequests  bool
	Requests      []RequestRow
	TotalRequests int
	RequestsURL   string
	Recent        []DocumentRow
	TotalRecent   int
	DocumentsURL  string
	UploadURL     string
	KYCURL        string
	// KYCToDo counts the identity checks waiting for the user.
	KYCToDo int
}

// ClientCard is one of the user's clients on the home page.
type ClientCard struct {
	Name         string
	DocumentsURL string
	KYC          Badge
}

// RequestRow is a document request in a list.
type RequestRow struct {
	Title   string
	URL     string
	Client  string
	Due     string
	DueNote string // "due in 3 days", "2 days overdue"
	Overdue bool
	Status  Badge
	Items   int
}

// DocumentRow is a document in the portal's lists.
type DocumentRow struct {
	Name        string
	DownloadURL string
	Client      string
	TypeLabel   string
	Size        string
	Added       string
	ByYou       bool
	Status      docsview.StatusView
}

// DocumentsView is the documents page.
type DocumentsView struct {
	BasePath string
	ClientID string
	// Clients filter the list (offered when the user has several).
	Clients []components.Option
	Rows    []DocumentRow
	Pager   components.Pager
	Upload  UploadView
	// Results lists what an upload without JavaScript did.
	Results []docsview.UploadResult
}

// PageURL is the address of page n with the current filter.
func (v DocumentsView) PageURL(n int) string {
	url := v.BasePath
	sep := "?"
	if v.ClientID != "" {
		url += sep + "client=" + v.ClientID
		sep = "&"
	}
	if n > 1 {
		url += sep + "page=" + strconv.Itoa(n)
	}
	return url
}

// UploadView is an upload form with a drop zone and a progress bar per
// file (static/js/upload.js).
type UploadView struct {
	Action   string
	MaxBytes int64
	MaxLabel string
	Accept   string
	// Clients: the user chooses when they have several; ClientID is sent
	// as is when they have one.
	Clients    []components.Option
	ClientID   string
	ClientName string
	// Kinds are the identity document kinds (identity uploads only).
	Kinds []components.Option
	// ItemID is sent with each file (an upload against a request's item).
	ItemID string
	// Single uploads one file and reloads the page.
	Single bool
	Error  string
	TestID string
	// ID is the section's id (an anchor); "upload" when empty.
	ID string
	// Plain drops the card frame (an uploader inside another card).
	Plain bool
}

// Anchor is the section's id.
func (u UploadView) Anchor() string {
	if u.ID == "" {
		return "upload"
	}
	return u.ID
}

// KYCView is the identity check page: one check per client.
type KYCView struct {
	Checks []KYCCard
}

// KYCCard is the identity check for one client.
type KYCCard struct {
	ClientName   string
	Status       string
	Badge        Badge
	RejectReason string
	Submitted    string
	Reviewed     string
	Documents    []KYCDocRow
	Editable     bool
	Upload       UploadView
	SubmitURL    string
}

// KYCDocRow is an identity document.
type KYCDocRow struct {
	Name        string
	Kind        string
	Added       string
	Size        string
	DownloadURL string
	RemoveURL   string
}

// AccessCard is the Portal access card of the firm's client page: who of
// the client can use the portal, their identity checks, and the forms to
// invite, link and unlink. It is also the fragment its forms swap in.
type AccessCard struct {
	// URL is the client's portal address prefix: /o/{org}/clients/{id}/portal.
	URL      string
	CanWrite bool
	// Archived clients cannot be given access.
	Archived    bool
	Users       []AccessUser
	Invitations []AccessInvitation
	Candidates  []components.Option
	InviteEmail string
	Errors      map[string]string
	Notice      string
}

// AccessUser is a client user linked to the client.
type AccessUser struct {
	Name       string
	Email      string
	Linked     string
	Status     string
	Badge      Badge
	Reason     string
	Submitted  string
	Reviewed   string
	ReviewedBy string
	Documents  []KYCDocRow
	Reviewable bool
	VerifyURL  string
	RejectURL  string
	UnlinkURL  string
	// RejectReason and RejectError are the reject form as typed.
	RejectReason string
	RejectError  string
}

// AccessInvitation is an invitation on its way.
type AccessInvitation struct {
	Email     string
	Sent      string
	Expires   string
	Expired   bool
	RevokeURL string
}

// RequestsView is the list of the user's document requests.
type RequestsView struct {
	BasePath string
	// All shows every request; otherwise the open ones.
	All   bool
	Rows  []RequestRow
	Pager components.Pager
}

// OpenURL and AllURL are the tabs.
func (v RequestsView) OpenURL() string { return v.BasePath }

// AllURL shows every request, closed ones included.
func (v RequestsView) AllURL() string { return v.BasePath + "?status=all" }

// PageURL is the address of page n of the current tab.
func (v RequestsView) PageURL(n int) string {
	url, sep := v.BasePath, "?"
	if v.All {
		url, sep = v.AllURL(), "&"
	}
	if n > 1 {
		url += sep + "page=" + strconv.Itoa(n)
	}
	return url
}

// RequestView is one document request: what is asked, what was sent,
// and an uploader per item.
type RequestView struct {
	ListURL         string
	Title           string
	Client          string
	Due             string
	DueNote         string
	Overdue         bool
	Status          Badge
	Instructions    string
	RejectionReason string
	CancelReason    string
	// Uploadable: documents can still be sent (open, submitted, rejected).
	Uploadable bool
	// Done explains a closed request (accepted or cancelled).
	Done   string
	Items  []RequestItem
	Other  RequestItem
	Events []RequestEvent
}

// RequestItem is an expected item (or "anything else") with what was sent
// for it and its uploader.
type RequestItem struct {
	Label   string
	Uploads []RequestUpload
	Upload  UploadView
	// Optional: "anything else" next to the expected items.
	Optional bool
}

// RequestUpload is a document sent against a request.
type RequestUpload struct {
	Name        string
	DownloadURL string
	Size        string
	Added       string
	By          string
	Archived    bool
}

// RequestEvent is a step of the request's history.
type RequestEvent struct {
	When string
	Text string
}
