package requests

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/db"
	"accute/internal/notify"
)

// E-mails are plain text, like the rest of the application's (see the
// invitations in internal/tenant). They are written to the outbox in the
// transaction of the change and delivered by the job queue.

// dueLayout prints a due date for people.
const dueLayout = "Monday 2 January 2006"

// send writes e to the outbox with its delivery job (or for the outbox's
// sweep when the service has no job queue).
func (s *Service) send(ctx context.Context, tx pgx.Tx, q *db.Queries, e notify.Email) error {
	if s.Jobs == nil {
		return notify.Enqueue(ctx, q, e)
	}
	_, err := notify.Send(ctx, tx, s.Jobs, e)
	return err
}

func (s *Service) base() string { return strings.TrimRight(s.BaseURL, "/") }

// portalLink is where a client's e-mail sends them for a request.
func (s *Service) portalLink(slug string, id uuid.UUID) string {
	if s.PortalURL != nil {
		u := s.PortalURL(slug, id)
		if strings.HasPrefix(u, "/") {
			u = s.base() + u
		}
		return u
	}
	return s.base() + "/o/" + slug
}

// staffLink is the request's page for the firm.
func (s *Service) staffLink(slug string, id uuid.UUID) string {
	return s.base() + "/o/" + slug + "/requests/" + id.String()
}

func itemList(items []string) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString("  - " + it + "\n")
	}
	return b.String()
}

// requestEmail asks the client for the documents of a new request.
func (s *Service) requestEmail(org db.GetOrganizationNameRow, to string, id uuid.UUID, title, instructions string, items []string, due time.Time) notify.Email {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\n%s asks you for documents: %s.\n\n", org.Name, title)
	if instructions != "" {
		b.WriteString(instructions + "\n\n")
	}
	if len(items) > 0 {
		b.WriteString("What to upload:\n" + itemList(items) + "\n")
	}
	fmt.Fprintf(&b, "Please upload them by %s in your client portal:\n\n%s\n\n", due.Format(dueLayout), s.portalLink(org.Slug, id))
	fmt.Fprintf(&b, "If you have a question about this request, contact %s.\n", org.Name)
	return notify.Email{To: to, Subject: fmt.Sprintf("%s asks you for documents: %s", org.Name, title), Text: b.String()}
}

// reviewEmail tells the client the firm accepted, rejected or cancelled.
func (s *Service) reviewEmail(org db.GetOrganizationNameRow, to string, r Request, kind, note string) notify.Email {
	link := s.portalLink(org.Slug, r.ID)
	var subject string
	var b strings.Builder
	b.WriteString("Hello,\n\n")
	switch kind {
	case EventAccepted:
		subject = fmt.Sprintf("Received, thank you: %s", r.Title)
		fmt.Fprintf(&b, "%s has accepted the documents you uploaded for \"%s\". There is nothing more to do for this request.\n\nThank you.\n", org.Name, r.Title)
	case EventRejected:
		subject = fmt.Sprintf("%s needs more from you: %s", org.Name, r.Title)
		fmt.Fprintf(&b, "%s has looked at the documents you uploaded for \"%s\" and needs something more:\n\n%s\n\n", org.Name, r.Title, note)
		fmt.Fprintf(&b, "Please upload the missing or corrected documents by %s in your client portal:\n\n%s\n", r.DueOn.Format(dueLayout), link)
	default: // cancelled
		subject = fmt.Sprintf("No longer needed: %s", r.Title)
		fmt.Fprintf(&b, "%s no longer needs the documents it asked for in \"%s\"; you do not need to upload anything for it.\n", org.Name, r.Title)
		if note != "" {
			fmt.Fprintf(&b, "\n%s\n", note)
		}
	}
	return notify.Email{To: to, Subject: subject, Text: b.String()}
}

// reminderEmail reminds the client before or after the due date.
func (s *Service) reminderEmail(org db.GetOrganizationNameRow, to string, r reminderRequest, step string, today time.Time) notify.Email {
	var subject string
	var b strings.Builder
	b.WriteString("Hello,\n\n")
	if step == stepDueSoon {
		days := int(r.due.Sub(today).Hours() / 24)
		when := "today"
		switch days {
		case 0:
		case 1:
			when = "tomorrow"
		default:
			when = "on " + r.due.Format(dueLayout)
		}
		subject = fmt.Sprintf("Reminder: %s is due %s", r.title, when)
		fmt.Fprintf(&b, "This is a reminder that %s is waiting for documents from you for \"%s\", due %s.\n\n", org.Name, r.title, when)
	} else {
		subject = fmt.Sprintf("Overdue: %s was due on %s", r.title, r.due.Format(dueLayout))
		fmt.Fprintf(&b, "%s is still waiting for documents from you for \"%s\", which were due on %s.\n\n", org.Name, r.title, r.due.Format(dueLayout))
	}
	if r.status == StatusRejected && r.reason != "" {
		fmt.Fprintf(&b, "What is still needed:\n\n%s\n\n", r.reason)
	}
	if len(r.items) > 0 {
		b.WriteString("What to upload:\n" + itemList(r.items) + "\n")
	}
	fmt.Fprintf(&b, "Upload them in your client portal:\n\n%s\n\n", s.portalLink(org.Slug, r.id))
	fmt.Fprintf(&b, "If you have already sent them another way, or have a question, contact %s.\n", org.Name)
	return notify.Email{To: to, Subject: subject, Text: b.String()}
}

// submittedEmail tells the firm the client uploaded.
func (s *Service) submittedEmail(org db.GetOrganizationNameRow, to string, r db.DocumentRequest, client, uploader, docName string) notify.Email {
	text := fmt.Sprintf("Hello,\n\n%s (%s) uploaded %s for the document request \"%s\", which is now waiting for your review.\n\n"+
		"Accept the documents, or reject them with a reason to send the request back to the client:\n\n%s\n",
		uploader, client, docName, r.Title, s.staffLink(org.Slug, r.ID))
	return notify.Email{To: to, Subject: fmt.Sprintf("%s submitted documents: %s", client, r.Title), Text: text}
}
