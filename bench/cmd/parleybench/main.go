// Command parleybench is `make bench`: it starts bin/parley with embedded LiveKit on loopback
// in a temporary directory, loads it with the generator of bench/load, measures every figure
// that bench/README.md lists next to the ceilings of bench/ref, prints one table and writes
// it as JSON.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/bench/ref"
	"github.com/parley/parley/internal/testenv"
)

// benchmarks in the order they run; -only picks some.
var allBenchmarks = []string{"join", "wrk", "me", "login", "webhook", "hooks", "live", "ctrl", "signal", "recorder", "ready", "restart", "heal", "cold", "pg"}

type harness struct {
	parleyBin, lkBin, self, tmp string
	sec                         secrets
	conns                       int
	warmup, duration            time.Duration
	runs                        int
	instances                   []*instance
	rep                         *Report
	main                        *instance
	admin, user                 session
	authNA, roomsNA             string // why auth / rooms features cannot be benchmarked
	idleRSS                     float64
	recorderTest                bool
	readyMinutes                string // meeting lengths of the ready benchmark
	pprofAddr                   string // PARLEY_PPROF_ADDR of the instances (a -tags pprof build)
	profileDir                  string // where CPU profiles of measured runs go (profile.go)
	// suffix names the figures of a repeated run under other conditions (benchHooks).
	suffix string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ref" {
		if err := serveRef(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "parleybench ref:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lksdk.SetLogger(protologger.GetDiscardLogger()) // pion's connection chatter is not a figure
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "parleybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	h := &harness{}
	only := flag.String("only", "", "comma-separated benchmarks to run: "+strings.Join(allBenchmarks, ","))
	flag.StringVar(&h.parleyBin, "parley", "bin/parley", "the Parley binary")
	flag.StringVar(&h.lkBin, "livekit", "bin/livekit-server", "the livekit-server binary")
	flag.IntVar(&h.conns, "conns", 32, "connections of the join, me and login loads")
	flag.DurationVar(&h.warmup, "warmup", time.Second, "unmeasured warm-up of each load run")
	flag.DurationVar(&h.duration, "duration", 4*time.Second, "measured duration of each load run")
	flag.IntVar(&h.runs, "runs", 3, "runs per figure (the table shows their median, min and max)")
	out := flag.String("out", "bench/results/latest.json", "where the JSON report goes")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs, data) for inspection")
	flag.BoolVar(&h.recorderTest, "recorder-test", true, "also run internal/recording/builtin's TestBenchRecorder (compiles it with go test)")
	flag.StringVar(&h.readyMinutes, "ready-minutes", "1,10,30", "meeting lengths (minutes) of the ready benchmark; above 1 they are synthetic")
	flag.StringVar(&h.pprofAddr, "pprof", "", "PARLEY_PPROF_ADDR for the main instance (profiles under load need go build -tags pprof ./server)")
	flag.StringVar(&h.profileDir, "profiles", "", "with -pprof: save a CPU profile of the main instance over each measured run (join, me, login, webhook, hooks) in this folder")
	flag.Parse()
	if h.profileDir != "" && h.pprofAddr == "" {
		return fmt.Errorf("-profiles needs -pprof (and a parley built with -tags pprof)")
	}

	want := map[string]bool{}
	for _, b := range strings.Split(*only, ",") {
		if b = strings.TrimSpace(b); b != "" {
			if !contains(allBenchmarks, b) {
				return fmt.Errorf("-only: unknown benchmark %q (known: %s)", b, strings.Join(allBenchmarks, ","))
			}
			want[b] = true
		}
	}
	for _, p := range []*string{&h.parleyBin, &h.lkBin} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%s is missing: build it first (make build livekit)", abs)
		}
		*p = abs
	}
	var err error
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	if h.tmp, err = os.MkdirTemp("", "parleybench-"); err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "keeping", h.tmp)
	} else {
		defer os.RemoveAll(h.tmp)
	}
	h.sec = secrets{JWT: randHex(32), LKKey: "APIbench" + randHex(4), LKSecret: randHex(24),
		AdminEmail: "bench-admin@example.com", AdminPassword: "bench-" + randHex(8)}
	h.rep = &Report{StartedAt: time.Now().UTC(), Host: hostInfo(), Settings: map[string]string{
		"conns": fmt.Sprint(h.conns), "webhookSenders": "16", "warmup": h.warmup.String(),
		"duration": h.duration.String(), "runs": fmt.Sprint(h.runs), "generator": "bench/load (Go, fasthttp client, keep-alive); wrk -t2 -c32 for the wrk figures", "parleyConfig": "defaults (log.level info: access log on), SQLite, embedded LiveKit",
	}}
	defer func() {
		for _, in := range h.instances {
			in.stop()
		}
	}()

	selected := func(b string) bool { return len(want) == 0 || want[b] }
	needMain := false
	for _, b := range allBenchmarks {
		if selected(b) && b != "cold" && b != "restart" && b != "heal" && b != "pg" && b != "ready" {
			needMain = true
		}
	}
	if needMain || selected("pg") {
		if err := h.setupMain(ctx); err != nil {
			return err
		}
	}
	steps := map[string]func(context.Context){
		"join": h.benchJoin, "wrk": h.benchWrk, "me": h.benchMe, "login": h.benchLogin, "webhook": h.benchWebhook, "hooks": h.benchHooks,
		"ready": h.benchReady,
		"live":  h.benchLive, "ctrl": h.benchCtrl, "signal": h.benchSignal, "pg": h.benchPostgres, "heal": h.benchHeal,
		"recorder": func(ctx context.Context) {
			h.benchRecorder(ctx)
			if h.recorderTest {
				h.recorderAlone(ctx)
			}
		},
		// Cold start and restart share their fresh instances.
		"restart": func(ctx context.Context) { h.benchLiveKit(ctx, selected("cold"), true) },
		"cold": func(ctx context.Context) {
			if !selected("restart") {
				h.benchLiveKit(ctx, true, false)
			}
		},
	}
	for _, b := range allBenchmarks {
		if !selected(b) || ctx.Err() != nil {
			continue
		}
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "== %s\n", b)
		steps[b](ctx)
		fmt.Fprintf(os.Stderr, "   %s took %.1fs\n", b, time.Since(t0).Seconds())
	}
	if h.main != nil && h.idleRSS > 0 {
		time.Sleep(time.Second)
		if v, err := rssMB(h.main.pid()); err == nil {
			f := stat("memory", "Parley RSS idle, after the benchmarks", "MiB", []float64{v})
			f.Note = "what the load left behind: the Go runtime returns freed memory to the OS over minutes"
			h.rep.add(f)
			h.addHeap("Parley Go heap in use idle, after the benchmarks")
		}
	}
	h.rep.Seconds = time.Since(h.rep.StartedAt).Seconds()
	printTable(os.Stdout, h.rep)
	if err := writeJSON(*out, h.rep); err != nil {
		return err
	}
	fmt.Printf("\n%d figures in %.0fs; JSON in %s\n", len(h.rep.Figures), h.rep.Seconds, *out)
	return ctx.Err()
}

// startRef runs a reference server as its own process (like Parley, so both pay the same
// process and scheduling costs) and returns its address and a stop function.
func (h *harness) startRef(ctx context.Context, kind string) (string, func(), error) {
	port, err := testenv.FreePortE()
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(h.self, "ref", "-kind", kind, "-listen", addr)
	cmd.Env = append(os.Environ(), "PARLEYBENCH_JWT_SECRET="+refJWTSecret, "PARLEYBENCH_LK_KEY="+h.sec.LKKey,
		"PARLEYBENCH_LK_SECRET="+h.sec.LKSecret)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	for i := 0; i < 500; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return addr, stop, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("reference %s server did not listen on %s", kind, addr)
}

// refJWTSecret signs the bearer tokens of the join ceiling (it has no accounts).
const refJWTSecret = "parleybench-reference-jwt-secret-0123456789"

func serveRef(args []string) error {
	fs := flag.NewFlagSet("ref", flag.ContinueOnError)
	kind := fs.String("kind", "join", "join or webhook")
	listen := fs.String("listen", "127.0.0.1:0", "address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	app, err := ref.New(*kind, ref.Keys{JWTSecret: os.Getenv("PARLEYBENCH_JWT_SECRET"),
		LiveKitKey: os.Getenv("PARLEYBENCH_LK_KEY"), LiveKitSecret: os.Getenv("PARLEYBENCH_LK_SECRET"),
		LiveKitURL: "ws://127.0.0.1:7880"})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = app.Shutdown() }()
	return app.Listener(ln)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func hostInfo() map[string]string {
	m := map[string]string{"cpus": fmt.Sprint(runtime.NumCPU()), "go": runtime.Version()}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m["commit"] = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavgAtStart"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}
