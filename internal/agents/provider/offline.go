package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Offline is the built-in provider: no key, no network. It behaves like a
// model that may only quote: for a question it calls the search_documents
// tool, and from the passages found it composes an answer of verbatim,
// sentence-trimmed excerpts, each marked [n] (the passage's Ref) and named
// by document and place. It never writes a statement of its own about the
// subject; when nothing was found it says so.
type Offline struct {
	// Delay is the pause between streamed pieces, so the answer grows in
	// the page as a model's would (0 in tests).
	Delay time.Duration
	// MaxQuotes bounds the passages quoted (default 3).
	MaxQuotes int
}

// NewOffline returns the offline provider with a delay between pieces.
func NewOffline(delay time.Duration) *Offline { return &Offline{Delay: delay} }

// Name labels the provider.
func (o *Offline) Name() string { return KindOffline }

// Limits of the offline answers.
const (
	offlineMaxQuotes  = 3
	offlineMaxExcerpt = 320 // characters of one quote
	offlineMaxTerms   = 8   // key words in a search query
)

// Stream answers req: a search_documents call for a new question, a quoted
// answer once the search's result is the last message.
func (o *Offline) Stream(ctx context.Context, req Request) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &offlineStream{ctx: ctx, delay: o.Delay, closed: make(chan struct{})}
	question, results, asked := lastTurn(req.Messages)
	switch {
	case strings.TrimSpace(question) == "":
		s.setText("Ask me a question and I will look for the answer in your firm's documents.", req)
	case results != nil:
		maxQ := o.MaxQuotes
		if maxQ <= 0 {
			maxQ = offlineMaxQuotes
		}
		s.setText(composeAnswer(question, *results, maxQ), req)
	case asked:
		// The search was called but its result is not one this provider
		// can read (an error text, another tool's result).
		s.setText("The document search did not return anything I could read, so I cannot answer this from your firm's documents.", req)
	case !hasTool(req.Tools, SearchToolName):
		s.setText("I can only answer from your firm's documents, and none are searchable for this agent, so I cannot answer this question.", req)
	default:
		args, _ := json.Marshal(map[string]string{"query": SearchQuery(question)})
		call := ToolCall{ID: fmt.Sprintf("call_offline_%d", len(req.Messages)), Name: SearchToolName, Arguments: string(args)}
		s.calls = []ToolCall{call}
		s.usage = Usage{InputTokens: EstimateInput(req), OutputTokens: EstimateTokens(call.Name) + EstimateTokens(call.Arguments)}
	}
	return s, nil
}

// lastTurn finds the last user message and, after it, the result of a
// search_documents call (nil when there is none yet; asked reports that a
// search was called whose result could not be read).
func lastTurn(msgs []Message) (question string, results *SearchResult, asked bool) {
	last := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == RoleUser {
			last = i
			break
		}
	}
	if last < 0 {
		return "", nil, false
	}
	question = msgs[last].Content
	searchCalls := map[string]bool{}
	for _, m := range msgs[last+1:] {
		for _, tc := range m.ToolCalls {
			if tc.Name == SearchToolName {
				searchCalls[tc.ID] = true
			}
		}
		if m.Role != RoleTool || (m.Name != SearchToolName && !searchCalls[m.ToolCallID]) {
			continue
		}
		asked = true
		var r SearchResult
		if err := json.Unmarshal([]byte(m.Content), &r); err == nil {
			results = &r
		}
	}
	return question, results, asked
}

func hasTool(tools []Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// stopWords are left out of search queries: question words, pronouns and
// the like, which match everywhere.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a about above after again against all also am an and any are as at be because been before
		being below between both but by can could did do does doing done down during each either else ever every few for from
		further had has have having he her here hers herself him himself his how i if in into is it its itself just let lets
		me might more most must my myself no nor not now of off on once only or other our ours ourselves out over own please
		same shall she should so some such tell than that the their theirs them themselves then there these they this those
		through to too under until up upon us very via was we were what whats when where which while who whom whose why will
		with within without would you your yours yourself yourselves show give find know need want look get got many much
		hi hello thanks thank kindly there's it's what's who's`) {
		stopWords[w] = true
	}
}

// keyTerms are the question's searchable words and quoted phrases, in
// order, without repeats, at most offlineMaxTerms.
func keyTerms(question string) (phrases, words []string) {
	q := strings.NewReplacer("“", `"`, "”", `"`, "„", `"`).Replace(question)
	// Quoted phrases first: the asker wants them as written.
	for {
		i := strings.IndexByte(q, '"')
		if i < 0 {
			break
		}
		j := strings.IndexByte(q[i+1:], '"')
		if j < 0 {
			q = q[:i] + " " + q[i+1:]
			break
		}
		phrase := strings.Join(strings.FieldsFunc(strings.ToLower(q[i+1:i+1+j]), notWordRune), " ")
		if phrase != "" && len(phrases) < offlineMaxTerms {
			phrases = append(phrases, phrase)
		}
		q = q[:i] + " " + q[i+2+j:]
	}
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(q), notWordRune) {
		w = strings.Trim(w, "'’-.")
		if w == "" || stopWords[w] || seen[w] || (utf8.RuneCountInString(w) < 2 && !isDigits(w)) {
			continue
		}
		seen[w] = true
		if len(phrases)+len(words) < offlineMaxTerms {
			words = append(words, w)
		}
	}
	return phrases, words
}

// notWordRune splits words: letters and digits make words, with an
// apostrophe, hyphen or point inside one ("don't", "2023-24", "1.5").
func notWordRune(r rune) bool {
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’' || r == '-' || r == '.')
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// SearchQuery derives the search_documents query from a question: its key
// words (and "quoted phrases") in web-search syntax joined by "or", so that
// passages with most of them rank first and one missing word does not hide
// the rest. A question of only common words is searched as written.
func SearchQuery(question string) string {
	phrases, words := keyTerms(question)
	var parts []string
	for _, p := range phrases {
		parts = append(parts, `"`+p+`"`)
	}
	parts = append(parts, words...)
	q := strings.Join(parts, " or ")
	if q == "" {
		q = strings.Join(strings.Fields(question), " ")
	}
	if utf8.RuneCountInString(q) > 200 {
		q = string([]rune(q)[:200])
	}
	return q
}

// quote is one passage chosen for the answer.
type quote struct {
	p       Passage
	excerpt string
	score   int
	order   int
}

// composeAnswer writes the markdown answer for question from r.
func composeAnswer(question string, r SearchResult, maxQuotes int) string {
	phrases, words := keyTerms(question)
	terms := append(append([]string{}, phrases...), words...)
	var quotes []quote
	seen := map[string]bool{}
	for i, p := range r.Passages {
		ex, score := excerpt(p.Text, terms)
		if ex == "" || seen[ex] {
			continue
		}
		seen[ex] = true
		quotes = append(quotes, quote{p: p, excerpt: ex, score: score, order: i})
	}
	if len(quotes) == 0 {
		about := strings.Join(terms, ", ")
		if about == "" {
			about = strings.Join(strings.Fields(question), " ")
		}
		return "I found nothing in your firm's documents about " + mdEscape(clipRunes(about, 120)) +
			", so I cannot answer this from them. Try other words, or check that the documents you have in mind are uploaded and their text has been read."
	}
	// Best matches first; the search's own order breaks ties. When some
	// passages use the question's words, those that use none are noise.
	sort.SliceStable(quotes, func(i, j int) bool { return quotes[i].score > quotes[j].score })
	if quotes[0].score > 0 {
		n := 0
		for n < len(quotes) && quotes[n].score > 0 {
			n++
		}
		quotes = quotes[:n]
	}
	if len(quotes) > maxQuotes {
		quotes = quotes[:maxQuotes]
	}
	var b strings.Builder
	if quotes[0].score == 0 {
		b.WriteString("None of the passages I found uses the words of your question, so they may not answer it. These came closest in your firm's documents:\n\n")
	} else {
		b.WriteString("Here is what your firm's documents say:\n\n")
	}
	for _, q := range quotes {
		fmt.Fprintf(&b, "> %s [%d]\n\n— %s\n\n", mdEscape(q.excerpt), q.p.Ref, source(q.p))
	}
	b.WriteString("These are exact quotes from the sources; open a source to read it in context before relying on it.")
	return b.String()
}

// source names where a passage comes from: document and place, or the
// client record.
func source(p Passage) string {
	title := strings.TrimSpace(p.Title)
	if p.Kind == "client" {
		if title == "" {
			title = p.ClientName
		}
		return "client record of *" + mdEscape(title) + "*"
	}
	if title == "" {
		title = "an untitled document"
	}
	s := "*" + mdEscape(title) + "*"
	if p.Locator != "" {
		s += ", " + mdEscape(p.Locator)
	}
	if p.ClientName != "" {
		s += " (client " + mdEscape(p.ClientName) + ")"
	}
	return s
}

// excerpt picks the sentence (or two neighbouring sentences) of text that
// contains the most of terms, verbatim up to whitespace; a sentence longer
// than offlineMaxExcerpt is cut at word boundaries around its first match.
func excerpt(text string, terms []string) (string, int) {
	text = strings.Join(strings.Fields(strings.NewReplacer("\uE000", "", "\uE001", "").Replace(text)), " ")
	if text == "" {
		return "", 0
	}
	sents := sentences(text)
	best, bestScore, bestLen := "", -1, 0
	consider := func(s string) {
		sc := matches(s, terms)
		n := utf8.RuneCountInString(s)
		if sc > bestScore || (sc == bestScore && n < bestLen && sc > 0) {
			best, bestScore, bestLen = s, sc, n
		}
	}
	for i, s := range sents {
		consider(s)
		if i+1 < len(sents) {
			pair := s + " " + sents[i+1]
			if utf8.RuneCountInString(pair) <= offlineMaxExcerpt && matches(pair, terms) > max(matches(s, terms), matches(sents[i+1], terms)) {
				consider(pair)
			}
		}
	}
	if bestScore == 0 {
		best = sents[0] // nothing matches: the passage's opening, as the search ranked it
	}
	return trimAround(best, terms), bestScore
}

// sentences splits text after . ! or ? followed by a space and a capital,
// digit or opening quote, so "e.g. the" and "1.5 million" stay whole.
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i := 0; i < len(rs)-2; i++ {
		if (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && rs[i+1] == ' ' {
			next := rs[i+2]
			if unicode.IsUpper(next) || unicode.IsDigit(next) || next == '"' || next == '“' || next == '(' {
				out = append(out, string(rs[start:i+1]))
				start = i + 2
			}
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// matches counts the terms found in s: a phrase as written, a word as the
// start of a word of s (its first five letters for longer words), which
// stands in for the search's stemming ("registration", "registered").
func matches(s string, terms []string) int {
	lower := strings.ToLower(s)
	sw := strings.FieldsFunc(lower, notWordRune)
	n := 0
	for _, t := range terms {
		if strings.Contains(t, " ") {
			if strings.Contains(strings.Join(sw, " "), t) {
				n++
			}
			continue
		}
		stem := t
		if utf8.RuneCountInString(stem) > 5 {
			stem = string([]rune(stem)[:5])
		}
		for _, w := range sw {
			if strings.HasPrefix(strings.Trim(w, "'’-."), stem) {
				n++
				break
			}
		}
	}
	return n
}

// trimAround shortens s to offlineMaxExcerpt characters around the first
// matching term, at word boundaries, marking cuts with "…".
func trimAround(s string, terms []string) string {
	rs := []rune(s)
	if len(rs) <= offlineMaxExcerpt {
		return s
	}
	at := 0
	lower := []rune(strings.ToLower(s))
	for _, t := range terms {
		stem := []rune(t)
		if len(stem) > 5 && !strings.Contains(t, " ") {
			stem = stem[:5]
		}
		if i := strings.Index(string(lower), string(stem)); i >= 0 {
			at = utf8.RuneCountInString(string(lower)[:i])
			break
		}
	}
	from := max(0, at-offlineMaxExcerpt/3)
	to := min(len(rs), from+offlineMaxExcerpt)
	from = max(0, to-offlineMaxExcerpt)
	// Move inwards to word boundaries.
	for from > 0 && from < to && rs[from-1] != ' ' {
		from++
	}
	for to < len(rs) && to > from && rs[to] != ' ' {
		to--
	}
	out := strings.TrimSpace(string(rs[from:to]))
	if from > 0 {
		out = "…" + out
	}
	if to < len(rs) {
		out += "…"
	}
	return out
}

// mdEscape makes text from a document render as the same text in markdown:
// the characters that would format it are backslash-escaped, and a line
// start that would make a list or heading is neutralized.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '~', '&':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out != "" {
		switch out[0] {
		case '-', '+', '=':
			out = `\` + out
		}
		// "1. text" or "1) text" would start an ordered list.
		i := 0
		for i < len(out) && out[i] >= '0' && out[i] <= '9' {
			i++
		}
		if i > 0 && i < len(out) && (out[i] == '.' || out[i] == ')') {
			out = out[:i] + `\` + out[i:]
		}
	}
	return out
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// SplitWords cuts text into word-sized pieces, each word with the
// whitespace before it, the way a model streams.
func SplitWords(text string) []string {
	var out []string
	start := 0
	prevSpace := false
	for i, r := range text {
		space := unicode.IsSpace(r)
		if i > 0 && space && !prevSpace {
			out = append(out, text[start:i])
			start = i
		}
		prevSpace = space
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// offlineStream plays an answer back piece by piece.
type offlineStream struct {
	ctx    context.Context
	delay  time.Duration
	pieces []string
	calls  []ToolCall
	usage  Usage
	next   int
	sent   bool

	closeOnce sync.Once
	closed    chan struct{}
}

func (s *offlineStream) setText(text string, req Request) {
	s.pieces = SplitWords(text)
	s.usage = Usage{InputTokens: EstimateInput(req), OutputTokens: EstimateTokens(text)}
}

// Recv returns the next piece; the last carries the usage.
func (s *offlineStream) Recv() (Chunk, error) {
	select {
	case <-s.closed:
		return Chunk{}, context.Canceled
	case <-s.ctx.Done():
		return Chunk{}, s.ctx.Err()
	default:
	}
	if s.calls != nil {
		if s.sent {
			return Chunk{}, io.EOF
		}
		s.sent = true
		u := s.usage
		return Chunk{ToolCalls: s.calls, Usage: &u}, nil
	}
	if s.next >= len(s.pieces) {
		return Chunk{}, io.EOF
	}
	if s.next > 0 && s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-s.closed:
			t.Stop()
			return Chunk{}, context.Canceled
		case <-s.ctx.Done():
			t.Stop()
			return Chunk{}, s.ctx.Err()
		}
	}
	c := Chunk{Text: s.pieces[s.next]}
	s.next++
	if s.next == len(s.pieces) {
		u := s.usage
		c.Usage = &u
	}
	return c, nil
}

// Close ends the stream; a Recv waiting between pieces returns at once.
func (s *offlineStream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}
