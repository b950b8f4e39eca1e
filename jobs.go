package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"accute/internal/agents/runs"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/documents"
	"accute/internal/notify"
	"accute/internal/queue"
	"accute/internal/requests"
	"accute/internal/storage"
	"accute/internal/store"
)

// jobStopGrace is how long running jobs get to finish at shutdown.
const jobStopGrace = 15 * time.Second

// newBackend is the file storage: S3 when configured, else local disk.
func newBackend(cfg *config.Config) (storage.Backend, error) {
	if s := cfg.Documents.S3; s.Enabled() {
		return storage.NewS3(storage.S3Config{
			Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, Prefix: s.Prefix,
			AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, PathStyle: s.PathStyle,
		})
	}
	return storage.NewLocal(cfg.Documents.FilesDir)
}

// newJobs builds the documents and document requests services and the
// job queue with every worker, working concurrency jobs at once (0: insert
// only). cancels is the process's registry of running agent runs.
func newJobs(cfg *config.Config, st *store.Store, keys *crypto.KeyRing, log *slog.Logger, concurrency int, cancels *runs.Cancels) (*queue.Queue, *documents.Service, *requests.Service, error) {
	backend, err := newBackend(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	docs := &documents.Service{
		Store: st, Backend: backend, Keys: &documents.Keys{Store: st, Ring: keys},
		MaxBytes: cfg.Documents.UploadMaxBytes, Logger: log,
	}
	if cfg.Documents.ClamAVAddr != "" {
		docs.Scanner = &documents.Clamd{Addr: cfg.Documents.ClamAVAddr}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &documents.ParseWorker{Docs: docs, Logger: log})
	// No e-mail provider is wired yet: the development mailbox delivers.
	outbox := notify.Register(workers, st, notify.DevMailbox{})
	// Document requests: the reminder sweep (internal/requests).
	// Client e-mails link a request to its page in the client portal
	// (handlers/portal_requests.go).
	reqs := &requests.Service{Store: st, Docs: docs, BaseURL: cfg.BaseURL, Logger: log,
		PortalURL: func(slug string, id uuid.UUID) string { return "/o/" + slug + "/portal/requests/" + id.String() }}
	reminders := requests.Register(workers, reqs)
	// Agent runs (internal/agents/runs, wired in realtime.go).
	addRunWorker(workers, cfg, st, keys, reqs, cancels, log)
	jobs, err := queue.New(st.Pool, queue.Config{
		Workers: workers, Periodic: []*river.PeriodicJob{outbox, reminders}, Concurrency: concurrency, Logger: log,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	docs.Jobs = jobs
	reqs.Jobs = jobs
	return jobs, docs, reqs, nil
}

// workerCommand works jobs until SIGINT or SIGTERM, without serving HTTP.
// Run as many as the work needs, beside or instead of the servers' own
// workers (JOB_WORKERS).
func workerCommand() error {
	return withDatabase(func(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := store.Migrate(ctx, cfg.MigrationDatabaseURL); err != nil {
			return err
		}
		concurrency := max(1, cfg.Documents.JobWorkers)
		st, err := store.Open(ctx, cfg.DatabaseURL, concurrency+5)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := crypto.NewKeyRing(cfg.EncryptionKey, cfg.EncryptionKeysOld...)
		if err != nil {
			return err
		}
		// Cancels asked on any instance reach the runs this process works.
		cancels := runs.NewCancels()
		listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
		defer stopListening()
		startListener(listenCtx, st, nil, cancels, log)
		jobs, _, _, err := newJobs(cfg, st, keys, log, concurrency, cancels)
		if err != nil {
			return err
		}
		if err := jobs.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		log.Info("worker running", "concurrency", concurrency)
		<-ctx.Done()
		log.Info("worker stopping: letting running jobs finish", "grace", jobStopGrace.String())
		if err := jobs.Stop(jobStopGrace); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("stop worker: %w", err)
		}
		return nil
	})
}
