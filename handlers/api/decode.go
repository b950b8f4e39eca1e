package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/internal/clients"
	"accute/internal/form"
	"accute/internal/tenant"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// bind reads the request's JSON body into dst (a pointer to a struct).
func bind(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "Send the body as JSON, with Content-Type: application/json.")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes))
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "The body could not be read.")
	}
	return Decode(body, dst)
}

// Decode parses body strictly into dst: one JSON object, no unknown fields,
// values of the right types, nothing after it. Every failure is an *Error
// with status 400 and a message that says what is wrong (and where).
func Decode(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, "The body is empty: send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if trailing(dec) {
			return errorf(http.StatusBadRequest, "Malformed JSON: unexpected data after the object.")
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, fmt.Sprintf("Malformed JSON at byte %d: %s.", syntax.Offset, syntax.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "Malformed JSON: the body ends too early.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errorf(http.StatusBadRequest, fmt.Sprintf("The body must be a JSON object, not %s.", typ.Value))
		}
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.",
			Details: map[string]string{typ.Field: "Must be " + jsonType(typ.Type.String()) + ", not " + typ.Value + "."}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("Unknown field %q.", field),
			Details: map[string]string{field: "Unknown field."}}
	}
	return errorf(http.StatusBadRequest, "Malformed JSON: "+err.Error()+".")
}

// trailing reports whether anything but white space follows the value.
func trailing(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err != io.EOF
}

func jsonType(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int32", "int64", "float64":
		return "a number"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return "an object"
}

func asError(err error, target **Error) bool { return errors.As(err, target) }

// mapError turns domain refusals into API answers; other errors go to the
// error handler as they are (form.Errors become 400 with details,
// store.ErrNotFound 404, store.ErrConflict 409).
func mapError(err error) error {
	var re *tenant.RuleError
	var fe form.Errors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: fe}
	case errors.As(err, &re):
		switch re.Kind {
		case tenant.RuleForbidden:
			return errorf(http.StatusForbidden, re.Message)
		case tenant.RuleConflict:
			return errorf(http.StatusConflict, re.Message)
		default:
			return errorf(http.StatusBadRequest, re.Message)
		}
	case errors.Is(err, clients.ErrArchived):
		return errorf(http.StatusConflict, "This client is archived: restore it before changing it.")
	}
	return err
}
