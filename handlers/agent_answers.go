package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/r3labs/sse/v2"

	"accute/internal/agents/provider"
	"accute/internal/agents/runs"
	"accute/internal/markdown"
	"accute/internal/realtime"
	"accute/views/components"
	agentsview "accute/views/pages/agents"
)

// turns maps a conversation's runs and messages to the page's turns.
func (h *Handlers) turns(c echo.Context, slug string, t runs.Thread) []agentsview.TurnView {
	var out []agentsview.TurnView
	for _, turn := range t.Turns() {
		run := turn.Run
		if turn.Question == nil {
			continue // older than the page shows
		}
		tv := agentsview.TurnView{Question: turn.Question.Content, Asked: turn.Question.CreatedAt.Format(askedLayout)}
		if runs.Finished(run.Status) {
			content, cites := "", []provider.Passage{}
			if turn.Answer != nil {
				content, cites = turn.Answer.Content, runs.DecodeCitations(turn.Answer.Citations)
			}
			tv.Answer = finishedAnswer(linksOf(c), run.ID, content, runs.DoneData{Status: run.Status, Error: run.Error, Citations: cites,
				Usage: runs.Usage{InputTokens: int(run.InputTokens), OutputTokens: int(run.OutputTokens)}})
		} else {
			tv.Answer = h.liveAnswer(c, slug, run.ID)
		}
		out = append(out, tv)
	}
	return out
}

func answerID(runID uuid.UUID) string { return "run-" + runID.String() }

// askedLayout dates a question.
const askedLayout = "2 Jan 2006, 15:04"

// writingStatus is the status line while text arrives.
const writingStatus = "Writing the answer…"

// liveAnswer is an answer still being written: it connects to its stream.
func (h *Handlers) liveAnswer(c echo.Context, slug string, runID uuid.UUID) agentsview.AnswerView {
	base := orgURL(c, "/agents/"+slug+"/runs/"+runID.String())
	return agentsview.AnswerView{ID: answerID(runID), Live: true, StreamURL: base + "/stream", CancelURL: base + "/cancel", Status: "Waiting for the agent…"}
}

// orgLinks builds an organization's addresses without the request (the
// stream formats on the hub's goroutine, where the echo.Context may
// already serve another request).
type orgLinks struct{ base string }

func linksOf(c echo.Context) orgLinks { return orgLinks{base: orgURL(c, "")} }

// finishedAnswer is an answer that has ended: its text rendered from
// Markdown (sanitized), its citation markers linked to the passages, its
// sources, and how it ended.
func finishedAnswer(l orgLinks, runID uuid.UUID, text string, d runs.DoneData) agentsview.AnswerView {
	v := agentsview.AnswerView{ID: answerID(runID), State: d.Status, Error: d.Error}
	links := map[int]markdown.Link{}
	for _, p := range d.Citations {
		cv := agentsview.CitationView{Ref: p.Ref, Anchor: fmt.Sprintf("cite-%s-%d", runID, p.Ref), Title: p.Title, Locator: p.Locator,
			Client: p.ClientName, URL: l.passage(p), Snippet: clipText(p.Text, 240)}
		if p.Kind == "client" {
			cv.Client = ""
		}
		v.Citations = append(v.Citations, cv)
		target := cv.URL
		if target == "" {
			target = "#" + cv.Anchor
		}
		title := p.Title
		if p.Locator != "" {
			title += " — " + p.Locator
		}
		links[p.Ref] = markdown.Link{Href: target, Title: title}
	}
	if strings.TrimSpace(text) != "" {
		safe := markdown.LinkCitations(markdown.Render(text), func(n int) (markdown.Link, bool) { l, ok := links[n]; return l, ok })
		v.HTML = templ.Raw(safe)
	}
	if n := d.Usage.InputTokens + d.Usage.OutputTokens; n > 0 {
		v.Usage = fmt.Sprintf("%s tokens (%s in, %s out)", components.Thousands(n), components.Thousands(d.Usage.InputTokens), components.Thousands(d.Usage.OutputTokens))
	}
	return v
}

// passage opens a cited passage: the document's page at the place
// (handlers/documents.go shows and highlights it), or the client's page.
func (l orgLinks) passage(p provider.Passage) string {
	switch p.Kind {
	case "document":
		id, err := uuid.Parse(p.DocumentID)
		if err != nil {
			return ""
		}
		u := l.base + "/documents/" + id.String()
		if p.Locator != "" {
			u += "?passage=" + url.QueryEscape(p.Locator) + "#passage"
		}
		return u
	case "client":
		id, err := uuid.Parse(p.ClientID)
		if err != nil {
			return ""
		}
		return l.base + "/clients/" + id.String()
	}
	return ""
}

func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// answerStream formats a run's events for the page, one connection at a
// time. The page swaps whole pieces: "answer" carries the answer so far,
// rendered (so Markdown looks right while it is written, and a page that
// reconnects, or loses an event, is simply up to date with the next one);
// "status" the status line; "done" the finished answer, which replaces
// the live element. Events it was given before are not counted twice
// (the hub may offer them again to a connection that fell behind).
type answerStream struct {
	links  orgLinks
	runID  uuid.UUID
	seen   int64
	text   strings.Builder
	status string // the status line last sent
}

func (f *answerStream) format(evs []realtime.Event) []*sse.Event {
	var frames []*sse.Event
	answerAt := int64(0)
	flushAnswer := func() {
		if answerAt > 0 {
			frames = append(frames, &sse.Event{ID: seqID(answerAt), Event: []byte("answer"), Data: []byte(markdown.Render(f.text.String()))})
			if f.status != writingStatus {
				// After the answer (a frame left behind costs nothing:
				// the next answer or the end carries everything).
				f.status = writingStatus
				frames = append(frames, &sse.Event{ID: seqID(answerAt), Event: []byte("status"), Data: []byte(html.EscapeString(writingStatus))})
			}
			answerAt = 0
		}
	}
	for _, e := range evs {
		fresh := e.Seq > f.seen
		if fresh {
			f.seen = e.Seq
		}
		switch e.Type {
		case runs.EventDelta:
			if fresh {
				var d runs.DeltaData
				_ = json.Unmarshal(e.Data, &d)
				f.text.WriteString(d.Text)
			}
			answerAt = e.Seq
		case runs.EventStatus:
			flushAnswer()
			var d runs.StatusData
			_ = json.Unmarshal(e.Data, &d)
			f.status = d.Message + "…"
			frames = append(frames, &sse.Event{ID: seqID(e.Seq), Event: []byte("status"), Data: []byte(html.EscapeString(f.status))})
		case runs.EventDone:
			flushAnswer()
			var d runs.DoneData
			_ = json.Unmarshal(e.Data, &d)
			var buf bytes.Buffer
			v := finishedAnswer(f.links, f.runID, f.text.String(), d)
			if err := agentsview.Answer(v).Render(context.Background(), &buf); err != nil {
				buf.Reset()
				buf.WriteString(`<p class="flash flash-error">The answer could not be shown; reload the page.</p>`)
			}
			frames = append(frames, &sse.Event{ID: seqID(e.Seq), Event: []byte("done"), Data: buf.Bytes()})
		}
	}
	flushAnswer()
	return frames
}

func seqID(seq int64) []byte { return strconv.AppendInt(nil, seq, 10) }
