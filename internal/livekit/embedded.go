package livekit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrStartFailed means livekit-server exited or never answered during startup; the message
// carries LiveKit's own reason.
var ErrStartFailed = errors.New("livekit-server did not start")

// startEmbedded writes the config, checks ports, starts LiveKit and waits for ready.
func (s *Supervisor) startEmbedded(ctx context.Context) error {
	t0 := s.now()
	if err := s.prepare(); err != nil {
		return err
	}
	if v, err := BinaryVersion(ctx, s.o.Binary); err != nil {
		s.log.Warn("could not read the livekit-server version", "binary", s.o.Binary, "err", err)
	} else {
		s.mu.Lock()
		s.st.Version = v
		s.mu.Unlock()
		s.log.Info("livekit-server found", "binary", s.o.Binary, "version", v)
	}
	p, err := s.launch(ctx)
	if err != nil {
		s.removeConfig()
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	s.markReady(p, t0)
	st := s.Status()
	s.log.Info("livekit ready", "pid", p.pid(), "url", st.URL, "api", s.o.HTTPURL, "ready_after", st.ReadyAfter.Round(time.Millisecond))
	return nil
}

// prepare checks what LiveKit would refuse with a vaguer message, and writes the config.
func (s *Supervisor) prepare() error {
	o := s.o
	port := o.Render.Port
	if o.ConfigPath != "" {
		p, err := CheckStaticConfig(o.ConfigPath, o.APIKey, o.APISecret)
		if err != nil {
			return err
		}
		if hp := urlPort(o.HTTPURL); hp != 0 && hp != p {
			return fmt.Errorf("%w: livekit.configPath %s sets port %d but Parley calls LiveKit at %s: set livekit.port to %d", ErrConfig, o.ConfigPath, p, o.HTTPURL, p)
		}
		s.log.Info("using static livekit config", "path", o.ConfigPath)
		return checkPortsFree("", []portSpec{{"livekit.port (port in livekit.configPath)", "tcp", p}})
	}
	if hp := urlPort(o.HTTPURL); hp != 0 && hp != port {
		return fmt.Errorf("%w: livekit.internalHost %s does not point at the embedded LiveKit on livekit.port %d: clear livekit.internalHost (default http://127.0.0.1:%d) or fix its port", ErrConfig, o.HTTPURL, port, port)
	}
	if err := checkPortsFree(bindHost(o.Render.BindAddresses), []portSpec{{"livekit.port", "tcp", port}}); err != nil {
		return err
	}
	if err := checkPortsFree("", renderPorts(o.Render)); err != nil {
		return err
	}
	if o.RedisAddress != "" {
		c, err := net.DialTimeout("tcp", o.RedisAddress, 2*time.Second)
		if err != nil {
			return fmt.Errorf("%w: livekit.redis.address %s is unreachable (%v): start Redis, fix the address, or clear it to run a single node", ErrConfig, o.RedisAddress, err)
		}
		c.Close()
	}
	removed, err := prepareRunDir(o.RunDir)
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		s.log.Warn("removed LiveKit config files left by a killed run", "files", removed)
	}
	params := o.Render
	if o.WebhookURL != nil {
		params.WebhookURL = o.WebhookURL()
	}
	data, err := RenderConfig(params)
	if err != nil {
		return err
	}
	s.cfgFile = filepath.Join(o.RunDir, configFileName)
	return writePrivate(s.cfgFile, data)
}

// renderPorts lists the ports other than the HTTP port that LiveKit binds on every interface.
func renderPorts(p RenderParams) []portSpec {
	ports := []portSpec{{"livekit.rtc.tcpPort", "tcp", p.RTCTCPPort}}
	if p.UDPPortStart == p.UDPPortEnd {
		ports = append(ports, portSpec{"livekit.rtc.udpPortStart", "udp", p.UDPPortStart})
	}
	if p.TURN.Enabled {
		ports = append(ports, portSpec{"livekit.turn.udpPort", "udp", p.TURN.UDPPort})
		ports = append(ports, portSpec{"livekit.turn.tlsPort", "tcp", p.TURN.TLSPort})
	}
	return ports
}

func bindHost(addrs []string) string {
	if len(addrs) == 1 {
		return addrs[0]
	}
	return ""
}

func urlPort(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return 0 // behind a proxy the port may differ legitimately
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

func (s *Supervisor) removeConfig() {
	if s.cfgFile == "" {
		return
	}
	if err := os.Remove(s.cfgFile); err != nil && !os.IsNotExist(err) {
		s.log.Warn("could not remove the livekit config (it holds the API secret)", "path", s.cfgFile, "err", err)
	}
	_ = os.Remove(filepath.Dir(s.cfgFile)) // only when empty
}

// launch starts one livekit-server and waits until it answers GET / with OK, it exits (its
// printed reason becomes the error), or the start timeout passes.
func (s *Supervisor) launch(ctx context.Context) (*process, error) {
	cfg := s.cfgFile
	if s.o.ConfigPath != "" {
		cfg = s.o.ConfigPath
	}
	p, err := spawn(s.o.Binary, []string{"--config", cfg}, s.log, s.o.StopTimeout, s.now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStartFailed, err)
	}
	timer := time.NewTimer(s.o.StartTimeout)
	defer timer.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			r := p.exitReason()
			return nil, fmt.Errorf("%w: it exited: %s%s", ErrStartFailed, r, hint(r))
		default:
		}
		if s.probe(ctx) == nil {
			return p, nil
		}
		select {
		case <-p.exited:
		case <-tick.C:
		case <-ctx.Done():
			p.kill()
			return nil, fmt.Errorf("%w: %v", ErrStartFailed, ctx.Err())
		case <-timer.C:
			p.kill()
			return nil, fmt.Errorf("%w: no answer to GET %s/ within %s (last output: %s)", ErrStartFailed, s.o.HTTPURL, s.o.StartTimeout, orDefault(p.out.reason(), "none"))
		}
	}
}

// hint adds Parley's fix to LiveKit's known fatal messages (the Troubleshooting rows of the
// usual LiveKit integration guides).
func hint(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "turn domain"):
		return "; set livekit.turn.domain to a DNS name on the certificate (or, in a static config, add turn.domain or remove turn.tls_port)"
	case strings.Contains(r, "turn tls cert"):
		return "; server.tls.cert and server.tls.key (reused for TURN/TLS) must be readable"
	case strings.Contains(r, "field tls not found"):
		return "; LiveKit v1.12+ has no top-level tls: block, remove it from the static config"
	case strings.Contains(r, "not found in type"):
		return "; LiveKit does not know that key: remove it from the static config"
	case strings.Contains(r, "address already in use"):
		return "; another process holds that port: stop it, or change livekit.port / livekit.rtc.tcpPort / livekit.turn ports"
	case strings.Contains(r, "redis"):
		return "; check livekit.redis.address (or clear it to run a single node)"
	case strings.Contains(r, "external ip"):
		return "; set livekit.nodeIP (rtc.node_ip) and use_external_ip: false"
	}
	return ""
}

// heal watches the running LiveKit and replaces it when it exits or stops answering:
// first retry at once, then exponential backoff capped at BackoffMax, reset after
// HealthyReset of health.
func (s *Supervisor) heal(ctx context.Context) {
	attempt := 0
	for {
		s.mu.Lock()
		p, readyAt := s.proc, s.st.ReadyAt
		s.mu.Unlock()
		reason, failed := s.watch(ctx, p)
		if !failed {
			return // stopping: Stop takes care of the process
		}
		detected := s.now()
		if detected.Sub(readyAt) >= s.o.HealthyReset {
			attempt = 0
		}
		s.log.Error("livekit failed, restarting it", "reason", reason, "pid", p.pid())
		if p.running() {
			p.kill() // hung (or SIGSTOPped): SIGTERM would not be handled
		}
		s.setState(StateRestarting, reason)
		why := reason
		for {
			if !sleepCtx(ctx, backoff(attempt, s.o.BackoffMax)) {
				return
			}
			attempt++
			s.recordRestart(s.now(), why)
			np, err := s.launch(ctx)
			if err == nil {
				s.mu.Lock()
				s.proc = np
				s.mu.Unlock()
				s.markReady(np, detected)
				st := s.Status()
				s.log.Info("livekit restarted", "pid", np.pid(), "restarts", st.Restarts, "ready_after", st.ReadyAfter.Round(time.Millisecond))
				break
			}
			if ctx.Err() != nil {
				return
			}
			state := StateRestarting
			if attempt >= 5 {
				state = StateFailed
			}
			s.setState(state, err.Error())
			why = "the previous restart failed: " + err.Error()
			s.log.Error("livekit restart failed", "attempt", attempt, "next_in", backoff(attempt, s.o.BackoffMax), "err", err)
		}
	}
}

// watch returns when p exits or fails FailedProbes probes in a row (failed=true), or when
// ctx ends (failed=false).
func (s *Supervisor) watch(ctx context.Context, p *process) (reason string, failed bool) {
	t := time.NewTicker(s.o.ProbeInterval)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-ctx.Done():
			return "", false
		case <-p.exited:
			return "livekit-server exited: " + p.exitReason(), true
		case <-t.C:
		}
		err := s.probe(ctx)
		if ctx.Err() != nil {
			return "", false
		}
		if err == nil {
			fails = 0
			s.probeAnswered()
			continue
		}
		fails++
		s.probeFailed(fails, err)
		if fails >= s.o.FailedProbes {
			return fmt.Sprintf("livekit-server stopped answering (%d health probes failed in a row, last: %v)", fails, err), true
		}
	}
}

// backoff is 0 for the first retry, then 1 s, 2 s, 4 s ... up to max.
func backoff(attempt int, max time.Duration) time.Duration {
	if attempt <= 0 {
		return 0
	}
	d := time.Second << min(attempt-1, 16)
	return min(d, max)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
