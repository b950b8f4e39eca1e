package runs

import (
	"context"
	"errors"
	"sync"

	"github.com/google/uuid"
)

// ErrCancelled is the cause of a run's context when a member cancelled it.
var ErrCancelled = errors.New("cancelled by the member")

// Cancels holds the cancel functions of the runs this process is working,
// so a cancel asked on any instance (CancelChannel) stops the run at once.
type Cancels struct {
	mu sync.Mutex
	m  map[uuid.UUID]context.CancelCauseFunc
}

// NewCancels returns an empty registry.
func NewCancels() *Cancels { return &Cancels{m: map[uuid.UUID]context.CancelCauseFunc{}} }

func (c *Cancels) add(id uuid.UUID, fn context.CancelCauseFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = fn
}

func (c *Cancels) remove(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// Cancel stops run id if this process works it, and reports whether it
// did.
func (c *Cancels) Cancel(id uuid.UUID) bool {
	c.mu.Lock()
	fn := c.m[id]
	c.mu.Unlock()
	if fn != nil {
		fn(ErrCancelled)
	}
	return fn != nil
}

// Handle is the CancelChannel handler for realtime.Listener.
func (c *Cancels) Handle(payload string) {
	if id, err := uuid.Parse(payload); err == nil {
		c.Cancel(id)
	}
}
