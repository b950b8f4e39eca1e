package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDocumentsDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Documents
	if d.UploadMaxBytes != 50_000_000 || d.FilesDir != filepath.Join(dir, "files") || d.JobWorkers != 10 || d.S3.Enabled() || d.ClamAVAddr != "" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestDocumentsSettings(t *testing.T) {
	cfg, err := FromEnv(lookup(map[string]string{
		"ACCUTE_DATA_DIR": t.TempDir(), "UPLOAD_MAX_BYTES": "100 MiB", "CLAMAV_ADDR": "clamd:3310", "JOB_WORKERS": "0",
		"S3_BUCKET": "accute-docs", "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret",
		"S3_ENDPOINT": "http://minio:9000", "S3_FORCE_PATH_STYLE": "1", "S3_PREFIX": "accute/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Documents
	if d.UploadMaxBytes != 100<<20 || d.JobWorkers != 0 || !d.S3.Enabled() || !d.S3.PathStyle || d.S3.Region != "us-east-1" || d.S3.Prefix != "accute/" {
		t.Fatalf("settings: %+v", d)
	}
	for in, want := range map[string]int64{"52428800": 52428800, "50MB": 50_000_000, "1gb": 1_000_000_000, "64 KiB": 65536} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d %v", in, got, ok)
		}
	}
}

func TestDocumentsInvalidSettingsAreAllReported(t *testing.T) {
	_, err := FromEnv(lookup(map[string]string{
		"ACCUTE_DATA_DIR": t.TempDir(), "UPLOAD_MAX_BYTES": "lots", "CLAMAV_ADDR": "clamd", "JOB_WORKERS": "-1",
		"S3_ENDPOINT": "ftp://x", "S3_FORCE_PATH_STYLE": "maybe",
	}))
	if err == nil {
		t.Fatal("accepted invalid values")
	}
	for _, want := range []string{"UPLOAD_MAX_BYTES", "CLAMAV_ADDR", "JOB_WORKERS", "S3_BUCKET: required", "S3_FORCE_PATH_STYLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	_, err = FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": t.TempDir(), "S3_BUCKET": "Bad_Bucket", "S3_ENDPOINT": "ftp://x", "S3_PREFIX": "/abs"}))
	for _, want := range []string{"S3_BUCKET: \"Bad_Bucket\"", "S3_ACCESS_KEY_ID", "S3_ENDPOINT", "S3_PREFIX"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}
