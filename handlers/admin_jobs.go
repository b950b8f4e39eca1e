package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/admin"
	"accute/internal/queue"
	adminview "accute/views/pages/admin"
)

// adminJobsPerPage is the size of a page of jobs.
const adminJobsPerPage = 50

var jobStateLabels = map[rivertype.JobState]string{
	rivertype.JobStateAvailable: "Waiting", rivertype.JobStateRunning: "Running", rivertype.JobStateRetryable: "Retrying",
	rivertype.JobStateScheduled: "Scheduled", rivertype.JobStateDiscarded: "Dead", rivertype.JobStateCancelled: "Cancelled",
	rivertype.JobStateCompleted: "Completed", rivertype.JobStatePending: "Pending",
}

// AdminJobs lists the queue's jobs of one state (?state=, dead ones by
// default when there are any, else waiting ones).
func (h *Handlers) AdminJobs(c echo.Context) error {
	ctx := c.Request().Context()
	counts, err := h.Jobs.Counts(ctx)
	if err != nil {
		return err
	}
	state := c.QueryParam("state")
	if !queue.ValidState(state) {
		state = string(rivertype.JobStateAvailable)
		if counts[rivertype.JobStateDiscarded] > 0 {
			state = string(rivertype.JobStateDiscarded)
		}
	}
	cursor := c.QueryParam("after")
	page, err := h.Jobs.List(ctx, rivertype.JobState(state), cursor, adminJobsPerPage)
	if err != nil {
		return err
	}
	here := "/admin/jobs?" + url.Values{"state": {state}}.Encode()
	back := here
	if cursor != "" {
		back += "&" + url.Values{"after": {cursor}}.Encode()
	}
	v := adminview.JobsView{State: state, Working: h.Jobs.Working()}
	for _, st := range queue.States {
		v.Tabs = append(v.Tabs, adminview.JobTab{State: string(st), Label: jobStateLabels[st], Count: counts[st],
			URL: "/admin/jobs?" + url.Values{"state": {string(st)}}.Encode(), Current: string(st) == state})
	}
	for _, j := range page.Jobs {
		v.Rows = append(v.Rows, jobRow(j, back))
	}
	if page.Next != "" {
		v.NextURL = here + "&" + url.Values{"after": {page.Next}}.Encode()
	}
	if cursor != "" {
		v.FirstURL = here
	}
	return h.render(c, http.StatusOK, adminview.JobsPage(h.adminShell(c, "Jobs", "jobs"), v))
}

func jobRow(j queue.Job, back string) adminview.JobRow {
	id := strconv.FormatInt(j.ID, 10)
	when := j.CreatedAt
	if j.FinalizedAt != nil {
		when = *j.FinalizedAt
	} else if j.State == rivertype.JobStateScheduled || j.State == rivertype.JobStateRetryable {
		when = j.ScheduledAt
	}
	last := j.LastError
	if len(last) > 300 {
		last = last[:300] + "…"
	}
	return adminview.JobRow{
		ID: id, Kind: j.Kind, Queue: j.Queue, Args: queue.PrettyArgs(j.Args), Errors: j.Errors,
		Attempts: fmt.Sprintf("%d / %d", j.Attempt, j.MaxAttempts), LastError: last, When: adminTime(when),
		CanRetry:  j.State == rivertype.JobStateDiscarded || j.State == rivertype.JobStateCancelled || j.State == rivertype.JobStateRetryable,
		CanCancel: j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateScheduled || j.State == rivertype.JobStateRetryable || j.State == rivertype.JobStateRunning,
		RetryURL:  "/admin/jobs/" + id + "/retry", CancelURL: "/admin/jobs/" + id + "/cancel", Back: back,
	}
}

func jobIDParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// AdminJobRetry runs a dead, cancelled or retrying job again now.
func (h *Handlers) AdminJobRetry(c echo.Context) error {
	return h.adminJobAction(c, "retry")
}

// AdminJobCancel cancels a job that has not finished.
func (h *Handlers) AdminJobCancel(c echo.Context) error {
	return h.adminJobAction(c, "cancel")
}

func (h *Handlers) adminJobAction(c echo.Context, action string) error {
	id, err := jobIDParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	actor := admin.Actor{ID: p.User.ID, Email: p.User.Email}
	var j queue.Job
	if action == "retry" {
		j, err = h.adminSvc().RetryJob(ctx, h.Jobs, actor, id)
	} else {
		j, err = h.adminSvc().CancelJob(ctx, h.Jobs, actor, id)
	}
	if errors.Is(err, queue.ErrNoJob) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Job #%d (%s) will run again now.", j.ID, j.Kind)
	if action == "cancel" {
		msg = fmt.Sprintf("Job #%d (%s) was cancelled.", j.ID, j.Kind)
	}
	h.flash(c, "success", msg)
	return h.redirect(c, backTo(c, "/admin/jobs"))
}
