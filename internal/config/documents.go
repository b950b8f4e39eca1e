package config

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Documents configures file storage, uploads and the job queue's workers.
type Documents struct {
	// FilesDir is where files are stored on local disk: ACCUTE_DATA_DIR/files.
	FilesDir string
	// UploadMaxBytes is the largest file accepted (UPLOAD_MAX_BYTES: bytes,
	// or a number with KB, MB, GB, KiB, MiB or GiB; default 50 MB).
	UploadMaxBytes int64
	// ClamAVAddr is clamd's address (CLAMAV_ADDR: host:port or a unix
	// socket path); uploads are scanned when it is set.
	ClamAVAddr string
	// S3 stores files in an S3-compatible bucket instead of on disk, when
	// S3_BUCKET is set.
	S3 S3
	// JobWorkers is how many jobs `accute serve` works at once
	// (JOB_WORKERS, default 10; 0 leaves jobs to `accute worker`
	// processes). `accute worker` uses it too, with at least 1.
	JobWorkers int
}

// S3 locates the bucket.
type S3 struct {
	Endpoint        string // S3_ENDPOINT: host[:port] or URL (default s3.amazonaws.com)
	Region          string // S3_REGION (default us-east-1)
	Bucket          string // S3_BUCKET
	Prefix          string // S3_PREFIX: prepended to object keys, e.g. "accute/"
	AccessKeyID     string // S3_ACCESS_KEY_ID
	SecretAccessKey string // S3_SECRET_ACCESS_KEY
	PathStyle       bool   // S3_FORCE_PATH_STYLE: bucket in the path (MinIO and most self-hosted services)
}

// Enabled reports whether files go to S3.
func (s S3) Enabled() bool { return s.Bucket != "" }

// DefaultUploadMaxBytes is the upload limit when UPLOAD_MAX_BYTES is unset.
const DefaultUploadMaxBytes = 50_000_000

var (
	sizePattern   = regexp.MustCompile(`^(?i)\s*(\d+)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	prefixPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9._-]*/)*$`)
)

// parseSize reads a size such as 52428800, 50MB or 50 MiB.
func parseSize(s string) (int64, bool) {
	m := sizePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]int64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[strings.ToLower(m[2])]
	if n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

// loadDocuments reads the documents' variables into c.Documents.
func (c *Config) loadDocuments(get func(string) string, bad func(string, ...any)) {
	d := Documents{
		FilesDir:       filepath.Join(c.DataDir, "files"),
		UploadMaxBytes: DefaultUploadMaxBytes,
		ClamAVAddr:     get("CLAMAV_ADDR"),
		JobWorkers:     10,
		S3: S3{
			Endpoint: get("S3_ENDPOINT"), Region: get("S3_REGION"), Bucket: get("S3_BUCKET"), Prefix: get("S3_PREFIX"),
			AccessKeyID: get("S3_ACCESS_KEY_ID"), SecretAccessKey: get("S3_SECRET_ACCESS_KEY"),
		},
	}
	if v := get("UPLOAD_MAX_BYTES"); v != "" {
		n, ok := parseSize(v)
		if !ok || n < 1000 || n > 5e9 {
			bad("UPLOAD_MAX_BYTES: must be a size between 1 KB and 5 GB, such as 52428800 or 50MB, got %q", v)
		} else {
			d.UploadMaxBytes = n
		}
	}
	if v := get("JOB_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			bad("JOB_WORKERS: must be a number between 0 and 1000, got %q", v)
		} else {
			d.JobWorkers = n
		}
	}
	if a := d.ClamAVAddr; a != "" && !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "unix:") {
		if _, port, ok := strings.Cut(strings.TrimPrefix(a, "tcp://"), ":"); !ok || port == "" {
			bad("CLAMAV_ADDR: must be host:port (clamd's TCPSocket) or the path of its unix socket, got %q", a)
		}
	}
	switch v := strings.ToLower(get("S3_FORCE_PATH_STYLE")); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		d.S3.PathStyle = true
	default:
		bad("S3_FORCE_PATH_STYLE: must be 0 or 1, got %q", v)
	}
	s := &d.S3
	anyS3 := s.Endpoint != "" || s.Region != "" || s.Prefix != "" || s.AccessKeyID != "" || s.SecretAccessKey != ""
	switch {
	case s.Bucket == "" && anyS3:
		bad("S3_BUCKET: required when other S3_* variables are set (files stay on local disk without it)")
	case s.Bucket != "":
		if !bucketPattern.MatchString(s.Bucket) {
			bad("S3_BUCKET: %q is not a valid bucket name", s.Bucket)
		}
		if s.AccessKeyID == "" || s.SecretAccessKey == "" {
			bad("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: both required when S3_BUCKET is set")
		}
		if s.Endpoint == "" {
			s.Endpoint = "s3.amazonaws.com"
		} else if strings.Contains(s.Endpoint, "://") {
			if u, err := url.Parse(s.Endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				bad("S3_ENDPOINT: must be host[:port] or an http(s) URL, got %q", s.Endpoint)
			} else if c.Production() && u.Scheme != "https" {
				bad("S3_ENDPOINT: must use https in production, got %q", s.Endpoint)
			}
		}
		if s.Region == "" {
			s.Region = "us-east-1"
		}
		if !prefixPattern.MatchString(s.Prefix) {
			bad("S3_PREFIX: must be empty or lower-case path segments ending with /, such as accute/, got %q", s.Prefix)
		}
	}
	c.Documents = d
}
