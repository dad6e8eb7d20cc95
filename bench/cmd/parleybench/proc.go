package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// secrets are what the harness configures, so it can sign webhooks and log in.
type secrets struct {
	JWT, LKKey, LKSecret, AdminEmail, AdminPassword string
}

// instance is one running bin/parley with its own data directory and ports.
type instance struct {
	name            string
	cmd             *exec.Cmd
	addr, base      string // 127.0.0.1:port, http://127.0.0.1:port
	lkPort          int
	dir, logPath    string
	done            chan struct{}
	startAt, health time.Time // exec, first 200 from /healthz
	kids            map[int]bool
}

// startInstance runs bin/parley with the environment configuration of bench/README.md and
// waits until /healthz answers; extra overrides or adds PARLEY_* variables.
func (h *harness) startInstance(ctx context.Context, name string, extra ...string) (*instance, error) {
	dir, err := os.MkdirTemp(h.tmp, name+"-")
	if err != nil {
		return nil, err
	}
	var port, lkPort, tcpPort, udp int
	for _, p := range []*int{&port, &lkPort, &tcpPort} {
		if *p, err = testenv.FreePortE(); err != nil {
			return nil, err
		}
	}
	if udp, err = testenv.FreeUDPRangeE(40); err != nil {
		return nil, err
	}
	in := &instance{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), lkPort: lkPort, dir: dir,
		logPath: filepath.Join(dir, "parley.log"), done: make(chan struct{}), kids: map[int]bool{}}
	in.base = "http://" + in.addr
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") && !strings.HasPrefix(kv, "LIVEKIT_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PARLEY_SERVER_LISTEN="+in.addr,
		"PARLEY_SERVER_PUBLIC_URL="+in.base,
		"PARLEY_SERVER_DATA_DIR="+filepath.Join(dir, "data"),
		"PARLEY_LIVEKIT_BINARY="+h.lkBin,
		"PARLEY_LIVEKIT_PORT="+strconv.Itoa(lkPort),
		"PARLEY_LIVEKIT_RTC_TCP_PORT="+strconv.Itoa(tcpPort),
		"PARLEY_LIVEKIT_RTC_UDP_PORT_START="+strconv.Itoa(udp),
		"PARLEY_LIVEKIT_RTC_UDP_PORT_END="+strconv.Itoa(udp+39),
		"PARLEY_LIVEKIT_API_KEY="+h.sec.LKKey,
		"PARLEY_LIVEKIT_API_SECRET="+h.sec.LKSecret,
		"PARLEY_AUTH_JWT_SECRET="+h.sec.JWT,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL="+h.sec.AdminEmail,
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD="+h.sec.AdminPassword,
		"PARLEY_AUTH_LOGIN_RATE=1000000000", // the login benchmark must not hit the limiter
		"PARLEY_AUTH_ACCESS_TTL=2h",
	)
	if h.pprofAddr != "" && len(h.instances) == 0 {
		env = append(env, "PARLEY_PPROF_ADDR="+h.pprofAddr)
	}
	env = append(env, extra...)
	logf, err := os.Create(in.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	in.cmd = exec.Command(h.parleyBin, "serve")
	in.cmd.Dir = dir
	in.cmd.Env = env
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in.startAt = time.Now()
	if err := in.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", h.parleyBin, err)
	}
	go func() { _ = in.cmd.Wait(); close(in.done) }()
	h.instances = append(h.instances, in)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := in.get("/healthz"); code == 200 {
			in.health = time.Now()
			return in, nil
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("%s exited during startup: %s", name, in.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: /healthz not answering after 60s: %s", name, in.logTail())
		}
	}
}

// readiness is /readyz's body.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (in *instance) readyz() (int, readiness) {
	code, body := in.get("/readyz")
	var r readiness
	_ = json.Unmarshal(body, &r)
	return code, r
}

// waitReady polls /readyz every 5 ms until 200 and returns when it first was.
func (in *instance) waitReady(ctx context.Context, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if code, _ := in.readyz(); code == 200 {
			return time.Now(), nil
		}
		select {
		case <-in.done:
			return time.Time{}, fmt.Errorf("%s exited: %s", in.name, in.logTail())
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_, r := in.readyz()
			return time.Time{}, fmt.Errorf("%s not ready after %s: %v", in.name, timeout, r.Checks)
		}
	}
}

var probe = &http.Client{Timeout: 3 * time.Second}

func (in *instance) get(path string) (int, []byte) {
	resp, err := probe.Get(in.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, []byte(b.String())
}

// stop sends SIGTERM, kills after 12 s, then kills any child it left behind.
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	for _, pid := range children(in.cmd.Process.Pid) {
		in.kids[pid] = true
	}
	select {
	case <-in.done:
	default:
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(12 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
		}
	}
	for pid := range in.kids {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (in *instance) pid() int { return in.cmd.Process.Pid }

func (in *instance) logTail() string {
	b, _ := os.ReadFile(in.logPath)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}

// rssMB is a process's resident set (VmRSS) in MiB.
func rssMB(pid int) (float64, error) { return statusMB(pid, "VmRSS:") }

// anonMB is the anonymous part of a process's resident set (RssAnon) in MiB: its own heap and
// stacks, without the pages of its binary, whose count depends on how the kernel caches
// that file (large folios are mapped whole).
func anonMB(pid int) (float64, error) { return statusMB(pid, "RssAnon:") }

func statusMB(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no " + field)
}

// procStat returns a process's parent, command name and CPU time (user+system).
func procStat(pid int) (ppid int, comm string, cpu time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", 0, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < 0 {
		return 0, "", 0, errors.New("bad stat")
	}
	comm = s[open+1 : closing]
	f := strings.Fields(s[closing+2:])
	// After the comm: state(0) ppid(1) ... utime(11) stime(12), in clock ticks of 1/100 s.
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, comm, time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// children lists the direct children of pid.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, _, _, err := procStat(p); err == nil && pp == pid {
			out = append(out, p)
		}
	}
	return out
}

// childNamed is the first direct child of pid whose command is comm, or 0.
func childNamed(pid int, comm string) int {
	for _, c := range children(pid) {
		if _, name, _, err := procStat(c); err == nil && strings.HasPrefix(comm, name) {
			return c
		}
	}
	return 0
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
