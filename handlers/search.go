package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"accute/internal/documents"
	"accute/views/components"
	searchview "accute/views/pages/search"
)

// searchParams reads the search page's query and filters; errors go to
// errs by field. (The API reads its own parameter names, client_id for
// client, in handlers/api; both parse dates with SearchFilter.SetDates.)
func searchParams(get func(string) string, errs map[string]string) documents.SearchFilter {
	f := documents.SearchFilter{Query: documents.CleanQuery(get("q"))}
	if v := get("client"); v != "" {
		if id, ok := optionalUUID(v); ok {
			f.ClientID = id
		} else {
			errs["client"] = "Choose a client from the list."
		}
	}
	if v := get("type"); v != "" {
		known := false
		for _, t := range documents.Types {
			known = known || t.Key == v
		}
		if known {
			f.Type = v
		} else {
			errs["type"] = "Choose a type from the list."
		}
	}
	for k, msg := range f.SetDates(get("from"), get("to")) {
		errs[k] = msg
	}
	f.Page, _ = strconv.Atoi(get("page"))
	return f
}

// DocumentsSearch is full-text search across the organization's documents.
func (h *Handlers) DocumentsSearch(c echo.Context) error {
	ctx := c.Request().Context()
	org := principal(c).Org.ID
	errs := map[string]string{}
	f := searchParams(c.QueryParam, errs)
	clientOpts, err := h.clientOptions(c, f.ClientID, "Any client")
	if err != nil {
		return err
	}
	base := docsBase(c)
	v := searchview.View{
		Action: base + "/search", DocumentsURL: base, Query: f.Query, Type: f.Type,
		From: c.QueryParam("from"), To: c.QueryParam("to"), Clients: clientOpts[1:], Errors: errs,
	}
	if f.ClientID != nil {
		v.ClientID = f.ClientID.String()
	}
	for _, t := range documents.Types {
		v.Types = append(v.Types, components.Option{Value: t.Key, Label: t.Label, Selected: t.Key == f.Type})
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else if f.Query != "" {
		res, err := h.Documents.Search(ctx, org, f)
		if err != nil {
			return err
		}
		v.Searched = true
		for _, hit := range res.Hits {
			out := searchview.Hit{
				DocumentURL: base + "/" + hit.DocumentID.String(), Name: hit.DocumentName, TypeLabel: typeLabel(hit.ContentType),
				Client: hit.ClientName, Locator: hit.Ref, SnippetHTML: documents.SnippetHTML(hit.Snippet),
				Uploaded: hit.Created.Format(clientDateLayout),
			}
			if hit.ClientID != nil {
				out.ClientURL = clientsBase(c) + "/" + hit.ClientID.String()
			}
			v.Hits = append(v.Hits, out)
		}
		v.Capped = res.Capped
		v.Pager = components.Pager{Page: res.Page, PerPage: documents.SearchPerPage, Total: res.Total, Capped: res.Capped, URL: v.PageURL}
	}
	return h.render(c, status, searchview.Page(h.shell(c, "Search documents", "documents"), v))
}
