package lktest

import "testing"

func TestStartAnswersOK(t *testing.T) {
	s := Start(t, Options{})
	if !Healthy(s.HTTPURL) {
		t.Fatalf("not healthy:\n%s", s.Output())
	}
	s.Restart(t, true)
	if !Healthy(s.HTTPURL) {
		t.Fatalf("not healthy after restart")
	}
}
