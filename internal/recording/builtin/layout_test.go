package builtin

import (
	"reflect"
	"strings"
	"testing"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name  string
		spans []videoSpan
		want  [][]placement
	}{
		{
			name:  "one track fills the canvas",
			spans: []videoSpan{{Key: "a", Start: 1, End: 9}},
			want:  [][]placement{{{A: 1, B: 9, W: 1280, H: 720}}},
		},
		{
			name:  "a late joiner splits the canvas from its offset on",
			spans: []videoSpan{{Key: "a", Start: 0, End: 10}, {Key: "b", Start: 5, End: 10}},
			want: [][]placement{
				{{A: 0, B: 5, W: 1280, H: 720}, {A: 5, B: 10, W: 640, H: 720}},
				{{A: 5, B: 10, X: 640, W: 640, H: 720}},
			},
		},
		{
			name:  "a muted camera leaves the grid while muted",
			spans: []videoSpan{{Key: "a", Start: 0, End: 10, Mutes: []Span{{Start: 2, End: 4}}}, {Key: "b", Start: 0, End: 10}},
			want: [][]placement{
				{{A: 0, B: 2, W: 640, H: 720}, {A: 4, B: 10, W: 640, H: 720}},
				{{A: 0, B: 2, X: 640, W: 640, H: 720}, {A: 2, B: 4, W: 1280, H: 720}, {A: 4, B: 10, X: 640, W: 640, H: 720}},
			},
		},
		{
			name:  "three tracks: 2x2 grid, last row centred",
			spans: []videoSpan{{Key: "a", Start: 0, End: 1}, {Key: "b", Start: 0, End: 1}, {Key: "c", Start: 0, End: 1}},
			want: [][]placement{
				{{A: 0, B: 1, W: 640, H: 360}},
				{{A: 0, B: 1, X: 640, W: 640, H: 360}},
				{{A: 0, B: 1, X: 320, Y: 360, W: 640, H: 360}},
			},
		},
		{
			name:  "a rejoin keeps its first-appearance place",
			spans: []videoSpan{{Key: "a", Start: 0, End: 3}, {Key: "b", Start: 1, End: 9}, {Key: "a", Start: 5, End: 9}},
			want: [][]placement{
				{{A: 0, B: 1, W: 1280, H: 720}, {A: 1, B: 3, W: 640, H: 720}},
				{{A: 1, B: 3, X: 640, W: 640, H: 720}, {A: 3, B: 5, W: 1280, H: 720}, {A: 5, B: 9, X: 640, W: 640, H: 720}},
				{{A: 5, B: 9, W: 640, H: 720}},
			},
		},
		{
			name: "a screen share takes three quarters, cameras stack beside it",
			spans: []videoSpan{{Key: "a/camera", Start: 0, End: 4}, {Key: "b/camera", Start: 0, End: 4},
				{Key: "a/screen_share", Start: 2, End: 4, Screen: true}},
			want: [][]placement{
				{{A: 0, B: 2, W: 640, H: 720}, {A: 2, B: 4, X: 960, Y: 180, W: 320, H: 180}},
				{{A: 0, B: 2, X: 640, W: 640, H: 720}, {A: 2, B: 4, X: 960, Y: 360, W: 320, H: 180}},
				{{A: 2, B: 4, W: 960, H: 720}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := layout(tc.spans, 1280, 720)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("layout:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestComposeArgsPlacesTracksAtTheirOffsets(t *testing.T) {
	m := &Timeline{End: 10, Tracks: []Track{
		{File: "000-audio-a.ogg", Key: "a/microphone", Kind: "audio", Codec: "opus", Start: 0.5, End: 10},
		{File: "001-video-a.ivf", Key: "a/camera", Kind: "video", Codec: "vp8", Start: 1, End: 10},
		{File: "002-video-b.ivf", Key: "b/camera", Kind: "video", Codec: "vp8", Start: 5, End: 10},
		{File: "003-video-c.ivf", Key: "c/camera", Kind: "video", Codec: "vp8", Start: -1},
	}}
	args, graph := composeArgs(m, "/w", "/w/out.mp4", "/w/filter.txt", 1280, 720, 30)
	for _, want := range []string{
		"adelay=delays=580:all=1",           // 0.5 s + Opus pre-skip
		"[3:v]setpts=PTS-STARTPTS+1.000/TB", // a's camera at 1 s
		"enable='gte(t,1.000)*lt(t,5.000)'", // alone until b arrives
		"x='640':y='0'",                     // b on the right
		"amix=inputs=2:duration=first:normalize=0",
	} {
		if !strings.Contains(graph, want) {
			t.Errorf("filter graph lacks %q:\n%s", want, graph)
		}
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"-movflags +faststart", "-pix_fmt yuv420p", "-c:a aac", "-t 10.000", "-progress pipe:1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("args lack %q: %s", want, joined)
		}
	}
	if strings.Contains(joined, "003-video-c") {
		t.Errorf("a track without media is an input: %s", joined)
	}
}

func TestOpusSamples(t *testing.T) {
	for _, tc := range []struct {
		packet []byte
		want   int
	}{
		{opusSilence, 960},             // CELT 20 ms, one frame
		{[]byte{1 << 3}, 960},          // SILK 20 ms (config 1)
		{[]byte{0x78 | 1, 0}, 1920},    // hybrid 20 ms (config 15), two frames
		{[]byte{0xf8 | 3, 0x03}, 2880}, // CELT 20 ms, three frames
	} {
		got, err := opusSamples(tc.packet)
		if err != nil || got != tc.want {
			t.Errorf("opusSamples(%x) = %d, %v; want %d", tc.packet, got, err, tc.want)
		}
	}
}
