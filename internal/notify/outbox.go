// Package notify sends e-mail. Messages are written to the outbox table in
// the transaction of the change that causes them; until real providers are
// configured the development mailbox in the admin console reads them.
package notify

import (
	"context"
	"fmt"

	"accute/internal/db"
)

// Email is one message.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Enqueue writes e to the outbox using q.
func Enqueue(ctx context.Context, q *db.Queries, e Email) error {
	if _, err := q.EnqueueEmail(ctx, db.EnqueueEmailParams{ToEmail: e.To, Subject: e.Subject, TextBody: e.Text, HtmlBody: e.HTML}); err != nil {
		return fmt.Errorf("enqueue e-mail: %w", err)
	}
	return nil
}
