package handlers

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/layouts"
)

// isHTMX reports whether the request came from htmx.
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// render writes a component. It renders into a buffer first, so a render
// error still becomes a 500, and commits the request transaction before
// the first byte is written, so the user never sees success for a change
// that was not saved.
func (h *Handlers) render(c echo.Context, status int, comp templ.Component) error {
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // do not keep unusually large pages around
			bufferPool.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	if err := store.CommitRequest(c.Request().Context()); err != nil {
		// A form shown again with its errors after a failed statement has
		// nothing to save; anything else is a real failure.
		if status < 400 || !errors.Is(err, store.ErrTxAborted) {
			return err
		}
	}
	h.debugHeaders(c)
	// With its length known, net/http sends the page as is, headers and
	// body in one write, instead of in chunks (a write less per page).
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// bufferPool recycles render buffers: pages are rendered whole before
// anything is written, and reusing the memory saves allocation and GC work
// on every request.
var bufferPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// redirect commits and sends the browser (or htmx) to url.
func (h *Handlers) redirect(c echo.Context, url string) error {
	if err := store.CommitRequest(c.Request().Context()); err != nil {
		return err
	}
	h.debugHeaders(c)
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// debugHeaders exposes the request's SQL round trips outside production,
// for tests and the load script.
func (h *Handlers) debugHeaders(c echo.Context) {
	if h.Config.Production() {
		return
	}
	if n := roundTripsFrom(c); n != nil {
		c.Response().Header().Set("X-Debug-SQL-Roundtrips", strconv.FormatInt(n.Load(), 10))
	}
}

// flash queues a message for the next page.
func (h *Handlers) flash(c echo.Context, kind, msg string) {
	h.Sessions.AddFlash(c.Request().Context(), kind, msg)
}

// shell builds the frame's view model for the current request.
func (h *Handlers) shell(c echo.Context, title, active string) layouts.Shell {
	ctx := c.Request().Context()
	s := layouts.Shell{Title: title, Nav: layouts.Nav{Active: active}}
	p := tenant.PrincipalFrom(ctx)
	if p == nil {
		return s
	}
	s.User = &layouts.User{
		Name: p.User.Name, Email: p.User.Email, Initials: initials(p.User.Name),
		IsPlatformAdmin: p.User.IsPlatformAdmin, Unverified: p.User.EmailVerifiedAt == nil,
	}
	for _, o := range p.Orgs {
		s.Orgs = append(s.Orgs, layouts.Org{Slug: o.Slug, Name: o.Name, Role: roleLabel(o.Role)})
	}
	if p.Org != nil && p.Membership != nil {
		s.Org = &layouts.Org{Slug: p.Org.Slug, Name: p.Org.Name, Role: p.Membership.RoleLabel()}
		perms := p.Membership.Permissions
		s.Nav.Clients = perms.Has(tenant.ClientsRead)
		s.Nav.Documents = perms.Has(tenant.DocumentsRead)
		s.Nav.Agents = perms.Has(tenant.AgentsUse)
		s.Nav.Approvals = perms.Has(tenant.AgentsApprove)
		s.Nav.Usage = perms.Has(tenant.AgentsManage)
		s.Nav.Members = perms.Has(tenant.MembersRead)
		s.Nav.Settings = perms.Has(tenant.OrganizationManage)
		s.Nav.Audit = perms.Has(tenant.AuditRead)
	}
	if f := h.Sessions.PopFlash(ctx); f != nil {
		s.Flash = &layouts.Flash{Kind: f.Kind, Message: f.Message}
	}
	return s
}

func roleLabel(key string) string {
	if r, ok := tenant.Builtin(key); ok {
		return r.Label
	}
	return "Custom role"
}

func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// pathUUID parses a UUID path parameter; anything else is 404, like an id
// that does not exist. Only the canonical 36-character form is accepted, so
// one resource has one address.
func pathUUID(c echo.Context, name string) (uuid.UUID, error) {
	s := c.Param(name)
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, echo.ErrNotFound
	}
	return id, nil
}

// appendUUID appends id in its canonical form, as id.String() writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	return append(b, s[:]...)
}

// principal returns the request's principal (set by the auth middleware).
func principal(c echo.Context) *tenant.Principal { return tenant.PrincipalFrom(c.Request().Context()) }

// templComponent is templ.Component, named for brevity in signatures.
type templComponent = templ.Component
