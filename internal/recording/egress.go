package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

// EgressAPI is the part of LiveKit's Egress service the backend calls; internal/livekit's
// EgressClient (and server-sdk-go's lksdk.EgressClient) have these signatures.
type EgressAPI interface {
	StartRoomCompositeEgress(ctx context.Context, req *livekit.RoomCompositeEgressRequest) (*livekit.EgressInfo, error)
	StopEgress(ctx context.Context, req *livekit.StopEgressRequest) (*livekit.EgressInfo, error)
	ListEgress(ctx context.Context, req *livekit.ListEgressRequest) (*livekit.ListEgressResponse, error)
}

// EgressOptions say where LiveKit Egress writes the file.
type EgressOptions struct {
	// S3 uploads to the bucket (storage type s3); nil writes to FileRoot on the egress
	// worker's filesystem (storage type fs: the directory must be shared with Parley).
	S3              *S3Config
	FileRoot        string
	DisableManifest bool
	// Staging, when set (the service's storage), has each file written at its staging key;
	// the service moves it into place once the egress reports it complete, or once the
	// reconciler finds it after that report was lost.
	Staging Stager
	// Layout is the room-composite layout ("grid" by default, "speaker", ...).
	Layout string
	Log    *slog.Logger
}

// Egress is the Backend for LiveKit clusters running LiveKit Egress: a room-composite egress
// to one MP4 file per recording. Its state arrives as egress_* webhooks (HandleEgress) and
// is reconciled with ListEgress.
type Egress struct {
	api EgressAPI
	rep Reporter
	o   EgressOptions
	log *slog.Logger
}

// NewEgress builds the backend; rep is the recording service.
func NewEgress(api EgressAPI, rep Reporter, o EgressOptions) *Egress {
	if o.Layout == "" {
		o.Layout = "grid"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Egress{api: api, rep: rep, o: o, log: o.Log.With("component", "egress")}
}

// Name is "egress".
func (e *Egress) Name() string { return "egress" }

// filepath is where the egress writes the file: the S3 key, or a path under FileRoot.
func (e *Egress) filepath(fileKey string) string {
	if e.o.S3 != nil {
		p := strings.Trim(e.o.S3.Prefix, "/")
		if p != "" {
			return p + "/" + fileKey
		}
		return fileKey
	}
	return path.Join(e.o.FileRoot, fileKey)
}

// StagesFiles reports whether the egress writes to staging keys (EgressOptions.Staging).
func (e *Egress) StagesFiles() bool { return e.o.Staging != nil }

// Start asks LiveKit for a room-composite egress. LiveKit answers once a worker accepted it;
// without a worker it blocks and fails, which the caller's deadline turns into an error.
func (e *Egress) Start(ctx context.Context, req StartRequest) (string, error) {
	key := req.FileKey
	if e.o.Staging != nil {
		key = e.o.Staging.StagingKey(key)
	}
	out := &livekit.EncodedFileOutput{
		FileType:        livekit.EncodedFileType_MP4,
		Filepath:        e.filepath(key),
		DisableManifest: e.o.DisableManifest,
	}
	if s := e.o.S3; s != nil {
		out.Output = &livekit.EncodedFileOutput_S3{S3: &livekit.S3Upload{
			AccessKey: s.AccessKeyID, Secret: s.SecretAccessKey, Region: s.Region, Endpoint: s.Endpoint,
			Bucket: s.Bucket, ForcePathStyle: s.PathStyle,
		}}
	}
	info, err := e.api.StartRoomCompositeEgress(ctx, &livekit.RoomCompositeEgressRequest{
		RoomName: req.Room, Layout: e.o.Layout, FileOutputs: []*livekit.EncodedFileOutput{out},
	})
	if err != nil {
		return "", fmt.Errorf("LiveKit egress for room %q: %w", req.Room, describeEgressError(ctx, err))
	}
	return info.GetEgressId(), nil
}

func describeEgressError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no egress worker answered in time (is LiveKit Egress running?): %w", err)
	}
	var te twirp.Error
	if errors.As(err, &te) {
		switch te.Code() {
		case twirp.NotFound:
			return fmt.Errorf("%s: %w", te.Msg(), ErrRoomNotActive)
		case twirp.Unavailable:
			return fmt.Errorf("no egress worker answered in time, or LiveKit is unreachable: %s", te.Msg())
		case twirp.Canceled, twirp.DeadlineExceeded:
			// LiveKit gave up waiting for a worker because the caller's deadline ran out
			// there first: a client that passes its deadline (lksdk's X-Twirp-Timeout-Ms)
			// gets LiveKit's "request canceled" a moment before its own context ends.
			return fmt.Errorf("no egress worker answered in time (is LiveKit Egress running?): LiveKit: %s", te.Msg())
		}
		return fmt.Errorf("%s: %s", te.Code(), te.Msg())
	}
	return err
}

// Stop stops the egress. One that is already ending or ended (LiveKit stops a room
// composite by itself when the room closes) is fine: its egress_ended webhook tells how it
// finished. One LiveKit does not know at all is ErrUnknownHandle.
func (e *Egress) Stop(ctx context.Context, handle string) error {
	_, err := e.api.StopEgress(ctx, &livekit.StopEgressRequest{EgressId: handle})
	if err == nil {
		return nil
	}
	var te twirp.Error
	if errors.As(err, &te) {
		switch te.Code() {
		case twirp.NotFound:
			return fmt.Errorf("egress %s: %s: %w", handle, te.Msg(), ErrUnknownHandle)
		case twirp.FailedPrecondition:
			return nil
		}
	}
	return fmt.Errorf("egress %s: stop: %w", handle, err)
}

// List returns every egress LiveKit knows, with its state mapped onto ours.
func (e *Egress) List(ctx context.Context) ([]BackendRecording, error) {
	resp, err := e.api.ListEgress(ctx, &livekit.ListEgressRequest{})
	if err != nil {
		return nil, fmt.Errorf("list egress: %w", err)
	}
	out := make([]BackendRecording, 0, len(resp.GetItems()))
	for _, info := range resp.GetItems() {
		u := e.update(info)
		out = append(out, BackendRecording{Handle: info.GetEgressId(), Room: info.GetRoomName(), Status: u.Status,
			Error: u.Error, SizeBytes: u.SizeBytes, DurationSeconds: u.DurationSeconds, FileKey: u.FileKey})
	}
	return out, nil
}

// HandleEgress applies an egress_started/updated/ended webhook's EgressInfo (the live
// work's EgressSink hook). Repeats, reordered events (ended before started) and egresses
// Parley did not start are accepted and change nothing, so LiveKit does not retry them.
func (e *Egress) HandleEgress(ctx context.Context, info *livekit.EgressInfo) error {
	if info == nil || info.GetEgressId() == "" {
		return nil
	}
	u := e.update(info)
	err := e.rep.Report(ctx, u)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		e.log.Debug("egress webhook for an egress Parley did not start", "egress", info.GetEgressId())
		return nil
	case errors.Is(err, ErrIllegalTransition):
		e.log.Debug("stale egress webhook ignored", "egress", info.GetEgressId(), "status", info.GetStatus().String(), "err", err)
		return nil
	}
	return fmt.Errorf("egress %s: %w", info.GetEgressId(), err)
}

// update maps an EgressInfo onto our Update: status, failure reason, and the file's name,
// size and duration. The recording id is read from the file path Parley chose, so a webhook
// that overtakes StartRoomCompositeEgress's answer still finds its recording.
func (e *Egress) update(info *livekit.EgressInfo) Update {
	u := Update{Handle: info.GetEgressId(), Status: egressStatus(info.GetStatus()), Error: info.GetError()}
	if id := e.recordingIDOf(info); id != "" {
		u.RecordingID = id
	}
	if info.GetStatus() == livekit.EgressStatus_EGRESS_LIMIT_REACHED {
		u.Note = "stopped at LiveKit's egress time limit"
	}
	if u.Status == StatusAborted && u.Error == "" {
		u.Error = "LiveKit aborted the egress"
	}
	if u.Status == StatusFailed && u.Error == "" {
		u.Error = "LiveKit Egress failed"
	}
	if files := info.GetFileResults(); len(files) > 0 {
		f := files[0]
		u.SizeBytes = f.GetSize()
		u.DurationSeconds = float64(f.GetDuration()) / 1e9
		u.FileKey = e.fileKeyOf(f.GetFilename())
	}
	if u.Status != StatusComplete {
		u.FileKey, u.DurationSeconds = "", 0
	}
	return u
}

// egressStatus maps LiveKit's EgressStatus onto ours (LIMIT_REACHED still produced a file).
func egressStatus(s livekit.EgressStatus) Status {
	switch s {
	case livekit.EgressStatus_EGRESS_STARTING:
		return StatusStarting
	case livekit.EgressStatus_EGRESS_ACTIVE:
		return StatusActive
	case livekit.EgressStatus_EGRESS_ENDING:
		return StatusEnding
	case livekit.EgressStatus_EGRESS_COMPLETE, livekit.EgressStatus_EGRESS_LIMIT_REACHED:
		return StatusComplete
	case livekit.EgressStatus_EGRESS_FAILED:
		return StatusFailed
	}
	return StatusAborted
}

// recordingIDOf finds the recording id in the requested file path (<...>/<id>.mp4).
func (e *Egress) recordingIDOf(info *livekit.EgressInfo) string {
	var fp string
	if rc := info.GetRoomComposite(); rc != nil {
		for _, o := range rc.GetFileOutputs() {
			fp = o.GetFilepath()
		}
		if f := rc.GetFile(); fp == "" && f != nil {
			fp = f.GetFilepath()
		}
	}
	if fp == "" {
		for _, f := range info.GetFileResults() {
			fp = f.GetFilename()
		}
	}
	if !strings.HasSuffix(fp, ".mp4") {
		return ""
	}
	return strings.TrimSuffix(path.Base(fp), ".mp4")
}

// fileKeyOf turns the egress's file name back into our storage key (without prefix/root).
func (e *Egress) fileKeyOf(name string) string {
	prefix := e.filepath("")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix != "" && prefix != "/" && strings.HasPrefix(name, prefix) {
		key := strings.TrimPrefix(name, prefix)
		if e.o.Staging != nil {
			key = strings.TrimPrefix(key, e.o.Staging.StagingKey(""))
		}
		return key
	}
	return "" // the service falls back to the key it asked for
}
