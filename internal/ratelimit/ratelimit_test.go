package ratelimit

import (
	"testing"
	"time"
)

func TestBucketsRefuseAllOrNothing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewBuckets(func() time.Time { return now })
	ip, user := Key{"ip", PerMinute(2)}, Key{"user", PerMinute(60)}
	for i := range 2 {
		if _, ok := b.Allow(ip, user); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := b.Allow(ip, user)
	if ok || wait != 30*time.Second {
		t.Fatalf("third: ok %v wait %v, want a 30 s wait", ok, wait)
	}
	// The refused attempt took nothing from the user's bucket: 58 of 60 are left.
	for i := range 58 {
		if _, ok := b.Allow(user); !ok {
			t.Fatalf("user attempt %d refused", i+1)
		}
	}
	if _, ok := b.Allow(user); ok {
		t.Fatal("61st user attempt allowed")
	}
}

func TestOpenCountsAndReleasesOnce(t *testing.T) {
	o := NewOpen(2)
	r1, ok1 := o.Acquire("ip|a", "user|x")
	_, ok2 := o.Acquire("ip|a")
	if !ok1 || !ok2 {
		t.Fatal("first two refused")
	}
	if _, ok := o.Acquire("ip|a"); ok {
		t.Fatal("third on ip|a allowed")
	}
	if _, ok := o.Acquire("ip|b", "user|x"); !ok {
		t.Fatal("user|x has one slot left")
	}
	r1()
	r1() // a second release gives nothing back twice
	if _, ok := o.Acquire("ip|a"); !ok {
		t.Fatal("released slot not reusable")
	}
	if _, ok := o.Acquire("ip|a"); ok {
		t.Fatal("double release freed two slots")
	}
}
