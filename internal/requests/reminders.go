package requests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
)

// Reminders.
//
// A request waiting for its client (open, or rejected and sent back) with
// reminders on gets at most one reminder per step: "due_soon" when the due
// date is BeforeDays away or less (unless the request itself was sent
// inside that window: its own e-mail said when it is due), then
// "overdue_1" the day after the due date, "overdue_2" OverdueEvery days
// later, and so on up to "overdue_<MaxOverdue>". Only the step that applies
// today is sent; a step missed (the job did not run, the client had no
// address) is not sent late once the next one applies.
//
// Steps sent are rows of document_request_reminders, unique per request and
// step, inserted in the transaction that writes the e-mails: a retry, a
// second run or another instance finds the row and sends nothing. Days are
// UTC days.
//
// The job queue runs requests.reminders_sweep every SweepInterval (one
// leader inserts it); the sweep finds, in platform mode, the organizations
// with requests that may need one and queues requests.send_reminders for
// each, which does that organization's work inside its tenant context.

// Reminder steps.
const (
	stepDueSoon        = "due_soon"
	stepOverduePrefix  = "overdue_"
	overdueGracePeriod = 14 // days a missed last step may still be sent
)

// ReminderPolicy says when reminders go out.
type ReminderPolicy struct {
	// BeforeDays: the due-soon reminder goes out this many days before the
	// due date (0 or less: none).
	BeforeDays int
	// OverdueEvery: overdue reminders go out every this many days after
	// the due date, starting the day after it.
	OverdueEvery int
	// MaxOverdue caps the overdue reminders (0 or less: none).
	MaxOverdue int
}

// DefaultReminderPolicy: 3 days before, then the day after the due date
// and every 3 days, three times.
var DefaultReminderPolicy = ReminderPolicy{BeforeDays: 3, OverdueEvery: 3, MaxOverdue: 3}

func (s *Service) policy() ReminderPolicy {
	if s.Policy == (ReminderPolicy{}) {
		return DefaultReminderPolicy
	}
	return s.Policy
}

// Step is the reminder step that applies today to a request due on due and
// created at created ("" when none does). Dates are UTC days.
func (p ReminderPolicy) Step(due, created, today time.Time) string {
	due, today = DateOf(due), DateOf(today)
	days := int(due.Sub(today).Hours() / 24)
	switch {
	case days > p.BeforeDays:
		return ""
	case days >= 0:
		if p.BeforeDays <= 0 {
			return ""
		}
		// Sent inside the window: the request's own e-mail said when.
		if !DateOf(created).Before(due.AddDate(0, 0, -p.BeforeDays)) {
			return ""
		}
		return stepDueSoon
	}
	if p.MaxOverdue <= 0 {
		return ""
	}
	late := -days // 1 the day after the due date
	k := 1 + (late-1)/max(1, p.OverdueEvery)
	return fmt.Sprintf("%s%d", stepOverduePrefix, min(k, p.MaxOverdue))
}

// window is the range of due dates that may need a reminder today: up to
// BeforeDays ahead, back to the last overdue step's first day plus a grace
// period.
func (p ReminderPolicy) window(today time.Time) (earliest, latest time.Time) {
	latest = today.AddDate(0, 0, max(p.BeforeDays, 0))
	back := 1 + max(1, p.OverdueEvery)*(max(p.MaxOverdue, 1)-1) + overdueGracePeriod
	return today.AddDate(0, 0, -back), latest
}

// StepLabel describes a step for people.
func StepLabel(step string) string {
	if step == stepDueSoon {
		return "due soon"
	}
	if n, ok := strings.CutPrefix(step, stepOverduePrefix); ok {
		return "overdue, reminder " + n
	}
	return step
}

// dueOrganizations lists the organizations with requests that may need a
// reminder on now's date (q in platform mode: the sweep spans
// organizations).
func (s *Service) dueOrganizations(ctx context.Context, q *db.Queries, now time.Time) ([]uuid.UUID, error) {
	earliest, latest := s.policy().window(DateOf(now))
	return q.ListOrganizationsWithRemindableRequests(ctx, db.ListOrganizationsWithRemindableRequestsParams{
		EarliestDue: pgDate(earliest), LatestDue: pgDate(latest)})
}

// DueOrganizations is dueOrganizations in a transaction of its own.
func (s *Service) DueOrganizations(ctx context.Context, now time.Time) (out []uuid.UUID, err error) {
	err = s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		out, err = s.dueOrganizations(ctx, q, now)
		return err
	})
	return out, err
}

// reminderRequest is what a reminder e-mail says about its request.
type reminderRequest struct {
	id     uuid.UUID
	title  string
	due    time.Time
	status string
	reason string
	items  []string
}

// SendReminders sends the organization's reminders due as of now and
// answers how many requests were reminded. Running it again (the same day,
// on another instance, after a failure) sends nothing twice.
func (s *Service) SendReminders(ctx context.Context, org uuid.UUID, now time.Time) (int, error) {
	p := s.policy()
	today := DateOf(now)
	earliest, latest := p.window(today)
	var rows []db.ListRemindableDocumentRequestsRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		rows, err = q.ListRemindableDocumentRequests(ctx, db.ListRemindableDocumentRequestsParams{
			OrganizationID: org, EarliestDue: pgDate(earliest), LatestDue: pgDate(latest)})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("list requests to remind: %w", err)
	}
	sent := 0
	for _, r := range rows {
		step := p.Step(fromPgDate(r.DueOn), r.CreatedAt, today)
		if step == "" || slices.Contains(r.SentSteps, step) {
			continue
		}
		ok, err := s.remind(ctx, org, r.ID, step, today)
		if err != nil {
			return sent, fmt.Errorf("remind request %s: %w", r.ID, err)
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// remind sends one step's reminder to the client of one request, in one
// transaction with its record, history and audit event; false when it was
// sent already, the request no longer waits for the client, or the client
// has no address (then nothing is recorded, so adding one lets the next run
// send it).
func (s *Service) remind(ctx context.Context, org, id uuid.UUID, step string, today time.Time) (bool, error) {
	sent := false
	err := s.Store.InOrgTx(ctx, org, func(tx pgx.Tx, q *db.Queries) error {
		r, err := q.LockDocumentRequest(ctx, db.LockDocumentRequestParams{OrganizationID: org, ID: id, ClientIds: []uuid.UUID{}})
		if err != nil {
			return err
		}
		if !awaitingClient(r.Status) || !r.Reminders {
			return nil
		}
		to, err := s.clientRecipients(ctx, q, org, r.ClientID)
		if err != nil {
			return err
		}
		if len(to) == 0 {
			s.log().InfoContext(ctx, "document request reminder not sent: the client has no e-mail address",
				slog.String("organization_id", org.String()), slog.String("request_id", id.String()), slog.String("step", step))
			return nil
		}
		_, err = q.RecordDocumentRequestReminder(ctx, db.RecordDocumentRequestReminderParams{
			OrganizationID: org, RequestID: id, Step: step, Recipients: int32(len(to)),
		})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil // sent already
		}
		if err != nil {
			return err
		}
		items, err := q.ListDocumentRequestItems(ctx, db.ListDocumentRequestItemsParams{OrganizationID: org, RequestID: id})
		if err != nil {
			return err
		}
		rr := reminderRequest{id: id, title: r.Title, due: fromPgDate(r.DueOn), status: r.Status, reason: r.RejectionReason}
		for _, it := range items {
			rr.items = append(rr.items, it.Label)
		}
		o, err := q.GetOrganizationName(ctx, org)
		if err != nil {
			return err
		}
		for _, addr := range to {
			if err := s.send(ctx, tx, q, s.reminderEmail(o, addr, rr, step, today)); err != nil {
				return err
			}
		}
		note := fmt.Sprintf("Reminder (%s) sent to %s", StepLabel(step), plural(len(to), "address", "addresses"))
		if err := s.addEvent(ctx, q, org, id, EventReminded, nil, note); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &org, Action: audit.RequestReminderSent, TargetType: "document_request",
			TargetID: id.String(), Summary: fmt.Sprintf("%q: %s", r.Title, note)}); err != nil {
			return err
		}
		sent = true
		return nil
	})
	return sent, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Jobs ------------------------------------------------------------------------------

// SweepInterval is how often the reminder sweep runs.
const SweepInterval = time.Hour

// SweepArgs is the periodic sweep that queues each organization's
// reminders.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "requests.reminders_sweep" }

// InsertOpts keeps at most one sweep waiting at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// RemindArgs sends one organization's reminders.
type RemindArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
}

// Kind implements river.JobArgs.
func (RemindArgs) Kind() string { return "requests.send_reminders" }

// OrgID implements queue.TenantArgs.
func (a RemindArgs) OrgID() uuid.UUID { return a.OrganizationID }

// InsertOpts keeps at most one waiting or running job per organization.
func (RemindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable,
		rivertype.JobStateScheduled,
	}}}
}

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Requests *Service
}

// Work queues requests.send_reminders for every organization that may
// need one, in the transaction that found them.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	s := w.Requests
	client := river.ClientFromContext[pgx.Tx](ctx)
	return s.Store.AsPlatformTx(ctx, func(tx pgx.Tx, q *db.Queries) error {
		orgs, err := s.dueOrganizations(ctx, q, s.now())
		if err != nil || len(orgs) == 0 {
			return err
		}
		params := make([]river.InsertManyParams, len(orgs))
		for i, org := range orgs {
			params[i] = river.InsertManyParams{Args: RemindArgs{OrganizationID: org}}
		}
		_, err = client.InsertManyTx(ctx, tx, params)
		return err
	})
}

// RemindWorker works RemindArgs.
type RemindWorker struct {
	river.WorkerDefaults[RemindArgs]
	Requests *Service
}

// Work sends the organization's reminders due now.
func (w *RemindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	_, err := w.Requests.SendReminders(ctx, job.Args.OrganizationID, w.Requests.now())
	return err
}

// Register adds the reminder workers to workers and returns the periodic
// sweep.
func Register(workers *river.Workers, s *Service) *river.PeriodicJob {
	river.AddWorker(workers, &SweepWorker{Requests: s})
	river.AddWorker(workers, &RemindWorker{Requests: s})
	return river.NewPeriodicJob(river.PeriodicInterval(SweepInterval), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "requests.reminders_sweep", RunOnStart: true})
}
