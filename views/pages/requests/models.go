// Package requests holds the firm's pages of document requests: the list
// with its filters, the new-request form with its templates, a request's
// page (items, uploaded documents, review, history) and the Requests card
// of a client's page. Handlers fill the view models below; templates never
// see database rows.
package requests

import (
	"net/url"
	"strconv"

	"accute/views/components"
)

// ResultsID is the id of the list's results region: the filter form
// targets it, and a request whose HX-Target names it gets only that
// fragment.
const ResultsID = "requests-results"

// Badge is a status badge.
type Badge struct {
	Kind  string // components.Badge kind
	Label string
}

// ListView is the organization's request list.
type ListView struct {
	BasePath string // /o/{org}/requests
	CanWrite bool

	// Filters as chosen: Status is a status, "active" or "all".
	Status   string
	ClientID string
	Overdue  bool

	States  []components.Option
	Clients []components.Option

	Rows  []Row
	Pager components.Pager
}

func (v ListView) url(change map[string]string) string {
	vals := url.Values{}
	if v.Status != "" && v.Status != "active" {
		vals.Set("status", v.Status)
	}
	if v.ClientID != "" {
		vals.Set("client", v.ClientID)
	}
	if v.Overdue {
		vals.Set("overdue", "1")
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
	return v.url(map[string]string{"page": p})
}

// NewURL is the new-request form, for the chosen client if there is one.
func (v ListView) NewURL() string {
	if v.ClientID != "" {
		return v.BasePath + "/new?" + url.Values{"client": {v.ClientID}}.Encode()
	}
	return v.BasePath + "/new"
}

// Filtered reports whether a filter narrows the list beyond the default
// (active requests).
func (v ListView) Filtered() bool {
	return (v.Status != "" && v.Status != "active") || v.ClientID != "" || v.Overdue
}

// Row is one request of a list.
type Row struct {
	URL        string
	Title      string
	ClientName string
	ClientURL  string
	Status     Badge
	Due        string
	Overdue    bool
	Items      int
	Uploads    int
}

// FormView is the new-request form.
type FormView struct {
	Action    string // where the form posts
	NewURL    string // where template buttons reload the form (GET)
	CancelURL string
	Clients   []components.Option
	Templates []TemplateButton
	Values    FormValues
	Errors    map[string]string
	// MinDue is the earliest date the date picker offers (YYYY-MM-DD).
	MinDue string
	// ItemRows is how many item inputs to show (the typed items and some
	// empty ones).
	ItemRows int
	MaxItems int
}

// TemplateButton prefills the form from a built-in template.
type TemplateButton struct {
	Key   string
	Name  string
	Items int
}

// FormValues are the form's fields as typed.
type FormValues struct {
	ClientID     string
	Title        string
	Instructions string
	DueOn        string // YYYY-MM-DD
	Reminders    bool
	Items        []string
}

// Item returns the i-th item as typed ("" past the end).
func (v FormValues) Item(i int) string {
	if i < len(v.Items) {
		return v.Items[i]
	}
	return ""
}

// ShowView is a request's page.
type ShowView struct {
	BasePath        string
	URL             string
	Title           string
	Status          Badge
	ClientName      string
	ClientURL       string
	Due             string // in words, with the weekday
	DueShort        string
	Overdue         bool
	Instructions    string
	CreatedBy       string
	Created         string
	Reminders       bool
	RejectionReason string
	CancelReason    string
	ReviewedBy      string
	Reviewed        string

	Items  []ItemView
	Other  []UploadView // uploads against no item
	Events []EventView

	CanReview bool
	CanCancel bool
	CanUpload bool
	Review    ReviewForm
	Upload    UploadForm
}

// ItemView is an expected item with what was uploaded against it.
type ItemView struct {
	Label   string
	Uploads []UploadView
}

// UploadView is a document uploaded against the request.
type UploadView struct {
	Name        string
	URL         string
	DownloadURL string
	TypeLabel   string
	Size        string
	UploadedBy  string
	When        string
	Archived    bool
}

// EventView is a step of the request's history.
type EventView struct {
	Label string
	Actor string
	Note  string
	When  string
}

// ReviewForm is the reject form as typed, with its error.
type ReviewForm struct {
	Reason string
	Error  string
}

// UploadForm uploads a file on the client's behalf.
type UploadForm struct {
	Action   string
	MaxBytes int64
	MaxLabel string
	Accept   string
	Items    []components.Option
	Error    string
}

// ClientCard is the Requests card on a client's page.
type ClientCard struct {
	Total    int
	Rows     []Row
	ListURL  string
	NewURL   string
	CanWrite bool
}
