package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"accute/handlers/api"
	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/tenant"
)

// The OpenAPI validator is built once per test binary from the document the
// server serves.
var openapiValidator = sync.OnceValues(func() (validator.Validator, error) {
	spec, err := api.Document()
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		var msgs []string
		for _, e := range verrs {
			msgs = append(msgs, e.Message+": "+e.Reason)
		}
		return nil, fmt.Errorf("the OpenAPI document is invalid: %s", strings.Join(msgs, "; "))
	}
	return v, nil
})

// exchange is one recorded request and its answer.
type exchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	status      int
	resHeader   http.Header
	resBody     []byte
}

// recorder is a round tripper that keeps every API exchange of a test and
// checks each answer against the OpenAPI document when the test ends.
type recorder struct {
	t    testing.TB
	mu   sync.Mutex
	seen []exchange
}

func newRecorder(t testing.TB) *recorder {
	r := &recorder{t: t}
	t.Cleanup(r.validate)
	return r
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if strings.HasPrefix(req.URL.Path, "/api/") {
		r.mu.Lock()
		r.seen = append(r.seen, exchange{req.Method, req.URL.String(), req.Header.Clone(), body, res.StatusCode, res.Header.Clone(), resBody})
		r.mu.Unlock()
	}
	return res, nil
}

// validate checks every recorded answer against the OpenAPI document.
func (r *recorder) validate() {
	if r.t.Failed() {
		return
	}
	v, err := openapiValidator()
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.seen {
		req, _ := http.NewRequest(x.method, x.url, bytes.NewReader(x.reqBody))
		req.Header = x.reqHeader.Clone()
		res := &http.Response{StatusCode: x.status, Header: x.resHeader.Clone(), Body: io.NopCloser(bytes.NewReader(x.resBody)), Request: req}
		ok, errs := v.ValidateHttpResponse(req, res)
		if !ok && (x.status == http.StatusNotFound || x.status == http.StatusMethodNotAllowed) && len(errs) == 1 && errs[0].IsPathMissingError() {
			// The router's own answer for a path or method that does
			// not exist: nothing in the document to check it against.
			continue
		}
		if !ok {
			var msgs []string
			for _, e := range errs {
				msg := e.Message + ": " + e.Reason
				for _, se := range e.SchemaValidationErrors {
					msg += " [" + se.FieldPath + " " + se.KeywordLocation + ": " + se.Reason + "]"
				}
				msgs = append(msgs, msg)
			}
			r.t.Errorf("OpenAPI: %s %s answered %d, which the document does not allow:\n  %s\n  body: %s", x.method, x.url, x.status, strings.Join(msgs, "\n  "), x.resBody)
		}
	}
}

// apiClient calls the JSON API with a bearer token; every exchange is
// checked against the OpenAPI document at the end of the test.
type apiClient struct {
	t     testing.TB
	base  string
	token string
	http  *http.Client
}

func (a *testApp) api(token string) *apiClient {
	return &apiClient{t: a.t, base: a.Srv.URL, token: token, http: &http.Client{Transport: newRecorder(a.t), Timeout: 30 * time.Second}}
}

// with returns a client with another token sharing the recorder.
func (c *apiClient) with(token string) *apiClient {
	cp := *c
	cp.token = token
	return &cp
}

// apiResponse is an answer with its envelope decoded.
type apiResponse struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   string
	Env    struct {
		Success   bool              `json:"success"`
		Data      json.RawMessage   `json:"data"`
		Error     string            `json:"error"`
		Message   string            `json:"message"`
		Details   map[string]string `json:"details"`
		Timestamp string            `json:"timestamp"`
	}
}

// raw sends a request with a raw body and content type.
func (c *apiClient) raw(method, path, contentType string, body []byte) *apiResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := &apiResponse{t: c.t, Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if err := json.Unmarshal(b, &out.Env); err != nil {
		c.t.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, res.StatusCode, b)
	}
	return out
}

// do sends body (marshalled to JSON unless nil).
func (c *apiClient) do(method, path string, body any) *apiResponse {
	c.t.Helper()
	if body == nil {
		return c.raw(method, path, "", nil)
	}
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(method, path, "application/json", b)
}

func (c *apiClient) get(path string) *apiResponse {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil)
}

// expect fails the test unless the status is want; it also checks the
// envelope's success flag and timestamp.
func (r *apiResponse) expect(want int) *apiResponse {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if r.Env.Success != (want < 400) {
		r.t.Fatalf("success=%v for status %d: %s", r.Env.Success, want, r.Body)
	}
	if _, err := time.Parse(time.RFC3339, r.Env.Timestamp); err != nil {
		r.t.Fatalf("timestamp %q: %v", r.Env.Timestamp, err)
	}
	return r
}

// into decodes the envelope's data.
func (r *apiResponse) into(dst any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Env.Data, dst); err != nil {
		r.t.Fatalf("decode data: %v: %s", err, r.Body)
	}
}

// pat creates a personal access token for user in org with role.
func (a *testApp) pat(user db.User, org db.Organization, role string, expires *time.Time) (string, db.ApiToken) {
	a.t.Helper()
	svc := auth.NewAPITokens(a.Store, a.Config.JWTSecret)
	token, row, err := svc.CreatePAT(context.Background(), tenant.User{ID: user.ID, Email: user.Email},
		auth.PATInput{OrgID: org.ID, Name: "test token", Role: role, ExpiresAt: expires})
	if err != nil {
		a.t.Fatalf("create token: %v", err)
	}
	return token, row
}

// apiAuditCount counts audit events with action, of org (or of no
// organization when org is nil).
func (a *testApp) apiAuditCount(org *db.Organization, action string) int {
	a.t.Helper()
	var orgID *uuid.UUID
	if org != nil {
		orgID = &org.ID
	}
	var n int
	if err := a.platformQueryRow(`SELECT count(*) FROM audit_events WHERE organization_id IS NOT DISTINCT FROM $1 AND action = $2`, []any{orgID, action}, &n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// platformQueryRow runs one query with row-level security opened (for
// assertions on raw tables).
func (a *testApp) platformQueryRow(sql string, args []any, dest ...any) error {
	ctx := context.Background()
	tx, err := a.Store.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('app.platform', 'on', true)`); err != nil {
		return err
	}
	return tx.QueryRow(ctx, sql, args...).Scan(dest...)
}

// platformExec runs one statement with row-level security opened and
// commits it (for changes a test makes behind the application's back).
func (a *testApp) platformExec(sql string, args ...any) {
	a.t.Helper()
	ctx := context.Background()
	tx, err := a.Store.Pool.Begin(ctx)
	if err == nil {
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err = tx.Exec(ctx, `SELECT set_config('app.platform', 'on', true)`); err == nil {
			if _, err = tx.Exec(ctx, sql, args...); err == nil {
				err = tx.Commit(ctx)
			}
		}
	}
	if err != nil {
		a.t.Fatalf("%s: %v", sql, err)
	}
}
