package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/store"
	securityview "accute/views/pages/security"
)

// Sessions and devices: where the user is signed in, with revoke and
// "sign out everywhere else".

const sessionsURL = "/account/sessions"

// SessionsList shows the user's active sessions.
func (h *Handlers) SessionsList(c echo.Context) error {
	p := principal(c)
	devices, err := h.Sessions.Devices(c.Request().Context(), p.User.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	v := securityview.SessionsView{}
	for _, d := range devices {
		row := securityview.SessionRow{
			Device: d.Device, IP: d.IP, Current: d.Current,
			SignedIn: d.CreatedAt.Format("2 Jan 2006, 15:04"), SignedInTitle: d.CreatedAt.Format(time.RFC3339),
			LastSeen: sessionAge(now, d.LastSeen), LastSeenTitle: d.LastSeen.Format(time.RFC3339),
			RevokeURL: sessionsURL + "/" + d.ID.String() + "/revoke",
		}
		if row.IP == "" {
			row.IP = "Unknown"
		}
		if d.Current {
			row.LastSeen = "Now"
		} else {
			v.Others++
		}
		v.Sessions = append(v.Sessions, row)
	}
	return h.render(c, http.StatusOK, securityview.SessionsPage(h.shell(c, "Sessions and devices", "account"), v))
}

// SessionsRevoke signs one other session out.
func (h *Handlers) SessionsRevoke(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	err = h.Sessions.Revoke(c.Request().Context(), p.User.ID, p.User.Email, id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "That session was signed out.")
	return h.redirect(c, sessionsURL)
}

// SessionsRevokeOthers signs out every session but this one.
func (h *Handlers) SessionsRevokeOthers(c echo.Context) error {
	p := principal(c)
	n, err := h.Sessions.RevokeOthers(c.Request().Context(), p.User.ID, p.User.Email)
	if err != nil {
		return err
	}
	switch n {
	case 0:
		h.flash(c, "info", "You were not signed in anywhere else.")
	case 1:
		h.flash(c, "success", "1 other session was signed out.")
	default:
		h.flash(c, "success", strconv.FormatInt(n, 10)+" other sessions were signed out.")
	}
	return h.redirect(c, sessionsURL)
}

// timeAgo says how long ago t was, in plain words.
func sessionAge(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "Just now"
	case d < time.Hour:
		return sessionPlural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return sessionPlural(int(d/time.Hour), "hour") + " ago"
	case d < 30*24*time.Hour:
		return sessionPlural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.Format("2 Jan 2006")
}

func sessionPlural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
