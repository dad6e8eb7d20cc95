package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
)

// genMedia encodes a clip with ffmpeg (lktest.SynthMedia) into a temporary directory.
func genMedia(t testing.TB, spec lktest.MediaSpec) lktest.Media {
	t.Helper()
	m, err := lktest.SynthMedia(context.Background(), t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runCmd(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func joinToken(key, secret, room, identity string, publish bool) string {
	yes, pub := true, publish
	tok, err := auth.NewAccessToken(key, secret).SetIdentity(identity).SetValidFor(time.Hour).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &pub, CanSubscribe: &yes}).ToJWT()
	if err != nil {
		panic(err)
	}
	return tok
}

// startPublisher joins with token and publishes m's microphone and camera, quietly.
func startPublisher(url, token string, m lktest.Media) (*lktest.Publisher, error) {
	return lktest.Publish(url, token, m, lktest.PublishOptions{Quiet: true})
}

// reporter records every update, as the recording service would receive them.
type reporter struct {
	mu  sync.Mutex
	ups []recording.Update
}

func (r *reporter) Report(_ context.Context, u recording.Update) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ups = append(r.ups, u)
	return nil
}

// wait returns the first update with a final status (or want), failing after timeout.
func (r *reporter) wait(t testing.TB, want recording.Status, timeout time.Duration) recording.Update {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, u := range r.ups {
			if u.Status == want || u.Status == recording.StatusFailed || u.Status == recording.StatusComplete {
				r.mu.Unlock()
				if u.Status != want {
					t.Fatalf("got status %s (%s), want %s", u.Status, u.Error, want)
				}
				return u
			}
		}
		r.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s update after %s; got %+v", want, timeout, r.all())
	return recording.Update{}
}

func (r *reporter) all() []recording.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recording.Update(nil), r.ups...)
}

// fsStorage is a tiny filesystem Storage for tests.
type fsStorage struct{ root string }

func (s fsStorage) Put(_ context.Context, key string, r io.Reader, _ int64, _ string) (int64, error) {
	p := filepath.Join(s.root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return 0, err
	}
	f, err := os.Create(p + ".part")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err = errors.Join(err, f.Close()); err != nil {
		return n, err
	}
	return n, os.Rename(p+".part", p)
}

func (s fsStorage) Open(context.Context, string) (io.ReadSeekCloser, int64, error) {
	return nil, 0, errors.New("not used")
}

func (s fsStorage) PresignGet(context.Context, string, time.Duration) (string, bool, error) {
	return "", false, nil
}

func (s fsStorage) Delete(_ context.Context, key string) error {
	return os.Remove(filepath.Join(s.root, filepath.FromSlash(key)))
}

// env is one test's LiveKit, room and recorder.
type env struct {
	lk    *lktest.Server
	rooms *lksdk.RoomServiceClient
	rep   *reporter
	store fsStorage
	work  string
	rec   *Recorder
	seg   float64 // Config.SegmentSeconds of the recorders newRecorder makes
}

func newEnv(t *testing.T, keep bool) *env { return newSegEnv(t, keep, 0) }

// newSegEnv is newEnv with recorders composing segments of seg seconds (0: the default).
func newSegEnv(t *testing.T, keep bool, seg float64) *env {
	t.Helper()
	e := &env{lk: lktest.Start(t, lktest.Options{}), rep: &reporter{}, store: fsStorage{root: t.TempDir()}, work: t.TempDir(), seg: seg}
	e.rooms = lksdk.NewRoomServiceClient(e.lk.HTTPURL, e.lk.APIKey, e.lk.APISecret)
	e.rec = e.newRecorder(t, e.work, e.rep, keep)
	return e
}

func (e *env) newRecorder(t *testing.T, work string, rep recording.Reporter, keep bool) *Recorder {
	t.Helper()
	rec, err := New(Config{URL: e.lk.WSURL, APIKey: e.lk.APIKey, APISecret: e.lk.APISecret, WorkDir: work,
		KeepTracks: keep, Reporter: rep, Storage: e.store, Rooms: e.rooms, Now: time.Now, SegmentSeconds: e.seg,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rec.Close(ctx)
	})
	return rec
}

func (e *env) createRoom(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.rooms.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: name, EmptyTimeout: 300}); err != nil {
		t.Fatalf("create room: %v", err)
	}
}

func (e *env) publish(t *testing.T, room, identity string, m lktest.Media) *lktest.Publisher {
	t.Helper()
	p, err := startPublisher(e.lk.WSURL, joinToken(e.lk.APIKey, e.lk.APISecret, room, identity, true), m)
	if err != nil {
		t.Fatalf("publisher %s: %v", identity, err)
	}
	t.Cleanup(p.Close)
	return p
}

// probe is what ffprobe says about a file.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		PixFmt    string `json:"pix_fmt"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, path string) (probe, float64) {
	t.Helper()
	out := runCmd(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,pix_fmt:format=duration", "-of", "json", path)
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	return p, d
}

// frameAt decodes the frame at t seconds scaled to 64x36 RGB.
func frameAt(t *testing.T, path string, at float64) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-ss", fmt.Sprintf("%.2f", at), "-i", path, "-frames:v", "1",
		"-vf", "scale=64:36", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(out) != 64*36*3 {
		t.Fatalf("frame at %.1fs: %v (%d bytes)", at, err, len(out))
	}
	return out
}

// colorAt names the dominant color of pixel (x, y): red, green, blue, black or other.
func colorAt(frame []byte, x, y int) string {
	i := (y*64 + x) * 3
	r, g, b := int(frame[i]), int(frame[i+1]), int(frame[i+2])
	switch {
	case r > 150 && g < 100 && b < 100:
		return "red"
	case g > 100 && r < 100 && b < 100:
		return "green"
	case b > 150 && r < 100 && g < 100:
		return "blue"
	case r < 40 && g < 40 && b < 40:
		return "black"
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}

func countColor(frame []byte, color string) int {
	n := 0
	for y := 0; y < 36; y++ {
		for x := 0; x < 64; x++ {
			if colorAt(frame, x, y) == color {
				n++
			}
		}
	}
	return n
}
