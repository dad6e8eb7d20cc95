package recording

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/parley/parley/internal/testenv"
)

// startS3 runs a real S3-compatible server (versitygw over a temp directory) for the test.
// Build it with: cd tools/s3server && go build -o ../../bin/versitygw github.com/versity/versitygw/cmd/versitygw
func startS3(t *testing.T) (endpoint, access, secret string) {
	t.Helper()
	bin := os.Getenv("PARLEY_VERSITYGW_BIN")
	if bin == "" {
		bin = filepath.Join(testenv.RepoRoot(), "bin", "versitygw")
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.SkipOrFail(t, "the S3 server bin/versitygw (build: cd tools/s3server && go build -o ../../bin/versitygw github.com/versity/versitygw/cmd/versitygw)", err)
	}
	port := testenv.FreePort(t)
	access, secret = "parleytest", "parleytest-secret-0123456789"
	cmd := exec.Command(bin, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--access", access, "--secret", secret, "--quiet", "posix", t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr, access, secret
}

// patternReader yields n deterministic bytes without holding them, and calls at once when
// half of them have been read.
type patternReader struct {
	n, off int64
	half   func()
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	if p.half != nil && p.off < p.n/2 && p.off+int64(len(b)) >= p.n/2 {
		p.half()
		p.half = nil
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestS3Storage(t *testing.T) {
	endpoint, access, secret := startS3(t)
	ctx := context.Background()
	cfg := S3Config{Bucket: "recordings", Prefix: "/parley/", Region: "us-east-1", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: access, SecretAccessKey: secret}
	s, err := NewS3Storage(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("ping without the bucket: %v", err)
	}
	if err := s.c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Credentials from the usual environment when the config has none.
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	envCfg := cfg
	envCfg.AccessKeyID, envCfg.SecretAccessKey = "", ""
	if envS, err := NewS3Storage(envCfg, nil); err != nil || envS.Ping(ctx) != nil {
		t.Fatalf("credentials from AWS_* environment: %v", err)
	}

	key := "standup/2026/05/04/r1.mp4"
	const size = 20 << 20 // above the 16 MiB part size: a streamed multipart upload
	visibleMidway := true
	src := &patternReader{n: size, half: func() {
		_, err := s.c.StatObject(ctx, cfg.Bucket, "parley/"+key, minio.StatObjectOptions{})
		visibleMidway = err == nil
	}}
	n, err := s.Put(ctx, key, src, -1, "video/mp4")
	if err != nil || n != size {
		t.Fatalf("put: %d, %v", n, err)
	}
	if visibleMidway {
		t.Fatal("the final key was visible while the upload was in progress")
	}
	var keys []string
	for o := range s.c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		keys = append(keys, o.Key)
	}
	if fmt.Sprint(keys) != "[parley/"+key+"]" {
		t.Fatalf("objects after the move: %v (want only the final key, staging deleted)", keys)
	}

	// Presigned download: a plain HTTP GET, no credentials.
	url, ok, err := s.PresignGet(ctx, key, 5*time.Minute)
	if err != nil || !ok || !strings.Contains(url, "X-Amz-Expires=300") {
		t.Fatalf("presign: %q %v %v", url, ok, err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	got, _ := io.Copy(h, resp.Body)
	resp.Body.Close()
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	if resp.StatusCode != 200 || got != size || !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatalf("presigned GET: %d, %d bytes, same content %v", resp.StatusCode, got, bytes.Equal(h.Sum(nil), want.Sum(nil)))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "r1.mp4") {
		t.Errorf("Content-Disposition %q", cd)
	}
	rd, sz, err := s.Open(ctx, key)
	if err != nil || sz != size {
		t.Fatalf("open: %d %v", sz, err)
	}
	rd.Seek(size-10, io.SeekStart)
	tail, _ := io.ReadAll(rd)
	rd.Close()
	if len(tail) != 10 {
		t.Fatalf("seek+read: %d bytes", len(tail))
	}

	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
	if _, _, err := s.Open(ctx, key); !errors.Is(err, ErrNoFile) {
		t.Fatalf("open deleted: %v", err)
	}
	if resp, err := http.Get(url); err != nil || resp.StatusCode != 404 {
		t.Fatalf("presigned GET after delete: %v %v", resp.StatusCode, err)
	}

	// Abandoned staged uploads are swept.
	if _, err := s.c.PutObject(ctx, cfg.Bucket, "parley/.staging/x/old.mp4", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepStaging(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep fresh: %d %v", n, err)
	}
	if n, err := s.SweepStaging(ctx, -time.Minute); err != nil || n != 1 {
		t.Fatalf("sweep old: %d %v", n, err)
	}
}

// TestS3RecordingLifecycle drives a recording through the service onto S3: the manifest is
// written beside the file, the download is a presigned URL, delete removes both objects.
func TestS3RecordingLifecycle(t *testing.T) {
	endpoint, access, secret := startS3(t)
	ctx := context.Background()
	s3, err := NewS3Storage(S3Config{Bucket: "rec", Endpoint: endpoint, PathStyle: true, Region: "us-east-1", AccessKeyID: access, SecretAccessKey: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.c.MakeBucket(ctx, "rec", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *Options) { o.Storage = s3 })
	r, _ := h.svc.Start(ctx, StartParams{Room: "board"})
	key := h.be.started[0].FileKey
	if _, err := s3.Put(ctx, key, strings.NewReader("movie"), 5, "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Report(ctx, Update{RecordingID: r.ID, Status: StatusComplete, SizeBytes: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3.c.StatObject(ctx, "rec", ManifestKey(key), minio.StatObjectOptions{}); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	f, err := h.svc.OpenFile(ctx, r.ID)
	if err != nil || f.URL == "" || f.Reader != nil {
		t.Fatalf("file: %+v %v", f, err)
	}
	resp, err := http.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "movie" {
		t.Fatalf("download: %q", b)
	}
	if err := h.svc.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	for o := range s3.c.ListObjects(ctx, "rec", minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("left after delete: %s", o.Key)
	}
}
