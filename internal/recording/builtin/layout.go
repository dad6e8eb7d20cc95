package builtin

import (
	"math"
	"sort"
)

// placement puts a video track at one tile of the grid during [A, B).
type placement struct {
	A, B       float64
	X, Y, W, H int
}

// videoSpan is what layout needs of a video track: its stable key (participant + source),
// when it is on the timeline, when it is muted (camera off: no tile), and whether it is a
// screen share (shown large).
type videoSpan struct {
	Key        string
	Start, End float64
	Mutes      []Span
	Screen     bool
}

// visible returns the spans of v not covered by mutes.
func (v videoSpan) visible() []Span {
	out := []Span{{Start: v.Start, End: v.End}}
	for _, m := range v.Mutes {
		mEnd := m.End
		if mEnd <= 0 {
			mEnd = v.End
		}
		var next []Span
		for _, s := range out {
			if mEnd <= s.Start || m.Start >= s.End {
				next = append(next, s)
				continue
			}
			if m.Start > s.Start {
				next = append(next, Span{Start: s.Start, End: m.Start})
			}
			if mEnd < s.End {
				next = append(next, Span{Start: mEnd, End: s.End})
			}
		}
		out = next
	}
	return out
}

// gridOf returns the columns and rows of a grid for n tiles: as square as possible, wider
// than tall.
func gridOf(n int) (cols, rows int) {
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	rows = (n + cols - 1) / cols
	return cols, rows
}

// layout tiles the video spans on a w x h canvas. Between any two consecutive start/end
// times the set of visible tracks is fixed and gets a grid (or, while someone shares a
// screen, the share large and the cameras in a column); tracks keep their order of first
// appearance so tiles do not jump around. It returns the placements of each span.
func layout(spans []videoSpan, w, h int) [][]placement {
	first := map[string]float64{}
	var cuts []float64
	vis := make([][]Span, len(spans))
	for i, v := range spans {
		vis[i] = v.visible()
		for _, s := range vis[i] {
			cuts = append(cuts, s.Start, s.End)
		}
		if f, ok := first[v.Key]; !ok || v.Start < f {
			first[v.Key] = v.Start
		}
	}
	sort.Float64s(cuts)
	out := make([][]placement, len(spans))
	for k := 0; k+1 < len(cuts); k++ {
		a, b := cuts[k], cuts[k+1]
		if b-a < 1e-3 {
			continue
		}
		var active []int
		for i := range spans {
			for _, s := range vis[i] {
				if s.Start <= a && s.End >= b {
					active = append(active, i)
					break
				}
			}
		}
		if len(active) == 0 {
			continue
		}
		sort.SliceStable(active, func(x, y int) bool {
			kx, ky := spans[active[x]].Key, spans[active[y]].Key
			if first[kx] != first[ky] {
				return first[kx] < first[ky]
			}
			return kx < ky
		})
		var shares, people []int
		for _, i := range active {
			if spans[i].Screen {
				shares = append(shares, i)
			} else {
				people = append(people, i)
			}
		}
		var tiles []placement
		if len(shares) == 0 || len(people) == 0 {
			tiles = grid(len(active), 0, 0, w, h)
		} else {
			// Presenter view: screen shares get three quarters of the width, cameras a column.
			mw := (w * 3 / 4) &^ 1
			tiles = append(grid(len(shares), 0, 0, mw, h), column(len(people), mw, w-mw, h)...)
			active = append(shares, people...)
		}
		for r, i := range active {
			p := tiles[r]
			p.A, p.B = a, b
			if n := len(out[i]); n > 0 && out[i][n-1].B == a && sameTile(out[i][n-1], p) {
				out[i][n-1].B = b
				continue
			}
			out[i] = append(out[i], p)
		}
	}
	return out
}

// grid places n tiles in the w x h area at (x0, y0), the last row centred.
func grid(n, x0, y0, w, h int) []placement {
	cols, rows := gridOf(n)
	tw, th := (w/cols)&^1, (h/rows)&^1
	out := make([]placement, n)
	for r := range out {
		row, col := r/cols, r%cols
		inRow := cols
		if row == rows-1 {
			inRow = n - row*cols
		}
		x := x0 + (w-inRow*tw)/2 + col*tw
		y := y0 + (h-rows*th)/2 + row*th
		out[r] = placement{X: x &^ 1, Y: y &^ 1, W: tw, H: th}
	}
	return out
}

// column stacks n 16:9 tiles (or shorter, to fit) in a w-wide column at x0, centred.
func column(n, x0, w, h int) []placement {
	th := min(h/n, w*9/16) &^ 1
	out := make([]placement, n)
	for r := range out {
		out[r] = placement{X: x0, Y: ((h-n*th)/2 + r*th) &^ 1, W: w &^ 1, H: th}
	}
	return out
}

func sameTile(p, q placement) bool { return p.X == q.X && p.Y == q.Y && p.W == q.W && p.H == q.H }
