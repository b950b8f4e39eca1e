package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/notify"
	"accute/internal/queue"
	"accute/internal/storage"
	"accute/internal/store"
	"accute/internal/testutil"
)

// testJobs builds the documents service and an insert-only job queue, as
// main.go does (local storage under the test's data directory).
func testJobs(t testing.TB, cfg *config.Config, st *store.Store, keys *crypto.KeyRing) (*queue.Queue, *documents.Service) {
	t.Helper()
	backend, err := storage.NewLocal(cfg.Documents.FilesDir)
	if err != nil {
		t.Fatal(err)
	}
	docs := &documents.Service{
		Store: st, Backend: backend, Keys: &documents.Keys{Store: st, Ring: keys},
		MaxBytes: cfg.Documents.UploadMaxBytes, Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil)),
	}
	if cfg.Documents.ClamAVAddr != "" {
		docs.Scanner = &documents.Clamd{Addr: cfg.Documents.ClamAVAddr, Timeout: 5 * time.Second}
	}
	jobs, err := queue.New(st.Pool, queue.Config{Workers: testWorkers(st, docs, nil), Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	docs.Jobs = jobs
	return jobs, docs
}

// testWorkers registers every worker the application has, plus extra.
func testWorkers(st *store.Store, docs *documents.Service, extra func(*river.Workers)) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &documents.ParseWorker{Docs: docs})
	notify.Register(w, st, notify.DevMailbox{})
	// Agent runs: the app's run worker (agent_helpers_test.go).
	river.AddWorker(w, runWorkerFor(st))
	if extra != nil {
		extra(w)
	}
	return w
}

// workJobs starts a worker over the app's database and waits until no job
// is waiting or running (scheduled and retrying ones are left), then stops
// it. periodic adds the outbox's periodic sweep.
func (a *testApp) workJobs(extra func(*river.Workers), periodic bool) {
	a.t.Helper()
	cfg := queue.Config{Workers: testWorkers(a.Store, a.Docs, extra), Concurrency: 4, PollInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))}
	if periodic {
		w := river.NewWorkers()
		cfg.Periodic = []*river.PeriodicJob{notify.Register(w, a.Store, notify.DevMailbox{})}
	}
	q, err := queue.New(a.Store.Pool, cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = q.Stop(5 * time.Second) }()
	// Give a periodic job's first run time to be inserted.
	time.Sleep(100 * time.Millisecond)
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := q.Counts(ctx)
		if err != nil {
			a.t.Fatal(err)
		}
		if counts[rivertype.JobStateAvailable]+counts[rivertype.JobStateRunning]+counts[rivertype.JobStatePending] == 0 {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("jobs still waiting or running after 20s: %v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// upload is one file of a multipart upload.
type upload struct {
	name    string
	content []byte
}

// postFiles posts a multipart form: fields first, then files (field name
// "files", or fileField). JSON asks for the uploader's JSON answer.
func postFiles(c *testutil.Client, path string, fields map[string]string, fileField string, json bool, files ...upload) *testutil.Response {
	c.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if fileField == "" {
		fileField = "files"
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(f.name)
		h.Set("Content-Disposition", `form-data; name="`+fileField+`"; filename="`+quoted+`"`)
		h.Set("Content-Type", "application/octet-stream")
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write(f.content)
	}
	_ = w.Close()
	req := c.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if json {
		req.Header.Set("Accept", "application/json")
	}
	return c.Do(req)
}

// documentFixtures uploads a text document into a new folder of org, for
// the route matrix: the document's id, its version's id, the folder's id.
func documentFixtures(t *testing.T, app *testApp, org db.Organization, owner db.User) (string, string, string) {
	t.Helper()
	ctx := context.Background()
	a := documents.Actor{OrgID: org.ID, UserID: owner.ID, Email: owner.Email}
	folder, err := app.Docs.CreateFolder(ctx, a, testutil.Unique("Fixture folder "), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := app.Docs.Upload(ctx, a, documents.UploadInput{Filename: "fixture.txt", Content: bytes.NewReader([]byte("fixture content " + testutil.Unique(""))),
		Placement: documents.Placement{FolderID: &folder.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return doc.ID.String(), doc.CurrentVersionID.String(), folder.ID.String()
}

// rawInOrg runs fn in a transaction of the app's pool (the application
// role, so row-level security applies) with org as the tenant, for
// assertions on raw tables.
func rawInOrg(app *testApp, org uuid.UUID, fn func(tx pgx.Tx) error) error {
	ctx := context.Background()
	tx, err := app.Store.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('app.organization_id', $1, true)", org.String()); err != nil {
		return err
	}
	return fn(tx)
}
