package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"

	"accute/internal/agents/provider"
)

var searchTool = provider.Tool{Name: provider.SearchToolName, Description: "Search the firm's documents.",
	Parameters: map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}}}

func offlineAsk(q string) provider.Request {
	return provider.Request{Model: "ignored", Tools: []provider.Tool{searchTool}, Messages: []provider.Message{
		{Role: provider.RoleSystem, Content: "You are Luca."},
		{Role: provider.RoleUser, Content: q},
	}}
}

// withResult is the request after the search ran.
func withResult(t *testing.T, q string, passages ...provider.Passage) provider.Request {
	t.Helper()
	req := offlineAsk(q)
	body, err := json.Marshal(provider.SearchResult{Query: provider.SearchQuery(q), Passages: passages})
	if err != nil {
		t.Fatal(err)
	}
	req.Messages = append(req.Messages,
		provider.Message{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: provider.SearchToolName, Arguments: `{}`}}},
		provider.Message{Role: provider.RoleTool, ToolCallID: "call_1", Name: provider.SearchToolName, Content: string(body)})
	return req
}

func TestOfflineCallsSearchForAQuestion(t *testing.T) {
	r := run(t, provider.NewOffline(0), offlineAsk("What is the VAT registration threshold for Acme Ltd in 2024?"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.text != "" || len(r.calls) != 1 || len(r.calls[0]) != 1 {
		t.Fatalf("want exactly one tool call and no text, got text %q calls %+v", r.text, r.calls)
	}
	call := r.calls[0][0]
	var args map[string]string
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		t.Fatalf("arguments %q: %v", call.Arguments, err)
	}
	if call.Name != provider.SearchToolName || call.ID == "" || args["query"] != "vat or registration or threshold or acme or ltd or 2024" {
		t.Errorf("call = %+v, query %q", call, args["query"])
	}
	if len(r.usage) != 1 || r.usage[0].InputTokens == 0 || r.usage[0].OutputTokens == 0 {
		t.Errorf("usage = %+v", r.usage)
	}
}

func TestSearchQuery(t *testing.T) {
	cases := map[string]string{
		"What is the VAT registration threshold?":           "vat or registration or threshold",
		`Where do we mention "net profit" for 2023-24?`:     `"net profit" or mention or 2023-24`,
		"Tell me about the the THRESHOLD threshold, please": "threshold",
		"What is it?": "What is it?", // only common words: searched as written
	}
	for q, want := range cases {
		if got := provider.SearchQuery(q); got != want {
			t.Errorf("SearchQuery(%q) = %q, want %q", q, got, want)
		}
	}
	long := strings.Repeat("alpha beta gamma delta epsilon zeta eta theta iota kappa ", 5)
	if got := provider.SearchQuery(long); strings.Count(got, " or ") != 7 {
		t.Errorf("query of a long question has %d terms: %q", strings.Count(got, " or ")+1, got)
	}
}

func TestOfflineWithoutSearchTool(t *testing.T) {
	req := offlineAsk("What is the VAT threshold?")
	req.Tools = nil
	r := run(t, provider.NewOffline(0), req)
	if r.err != nil || len(r.calls) != 0 {
		t.Fatalf("err %v, calls %+v", r.err, r.calls)
	}
	if !strings.Contains(r.text, "only answer from your firm's documents") || !strings.Contains(r.text, "none are searchable") {
		t.Errorf("answer = %q", r.text)
	}
}

var guide = provider.Passage{Ref: 1, Kind: "document", DocumentID: "d-1", Title: "Tax guide 2024.pdf", Locator: "page 3",
	Text: "Chapter 2 covers payroll. The VAT registration threshold is £90,000 of taxable turnover in any rolling 12 months. " +
		"Businesses below it may register voluntarily. Penalties apply for late registration."}

var ledger = provider.Passage{Ref: 2, Kind: "document", DocumentID: "d-2", Title: "Acme ledger.xlsx", Locator: "Summary!B4",
	ClientID: "c-1", ClientName: "Acme Ltd", Text: "Taxable turnover 2024: 84,250"}

var unrelated = provider.Passage{Ref: 3, Kind: "document", DocumentID: "d-3", Title: "Office rota.docx", Locator: "paragraphs 1-3",
	Text: "Reception is staffed from nine to five. Keys are kept in the safe."}

func TestOfflineQuotesTheBestPassagesVerbatim(t *testing.T) {
	r := run(t, provider.NewOffline(0), withResult(t, "What is the VAT registration threshold for taxable turnover?", unrelated, guide, ledger))
	if r.err != nil {
		t.Fatal(r.err)
	}
	// The sentence that answers, trimmed to itself, first, with its marker
	// and its place.
	want := "> The VAT registration threshold is £90,000 of taxable turnover in any rolling 12 months. [1]\n\n— *Tax guide 2024.pdf*, page 3\n\n> Taxable turnover 2024: 84,250 [2]"
	if !strings.Contains(r.text, want) {
		t.Errorf("answer lacks the best quote with its source:\n%s", r.text)
	}
	if strings.Contains(r.text, "Chapter 2 covers payroll") || strings.Contains(r.text, "Penalties apply") {
		t.Errorf("quote not trimmed to the matching sentence:\n%s", r.text)
	}
	if !strings.HasPrefix(r.text, "Here is what your firm's documents say:\n\n> The VAT registration") {
		t.Errorf("the passage that matches best is not first:\n%s", r.text)
	}
	if strings.Contains(r.text, "Reception") || strings.Contains(r.text, "[3]") {
		t.Errorf("a passage without any of the question's words was quoted beside ones with them:\n%s", r.text)
	}
	if !strings.Contains(r.text, "— *Acme ledger.xlsx*, Summary!B4 (client Acme Ltd)") {
		t.Errorf("sheet!cell source missing:\n%s", r.text)
	}
	assertOnlyQuotes(t, r.text, unrelated, guide, ledger)
	if len(r.usage) != 1 || r.usage[0].OutputTokens != provider.EstimateTokens(r.text) {
		t.Errorf("usage = %+v, want the answer's estimate %d", r.usage, provider.EstimateTokens(r.text))
	}
}

// assertOnlyQuotes checks the answer's one rule: every line is a verbatim
// quote of a passage, a source line, or one of the fixed sentences about
// the answer itself.
func assertOnlyQuotes(t *testing.T, answer string, passages ...provider.Passage) {
	t.Helper()
	unescape := regexp.MustCompile(`\\(.)`)
	marker := regexp.MustCompile(` \[(\d+)\]$`)
	fixed := []string{
		"Here is what your firm's documents say:",
		"None of the passages I found uses the words of your question, so they may not answer it. These came closest in your firm's documents:",
		"These are exact quotes from the sources; open a source to read it in context before relying on it.",
	}
	for _, line := range strings.Split(answer, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "> "):
			m := marker.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("quote without a [n] marker: %q", line)
				continue
			}
			text := unescape.ReplaceAllString(strings.TrimSuffix(strings.TrimPrefix(line, "> "), m[0]), "$1")
			found := false
			for _, p := range passages {
				if "["+itoa(p.Ref)+"]" != strings.TrimSpace(m[0]) {
					continue
				}
				norm := strings.Join(strings.Fields(p.Text), " ")
				for _, part := range strings.Split(text, "…") {
					if part != "" && !strings.Contains(norm, strings.TrimSpace(part)) {
						t.Errorf("quote %q is not verbatim from passage %d", part, p.Ref)
					}
				}
				found = true
			}
			if !found {
				t.Errorf("quote marked %s matches no passage", m[0])
			}
		case strings.HasPrefix(line, "— "):
		default:
			ok := false
			for _, f := range fixed {
				ok = ok || line == f
			}
			if !ok {
				t.Errorf("line states something of its own: %q", line)
			}
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestOfflineSaysPlainlyWhenNothingWasFound(t *testing.T) {
	r := run(t, provider.NewOffline(0), withResult(t, "What is the VAT registration threshold?"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.HasPrefix(r.text, "I found nothing in your firm's documents about vat, registration, threshold, so I cannot answer this from them.") {
		t.Errorf("answer = %q", r.text)
	}
	if strings.Contains(r.text, "> ") || strings.Contains(r.text, "[") {
		t.Errorf("an answer with no sources quotes or cites something: %q", r.text)
	}
}

func TestOfflineSaysWhenPassagesDoNotUseTheQuestionsWords(t *testing.T) {
	r := run(t, provider.NewOffline(0), withResult(t, "What is the VAT registration threshold?", unrelated))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.HasPrefix(r.text, "None of the passages I found uses the words of your question, so they may not answer it.") ||
		!strings.Contains(r.text, "> Reception is staffed from nine to five. [3]") {
		t.Errorf("answer = %q", r.text)
	}
	assertOnlyQuotes(t, r.text, unrelated)
}

func TestOfflineClientRecordAndLongPassages(t *testing.T) {
	long := provider.Passage{Ref: 4, Kind: "document", Title: "Minutes.pdf", Locator: "page 12",
		Text: strings.Repeat("The meeting discussed many unrelated items at length without a full stop ", 6) +
			"and then agreed the audit fee of 12,000 for Acme " + strings.Repeat("with further discussion of other matters that went on ", 6)}
	client := provider.Passage{Ref: 5, Kind: "client", ClientID: "c-1", ClientName: "Acme Ltd", Title: "Acme Ltd", Text: "Year end: 31 March. Audit fee agreed: 12,000."}
	r := run(t, provider.NewOffline(0), withResult(t, "What audit fee did we agree with Acme?", long, client))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.text, "— client record of *Acme Ltd*") {
		t.Errorf("client source missing:\n%s", r.text)
	}
	for _, line := range strings.Split(r.text, "\n") {
		if strings.HasPrefix(line, "> ") && len([]rune(line)) > 340 {
			t.Errorf("quote of %d characters: %q", len([]rune(line)), line)
		}
	}
	if !strings.Contains(r.text, "audit fee of 12,000 for Acme") || !strings.Contains(r.text, "…") {
		t.Errorf("long passage not cut around its match:\n%s", r.text)
	}
	assertOnlyQuotes(t, r.text, long, client)
}

func TestOfflineEscapesMarkdownInQuotes(t *testing.T) {
	evil := provider.Passage{Ref: 1, Kind: "document", Title: "Notes_*draft*.txt", Locator: "lines 1-2",
		Text: "- The fee is *not* <script>alert(1)</script> [link](javascript:x) & more fee details here."}
	r := run(t, provider.NewOffline(0), withResult(t, "What is the fee?", evil))
	if r.err != nil {
		t.Fatal(r.err)
	}
	var out bytes.Buffer
	if err := goldmark.New().Convert([]byte(r.text), &out); err != nil {
		t.Fatal(err)
	}
	rendered := out.String()
	quote := rendered[strings.Index(rendered, "<blockquote>"):strings.Index(rendered, "</blockquote>")]
	for _, bad := range []string{"<script>", "<em>", "<a ", "<ul>", "<strong>", "<code>"} {
		if strings.Contains(quote, bad) {
			t.Errorf("passage text became markup %q:\n%s", bad, rendered)
		}
	}
	if strings.Contains(rendered, "<em>draft</em>") || strings.Contains(rendered, "<script>") {
		t.Errorf("the title became markup:\n%s", rendered)
	}
	visible := html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(rendered, ""))
	if !strings.Contains(visible, evil.Text) || !strings.Contains(visible, "Notes_*draft*.txt") {
		t.Errorf("rendered text is not the passage's:\n%s", visible)
	}
}

func TestOfflineUnreadableSearchResult(t *testing.T) {
	req := offlineAsk("What is the VAT threshold?")
	req.Messages = append(req.Messages,
		provider.Message{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: provider.SearchToolName, Arguments: `{}`}}},
		provider.Message{Role: provider.RoleTool, ToolCallID: "call_1", Content: "error: search failed"})
	r := run(t, provider.NewOffline(0), req)
	if r.err != nil || len(r.calls) != 0 {
		t.Fatalf("err %v, calls %+v: it must not search again in a loop", r.err, r.calls)
	}
	if !strings.Contains(r.text, "cannot answer this from your firm's documents") {
		t.Errorf("answer = %q", r.text)
	}
}

func TestOfflineStreamsInWordPieces(t *testing.T) {
	s, err := provider.NewOffline(0).Stream(context.Background(), withResult(t, "VAT registration threshold", guide, ledger))
	if err != nil {
		t.Fatal(err)
	}
	var pieces []provider.Chunk
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pieces = append(pieces, c)
	}
	if len(pieces) < 20 {
		t.Fatalf("%d pieces: the answer is not streamed in words", len(pieces))
	}
	var b strings.Builder
	for i, c := range pieces {
		b.WriteString(c.Text)
		if strings.Count(strings.TrimSpace(c.Text), " ") > 0 {
			t.Errorf("piece %d is more than a word: %q", i, c.Text)
		}
		if (c.Usage != nil) != (i == len(pieces)-1) {
			t.Errorf("usage on piece %d of %d", i, len(pieces))
		}
	}
	if full := run(t, provider.NewOffline(0), withResult(t, "VAT registration threshold", guide, ledger)); b.String() != full.text {
		t.Error("pieces do not add up to the answer")
	}
}

func TestOfflineDelayAndClose(t *testing.T) {
	s, err := provider.NewOffline(time.Hour).Stream(context.Background(), withResult(t, "VAT threshold", guide))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Recv(); err != nil || c.Text == "" {
		t.Fatalf("first piece %+v, %v: it comes without delay", c, err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Recv(); done <- err }()
	_ = s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Recv after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt the delay")
	}

	ctx, cancel := context.WithCancel(context.Background())
	s, _ = provider.NewOffline(time.Hour).Stream(ctx, withResult(t, "VAT threshold", guide))
	_, _ = s.Recv()
	go cancel()
	if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel: %v", err)
	}

	// A small delay paces the pieces.
	s, _ = provider.NewOffline(5*time.Millisecond).Stream(context.Background(), offlineAskNoTools("hello there general kenobi"))
	start := time.Now()
	n := 0
	for {
		if _, err := s.Recv(); err != nil {
			break
		}
		n++
	}
	if d := time.Since(start); d < time.Duration(n-1)*5*time.Millisecond {
		t.Errorf("%d pieces in %s: the delay was not applied", n, d)
	}
}

func offlineAskNoTools(q string) provider.Request {
	r := offlineAsk(q)
	r.Tools = nil
	return r
}
