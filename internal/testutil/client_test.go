package testutil

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("email") != "a@example.test" {
			http.Error(w, "bad", http.StatusUnprocessableEntity)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, `<html><body><h1>  Hello,
			%s </h1><ul><li>a</li><li>b</li></ul><a id="x" href="/y">y</a></body></html>`, c.Value)
	})
	mux.HandleFunc("/fragment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<p>hx=%s q=%s m=%s</p>", r.Header.Get("HX-Request"), r.FormValue("q"), r.Method)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := NewClient(t, srv.URL)
	c.Get("/home").AssertStatus(http.StatusSeeOther)

	c.PostForm("/login", url.Values{"email": {"nobody"}}).AssertStatus(http.StatusUnprocessableEntity)
	r := c.PostForm("/login", url.Values{"email": {"a@example.test"}}).AssertStatus(http.StatusSeeOther)
	if r.Location() != "/home" {
		t.Fatalf("Location = %q", r.Location())
	}
	if c.Cookie("session") != "s1" {
		t.Fatalf("cookie not kept")
	}
	home := c.Follow(r).AssertStatus(http.StatusOK)
	if got := home.Text("h1"); got != "Hello, s1" {
		t.Fatalf("Text(h1) = %q", got)
	}
	if n := home.Count("li"); n != 2 {
		t.Fatalf("Count(li) = %d", n)
	}
	if home.Attr("#x", "href") != "/y" {
		t.Fatalf("Attr = %q", home.Attr("#x", "href"))
	}

	if got := c.HTMX(http.MethodGet, "/fragment", url.Values{"q": {"a b"}}).Text("p"); got != "hx=true q=a b m=GET" {
		t.Fatalf("HTMX GET: %q", got)
	}
	if got := c.HTMX(http.MethodPost, "/fragment", url.Values{"q": {"z"}}).AssertContains("hx=true").Text("p"); got != "hx=true q=z m=POST" {
		t.Fatalf("HTMX POST: %q", got)
	}
}
