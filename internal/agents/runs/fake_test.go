package runs_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/agents/tools"
	"accute/internal/db"
)

// step is one thing a scripted completion does.
type step struct {
	chunk provider.Chunk
	delay time.Duration // before the chunk
}

// round is one scripted completion: its chunks, then err (io.EOF when nil);
// hang blocks after the chunks until the stream is closed or the request's
// context ends; startErr fails Stream itself.
type round struct {
	steps    []step
	err      error
	hang     bool
	startErr error
}

func text(s string) step { return step{chunk: provider.Chunk{Text: s}} }

func slowText(s string, d time.Duration) step { return step{chunk: provider.Chunk{Text: s}, delay: d} }

func calls(cs ...provider.ToolCall) step { return step{chunk: provider.Chunk{ToolCalls: cs}} }

func used(in, out int) step {
	return step{chunk: provider.Chunk{Usage: &provider.Usage{InputTokens: in, OutputTokens: out}}}
}

// fakeProvider plays rounds in order and records every request. It stands
// in for the model (the network edge); providertest covers the wire.
type fakeProvider struct {
	mu       sync.Mutex
	rounds   []round
	requests []provider.Request
	// forever repeats the last round when the script runs out.
	forever bool
	started chan struct{}
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Stream(ctx context.Context, req provider.Request) (provider.Stream, error) {
	p.mu.Lock()
	p.requests = append(p.requests, req)
	if len(p.rounds) == 0 {
		p.mu.Unlock()
		return nil, errors.New("fake provider: no round scripted")
	}
	r := p.rounds[0]
	if len(p.rounds) > 1 || !p.forever {
		p.rounds = p.rounds[1:]
	}
	p.mu.Unlock()
	if p.started != nil {
		select {
		case p.started <- struct{}{}:
		default:
		}
	}
	if r.startErr != nil {
		return nil, r.startErr
	}
	return &fakeStream{ctx: ctx, r: r, closed: make(chan struct{})}, nil
}

func (p *fakeProvider) Requests() []provider.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.Request(nil), p.requests...)
}

type fakeStream struct {
	ctx    context.Context
	r      round
	i      int
	once   sync.Once
	closed chan struct{}
}

func (s *fakeStream) Recv() (provider.Chunk, error) {
	if s.i < len(s.r.steps) {
		st := s.r.steps[s.i]
		s.i++
		if st.delay > 0 {
			select {
			case <-time.After(st.delay):
			case <-s.closed:
				return provider.Chunk{}, &provider.Error{Kind: provider.ErrStreamCut, Detail: "closed"}
			case <-s.ctx.Done():
				return provider.Chunk{}, s.ctx.Err()
			}
		}
		return st.chunk, nil
	}
	if s.r.hang {
		select {
		case <-s.closed:
			return provider.Chunk{}, &provider.Error{Kind: provider.ErrStreamCut, Detail: "closed"}
		case <-s.ctx.Done():
			return provider.Chunk{}, s.ctx.Err()
		}
	}
	if s.r.err != nil {
		return provider.Chunk{}, s.r.err
	}
	return provider.Chunk{}, io.EOF
}

func (s *fakeStream) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// fakeResolver always answers with one provider.
type fakeResolver struct{ p provider.Provider }

func (r fakeResolver) For(context.Context, uuid.UUID, string) (agents.Resolved, error) {
	return agents.Resolved{Provider: r.p, Kind: "fake", Model: "fake-model-1"}, nil
}

// fakeTools answers tool calls from a script, keyed by call id.
type fakeTools struct {
	mu      sync.Mutex
	results map[string]tools.Result
	calls   []provider.ToolCall
	fail    error
}

func (t *fakeTools) Specs(allowed []string) []provider.Tool {
	var out []provider.Tool
	for _, n := range allowed {
		out = append(out, provider.Tool{Name: n, Description: "test tool " + n, Parameters: map[string]any{"type": "object"}})
	}
	return out
}

func (t *fakeTools) Call(_ context.Context, _ *db.Queries, _ tools.Invocation, call provider.ToolCall) (tools.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, call)
	if t.fail != nil {
		return tools.Result{}, t.fail
	}
	if r, ok := t.results[call.ID]; ok {
		return r, nil
	}
	return tools.Result{Content: "nothing found"}, nil
}

// inserter records the jobs Start inserts (the worker is driven by hand).
type inserter struct {
	mu   sync.Mutex
	jobs []river.JobArgs
}

func (i *inserter) InsertTx(_ context.Context, _ pgx.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jobs = append(i.jobs, args)
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{ID: int64(len(i.jobs))}}, nil
}
