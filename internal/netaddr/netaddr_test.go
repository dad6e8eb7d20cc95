package netaddr

import (
	"net"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		ip              string
		private, public bool
	}{
		{"10.1.2.3", true, false},
		{"192.168.0.1", true, false},
		{"100.64.0.1", true, false},
		{"fd00::1", true, false},
		{"169.254.1.1", true, false},
		{"127.0.0.1", false, false},
		{"0.0.0.0", false, false},
		{"203.0.113.7", false, true},
		{"2001:db8::1", false, true},
	} {
		ip := net.ParseIP(tc.ip)
		if got := IsPrivate(ip); got != tc.private {
			t.Errorf("IsPrivate(%s) = %v", tc.ip, got)
		}
		if got := IsPublic(ip); got != tc.public {
			t.Errorf("IsPublic(%s) = %v", tc.ip, got)
		}
	}
	if IsPublic(nil) {
		t.Error("IsPublic(nil) = true")
	}
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "meet.example.com": false, "10.0.0.1": false} {
		if got := IsLocalHost(host); got != want {
			t.Errorf("IsLocalHost(%q) = %v", host, got)
		}
	}
}
