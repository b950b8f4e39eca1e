package handlers

import (
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	settingsview "accute/views/pages/settings"
)

// RolesNew shows the form for a new custom role.
func (h *Handlers) RolesNew(c echo.Context) error {
	return h.render(c, http.StatusOK, h.rolePage(c, uuid.Nil, 0, tenant.RoleInput{}, nil))
}

// RolesCreate creates a custom role.
func (h *Handlers) RolesCreate(c echo.Context) error {
	in := roleInput(c)
	r, err := h.Orgs.CreateRole(c.Request().Context(), tenant.ActorOf(principal(c)), in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(c.Request().Context())
		return h.roleFormAgain(c, uuid.Nil, 0, in, fe)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Role “"+r.Name+"” created. Give it to members on the Team page.")
	return h.redirect(c, orgURL(c, "/settings"))
}

// RolesEdit shows a custom role's form.
func (h *Handlers) RolesEdit(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, members, err := h.Orgs.RoleDetails(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	in := tenant.RoleInput{Name: r.Name, Description: r.Description, Permissions: r.Permissions}
	return h.render(c, http.StatusOK, h.rolePage(c, id, members, in, nil))
}

// RolesUpdate saves a custom role; its members' permissions change with
// their next request.
func (h *Handlers) RolesUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	in := roleInput(c)
	r, err := h.Orgs.UpdateRole(ctx, tenant.ActorOf(principal(c)), id, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		_, members, err := h.Orgs.RoleDetails(ctx, principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		return h.roleFormAgain(c, id, members, in, fe)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Role “"+r.Name+"” saved.")
	return h.redirect(c, orgURL(c, "/settings"))
}

// RolesDelete deletes a custom role nobody holds.
func (h *Handlers) RolesDelete(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Orgs.DeleteRole(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return h.orgRefusal(c, err, "Role not deleted", orgBackLink{URL: orgURL(c, "/roles/"+id.String()+"/edit"), Label: "Back to the role"})
	}
	h.flash(c, "success", "Role “"+r.Name+"” deleted.")
	return h.redirect(c, orgURL(c, "/settings"))
}

func roleInput(c echo.Context) tenant.RoleInput {
	in := tenant.RoleInput{Name: c.FormValue("name"), Description: c.FormValue("description")}
	if params, err := c.FormParams(); err == nil {
		in.Permissions = params["permissions"]
	}
	return in
}

// roleFormAgain shows the role form with its errors: the form alone for
// HTMX, the page otherwise.
func (h *Handlers) roleFormAgain(c echo.Context, id uuid.UUID, members int, in tenant.RoleInput, errs form.Errors) error {
	v := h.roleFormView(c, id, members, in, errs)
	if isHTMX(c) {
		return h.render(c, http.StatusUnprocessableEntity, settingsview.RoleForm(v))
	}
	return h.render(c, http.StatusUnprocessableEntity, settingsview.RolePage(h.shell(c, v.Title, "settings"), v))
}

func (h *Handlers) rolePage(c echo.Context, id uuid.UUID, members int, in tenant.RoleInput, errs form.Errors) templComponent {
	v := h.roleFormView(c, id, members, in, errs)
	return settingsview.RolePage(h.shell(c, v.Title, "settings"), v)
}

// roleFormView builds the role editor; id is uuid.Nil for a new role.
func (h *Handlers) roleFormView(c echo.Context, id uuid.UUID, members int, in tenant.RoleInput, errs form.Errors) settingsview.RoleFormView {
	v := settingsview.RoleFormView{
		Title: "New role", IsNew: id == uuid.Nil, Action: orgURL(c, "/roles"), CancelURL: orgURL(c, "/settings"),
		Members: members, Name: in.Name, Description: in.Description, Errors: errs,
	}
	if !v.IsNew {
		v.Title = "Edit role"
		v.Action = orgURL(c, "/roles/"+id.String())
		v.DeleteURL = orgURL(c, "/roles/"+id.String()+"/delete")
	}
	for _, p := range tenant.AllPermissions {
		v.Permissions = append(v.Permissions, settingsview.PermissionChoice{
			Key: string(p.Key), Label: p.Label, Description: p.Description, Checked: slices.Contains(in.Permissions, string(p.Key)),
		})
	}
	return v
}
