package browser

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// networkOutage is how long the test's client is cut off: the "up to 30 s", less a
// margin so the whole outage stays within it.
const networkOutage = 25 * time.Second

// setOffline cuts the page off the network (or restores it) through DevTools: requests and
// WebSockets fail, every WebRTC packet is dropped (a global rule also throttles p2p
// connections) and navigator.onLine follows, as on a real loss of the network.
func (p *page) setOffline(off bool) {
	p.t.Helper()
	rules := []*network.Conditions{}
	if off {
		rules = append(rules, &network.Conditions{Offline: true, PacketLoss: 100, DownloadThroughput: -1, UploadThroughput: -1})
	}
	state := network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}
	p.do("network offline", 10*time.Second, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, state)
		return chromedp.Void{}, err
	})
}

// TestMeetingComesBackAfterNetworkLoss (issue 16): Alice loses her network for 25 s in a
// meeting with Bob. Both come back by themselves: each sees the other's video again, and
// Alice's page never says the meeting is over.
func TestMeetingComesBackAfterNetworkLoss(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)

	alice := newPage(t, anotherBrowser(t), s, "alice")
	bob := newPage(t, browser, s, "bob")
	meetTwo(alice, bob, "Train ride")
	for _, p := range []*page{alice, bob} {
		p.eval(overWatch)
	}

	cut := time.Now()
	alice.setOffline(true)
	t.Log("alice is offline")
	// The loss is real for the page: livekit-client notices it and stops being connected.
	alice.waitJS("alice's page notices", `window.parleyRoom?.state !== 'connected'`, networkOutage)
	t.Logf("alice's page noticed after %.1f s", time.Since(cut).Seconds())
	time.Sleep(time.Until(cut.Add(networkOutage))) // the outage itself, not a wait for anything
	alice.setOffline(false)
	back := time.Now()
	t.Logf("alice is online again after %.1f s", back.Sub(cut).Seconds())

	for _, p := range []*page{alice, bob} {
		p.waitHealed("network back", 0, 1, back)
	}
	if heals := alice.evalString(`document.querySelector('[data-testid=meeting]').dataset.heals`); heals == "0" {
		t.Errorf("alice's meeting never reported coming back (data-heals 0) although her page noticed the loss")
	}
}
