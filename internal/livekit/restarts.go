package livekit

import "time"

// Restart is one restart of the embedded LiveKit and why it was needed: its exit status or
// signal with its last fatal line, or a hang (health probes unanswered).
type Restart struct {
	At     time.Time
	Reason string
}

// restartLogMax bounds the restart log: the dashboard shows the recent ones, the counter
// keeps the total.
const restartLogMax = 20

// recordRestart counts one restart attempt and logs its reason.
func (s *Supervisor) recordRestart(at time.Time, reason string) {
	s.mu.Lock()
	s.st.Restarts++
	s.st.RestartLog = append(s.st.RestartLog, Restart{At: at.UTC(), Reason: reason})
	if n := len(s.st.RestartLog); n > restartLogMax {
		s.st.RestartLog = append([]Restart(nil), s.st.RestartLog[n-restartLogMax:]...)
	}
	s.mu.Unlock()
	s.m.restarts.Inc()
}

// probeFailed reports LiveKit unreachable from the first unanswered probe: /readyz and the
// overview must not say "ready" while the hang detection is still counting.
func (s *Supervisor) probeFailed(fails int, err error) {
	if st := s.Status(); st.State == StateReady || st.State == StateUnreachable {
		s.setState(StateUnreachable, "not answering its health probe ("+err.Error()+")")
	}
	s.log.Warn("livekit health probe failed", "failures", fails, "of", s.o.FailedProbes, "err", err)
}

// probeAnswered returns an unreachable LiveKit to ready once it answers again (the same
// process: its rooms are intact, so the OnReady subscribers are not called).
func (s *Supervisor) probeAnswered() {
	if s.Status().State == StateUnreachable {
		s.setState(StateReady, "")
		s.log.Info("livekit answers its health probe again")
	}
}
