package handlers

// Temporary: handlers being written in parallel; each is replaced by its
// resource file.

import "github.com/labstack/echo/v4"

func (h *Handlers) ClientsList(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsNew(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsCreate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsShow(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsEdit(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsUpdate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsArchive(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ClientsRestore(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ContactsCreate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) ContactsDelete(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) MembersList(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) MembersUpdateRole(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) MembersRemove(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) MembersLeave(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) InvitationsCreate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) InvitationsRevoke(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) InvitationsShow(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) InvitationsAccept(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) SettingsShow(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) SettingsUpdate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) RolesNew(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) RolesCreate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) RolesEdit(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) RolesUpdate(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) RolesDelete(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AuditList(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminDashboard(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminOrganizations(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminUsers(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminSuspendUser(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminReactivateUser(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminMailbox(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminMailShow(c echo.Context) error { return echo.ErrNotFound }

func (h *Handlers) AdminAudit(c echo.Context) error { return echo.ErrNotFound }
