package recording

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is recording.storage for type s3.
type S3Config struct {
	Bucket, Prefix, Region string
	// Endpoint is a URL (http://127.0.0.1:9000) or host; empty means AWS S3.
	Endpoint  string
	PathStyle bool
	// Empty keys: the usual environment (AWS_ACCESS_KEY_ID..., ~/.aws/credentials, IAM role).
	AccessKeyID, SecretAccessKey string
}

// S3Storage keeps recordings in any S3-compatible store. Uploads are streamed (multipart,
// one part buffered at a time) under <prefix>.staging/, server-side copied to the final key
// once complete and the staged object deleted, so a listing of finished recordings never
// shows a partial file.
type S3Storage struct {
	c      *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	now    func() time.Time
}

// s3PartSize bounds the memory of one streamed upload.
const s3PartSize = 16 << 20

// NewS3Storage builds the client; it does not contact the store (Ping does).
func NewS3Storage(cfg S3Config, now func() time.Time) (*S3Storage, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("recording.storage.bucket is required with storage type s3: %w", ErrInvalid)
	}
	if now == nil {
		now = time.Now
	}
	host, secure := "s3.amazonaws.com", true
	if cfg.Endpoint != "" {
		if strings.Contains(cfg.Endpoint, "://") {
			u, err := url.Parse(cfg.Endpoint)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return nil, fmt.Errorf("recording.storage.endpoint %q: use http(s)://host[:port] or host[:port]: %w", cfg.Endpoint, ErrInvalid)
			}
			host, secure = u.Host, u.Scheme == "https"
		} else {
			host = cfg.Endpoint
		}
	}
	var creds *credentials.Credentials
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("recording.storage (s3 %s): %w", host, err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3Storage{c: c, bucket: cfg.Bucket, prefix: prefix, now: now}, nil
}

// Ping checks that the bucket exists and the credentials work.
func (s *S3Storage) Ping(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3 bucket %q does not exist (create it, or fix recording.storage.bucket)", s.bucket)
	}
	return nil
}

func (s *S3Storage) key(key string) (string, error) {
	if key == "" || path.Clean("/" + key)[1:] != key {
		return "", fmt.Errorf("storage key %q is not a clean relative path: %w", key, ErrInvalid)
	}
	return s.prefix + key, nil
}

func (s *S3Storage) stagingPrefix() string { return s.prefix + s.StagingKey("") }

// Location is the object's s3:// URL.
func (s *S3Storage) Location(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

// Put streams r to a staged object, then moves it to key with a server-side copy.
func (s *S3Storage) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error) {
	final, err := s.key(key)
	if err != nil {
		return 0, err
	}
	staged := s.stagingPrefix() + key
	info, err := s.c.PutObject(ctx, s.bucket, staged, r, size, minio.PutObjectOptions{
		ContentType: contentType, PartSize: s3PartSize, NumThreads: 1,
	})
	if err != nil {
		s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, staged, minio.RemoveObjectOptions{})
		return info.Size, fmt.Errorf("storage: upload %s: %w", key, err)
	}
	if size >= 0 && info.Size != size {
		s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, staged, minio.RemoveObjectOptions{})
		return info.Size, fmt.Errorf("storage: upload %s: stored %d bytes, expected %d", key, info.Size, size)
	}
	return info.Size, s.move(ctx, key, staged, final)
}

// move copies staged to final server-side (ComposeObject: multipart copy above 5 GiB) and
// removes staged. A staged copy that cannot be removed is swept later.
func (s *S3Storage) move(ctx context.Context, key, staged, final string) error {
	_, err := s.c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: final},
		minio.CopySrcOptions{Bucket: s.bucket, Object: staged})
	if err != nil {
		return fmt.Errorf("storage: move %s into place: %w", key, err)
	}
	_ = s.c.RemoveObject(ctx, s.bucket, staged, minio.RemoveObjectOptions{})
	return nil
}

// StagingKey is .staging/<key>, under the prefix.
func (s *S3Storage) StagingKey(key string) string { return stagingDir + "/" + key }

// Promote moves the staged object of key into place (see Stager).
func (s *S3Storage) Promote(ctx context.Context, key string) (int64, error) {
	final, err := s.key(key)
	if err != nil {
		return 0, err
	}
	staged := s.prefix + s.StagingKey(key)
	st, err := s.c.StatObject(ctx, s.bucket, staged, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).StatusCode == 404 {
		st, err = s.c.StatObject(ctx, s.bucket, final, minio.StatObjectOptions{})
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return 0, fmt.Errorf("storage: %s: neither staged nor in place: %w", key, ErrNoFile)
		}
		if err != nil {
			return 0, fmt.Errorf("storage: stat %s: %w", key, err)
		}
		return st.Size, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: stat staged %s: %w", key, err)
	}
	return st.Size, s.move(ctx, key, staged, final)
}

// Open streams the object (the API presigns instead; this serves other readers).
func (s *S3Storage) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, 0, err
	}
	st, err := s.c.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return nil, 0, fmt.Errorf("storage: %s: %w", key, ErrNoFile)
		}
		return nil, 0, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	obj, err := s.c.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("storage: open %s: %w", key, err)
	}
	return obj, st.Size, nil
}

// PresignGet returns a URL valid for ttl that downloads the object as an attachment.
func (s *S3Storage) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	k, err := s.key(key)
	if err != nil {
		return "", false, err
	}
	params := url.Values{}
	params.Set("response-content-disposition", fmt.Sprintf("attachment; filename=%q", path.Base(key)))
	u, err := s.c.PresignedGetObject(ctx, s.bucket, k, ttl, params)
	if err != nil {
		return "", false, fmt.Errorf("storage: presign %s: %w", key, err)
	}
	return u.String(), true, nil
}

// Delete removes the object; a missing one is fine.
func (s *S3Storage) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	// The staged copy is what LiveKit Egress writes before the move (or a Put cut short).
	for _, k := range []string{k, s.stagingPrefix() + key} {
		if err := s.c.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && minio.ToErrorResponse(err).StatusCode != 404 {
			return fmt.Errorf("storage: delete %s: %w", key, err)
		}
	}
	return nil
}

// SweepStaging removes staged objects older than olderThan (left by a crash mid-upload).
func (s *S3Storage) SweepStaging(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := s.now().Add(-olderThan)
	n := 0
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.stagingPrefix(), Recursive: true}) {
		if obj.Err != nil {
			return n, fmt.Errorf("storage: sweep staging: %w", obj.Err)
		}
		if obj.LastModified.Before(cutoff) {
			if err := s.c.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err == nil {
				n++
			}
		}
	}
	return n, nil
}
