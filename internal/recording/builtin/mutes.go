package builtin

// Mute and gap bookkeeping of a session's manifest, and track file names.

func (s *session) onMute(sid string, muted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, ok := s.bySID[sid]
	if !ok {
		return
	}
	t := &s.man.Tracks[idx]
	at := s.offset(s.r.now())
	n := len(t.Mutes)
	switch {
	case muted && (n == 0 || t.Mutes[n-1].End != 0):
		t.Mutes = append(t.Mutes, Span{Start: at})
	case !muted && n > 0 && t.Mutes[n-1].End == 0:
		t.Mutes[n-1].End = at
	default:
		return
	}
	s.saveOrFail()
}

func (s *session) gapOpen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gapStart < 0 {
		s.gapStart = s.offset(s.r.now())
	}
}

func (s *session) gapClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gapStart < 0 {
		return
	}
	s.man.Gaps = append(s.man.Gaps, Span{Start: s.gapStart, End: s.offset(s.r.now())})
	s.gapStart = -1
	s.saveOrFail()
}

// safeName keeps identities usable in file names.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
