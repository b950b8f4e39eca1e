package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	securityview "accute/views/pages/security"
	settingsview "accute/views/pages/settings"
)

// Two-factor authentication in the account area: status, set-up with a QR
// code, backup codes, turning it off; and the organization policy that
// requires it.

const securityURL = "/account/security"

// SecurityShow shows the account's two-factor status.
func (h *Handlers) SecurityShow(c echo.Context) error {
	v, err := h.securityView(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, securityview.SecurityPage(h.shell(c, "Security", "account"), v))
}

func (h *Handlers) securityView(c echo.Context) (securityview.SecurityView, error) {
	p := principal(c)
	st, err := h.MFA.Status(c.Request().Context(), p.User.ID)
	if err != nil {
		return securityview.SecurityView{}, err
	}
	v := securityview.SecurityView{
		Enabled: st.Enabled, Pending: st.Pending, BackupCodesLeft: st.BackupCodesLeft, RequiredBy: st.RequiredBy,
		Next:       safeNext(c.QueryParam("next")),
		Disable:    securityview.CodeForm{Action: securityURL + "/mfa/disable"},
		Regenerate: securityview.CodeForm{Action: securityURL + "/mfa/backup-codes"},
	}
	if st.Enabled {
		v.EnabledAt = st.EnabledAt.Format("2 Jan 2006")
	}
	if len(st.RequiredBy) > 0 {
		v.Disable.Blocked = strings.Join(st.RequiredBy, ", ") + " " + requireVerb(len(st.RequiredBy)) +
			" two-factor authentication of its members, so it stays on while you belong there."
	}
	return v, nil
}

func requireVerb(n int) string {
	if n == 1 {
		return "requires"
	}
	return "require"
}

// MFASetupStart creates a new secret and goes to the set-up page.
func (h *Handlers) MFASetupStart(c echo.Context) error {
	p := principal(c)
	err := h.MFA.StartEnrolment(c.Request().Context(), p.User.ID)
	if errors.Is(err, auth.ErrMFAAlreadyEnabled) {
		h.flash(c, "info", "Two-factor authentication is already on.")
		return h.redirect(c, securityURL)
	}
	if err != nil {
		return err
	}
	return h.redirect(c, withNextParam(securityURL+"/mfa", safeNext(c.FormValue("next"))))
}

// MFASetupShow shows the QR code and asks for the first code.
func (h *Handlers) MFASetupShow(c echo.Context) error {
	p := principal(c)
	en, err := h.MFA.PendingEnrolment(c.Request().Context(), p.User.ID, p.User.Email)
	switch {
	case errors.Is(err, auth.ErrNoEnrolment), errors.Is(err, auth.ErrMFAAlreadyEnabled):
		return c.Redirect(http.StatusSeeOther, withNextParam(securityURL, safeNext(c.QueryParam("next"))))
	case err != nil:
		return err
	}
	v := securityview.SetupView{QRDataURI: en.QRDataURI, Secret: en.Secret, Next: safeNext(c.QueryParam("next"))}
	return h.render(c, http.StatusOK, securityview.SetupPage(h.shell(c, "Set up two-factor authentication", "account"), v))
}

// MFASetupConfirm checks the first code, turns two-factor authentication
// on and shows the backup codes once.
func (h *Handlers) MFASetupConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	next := safeNext(c.FormValue("next"))
	codes, err := h.MFA.ConfirmEnrolment(ctx, p.User.ID, p.User.Email, c.FormValue("code"))
	if msg, status := codeError(err); msg != "" {
		setRetryAfter(c, err)
		en, perr := h.MFA.PendingEnrolment(ctx, p.User.ID, p.User.Email)
		if perr != nil {
			return perr
		}
		v := securityview.SetupView{QRDataURI: en.QRDataURI, Secret: en.Secret, Next: next, Error: msg}
		if isHTMX(c) {
			return h.render(c, status, securityview.SetupForm(v))
		}
		return h.render(c, status, securityview.SetupPage(h.shell(c, "Set up two-factor authentication", "account"), v))
	}
	switch {
	case errors.Is(err, auth.ErrNoEnrolment), errors.Is(err, auth.ErrMFAAlreadyEnabled):
		h.flash(c, "info", "There is no set-up in progress.")
		return h.redirect(c, securityURL)
	case err != nil:
		return err
	}
	v := securityview.BackupCodesView{
		Title: "Two-factor authentication is on", Codes: codes,
		Intro:       "From now on you sign in with your password and a code from your app. If you lose your phone, a backup code gets you in.",
		ContinueURL: securityURL, Continue: "I have saved my codes",
	}
	if next != "" {
		v.ContinueURL, v.Continue = next, "I have saved my codes, continue"
	}
	return h.showBackupCodes(c, v)
}

// MFABackupCodes replaces the backup codes after a current code.
func (h *Handlers) MFABackupCodes(c echo.Context) error {
	p := principal(c)
	codes, err := h.MFA.RegenerateBackupCodes(c.Request().Context(), p.User.ID, p.User.Email, c.FormValue("code"))
	if msg, status := codeError(err); msg != "" {
		setRetryAfter(c, err)
		return h.securityFormError(c, status, func(v *securityview.SecurityView) templComponent {
			v.Regenerate.Error = msg
			return securityview.RegenerateForm(v.Regenerate)
		})
	}
	if err != nil {
		return err
	}
	return h.showBackupCodes(c, securityview.BackupCodesView{
		Title: "New backup codes", Codes: codes, Intro: "Your previous backup codes no longer work.",
		ContinueURL: securityURL, Continue: "I have saved my codes",
	})
}

// MFADisable turns two-factor authentication off after a current code.
func (h *Handlers) MFADisable(c echo.Context) error {
	p := principal(c)
	err := h.MFA.Disable(c.Request().Context(), p.User.ID, p.User.Email, c.FormValue("code"))
	var required *auth.MFARequiredError
	switch {
	case errors.As(err, &required):
		// The page hides the form in this case; a hand-made request gets the
		// same explanation.
		return h.securityFormError(c, http.StatusConflict, func(v *securityview.SecurityView) templComponent {
			return securityview.DisableForm(v.Disable)
		})
	case errors.Is(err, auth.ErrMFANotEnabled):
		h.flash(c, "info", "Two-factor authentication is already off.")
		return h.redirect(c, securityURL)
	}
	if msg, status := codeError(err); msg != "" {
		setRetryAfter(c, err)
		return h.securityFormError(c, status, func(v *securityview.SecurityView) templComponent {
			v.Disable.Error = msg
			return securityview.DisableForm(v.Disable)
		})
	}
	if err != nil {
		return err
	}
	h.clearRememberedDevice(c)
	h.flash(c, "success", "Two-factor authentication is off.")
	return h.redirect(c, securityURL)
}

// securityFormError answers a failed form of the security page: the form
// fragment for HTMX, the whole page otherwise.
func (h *Handlers) securityFormError(c echo.Context, status int, fragment func(v *securityview.SecurityView) templComponent) error {
	v, err := h.securityView(c)
	if err != nil {
		return err
	}
	frag := fragment(&v)
	if isHTMX(c) {
		return h.render(c, status, frag)
	}
	return h.render(c, status, securityview.SecurityPage(h.shell(c, "Security", "account"), v))
}

func (h *Handlers) showBackupCodes(c echo.Context, v securityview.BackupCodesView) error {
	// Secrets shown once must not be cached anywhere.
	c.Response().Header().Set("Cache-Control", "no-store")
	if isHTMX(c) {
		return h.render(c, http.StatusOK, securityview.BackupCodesCard(v))
	}
	return h.render(c, http.StatusOK, securityview.BackupCodesPage(h.shell(c, "Security", "account"), v))
}

// codeError maps a code check's error to a message and status; "" when err
// is not about the code.
func codeError(err error) (string, int) {
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		return "Too many wrong codes. Try again in " + retryWaitText(te.RetryAfterSeconds()) + ".", http.StatusTooManyRequests
	case errors.Is(err, auth.ErrInvalidCode):
		return "That code is not valid. Enter the current code from your app, or an unused backup code.", http.StatusUnprocessableEntity
	}
	return "", 0
}

// setRetryAfter adds Retry-After to a throttled answer.
func setRetryAfter(c echo.Context, err error) {
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
	}
}

// withNext appends ?next= when next is set.
func withNextParam(path, next string) string {
	if next == "" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// requireMFA enforces the organization's "require MFA" policy: a member
// without two-factor authentication is taken to set it up before any page
// of the organization. It runs after RequireOrg (which answers outsiders)
// and needs no query: app_enter reports both flags.
func (h *Handlers) requireMFA(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		if p == nil || p.Org == nil || p.Membership == nil || !p.Org.RequireMFA || p.User.MFA {
			return next(c)
		}
		store.RollbackRequest(c.Request().Context())
		back := "/o/" + p.Org.Slug
		if c.Request().Method == http.MethodGet {
			back = c.Request().URL.RequestURI()
		}
		h.flash(c, "info", p.Org.Name+" requires two-factor authentication. Set it up to continue.")
		return h.redirect(c, withNextParam(securityURL, back))
	}
}

// SettingsMFAPolicy turns the organization's "require MFA" policy on or
// off.
func (h *Handlers) SettingsMFAPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	vals, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	require := false
	for _, v := range vals["require_mfa"] { // a hidden "0", then the checkbox's "1"
		require = require || v == "1" || v == "on"
	}
	changed, err := h.MFA.SetPolicy(ctx, tenant.ActorOf(p), require, p.User.MFA)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		c.Set(mfaPolicyErrorKey, fe["require_mfa"]) // shown by mfaPolicyView
		if isHTMX(c) {
			v, err := h.mfaPolicyView(c)
			if err != nil {
				return err
			}
			return h.render(c, http.StatusUnprocessableEntity, securityview.PolicyForm(v))
		}
		comp, err := h.settingsPage(c, settingsview.RenameForm{Name: p.Org.Name})
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, comp)
	}
	if err != nil {
		return err
	}
	switch {
	case !changed:
		h.flash(c, "info", "The two-factor policy is unchanged.")
	case require:
		h.flash(c, "success", "Two-factor authentication is now required. Members without it will set it up on their next visit.")
	default:
		h.flash(c, "success", "Two-factor authentication is no longer required.")
	}
	return h.redirect(c, orgURL(c, "/settings"))
}

// mfaPolicyErrorKey carries a refused policy change's message into the
// settings page drawn for it.
const mfaPolicyErrorKey = "mfa_policy_error"

// mfaPolicyView is the policy card of the settings page.
func (h *Handlers) mfaPolicyView(c echo.Context) (securityview.PolicyView, error) {
	p := principal(c)
	n, err := h.MFA.MembersWithoutMFA(c.Request().Context(), p.Org.ID)
	if err != nil {
		return securityview.PolicyView{}, err
	}
	msg, _ := c.Get(mfaPolicyErrorKey).(string)
	return securityview.PolicyView{Action: orgURL(c, "/settings/mfa"), Required: p.Org.RequireMFA, ActorHasMFA: p.User.MFA, MembersWithoutMFA: n, Error: msg}, nil
}
