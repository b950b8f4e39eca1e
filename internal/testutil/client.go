package testutil

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Client is a browser-like HTTP client for tests: it keeps cookies, does not
// follow redirects on its own (so tests can assert on them; see Follow), and
// fails the test on transport errors.
type Client struct {
	T       testing.TB
	BaseURL string
	HTTP    *http.Client
}

// NewClient returns a client for the server at baseURL (such as an
// httptest.Server's URL) with an empty cookie jar.
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("testutil: cookie jar: %v", err)
	}
	return &Client{
		T:       t,
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP: &http.Client{
			Jar:     jar,
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// URL resolves path (relative like "/login", or absolute) against BaseURL.
func (c *Client) URL(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.BaseURL + path
}

// NewRequest builds a request for path, failing the test on error.
func (c *Client) NewRequest(method, path string, body io.Reader) *http.Request {
	c.T.Helper()
	req, err := http.NewRequest(method, c.URL(path), body)
	if err != nil {
		c.T.Fatalf("testutil: new request %s %s: %v", method, path, err)
	}
	return req
}

// Get fetches path.
func (c *Client) Get(path string) *Response {
	c.T.Helper()
	return c.Do(c.NewRequest(http.MethodGet, path, nil))
}

// PostForm posts vals as an urlencoded form, as a browser submits it.
func (c *Client) PostForm(path string, vals url.Values) *Response {
	c.T.Helper()
	req := c.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// HTMX sends a request as htmx does (HX-Request: true). For GET and DELETE
// vals go in the query string, otherwise in an urlencoded body.
func (c *Client) HTMX(method, path string, vals url.Values) *Response {
	c.T.Helper()
	var req *http.Request
	if method == http.MethodGet || method == http.MethodDelete {
		u := c.URL(path)
		if len(vals) > 0 {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + vals.Encode()
		}
		req = c.NewRequest(method, u, nil)
	} else {
		req = c.NewRequest(method, path, strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("HX-Request", "true")
	return c.Do(req)
}

// Follow fetches the Location a redirect response points to, resolved
// against the URL that answered. It fails the test if there is none.
func (c *Client) Follow(resp *Response) *Response {
	c.T.Helper()
	loc := resp.Header.Get("Location")
	if loc == "" {
		c.T.Fatalf("testutil: Follow: %s %s answered %d without a Location header", resp.Request.Method, resp.Request.URL, resp.StatusCode)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		c.T.Fatalf("testutil: Follow: bad Location %q: %v", loc, err)
	}
	return c.Do(c.NewRequest(http.MethodGet, u.String(), nil))
}

// Do sends req and reads the whole answer.
func (c *Client) Do(req *http.Request) *Response {
	c.T.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("testutil: %s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.T.Fatalf("testutil: %s %s: read body: %v", req.Method, req.URL, err)
	}
	return &Response{T: c.T, StatusCode: res.StatusCode, Header: res.Header, Body: string(body), Request: req}
}

// Cookie returns the value of the named cookie the jar holds for BaseURL.
func (c *Client) Cookie(name string) string {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return ""
	}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// Response is a fully read HTTP answer.
type Response struct {
	T          testing.TB
	StatusCode int
	Header     http.Header
	Body       string
	Request    *http.Request

	doc *goquery.Document
}

// Doc parses the body as HTML, once.
func (r *Response) Doc() *goquery.Document {
	r.T.Helper()
	if r.doc == nil {
		d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
		if err != nil {
			r.T.Fatalf("testutil: parse HTML of %s: %v", r.Request.URL, err)
		}
		r.doc = d
	}
	return r.doc
}

// Find returns the elements matching the CSS selector.
func (r *Response) Find(selector string) *goquery.Selection {
	r.T.Helper()
	return r.Doc().Find(selector)
}

// Text returns the text of the elements matching selector, with runs of
// white space collapsed to one space and trimmed.
func (r *Response) Text(selector string) string {
	r.T.Helper()
	return strings.Join(strings.Fields(r.Find(selector).Text()), " ")
}

// Count returns how many elements match selector.
func (r *Response) Count(selector string) int {
	r.T.Helper()
	return r.Find(selector).Length()
}

// Attr returns attribute name of the first element matching selector.
func (r *Response) Attr(selector, name string) string {
	r.T.Helper()
	v, _ := r.Find(selector).First().Attr(name)
	return v
}

// Location returns the Location header (redirect target), as sent.
func (r *Response) Location() string { return r.Header.Get("Location") }

// AssertStatus fails the test unless the status is want, showing the start
// of the body to help.
func (r *Response) AssertStatus(want int) *Response {
	r.T.Helper()
	if r.StatusCode != want {
		extra := ""
		if loc := r.Location(); loc != "" {
			extra = " (Location: " + loc + ")"
		}
		r.T.Fatalf("%s %s: status %d%s, want %d; body:\n%s", r.Request.Method, r.Request.URL, r.StatusCode, extra, want, truncate(r.Body, 2000))
	}
	return r
}

// AssertContains fails the test unless the body contains s.
func (r *Response) AssertContains(s string) *Response {
	r.T.Helper()
	if !strings.Contains(r.Body, s) {
		r.T.Fatalf("%s %s: body does not contain %q; body:\n%s", r.Request.Method, r.Request.URL, s, truncate(r.Body, 2000))
	}
	return r
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n... (" + strconv.Itoa(len(s)-n) + " more bytes)"
}

// SetCookie puts a cookie into the jar for BaseURL (to replay a stolen
// session, for example).
func (c *Client) SetCookie(name, value string) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		c.T.Fatalf("testutil: base url: %v", err)
	}
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}
