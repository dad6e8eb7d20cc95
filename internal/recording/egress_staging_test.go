package recording

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/minio/minio-go/v7"
	"github.com/parley/parley/internal/db/dbtest"
)

// workerAPI is LiveKit's Egress API with a worker that accepts every request: it keeps each
// requested file path, and lists what the test says LiveKit still knows.
type workerAPI struct {
	mu    sync.Mutex
	paths map[string]string // egress id -> requested file path
	list  []*livekit.EgressInfo
}

func (w *workerAPI) StartRoomCompositeEgress(_ context.Context, req *livekit.RoomCompositeEgressRequest) (*livekit.EgressInfo, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := fmt.Sprintf("EG_%d", len(w.paths)+1)
	w.paths[id] = req.GetFileOutputs()[0].GetFilepath()
	return &livekit.EgressInfo{EgressId: id, RoomName: req.GetRoomName(), Status: livekit.EgressStatus_EGRESS_STARTING}, nil
}

func (w *workerAPI) StopEgress(context.Context, *livekit.StopEgressRequest) (*livekit.EgressInfo, error) {
	return &livekit.EgressInfo{}, nil
}

func (w *workerAPI) ListEgress(context.Context, *livekit.ListEgressRequest) (*livekit.ListEgressResponse, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return &livekit.ListEgressResponse{Items: w.list}, nil
}

// TestEgressStagedUploads: LiveKit Egress uploads to the real S3 server (versitygw) at the
// staging key Parley gave it; nothing is under the recording's key until Parley accepts the
// file, on egress_ended or, when that webhook was lost, on the reconciler's pass.
func TestEgressStagedUploads(t *testing.T) {
	endpoint, access, secret := startS3(t)
	ctx := context.Background()
	cfg := S3Config{Bucket: "recordings", Prefix: "parley", Region: "us-east-1", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: access, SecretAccessKey: secret}
	st, err := NewS3Storage(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	api := &workerAPI{paths: map[string]string{}}
	svc, err := New(dbtest.SQLite(t, Migrations()), Options{Storage: st, Now: clk.now, ReconcileGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	eg := NewEgress(api, svc, EgressOptions{S3: &cfg, Staging: st})
	svc.SetBackend(eg, "")
	url := sinkServer(t, eg)

	// start records a room; the worker's upload path is returned with it.
	start := func(t *testing.T, room string) (Recording, string) {
		t.Helper()
		r, err := svc.Start(ctx, StartParams{Room: room})
		if err != nil {
			t.Fatal(err)
		}
		api.mu.Lock()
		defer api.mu.Unlock()
		fp := api.paths[r.Handle]
		if want := "parley/.staging/" + FileKey(room, r.ID, r.StartedAt); fp != want {
			t.Fatalf("egress file path %q, want the staging key %q", fp, want)
		}
		return r, fp
	}
	upload := func(t *testing.T, object string, content []byte) { // as the egress worker does
		t.Helper()
		if _, err := st.c.PutObject(ctx, cfg.Bucket, object, bytes.NewReader(content), int64(len(content)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	objects := func() []string {
		var keys []string
		for o := range st.c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			keys = append(keys, o.Key)
		}
		return keys
	}
	info := func(r Recording, fp string, s livekit.EgressStatus, size int) *livekit.EgressInfo {
		in := &livekit.EgressInfo{EgressId: r.Handle, RoomName: r.Room, Status: s,
			Request: &livekit.EgressInfo_RoomComposite{RoomComposite: &livekit.RoomCompositeEgressRequest{
				RoomName: r.Room, FileOutputs: []*livekit.EncodedFileOutput{{Filepath: fp}}}}}
		if s == livekit.EgressStatus_EGRESS_COMPLETE {
			in.FileResults = []*livekit.FileInfo{{Filename: fp, Size: int64(size), Duration: int64(42 * time.Second)}}
		}
		return in
	}
	webhook := func(t *testing.T, in *livekit.EgressInfo) {
		t.Helper()
		ev := &livekit.WebhookEvent{Event: "egress_updated", Id: fmt.Sprintf("EV_%s_%d", in.EgressId, in.Status), CreatedAt: time.Now().Unix(), EgressInfo: in}
		if in.Status == livekit.EgressStatus_EGRESS_COMPLETE {
			ev.Event = "egress_ended"
		}
		if code := signedPost(t, url, ev); code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", ev.Event, code)
		}
	}
	// inPlace checks that the recording is complete with content under its own key, and
	// that nothing is left at its staging key.
	inPlace := func(t *testing.T, id string, content []byte) Recording {
		t.Helper()
		r, err := svc.Get(ctx, id)
		if err != nil || r.Status != StatusComplete || r.FileKey != FileKey(r.Room, r.ID, r.StartedAt) || r.SizeBytes != int64(len(content)) {
			t.Fatalf("recording: %+v, %v; want complete with %d bytes under its key", r, err, len(content))
		}
		f, _, err := st.Open(ctx, r.FileKey)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, _ := io.ReadAll(f); !bytes.Equal(got, content) {
			t.Fatalf("stored file: %d bytes, want the %d the egress uploaded", len(got), len(content))
		}
		for _, k := range objects() {
			if strings.Contains(k, ".staging/") && strings.Contains(k, r.ID) {
				t.Fatalf("left at the staging key: %s (all: %v)", k, objects())
			}
		}
		return r
	}

	t.Run("the upload is moved into place on egress_ended", func(t *testing.T) {
		r, fp := start(t, "standup")
		webhook(t, info(r, fp, livekit.EgressStatus_EGRESS_ACTIVE, 0))
		content := []byte("an mp4 the egress finished")
		upload(t, fp, content)
		upload(t, strings.TrimSuffix(fp, ".mp4")+".json", []byte(`{"egress_id":"`+r.Handle+`"}`))
		if _, _, err := st.Open(ctx, FileKey(r.Room, r.ID, r.StartedAt)); err == nil {
			t.Fatal("the file is under the recording's key before Parley accepted it")
		}
		webhook(t, info(r, fp, livekit.EgressStatus_EGRESS_COMPLETE, len(content)))
		got := inPlace(t, r.ID, content)
		if manifest := "parley/" + ManifestKey(got.FileKey); !slices.Contains(objects(), manifest) {
			t.Fatalf("the egress's manifest did not move with the file: %v", objects())
		}
	})

	t.Run("egress_ended lost and the egress forgotten: the reconciler finds the file", func(t *testing.T) {
		r, fp := start(t, "retro")
		webhook(t, info(r, fp, livekit.EgressStatus_EGRESS_ACTIVE, 0))
		clk.add(30 * time.Second)
		if _, err := svc.Stop(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		content := []byte("finished while its webhook was lost")
		upload(t, fp, content)
		clk.add(time.Minute) // the reconciler comes by a while later
		if err := svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		got := inPlace(t, r.ID, content)
		if !strings.Contains(got.Note, "final report was lost") || got.DurationSeconds != 30 {
			t.Fatalf("note %q, duration %v s: want how it completed, and the 30 s until it was stopped", got.Note, got.DurationSeconds)
		}
	})

	t.Run("egress_ended lost, LiveKit still lists the egress complete", func(t *testing.T) {
		r, fp := start(t, "planning")
		content := []byte("listed complete")
		upload(t, fp, content)
		api.mu.Lock()
		api.list = []*livekit.EgressInfo{info(r, fp, livekit.EgressStatus_EGRESS_COMPLETE, len(content))}
		api.mu.Unlock()
		clk.add(2 * time.Second)
		if err := svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		inPlace(t, r.ID, content)
	})

	t.Run("forgotten with no file anywhere: aborted", func(t *testing.T) {
		r, _ := start(t, "empty")
		api.mu.Lock()
		api.list = nil
		api.mu.Unlock()
		clk.add(2 * time.Second)
		if err := svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Get(ctx, r.ID); got.Status != StatusAborted {
			t.Fatalf("got %s (%s), want aborted", got.Status, got.Error)
		}
	})

	t.Run("reported complete with no file: failed, saying where it looked", func(t *testing.T) {
		r, fp := start(t, "ghost")
		webhook(t, info(r, fp, livekit.EgressStatus_EGRESS_COMPLETE, 10))
		if got, _ := svc.Get(ctx, r.ID); got.Status != StatusFailed || !strings.Contains(got.Error, "storage has no file at ghost/") {
			t.Fatalf("got %s (%q), want failed naming the key", got.Status, got.Error)
		}
	})
}
