package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (or $PARLEY_CHROMIUM).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	requireOrSkip(t, "Chromium is not installed (apt-get install chromium)")
	return ""
}

// newBrowser starts one headless Chromium with fake camera and microphone. Identities get
// their own browser contexts (separate cookies and localStorage) from page.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserWith(t)
}

// newBrowserWith is newBrowser with extra Chromium options (host mapping, trust).
func newBrowserWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are slow; skipped with -short")
	}
	_ = os.RemoveAll(outDir(t)) // screenshots of an earlier run would mislead
	return anotherBrowser(t, extra...)
}

// anotherBrowser starts one more Chromium for the test, a process of its own; extra flags
// are added to the usual ones.
func anotherBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	home := t.TempDir() // Chromium writes crash reports, pulse and dconf files under HOME and TMPDIR
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Flag("use-fake-device-for-media-stream", "device-count=2"), // two cameras, to switch between
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true), // no ICE candidates on a loopback-only host without it
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Env("HOME="+home, "TMPDIR="+home),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return browserCtx
}

// page is one identity's tab, in its own browser context.
type page struct {
	t    *testing.T
	ctx  context.Context
	name string
	base string
	shot atomic.Int32

	mu     sync.Mutex
	errors []string // console errors (refused requests among them), for tests that want none
	urlsMu sync.Mutex
	urls   []string // every URL the page requested or opened a WebSocket to
}

// requested is every URL the page fetched or opened a WebSocket to so far.
func (p *page) requested() []string {
	p.urlsMu.Lock()
	defer p.urlsMu.Unlock()
	return slices.Clone(p.urls)
}

// mediaProbe runs before every document's own scripts: it keeps the tracks the page got from
// the camera and microphone, so a test can tell whether the page turned them on.
const mediaProbe = `(() => {
  const md = navigator.mediaDevices;
  if (!md || window.parleyProbe) return;
  const tracks = [];
  window.parleyProbe = { calls: 0, live: () => tracks.filter((t) => t.readyState === 'live').length };
  const gum = md.getUserMedia.bind(md);
  md.getUserMedia = async (c) => {
    window.parleyProbe.calls++;
    const s = await gum(c);
    tracks.push(...s.getTracks());
    return s;
  };
})()`

// debugPages (PARLEY_BROWSER_DEBUG=1) turns on livekit-client's debug log in every page and
// logs every console line, to see what a connection did.
var debugPages = os.Getenv("PARLEY_BROWSER_DEBUG") == "1"

func newPage(t *testing.T, browser context.Context, s *server, name string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	p := &page{t: t, ctx: ctx, name: name, base: s.URL}
	messages := chromedp.Console(ctx)
	probe := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: mediaProbe})
		return chromedp.Void{}, err
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		var u string
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u = e.Request.URL
		case *network.EventWebSocketCreated:
			u = e.URL
		default:
			return
		}
		p.urlsMu.Lock()
		p.urls = append(p.urls, u)
		p.urlsMu.Unlock()
	}); err != nil {
		t.Fatalf("%s: listen to the network: %v", name, err)
	}
	if err := chromedp.Do(ctx, probe, chromedp.Navigate(s.URL+"/login?lowres=1")); err != nil {
		t.Fatalf("%s: open page: %v", name, err)
	}
	var mu sync.Mutex
	var exceptions []string
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case debugPages && !m.IsException() && m.Type != "error":
				t.Logf("%s console %s: %s", name, m.Type, redact(m.String()))
			case m.IsException():
				mu.Lock()
				exceptions = append(exceptions, m.String())
				mu.Unlock()
				t.Logf("%s: uncaught: %s (%s:%d)", name, m, redact(m.URL), m.Line)
			case m.Type == "error":
				// Refused requests (a guest's 401, say) show up here too; they are logged, and
				// fail only the tests that ask for none (noConsoleErrors).
				t.Logf("%s console %s (%s:%d)", name, redact(m.String()), redact(m.URL), m.Line)
				p.mu.Lock()
				p.errors = append(p.errors, redact(m.String())+" ("+redact(m.URL)+")")
				p.mu.Unlock()
			}
		}
	}()
	// Tests capture at low resolution without simulcast: Chromium's encoder then costs a third.
	p.eval(`localStorage.setItem('parley.lowres', '1')`)
	if debugPages {
		p.eval(`localStorage.setItem('parley.debug', '1')`)
	}
	t.Cleanup(func() {
		p.leave()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("%s: the page threw %d uncaught exception(s): %s", name, len(exceptions), strings.Join(exceptions, "; "))
		}
	})
	return p
}

// noConsoleErrors fails the test if the console showed an error since the last call.
func (p *page) noConsoleErrors(where string) {
	p.t.Helper()
	p.mu.Lock()
	errs := p.errors
	p.errors = nil
	p.mu.Unlock()
	if len(errs) > 0 {
		p.t.Errorf("%s: %s: %d console error(s): %s", p.name, where, len(errs), strings.Join(errs, "; "))
	}
}

// leave disconnects from LiveKit cleanly before the tab closes, so no ghost participant stays.
func (p *page) leave() {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.parleyRoom ? window.parleyRoom.disconnect().then(() => true) : true`, chromedp.EvalAwaitPromise))
}

// do runs actions with a timeout; on failure it takes a screenshot and fails the test.
func (p *page) do(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.screenshot("FAILED-" + what)
		p.t.Fatalf("%s: %s: %v\npage text: %s", p.name, what, err, p.text())
	}
}

func (p *page) navigate(path string) {
	p.t.Helper()
	p.do("navigate "+path, 20*time.Second, chromedp.Navigate(p.base+path))
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, 20*time.Second, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// clickSettled is click once sel has stopped moving. chromedp clicks where the element is
// when it looks, and a page still filling in the sections above it (the admin dashboard's
// status, checks and live rooms) can move it before the click lands, which then hits
// something else. Two polls 250 ms apart must find it at the same place.
func (p *page) clickSettled(sel string) {
	p.t.Helper()
	p.waitJS("settled "+sel, fmt.Sprintf(`((sel) => {
  const el = document.querySelector(sel);
  if (!el) return false;
  const r = el.getBoundingClientRect();
  const at = [r.top, r.left, r.width, r.height, document.documentElement.scrollHeight].join(',');
  const seen = (window.parleySettled ||= {});
  const same = seen[sel] === at;
  seen[sel] = at;
  return same;
})(%q)`, sel), 20*time.Second)
	p.click(sel)
}

func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.do("fill "+sel, 20*time.Second, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible), chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (p *page) waitVisible(sel string, timeout time.Duration) {
	p.t.Helper()
	p.do("wait for "+sel, timeout, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitJS polls a JavaScript predicate until it is truthy.
func (p *page) waitJS(what, expr string, timeout time.Duration) {
	p.t.Helper()
	p.do(what, timeout+time.Second, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(timeout))(ctx, t)
		return chromedp.Void{}, err
	})
}

// tryJS polls a JavaScript predicate and reports whether it became truthy in time.
func (p *page) tryJS(expr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(p.ctx, timeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	return err == nil
}

func (p *page) eval(expr string) any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, expr, err)
	}
	return v
}

func (p *page) evalString(expr string) string {
	p.t.Helper()
	return fmt.Sprint(p.eval(expr))
}

func (p *page) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if len(s) > 1500 {
		s = s[:1500]
	}
	return strings.Join(strings.Fields(s), " ")
}

// screenshot writes the viewport as a PNG under the test's output directory.
func (p *page) screenshot(step string) { p.capture(step, chromedp.CaptureScreenshot()) }

// fullScreenshot writes the whole page, not just the viewport.
func (p *page) fullScreenshot(step string) { p.capture(step, chromedp.FullScreenshot(100)) }

// artifactsDir is where the screenshots a reviewer looks at go: $PARLEY_ARTIFACTS, else
// test/browser/artifacts (git-ignored). Unlike out/, it is not wiped per test: each test
// overwrites its own fixed names, so a partial run keeps the others' pictures.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PARLEY_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// artifact saves the viewport (the whole page with full) as artifacts/<name>.png.
func (p *page) artifact(name string, full bool) {
	p.t.Helper()
	action := chromedp.CaptureScreenshot()
	if full {
		action = chromedp.FullScreenshot(100) // quality 100 is PNG
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	// The pointer rests where the last click was: move it off, so no tooltip covers the page.
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 0, 0)); err != nil {
		p.t.Logf("%s: move the mouse away: %v", p.name, err)
	}
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		p.t.Errorf("%s: screenshot %s: %v", p.name, name, err)
		return
	}
	path := filepath.Join(artifactsDir(p.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Errorf("write %s: %v", path, err)
		return
	}
	abs, _ := filepath.Abs(path)
	p.t.Logf("screenshot %s", abs)
}

func (p *page) capture(step string, action chromedp.Action[[]byte]) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		p.t.Logf("%s: screenshot %s: %v", p.name, step, err)
		return
	}
	n := p.shot.Add(1)
	ext := "png"
	if len(png) > 2 && png[0] == 0xff && png[1] == 0xd8 {
		ext = "jpg"
	}
	name := fmt.Sprintf("%s-%02d-%s.%s", p.name, n, strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == '"' || r == '[' || r == ']' || r == '=' {
			return '_'
		}
		return r
	}, step), ext)
	if err := os.WriteFile(filepath.Join(outDir(p.t), name), png, 0o644); err != nil {
		p.t.Logf("write screenshot: %v", err)
	}
}

var tokenInURL = regexp.MustCompile(`access_token=[^&\s]+`)

// redact keeps access tokens (event stream URLs carry one) out of the test log.
func redact(s string) string { return tokenInURL.ReplaceAllString(s, "access_token=REDACTED") }
