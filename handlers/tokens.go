package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	tokensview "accute/views/pages/apitokens"
)

// tokenExpiries are the expiry choices of the create-token form (days; 0
// means never).
var tokenExpiries = []struct {
	days  int
	label string
}{{30, "In 30 days"}, {90, "In 90 days"}, {365, "In one year"}, {0, "Never"}}

// TokensList shows the user's personal access tokens and the form to
// create one.
func (h *Handlers) TokensList(c echo.Context) error {
	v, err := h.tokensView(c, tokenForm{Expires: "90"})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, tokensview.TokensPage(h.shell(c, "API tokens", "account"), v))
}

type tokenForm struct {
	Name, Org, Role, Expires string
	Errors                   form.Errors
}

// TokensCreate creates a token and shows it, this once, on the page it
// answers (201); it is never stored anywhere it could be read back.
func (h *Handlers) TokensCreate(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	f := tokenForm{Name: c.FormValue("name"), Org: c.FormValue("organization"), Role: c.FormValue("role"), Expires: c.FormValue("expires")}
	in := auth.PATInput{Name: f.Name, Role: f.Role}
	errs := form.Errors{}
	// The organization must be one of the user's own (from the principal,
	// loaded from the database for this request); CreatePAT checks the
	// membership again inside the organization's transaction.
	for _, o := range p.Orgs {
		if o.Slug == f.Org {
			in.OrgID = o.ID
		}
	}
	if in.OrgID == uuid.Nil {
		errs.Add("organization", "Choose one of your organizations.")
	}
	days, err := strconv.Atoi(f.Expires)
	if err != nil || days < 0 || days > 365 {
		errs.Add("expires_at", "Choose an expiry.")
	} else if days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		in.ExpiresAt = &t
	}
	var token string
	var row db.ApiToken
	if errs.Any() {
		// Report the fields' problems too, all at once.
		for k, v := range in.Validate() {
			errs.Add(k, v)
		}
	} else {
		token, row, err = h.APITokens.CreatePAT(ctx, tenant.User{ID: p.User.ID, Email: p.User.Email}, in)
		var fe form.Errors
		if errors.As(err, &fe) {
			errs = fe
		} else if err != nil {
			return err
		}
	}
	if errs.Any() {
		f.Errors = errs
		v, err := h.tokensView(c, f)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, tokensview.TokensPage(h.shell(c, "API tokens", "account"), v))
	}
	v, err := h.tokensView(c, tokenForm{Expires: "90"})
	if err != nil {
		return err
	}
	v.Created = &tokensview.Created{Token: token, Name: row.Name, OrgName: orgName(p, row.OrganizationID)}
	return h.render(c, http.StatusCreated, tokensview.TokensPage(h.shell(c, "API tokens", "account"), v))
}

// TokensRevoke revokes one of the user's tokens.
func (h *Handlers) TokensRevoke(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	tok, err := h.APITokens.RevokePAT(c.Request().Context(), tenant.User{ID: p.User.ID, Email: p.User.Email}, id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The token “"+tok.Name+"” is revoked: it no longer works.")
	return h.redirect(c, "/account/tokens")
}

func orgName(p *tenant.Principal, id uuid.UUID) string {
	for _, o := range p.Orgs {
		if o.ID == id {
			return o.Name
		}
	}
	return ""
}

// tokensView builds the page: the user's tokens and the form.
func (h *Handlers) tokensView(c echo.Context, f tokenForm) (tokensview.TokensView, error) {
	p := principal(c)
	rows, err := h.APITokens.ListPATs(c.Request().Context(), p.User.ID)
	if err != nil {
		return tokensview.TokensView{}, err
	}
	v := tokensview.TokensView{Form: tokensview.FormView{Name: f.Name, Errors: f.Errors}}
	if f.Org == "" && len(p.Orgs) > 0 {
		f.Org = p.Orgs[0].Slug
	}
	for _, o := range p.Orgs {
		v.Form.Orgs = append(v.Form.Orgs, components.Option{Value: o.Slug, Label: o.Name, Selected: o.Slug == f.Org})
	}
	if f.Role == "" {
		f.Role = tenant.RoleStaff
	}
	for _, r := range tenant.BuiltinRoles {
		v.Form.Roles = append(v.Form.Roles, components.Option{Value: r.Key, Label: r.Label + " — " + r.Description, Selected: r.Key == f.Role})
	}
	for _, e := range tokenExpiries {
		val := strconv.Itoa(e.days)
		v.Form.Expiries = append(v.Form.Expiries, components.Option{Value: val, Label: e.label, Selected: val == f.Expires})
	}
	now := time.Now()
	for _, r := range rows {
		row := tokensview.Row{
			Name: r.Name, Hint: r.TokenHint, OrgName: r.OrganizationName, Role: roleLabel(r.Role),
			Created: r.CreatedAt.Format("2 Jan 2006"), Expires: "Never", LastUsed: "Never", Status: "active",
			RevokeURL: "/account/tokens/" + r.ID.String() + "/revoke",
		}
		if r.Role == tenant.RoleCustom {
			row.Role = "Custom role"
		}
		if r.ExpiresAt != nil {
			row.Expires = r.ExpiresAt.Format("2 Jan 2006")
			if !now.Before(*r.ExpiresAt) {
				row.Status = "expired"
			}
		}
		if r.LastUsedAt != nil {
			row.LastUsed = r.LastUsedAt.Format("2 Jan 2006, 15:04")
		}
		if r.RevokedAt != nil {
			row.Status = "revoked"
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}
