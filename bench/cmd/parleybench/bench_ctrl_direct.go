package main

import (
	"context"
	"fmt"
	"os"

	"github.com/parley/parley/internal/livekit/lktest"
)

// ctrlDirect runs the control-plane load once more with every participant signalling to
// LiveKit's own port instead of Parley's (what the join answer names). Users do not connect
// that way; the run splits Parley's CPU under the load into its signalling proxy (LiveKit's
// signalling messages, copied both ways) and the rest (API, webhooks, live state, LiveKit's
// log lines).
func (h *harness) ctrlDirect(ctx context.Context, lk int, a *api, bearers []string, watches []*roomWatch, media lktest.Media, proxied []ctrlRun) {
	const g = "control plane"
	if ctx.Err() != nil || len(proxied) == 0 {
		return
	}
	r := h.ctrlOnce(ctx, lk, a, bearers, watches, media, fmt.Sprintf("ws://127.0.0.1:%d", h.main.lkPort))
	fmt.Fprintf(os.Stderr, "   ctrl run, signalling direct to LiveKit: Parley %.2f %% core, LiveKit %.2f %%, %d joins, %d leaves, %d failures\n",
		r.parleyCPU, r.livekitCPU, len(r.joins), len(r.leaves), len(r.failures))
	note := "one run of the same load with the participants signalling to LiveKit's port, not Parley's: not how users connect"
	if len(r.failures) > 0 {
		note += fmt.Sprintf("; %d failures, first: %s", len(r.failures), short(r.failures[0]))
	}
	f := stat(g, "Parley CPU, signalling direct to LiveKit", "% core", []float64{r.parleyCPU})
	f.Note = note
	h.rep.add(f)
	f = stat(g, "Parley CPU / LiveKit CPU, signalling direct to LiveKit", "%", []float64{100 * r.parleyCPU / max(r.livekitCPU, 0.01)})
	f.Note = fmt.Sprintf("LiveKit %.2f %% of a core in that run", r.livekitCPU)
	h.rep.add(f)
	var cpus []float64
	for _, p := range proxied {
		cpus = append(cpus, p.parleyCPU)
	}
	f = stat(g, "signalling proxy's share of Parley's CPU", "% core", []float64{quantile(cpus, 0.5) - r.parleyCPU})
	f.Note = "median Parley CPU of the runs above, less the direct run's"
	h.rep.add(f)
}
