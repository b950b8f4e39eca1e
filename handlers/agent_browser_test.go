package handlers

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accute/internal/agents/provider"
)

// pageText is the text of the first element matching sel ("" when none).
func pageText(ctx context.Context, sel string) string {
	q, _ := json.Marshal(sel)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+string(q)+`) || {}).textContent || ""`))
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := pageText(ctx, sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-wait-"+strings.Trim(sel, "[]="))
			t.Fatalf("%s: %q does not contain %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserAnswerStreamsIntoThePageAndACitationOpensThePassage drives
// the chat in Chromium, under the app's CSP, with the vendored htmx SSE
// extension: the answer grows in the page while the provider writes it,
// Markdown rendered; it ends as history with its sources; the next message
// goes through the HTMX form; a citation opens the passage in the
// document.
func TestBrowserAnswerStreamsIntoThePageAndACitationOpensThePassage(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	res := postFiles(c, "/o/"+org.Slug+"/documents", nil, "", true, upload{name: "vat-notes.txt",
		content: []byte("Engagement notes.\n\nThe VAT registration threshold is 90,000 pounds of taxable turnover.\n")})
	uploadedDocument(t, res)
	app.workJobs(nil, false)
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	ctx := newBrowser(t)
	base := app.Srv.URL

	step(t, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), owner.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	step(t, ctx, "ask Luca",
		chromedp.Navigate(base+"/o/"+org.Slug+"/agents/luca"),
		chromedp.SendKeys(chromedp.CSS("[data-testid=new-conversation] textarea"), "What is the VAT threshold?"),
		chromedp.Click(chromedp.CSS("[data-testid=ask]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=answer-live]")),
	)
	// The answer grows while it is written.
	g.say("The threshold is **90,000**")
	waitText(t, ctx, "[data-testid=answer-body]", "The threshold is 90,000")
	bold := pageText(ctx, "[data-testid=answer-body] strong")
	g.say(" pounds of taxable turnover")
	waitText(t, ctx, "[data-testid=answer-body]", "90,000 pounds of taxable turnover")
	screenshot(t, ctx, "chat-streaming")
	if bold != "90,000" {
		t.Fatalf("Markdown not rendered while streaming: <strong> is %q", bold)
	}
	g.end()
	step(t, ctx, "the answer ends as history", chromedp.WaitVisible(chromedp.CSS(`[data-testid=answer][data-state=succeeded]`)))
	if n := pageText(ctx, "[data-testid=answer-live]"); n != "" {
		t.Fatalf("a live answer is left: %q", n)
	}

	// The next message, through the HTMX form: the model searches, then
	// answers citing what it found.
	g.chunks <- gateItem{chunk: provider.Chunk{ToolCalls: []provider.ToolCall{{ID: "s1", Name: "search_documents", Arguments: `{"query":"VAT registration threshold"}`}}}}
	g.chunks <- gateItem{err: io.EOF}
	step(t, ctx, "send a follow-up",
		chromedp.SendKeys(chromedp.CSS("#message-form textarea"), "Where does it say so?"),
		chromedp.Click(chromedp.CSS("[data-testid=send]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=turn]:nth-child(2) [data-testid=answer-live]")),
	)
	if v := pageText(ctx, "#message-form textarea"); v != "" {
		t.Fatalf("the form kept the message: %q", v)
	}
	waitText(t, ctx, "[data-testid=turn]:nth-child(2) [data-testid=answer-status]", "Searching your documents")
	g.say("It is in your engagement notes [1].")
	g.end()
	step(t, ctx, "the cited answer ends", chromedp.WaitVisible(chromedp.CSS(`[data-testid=turn]:nth-child(2) [data-testid=citation-link]`)))
	screenshot(t, ctx, "chat-citations")
	step(t, ctx, "open the passage",
		chromedp.Click(chromedp.CSS(`[data-testid=turn]:nth-child(2) a.cite-ref`)),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=passage]")),
	)
	waitText(t, ctx, "[data-testid=passage-text]", "90,000 pounds")
	screenshot(t, ctx, "chat-passage")
}
