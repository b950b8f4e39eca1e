package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates a bucket on an S3-compatible service (AWS S3, MinIO,
// Cloudflare R2, Backblaze B2, Ceph ...).
type S3Config struct {
	Endpoint        string // host[:port], or an http(s):// URL
	Region          string
	Bucket          string
	Prefix          string // prepended to every key, e.g. "accute/"
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle addresses the bucket as endpoint/bucket/key instead of
	// bucket.endpoint/key (MinIO and most self-hosted services want it).
	PathStyle bool
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// S3 stores objects in a bucket through minio-go, a maintained client that
// speaks to any S3-compatible service.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

// partSize is the size of the parts of a streamed upload: the most memory
// one upload holds (S3's minimum part is 5 MiB; 10,000 parts of 8 MiB allow
// objects of 78 GiB).
const partSize = 8 << 20

// NewS3 returns an S3 backend. It does not contact the service.
func NewS3(cfg S3Config) (*S3, error) {
	endpoint, secure := cfg.Endpoint, true
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("storage: S3 endpoint %q is not a host or an http(s) URL", cfg.Endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: S3 client: %w", err)
	}
	return &S3{client: c, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

func (s *S3) name(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("storage: invalid key %q", key)
	}
	return s.prefix + key, nil
}

// Put streams r as a multipart upload (size unknown in advance), holding
// one part in memory; S3 makes the object visible only when the upload
// completes, and minio-go aborts the upload when reading r fails.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	name, err := s.name(key)
	if err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, name, contextReader{ctx, r}, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    partSize,
		NumThreads:  1,
	})
	if err != nil {
		return 0, fmt.Errorf("storage: S3 put %s: %w", name, err)
	}
	return info.Size, nil
}

// Open returns the object; reads are ranged GETs, sequential reads share
// one.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	name, err := s.name(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Error("open", name, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, s3Error("stat", name, err)
	}
	return s3Object{obj, st.Size}, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.name(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s3Error("delete", name, err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("storage: S3 delete %s: %w", name, err)
	}
	return nil
}

func s3Error(op, name string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return ErrNotFound
	}
	return fmt.Errorf("storage: S3 %s %s: %w", op, name, err)
}

type s3Object struct {
	*minio.Object
	size int64
}

func (o s3Object) Size() int64 { return o.size }
