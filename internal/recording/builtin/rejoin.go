package builtin

// Rejoin tells the sessions recording room that the room exists again in LiveKit (it was
// re-created after LiveKit lost it): each one still trying to rejoin tries now instead of
// at the end of its backoff. It never blocks.
func (r *Recorder) Rejoin(room string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sessions {
		if s.room != room {
			continue
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}
