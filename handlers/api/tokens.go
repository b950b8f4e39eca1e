package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/form"
)

// TokenRequest is the body of POST /api/v1/auth/token.
type TokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// RefreshRequest is the body of POST /api/v1/auth/refresh and /auth/revoke.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// TokenResponse is the data of a successful token or refresh call.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func tokenResponse(p auth.TokenPair) TokenResponse {
	return TokenResponse{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "Bearer", ExpiresIn: p.ExpiresIn}
}

// throttled answers 429 with Retry-After for a throttled login or code.
func throttled(c echo.Context, err error) error {
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
	} else {
		c.Response().Header().Set("Retry-After", "900")
	}
	return errorf(http.StatusTooManyRequests, "Too many failed attempts. Wait before trying again (see Retry-After).")
}

// TokenCreate signs a user in with e-mail, password and, when the account
// has two-factor authentication, a code ("otp": a TOTP code or a backup
// code), and answers an access token and a refresh token. It is throttled
// exactly like the web login (same counters).
func (a *API) TokenCreate(c echo.Context) error {
	ctx := c.Request().Context()
	var in TokenRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	errs := form.Errors{}
	if auth.NormalizeEmail(in.Email) == "" {
		errs.Add("email", "This field is required.")
	}
	if in.Password == "" {
		errs.Add("password", "This field is required.")
	}
	if errs.Any() {
		return mapError(errs)
	}
	// The same order as the web login: single sign-on first, so a
	// password is never checked for an address that must use SSO.
	if a.SSO != nil {
		if msg, refused := a.SSO.RefusePassword(ctx, in.Email); refused {
			return errorf(http.StatusForbidden, msg)
		}
	}
	user, err := a.Login.Authenticate(ctx, in.Email, in.Password)
	switch {
	case errors.Is(err, auth.ErrThrottled):
		return throttled(c, err)
	case errors.Is(err, auth.ErrInvalidCredentials):
		return a.unauthorized(c, false, "That e-mail and password do not match an account.")
	case errors.Is(err, auth.ErrSuspended):
		return a.unauthorized(c, false, "This account is suspended.")
	case err != nil:
		return err
	}
	if a.MFA != nil {
		enabled, err := a.MFA.Enabled(ctx, user.ID)
		if err != nil {
			return err
		}
		if enabled {
			if err := a.secondFactor(c, user.ID, user.Email, in.OTP); err != nil {
				return err
			}
		}
	}
	pair, err := a.Tokens.IssueTokens(ctx, user)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, tokenResponse(pair))
}

func (a *API) secondFactor(c echo.Context, userID uuid.UUID, email, otp string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="accute"`)
	if otp == "" {
		return &Error{Status: http.StatusUnauthorized, Message: "This account uses two-factor authentication: send the code from the authenticator app (or a backup code) as \"otp\".",
			Details: map[string]string{"otp": "Required for this account."}}
	}
	_, err := a.MFA.Verify(c.Request().Context(), userID, email, otp)
	switch {
	case errors.Is(err, auth.ErrThrottled):
		return throttled(c, err)
	case errors.Is(err, auth.ErrInvalidCode):
		return &Error{Status: http.StatusUnauthorized, Message: "The two-factor code is not valid.",
			Details: map[string]string{"otp": "That code is not valid."}}
	}
	return err
}

// TokenRefresh exchanges a refresh token for a new pair (the old refresh
// token is used up).
func (a *API) TokenRefresh(c echo.Context) error {
	var in RefreshRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		return mapError(form.Errors{"refresh_token": "This field is required."})
	}
	pair, err := a.Tokens.Refresh(c.Request().Context(), in.RefreshToken)
	switch {
	case errors.Is(err, auth.ErrRefreshTokenReused):
		return a.unauthorized(c, true, "This refresh token was already used, so it may have leaked: every token of this sign-in is now revoked. Sign in again.")
	case errors.Is(err, auth.ErrInvalidRefreshToken):
		return a.unauthorized(c, true, "The refresh token is not valid or has expired.")
	case err != nil:
		return err
	}
	return respond(c, http.StatusOK, tokenResponse(pair))
}

// TokenRevoke ends a refresh token's sign-in (its family). It answers the
// same for unknown tokens (RFC 7009).
func (a *API) TokenRevoke(c echo.Context) error {
	var in RefreshRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		return mapError(form.Errors{"refresh_token": "This field is required."})
	}
	if err := a.Tokens.RevokeRefresh(c.Request().Context(), in.RefreshToken); err != nil && !errors.Is(err, auth.ErrInvalidRefreshToken) {
		return err
	}
	return respond(c, http.StatusOK, map[string]bool{"revoked": true})
}
