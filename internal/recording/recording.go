package recording

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; callers match them with errors.Is (the API maps each to a status).
var (
	// ErrNotFound: no recording has that id.
	ErrNotFound = errors.New("recording not found")
	// ErrAlreadyRecording: the room already has a live recording (starting, active or ending).
	ErrAlreadyRecording = errors.New("room is already being recorded")
	// ErrIllegalTransition: the recording cannot move to that state from the one it is in.
	ErrIllegalTransition = errors.New("illegal recording state transition")
	// ErrDuplicate: the recording is already in that state (a repeated webhook or report).
	ErrDuplicate = errors.New("recording already in that state")
	// ErrNotLive: the operation needs a live recording and this one has finished.
	ErrNotLive = errors.New("recording is not live")
	// ErrLive: the operation needs a finished recording and this one is still live.
	ErrLive = errors.New("recording is still live")
	// ErrNoFile: the recording has no file to download (not complete, or deleted).
	ErrNoFile = errors.New("recording has no file")
	// ErrBackendUnavailable: the recorder (built-in or LiveKit Egress) could not start or stop.
	ErrBackendUnavailable = errors.New("recording backend unavailable")
	// ErrRoomNotActive: the room has no meeting in progress to record.
	ErrRoomNotActive = errors.New("room has no meeting in progress")
	// ErrEncryptedRoom: the room's media is end-to-end encrypted, and the recorder holds no
	// key: it could only store ciphertext.
	ErrEncryptedRoom = errors.New("room's media is end-to-end encrypted")
	// ErrStorage: the storage refused or failed an operation (full disk, S3 down).
	ErrStorage = errors.New("recording storage failed")
	// ErrNotRetryable: the recording is not failed, or its inputs are gone, or the recorder
	// that holds them is another instance.
	ErrNotRetryable = errors.New("recording cannot be retried")
	// ErrInvalid: a bad argument (e.g. an unknown status or an empty room name).
	ErrInvalid = errors.New("invalid recording request")
)

// Live reports whether s is starting, active or ending: the recorder is still at work.
func (s Status) Live() bool {
	return s == StatusStarting || s == StatusActive || s == StatusEnding
}

// Terminal reports whether s is complete, failed or aborted: nothing changes it any more.
func (s Status) Terminal() bool {
	return s == StatusComplete || s == StatusFailed || s == StatusAborted
}

// Valid reports whether s is one of the six states.
func (s Status) Valid() bool { return s.Live() || s.Terminal() }

// progression is the order of the main path starting -> active -> ending -> complete.
var progression = map[Status]int{StatusStarting: 0, StatusActive: 1, StatusEnding: 2, StatusComplete: 3}

// CanTransition reports whether a recording in state from may move to state to.
//
// The main path only moves forward, and may skip states: a backend's reports can arrive out
// of order or be lost (LiveKit may deliver egress_ended before egress_started), and the final
// state is the truth. failed and aborted are reachable from every live state. Terminal states
// never change, and no state moves to itself (a repeat is a duplicate, not a transition).
func CanTransition(from, to Status) bool {
	if !from.Live() || !to.Valid() || from == to {
		return false
	}
	if to == StatusFailed || to == StatusAborted {
		return true
	}
	return progression[to] > progression[from]
}

// sourcesOf lists the states from which a recording may move to `to`; the store's conditional
// UPDATE ... WHERE status IN (sources) makes each transition apply at most once, race-free.
func sourcesOf(to Status) []Status {
	var from []Status
	for _, s := range []Status{StatusStarting, StatusActive, StatusEnding} {
		if CanTransition(s, to) {
			from = append(from, s)
		}
	}
	return from
}

// Recording is one recording of a room.
type Recording struct {
	ID              string
	Room            string // room name when it started
	RoomID          string // the room's id: what access follows ("" for old rows of a lost room)
	OwnerID         string // the room's owner when it started: keeps a deleted room's recordings
	Backend         string // "builtin" or "egress"
	Handle          string // the backend's id (egress id)
	Status          Status
	StartedBy       string // user id, or AutoStarter for auto-record
	StartedAt       time.Time
	EndedAt         *time.Time
	DurationSeconds float64
	SizeBytes       int64
	Error           string
	Note            string
	Progress        float64
	FileKey         string // storage key of the finished file; empty until complete
	Instance        string // the Parley instance that started it
	UpdatedAt       time.Time
	// Attempts counts the failed compositions or uploads of a recording whose inputs were
	// kept; Retryable says a retry is scheduled at NextRetryAt (failed recordings only).
	Attempts    int
	Retryable   bool
	NextRetryAt *time.Time
}

// AutoStarter is the StartedBy of recordings started by auto-record.
const AutoStarter = "auto"

// HasFile reports whether the recording has a finished file to download.
func (r Recording) HasFile() bool { return r.Status == StatusComplete && r.FileKey != "" }

// ManifestKey is where a recording's JSON manifest lives: beside the MP4, same base name.
func ManifestKey(fileKey string) string {
	if len(fileKey) > 4 && fileKey[len(fileKey)-4:] == ".mp4" {
		return fileKey[:len(fileKey)-4] + ".json"
	}
	return fileKey + ".json"
}

func transitionError(id string, from, to Status) error {
	if from == to {
		return fmt.Errorf("recording %s: %s -> %s: %w", id, from, to, ErrDuplicate)
	}
	return fmt.Errorf("recording %s: %s -> %s: %w", id, from, to, ErrIllegalTransition)
}
