package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/documents"
	"accute/internal/notify"
	"accute/internal/queue"
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

// newJobs builds the documents service and the job queue with every
// worker, working concurrency jobs at once (0: insert only).
func newJobs(cfg *config.Config, st *store.Store, keys *crypto.KeyRing, log *slog.Logger, concurrency int) (*queue.Queue, *documents.Service, error) {
	backend, err := newBackend(cfg)
	if err != nil {
		return nil, nil, err
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
	jobs, err := queue.New(st.Pool, queue.Config{
		Workers: workers, Periodic: []*river.PeriodicJob{outbox}, Concurrency: concurrency, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	docs.Jobs = jobs
	return jobs, docs, nil
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
		jobs, _, err := newJobs(cfg, st, keys, log, concurrency)
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
